import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { billAcceptedReadings } from '../packages/server/src/billing/engine.ts';
import { ensureDefaultTariffs } from '../packages/server/src/seed/tariffs.ts';
import { login, logout } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * Bill corrections in a real browser (issue 4, "cancel and rebill a wrong one"): the clerk asks
 * from the customer's bills tab for a bill to be cancelled and rebilled, with the reason; the
 * office manager approves on the bill corrections page and sees the difference; the bills tab then
 * shows the old bill struck through with its reason and the new one that replaced it.
 */

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;
let accountId: number;
let target: { bill_id: number; bill_no: string };

const REASON = '用户为低保户，账单未减免';

beforeAll(async () => {
  server = await startMeterline({ customers: 60, metering: true });
  await ensureDefaultTariffs(server.database.db);
  // A residential customer of office 0101 with readings this year, billed as approval bills them.
  const { rows } = await server.database.pool.query<{ account_id: number }>(
    `select r.account_id::int from reading r
     join customer c on c.account_id = r.account_id and c.state = 'active' and not c.low_income
     join office o on o.office_id = c.office_id and o.code = '0101'
     join meter m on m.account_id = r.account_id and m.meter_id = r.meter_id and m.role <> 'master'
     join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
     where r.status = 'accepted' and r.consumption_m3 > 2 and sp.usage_type_code = 'W_RES'
       and r.read_at >= '2026-01-01T00:00:00+08:00'
     group by r.account_id having count(*) >= 2 order by r.account_id limit 1`,
  );
  accountId = rows[0]!.account_id;
  const readings = await server.database.pool.query<{ reading_id: number }>(
    `select reading_id::int from reading where account_id = $1 and status = 'accepted' and consumption_m3 is not null`,
    [accountId],
  );
  await server.database.db.transaction().execute((trx) =>
    billAcceptedReadings(
      trx,
      { caller: null, lang: 'zh-CN', requestId: 'e2e', ip: '127.0.0.1', audited: 0 },
      readings.rows.map((r) => ({ accountId, readingId: r.reading_id })),
    ),
  );
  // The latest bill: it has no later bill, so the correction cancels it alone.
  target = (
    await server.database.pool.query<{ bill_id: number; bill_no: string }>(
      `select bill_id::int, bill_no from bill where account_id = $1 and status = 'open'
       order by period_to desc, bill_id desc limit 1`,
      [accountId],
    )
  ).rows[0]!;
  // What makes the bill wrong: the customer is a low-income household (3 m³ a month off).
  await server.database.pool.query(
    `update customer set low_income = true, low_income_reduction_m3 = 3, low_income_valid_until = null
     where account_id = $1`,
    [accountId],
  );
  browser = await openBrowser({ baseURL: server.url, timezoneId: 'Asia/Shanghai' });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('bill corrections', () => {
  test('the clerk asks to cancel and rebill; the manager approves; the bills tab shows both', async () => {
    await login(page, 'clerk');
    await page.goto(`/customers/${accountId}?tab=bills`);
    await page.getByTestId(`correct-${target.bill_no}`).click();
    // No reason: the dialog says so and sends nothing.
    await page.getByRole('button', { name: '提交申请' }).click();
    await page.getByText('请填写更正原因').waitFor();
    await page.getByTestId('bill-correction-reason').fill(REASON);
    await page.getByRole('button', { name: '提交申请' }).click();
    await page.getByText('已提交更正申请，待审批').waitFor();
    const requested = await server.database.pool.query(
      `select * from bill_correction where account_id = $1 and bill_id = $2`,
      [accountId, target.bill_id],
    );
    expect(requested.rows).toHaveLength(1);
    expect(requested.rows[0]).toMatchObject({ status: 'requested', reason: REASON });
    await logout(page);

    await login(page, 'manager');
    await page.goto('/billing/corrections');
    const table = page.getByTestId('bill-corrections-table');
    const row = table.getByRole('row').filter({ hasText: target.bill_no });
    await row.getByTestId('bill-correction-approve').click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: /批\s*准/ })
      .click();
    await page.getByText('已批准，账单已作废并重新开账').waitFor();

    const x = (
      await server.database.pool.query(
        `select * from bill_correction where account_id = $1 and bill_id = $2`,
        [accountId, target.bill_id],
      )
    ).rows[0];
    expect(x.status).toBe('approved');
    expect(x.cancelled_bill_ids.map(Number)).toEqual([target.bill_id]);
    expect(x.new_bill_ids).toHaveLength(1);
    const newBillId = Number(x.new_bill_ids[0]);
    expect(Number(x.difference_fen)).toBeLessThan(0);

    // The approved correction shows old → new and the difference, line by line, with the chart.
    await page.getByTestId('bill-corrections-status').click();
    await page.getByTitle('已批准').click();
    const approvedRow = table.getByRole('row').filter({ hasText: target.bill_no }).first();
    await approvedRow.getByTestId('correction-totals').waitFor();
    const delta = `−¥${(Math.abs(Number(x.difference_fen)) / 100).toFixed(2)}`;
    await approvedRow.getByText(delta).waitFor();
    await approvedRow.getByRole('button', { name: /展开|Expand/ }).click();
    const difference = page.getByTestId(`correction-difference-${x.correction_id}`);
    await difference.getByTestId('correction-chart').waitFor();
    await difference.getByText('水费').first().waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/bill-corrections.png`, fullPage: true });

    // The bills: the old one cancelled with its reason, the new one replacing it.
    const bills = await server.database.pool.query(
      `select bill_id::int, bill_no, status, cancel_reason, replaces_bill_id::int, low_income_m3
       from bill where account_id = $1 and bill_id = any($2::bigint[])`,
      [accountId, [target.bill_id, newBillId]],
    );
    const old = bills.rows.find((b) => b.bill_id === target.bill_id)!;
    const fresh = bills.rows.find((b) => b.bill_id === newBillId)!;
    expect(old).toMatchObject({ status: 'cancelled', cancel_reason: REASON });
    expect(fresh).toMatchObject({ status: 'open', replaces_bill_id: target.bill_id });
    expect(Number(fresh.low_income_m3)).toBeGreaterThan(0);

    await page.goto(`/customers/${accountId}?tab=bills`);
    const cancelled = page.getByTestId(`bill-cancelled-${target.bill_no}`);
    await cancelled.getByText(REASON).waitFor();
    await cancelled.getByText(`由 ${fresh.bill_no} 替代`).waitFor();
    await page.getByText(`替代 ${target.bill_no}`).waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/bills-corrected.png`, fullPage: true });
    // A manager holds billing.adjust too: the new bill can be corrected, the cancelled one not.
    expect(await page.getByTestId(`correct-${fresh.bill_no}`).count()).toBe(1);
    expect(await page.getByTestId(`correct-${target.bill_no}`).count()).toBe(0);
    expect(browser.problems).toEqual([]);
  });
});
