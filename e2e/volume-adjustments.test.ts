import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { billAcceptedReadings } from '../packages/server/src/billing/engine.ts';
import { ensureDefaultTariffs } from '../packages/server/src/seed/tariffs.ts';
import { choose, login, logout } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * A volume adjustment (调量, DOMAIN.md §3) in a real browser: the clerk takes 2 m³ off a customer's
 * bill on the bills tab (a reduction above the bill is refused on its field first), the reading
 * specialist checks the work order, the office manager signs it, and the customer's bills show the
 * adjustment bill with the credit the work order priced.
 */

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;
let bill: { account_id: string; bill_id: string; bill_no: string; payable_m3: string };

beforeAll(async () => {
  server = await startMeterline({ customers: 40, metering: true });
  const db = server.database.db;
  await ensureDefaultTariffs(db);
  const { rows: keys } = await server.database.pool.query<{ accountId: number; readingId: number }>(
    `select r.account_id::int as "accountId", r.reading_id::int as "readingId" from reading r
     join customer c on c.account_id = r.account_id join office o on o.office_id = c.office_id
     where r.status = 'accepted' and o.code = '0101'`,
  );
  const ctx = { caller: null, lang: 'zh-CN' as const, requestId: 'e2e', ip: '127.0.0.1', audited: 0 };
  await db.transaction().execute((trx) => billAcceptedReadings(trx, ctx, keys));
  // The latest bill of a residential customer, within one year, of at least 5 m³.
  const { rows } = await server.database.pool.query(
    `select b.account_id, b.bill_id, b.bill_no, b.payable_m3::text from bill b
     where b.usage_type_code = 'W_RES' and b.status = 'open' and b.payable_m3 >= 5
       and extract(year from b.period_from) = extract(year from b.period_to)
     order by b.period_to desc, b.bill_id desc limit 1`,
  );
  bill = rows[0];
  browser = await openBrowser({ baseURL: server.url, timezoneId: 'Asia/Shanghai' });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const order = async () =>
  (
    await server.database.pool.query(
      'select * from volume_adjustment where account_id = $1 order by adjustment_id desc limit 1',
      [bill.account_id],
    )
  ).rows[0];

describe('volume adjustment work order', () => {
  test('requested on the bill, checked, signed, billed as a credit', async () => {
    await login(page, 'clerk');
    await page.goto(`/customers/${bill.account_id}?tab=bills`);
    await page.getByTestId(`adjust-${bill.bill_no}`).click();
    const form = page.getByTestId('adjustment-form');
    await form.waitFor();

    // More than the bill charged: refused on the volume field, nothing written.
    await page.getByTestId('adjustment-volume').fill('9999');
    await choose(page, 'adjustment-basis', '水表检定报告');
    await page.getByTestId('adjustment-basis-note').fill('水表检定偏快，检定报告 JD-2026-118');
    await page.getByRole('button', { name: '提交审核' }).click();
    await form.getByText(/调减水量 9999\.000 m³ 超过该账单的计费水量/).waitFor();
    expect(await order()).toBeUndefined();

    // 2 m³: the preview prices it line by line before it is sent.
    await page.getByTestId('adjustment-volume').fill('2');
    const total = page.getByTestId('adjustment-preview').getByTestId('adjustment-total');
    await total.waitFor();
    expect(await total.textContent()).toMatch(/^-¥?[\d,]+\.\d{2}$/);
    await page.getByRole('button', { name: '提交审核' }).click();
    await page.getByText(/已提交，等待抄表专责审核/).waitFor();
    const requested = await order();
    expect(requested).toMatchObject({ status: 'requested', kind: 'reduce', volume_m3: '2.000' });
    expect(Number(requested.amount_fen)).toBeLessThan(0);
    expect((await total.textContent())?.replace(/[^\d.-]/g, '')).toBe(
      (Number(requested.amount_fen) / 100).toFixed(2),
    );
    await logout(page);

    // The reading specialist checks it.
    await login(page, 'analyst');
    await page.goto('/billing/adjustments');
    const row = page.getByTestId('adjustments-table').locator('tr', { hasText: requested.order_no });
    await row.getByTestId('adjustment-check').click();
    await page.getByRole('dialog').getByTestId(`adjustment-detail-${requested.order_no}`).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: '审核通过' }).click();
    await row.getByText('待签字').waitFor();
    await logout(page);

    // The office manager signs it: the adjustment bill is made.
    await login(page, 'manager');
    await page.goto('/billing/adjustments?status=checked');
    const toSign = page.getByTestId('adjustments-table').locator('tr', { hasText: requested.order_no });
    await toSign.getByTestId('adjustment-sign').click();
    // The dialog open with the work order in it before its button is pressed (a click during the
    // opening animation can be lost under load).
    await page.getByRole('dialog').getByTestId(`adjustment-detail-${requested.order_no}`).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: '签字生效' }).click();
    await expect.poll(async () => (await order()).status, { timeout: 30_000 }).toBe('approved');
    const signed = await order();
    expect(signed).toMatchObject({ status: 'approved', amount_fen: requested.amount_fen });
    const { rows } = await server.database.pool.query(
      'select bill_no, kind, amount_fen, payable_m3 from bill where account_id = $1 and bill_id = $2',
      [bill.account_id, signed.result_bill_id],
    );
    expect(rows[0]).toMatchObject({
      kind: 'adjustment',
      amount_fen: signed.amount_fen,
      payable_m3: '-2.000',
    });

    // The customer's bills show it, with the credit.
    await page.goto(`/customers/${bill.account_id}?tab=bills`);
    const adjustmentRow = page.getByTestId('bills-tab').locator('tr', { hasText: rows[0].bill_no });
    await adjustmentRow.waitFor();
    const fen = Number(signed.amount_fen);
    const shown = (Math.abs(fen) / 100).toLocaleString('en-US', { minimumFractionDigits: 2 });
    expect(await adjustmentRow.textContent()).toContain(`${fen < 0 ? '-' : ''}¥${shown}`);
    expect(browser.problems).toEqual([]);
  });
});
