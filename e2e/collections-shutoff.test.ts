import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { login, logout } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * Shut-off and restore in a real browser (issue 6, "Browser test"; docs/escalation.md): an
 * organisation a month behind, whose formal and lawyer's letters were delivered, is put up for
 * shut-off by the office manager on the escalation page; the deputy GM approves it on the shut-off
 * page; the manager records the work order done (the meter number checked); a clerk takes the
 * payment at the counter; and the restore order appears dispatched with its 24-hour deadline.
 */

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;
let accountId: number;
let meterNo: string;

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await server.database.pool.query(text, params)).rows as T[];

beforeAll(async () => {
  server = await startMeterline({ customers: 60 });
  browser = await openBrowser({ baseURL: server.url, timezoneId: 'Asia/Shanghai' });
  page = browser.page;
  const [c] = await q<{ account_id: string; meter_no: string }>(
    `select c.account_id, m.meter_no from customer c join office o on o.office_id = c.office_id
       join meter m on m.account_id = c.account_id
      where o.code = '0101' and c.kind = 'organisation' and c.utility = 'water' and c.state = 'active'
      order by c.account_id limit 1`,
  );
  accountId = Number(c!.account_id);
  meterNo = c!.meter_no;
  // ¥456.00 due 40 days ago (an organisation: one month behind is enough).
  const [b] = await q<{ bill_id: string }>(
    `insert into bill (account_id, bill_no, kind, period, period_from, period_to, amount_fen, due_on)
     values ($1, 'E2E-SO-0001', 'consumption', to_char(current_date - 70, 'YYYY-MM'), current_date - 70,
             current_date - 41, 45600, current_date - 40) returning bill_id`,
    [accountId],
  );
  await q(
    `insert into bill_line (account_id, bill_id, line_no, kind, code, description_zh, description_en, amount_fen)
     values ($1, $2, 1, 'charge', 'charge', '水费', 'Water', 45600)`,
    [accountId, b!.bill_id],
  );
  // The ladder so far: the formal letter signed for 30 days ago, the lawyer's letter 10 days ago.
  const [staff] = await q<{ staff_id: string }>(`select staff_id from staff where username = 'manager'`);
  for (const [kind, no, daysAgo] of [
    ['formal', 'CJ2026-E2E001', 30],
    ['lawyer', 'LS2026-E2E001', 10],
  ] as const)
    await q(
      `insert into collection_letter (account_id, kind, letter_no, office_id, bills, arrears_fen, issued_on, deadline_on,
         issued_by, delivery, signed_by_name, delivered_on)
       select $1, $2, $3, office_id, '[]', 45600, current_date - $4::int, current_date - $4::int + 7, $5, 'signed', '财务部',
              current_date - $4::int
         from customer where account_id = $1`,
      [accountId, kind, no, daysAgo, staff!.staff_id],
    );
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('shut-off and restore', () => {
  test('the manager requests, the deputy GM approves, the order is done; a counter payment dispatches the restore', async () => {
    // The office manager: the customer is due for the shut-off request.
    await login(page, 'manager');
    await page.goto('/collections/escalation');
    await page.getByTestId(`request-shutoff-${accountId}`).waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/escalation.png`, fullPage: true });
    await page.getByTestId(`request-shutoff-${accountId}`).click();
    await page.getByTestId('shutoff-reason').fill('欠费一个月，函件均已送达');
    await page.getByTestId('shutoff-request-ok').click();
    await page.getByText('停水申请已提交').waitFor();
    const [request] = await q<{ request_id: string; status: string; arrears_fen: string }>(
      'select request_id, status, arrears_fen from shutoff_request where account_id = $1',
      [accountId],
    );
    expect(request).toMatchObject({ status: 'pending', arrears_fen: 45600 });
    // The manager cannot approve it.
    await page.goto('/collections/shutoffs');
    await page.getByTestId('shutoff-requests').getByText('等待他人审批').waitFor();
    await logout(page);

    // The deputy GM approves: the shut-off work order goes out.
    await login(page, 'deputy');
    await page.goto('/collections/shutoffs');
    await page.getByTestId(`approve-shutoff-${request!.request_id}`).click();
    await page.getByTestId('shutoff-decision-ok').click();
    await page.getByText(/已批准，停水工单 TS\d{4}-\d{6} 已派出/).waitFor();
    const [order] = await q<{ order_id: string; order_no: string; meter_no: string; status: string }>(
      `select order_id, order_no, meter_no, status from collection_work_order where account_id = $1 and kind = 'shutoff'`,
      [accountId],
    );
    expect(order).toMatchObject({ meter_no: meterNo, status: 'dispatched' });
    await logout(page);

    // The work order is carried out: the meter number checked on site, the valve closed.
    await login(page, 'manager');
    await page.goto('/collections/shutoffs');
    await page.getByRole('tab', { name: '停水工单' }).click();
    await page.getByTestId(`record-${order!.order_no}`).click();
    await page.getByText(`先核对表号：${meterNo}`).waitFor();
    await page.getByTestId('confirmed-meter-no').fill(meterNo);
    await page.getByTestId('order-result-ok').click();
    await page.getByText('结果已登记').waitFor();
    expect(
      (
        await q<{ status: string; action: string }>(
          'select status, action from collection_work_order where account_id = $1 and order_id = $2',
          [accountId, order!.order_id],
        )
      )[0],
    ).toEqual({ status: 'done', action: 'valve_closed' });
    expect(
      (await q<{ state: string }>('select state from customer where account_id = $1', [accountId]))[0]!.state,
    ).toBe('sealed');
    await logout(page);

    // The clerk takes the payment at the counter: the restore order is dispatched at once.
    await login(page, 'clerk');
    await page.goto(`/payments/counter/${accountId}`);
    await expect
      .poll(() => page.getByTestId('due-fen').getAttribute('data-fen'), { timeout: 20_000 })
      .toBe('45600');
    await page.getByTestId('pay-amount').fill('456');
    await page.getByTestId('pay-submit').click();
    await page.getByTestId('payment-taken').waitFor();
    const restores = await q<{ order_no: string; status: string; cause: string; hours: number }>(
      `select order_no, status, cause, extract(epoch from due_at - dispatched_at)::int / 3600 as hours
         from collection_work_order where account_id = $1 and kind = 'restore'`,
      [accountId],
    );
    expect(restores).toHaveLength(1);
    expect(restores[0]).toMatchObject({ status: 'dispatched', cause: 'payment', hours: 24 });

    // The restore order on the page: dispatched, with its deadline and the time left.
    await page.goto('/collections/shutoffs');
    await page.getByRole('tab', { name: '复水工单' }).click();
    const no = restores[0]!.order_no;
    await expect
      .poll(() => page.getByTestId(`order-status-${no}`).textContent(), { timeout: 20_000 })
      .toBe('待执行');
    const deadline = await page.getByTestId(`deadline-${no}`).textContent();
    expect(deadline).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}/);
    await page
      .getByTestId('work-orders-restore')
      .getByText(/剩余 2[34] 小时/)
      .waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/restore-orders.png`, fullPage: true });
    expect(browser.problems).toEqual([]);
    await logout(page);
  });
});
