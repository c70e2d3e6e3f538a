import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { login } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * Prepaid IC-card accounts in a real browser (issue 4, item 7): the counter clerk loads 100.00 yuan
 * onto an IC-card customer's account (a load of 0 is refused on the amount field first); the office
 * manager runs the deduction from the prepaid page, which posts the month's bill; the customer's
 * statement shows the load and the deduction with the right running balance. Checked against SQL.
 */

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;
let accountId: number;
let billNo: string;
const BILL_FEN = 7_585;

/** The balance card's text ("¥100.00": antd draws the decimals apart). */
const balanceText = async () =>
  ((await page.getByTestId('prepaid-balance').textContent()) ?? '').replace(/\s+/g, '');

const entries = async () =>
  (
    await server.database.pool.query<{ kind: string; amount_fen: string; bill_id: string | null }>(
      'select kind, amount_fen, bill_id from prepaid_entry where account_id = $1 order by entry_id',
      [accountId],
    )
  ).rows.map((r) => ({
    kind: r.kind,
    amountFen: Number(r.amount_fen),
    billId: r.bill_id && Number(r.bill_id),
  }));

/** This month in China, YYYY-MM. */
const chinaMonth = () => new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 7);

beforeAll(async () => {
  server = await startMeterline({ customers: 40 });
  // An active customer of office 0101 (the clerk's) with an IC-card gas meter.
  const { rows } = await server.database.pool.query<{ account_id: string; meter_id: string }>(
    `select c.account_id, m.meter_id from customer c
     join office o on o.office_id = c.office_id and o.code = '0101'
     join meter m on m.account_id = c.account_id and m.state = 'in_service'
     where c.state = 'active' order by c.account_id, m.meter_id limit 1`,
  );
  accountId = Number(rows[0]!.account_id);
  await server.database.pool.query(
    `update meter set ic_card = true, ic_card_no = 'IC-E2E-0001' where account_id = $1 and meter_id = $2`,
    [accountId, rows[0]!.meter_id],
  );
  // The month's bill of that meter, as the bill engine would have made it.
  const month = chinaMonth();
  billNo = `${month.replace('-', '')}-E2E00001`;
  await server.database.pool.query(
    `insert into bill (account_id, bill_no, meter_id, usage_type_code, period, period_from, period_to,
                       consumption_m3, payable_m3, amount_fen, due_on)
     values ($1, $2, $3, 'G_RES', $4, $5, $6, '18.500', '18.500', $7, $8)`,
    [accountId, billNo, rows[0]!.meter_id, month, `${month}-01`, `${month}-08`, BILL_FEN, `${month}-28`],
  );
  browser = await openBrowser({ baseURL: server.url, timezoneId: 'Asia/Shanghai' });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('prepaid IC-card accounts', () => {
  test('the clerk loads 100.00 yuan after a refused 0', async () => {
    await login(page, 'clerk');
    await page.goto(`/customers/${accountId}?tab=prepaid`);
    await page.getByTestId('prepaid-tab').waitFor();
    const amount = page.getByLabel('充值金额（元）');

    await amount.fill('0');
    await page.getByTestId('prepaid-load').click();
    // The server's reason, on the amount field; nothing loaded.
    await page.locator('.ant-form-item-explain-error', { hasText: '充值金额必须大于 0' }).waitFor();
    expect(await entries()).toEqual([]);

    await amount.fill('100.00');
    await page.getByTestId('prepaid-load').click();
    await page.getByText('已充值 ¥100.00，余额 ¥100.00').waitFor();
    await expect
      .poll(entries, { timeout: 10_000 })
      .toEqual([{ kind: 'load', amountFen: 10_000, billId: null }]);
    await expect.poll(balanceText, { timeout: 10_000 }).toContain('¥100.00');
    const audit = await server.database.pool.query(
      `select count(*)::int as n from audit_log where action = 'prepaid_load' and account_id = $1`,
      [accountId],
    );
    expect(audit.rows[0].n).toBe(1);
  });

  test('the manager’s deduction run posts the month’s bill; the statement shows the running balance', async () => {
    await login(page, 'manager');
    await page.goto('/billing/prepaid');
    await page.getByTestId('prepaid-run').waitFor();
    await page.getByTestId('prepaid-run-start').click();
    const result = page.getByTestId('prepaid-run-result');
    await result.waitFor();
    expect(await result.textContent()).toContain('扣款 1 笔（¥75.85）');
    const { rows: bills } = await server.database.pool.query<{ bill_id: string }>(
      'select bill_id from bill where account_id = $1 and bill_no = $2',
      [accountId, billNo],
    );
    expect(await entries()).toEqual([
      { kind: 'load', amountFen: 10_000, billId: null },
      { kind: 'deduction', amountFen: -BILL_FEN, billId: Number(bills[0]!.bill_id) },
    ]);
    // Finance's figures for the month: loaded 100.00, revenue 75.85.
    await page.getByTestId('prepaid-loads').getByText('¥100.00').waitFor();
    await page.getByTestId('prepaid-revenue').getByText('¥75.85').waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/prepaid-page.png`, fullPage: true });

    // The statement, newest first: the deduction (with its bill) leaves 24.15, the load made 100.00.
    await page.goto(`/customers/${accountId}?tab=prepaid`);
    const rows = page.getByTestId('prepaid-statement').locator('tbody tr.ant-table-row');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(2);
    const deduction = ((await rows.nth(0).textContent()) ?? '').replace(/\s+/g, ' ');
    const load = ((await rows.nth(1).textContent()) ?? '').replace(/\s+/g, ' ');
    expect(deduction).toContain('扣款');
    expect(deduction).toContain(billNo);
    expect(deduction).toContain('-75.85');
    expect(deduction).toContain('24.15');
    expect(deduction).toContain('18.5');
    expect(load).toContain('充值');
    expect(load).toContain('+100.00');
    expect(load).toContain('现金');
    const { rows: sum } = await server.database.pool.query<{ s: string }>(
      'select sum(amount_fen)::int8 as s from prepaid_entry where account_id = $1',
      [accountId],
    );
    expect(Number(sum[0]!.s)).toBe(2_415);
    await expect.poll(balanceText, { timeout: 10_000 }).toContain('¥24.15');
    await page.getByTestId('prepaid-chart').waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/prepaid.png`, fullPage: true });
    expect(browser.problems).toEqual([]);
  });
});
