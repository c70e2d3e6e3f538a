import { addDays, lateFeeFen, todayInChina } from '@meterline/domain';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { choose, login, logout } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * Other charges in a real browser (issue 4, item 5): finance adds a fee to the catalogue — first
 * with a negative amount, which the server refuses on the amount field — then a valid one; a clerk
 * charges a customer the account-opening fee from the customer's bills tab, and the bill appears
 * there and in the database; the late-fee page shows its charts.
 */

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;

beforeAll(async () => {
  server = await startMeterline({ customers: 20 });
  browser = await openBrowser({ baseURL: server.url, timezoneId: 'Asia/Shanghai' });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('other charges', () => {
  test('finance adds a fee: a negative amount is refused on its field, a valid one is saved', async () => {
    await login(page, 'finance');
    await page.goto('/billing/fees');
    await page.getByTestId('fee-table').getByText('ACCOUNT_OPEN').waitFor();
    await page.getByTestId('fee-add').click();
    await page.getByTestId('fee-code').fill('GATE_VALVE');
    await page.getByTestId('fee-name-zh').fill('阀门更换费');
    await page.getByTestId('fee-name-en').fill('Valve replacement');
    await choose(page, 'fee-kind', '维修');
    await page.getByTestId('fee-amount').fill('-5');
    await page.getByRole('button', { name: /保\s*存/ }).click();
    await page.getByText('金额须为不小于 0 的整数（分），最多 1000 万元').waitFor();
    expect(
      (
        await server.database.pool.query(
          `select count(*)::int as n from fee_catalogue where code = 'GATE_VALVE'`,
        )
      ).rows[0].n,
    ).toBe(0);

    await page.getByTestId('fee-amount').fill('35.5');
    await page.getByRole('button', { name: /保\s*存/ }).click();
    await page.getByTestId('fee-table').getByText('GATE_VALVE').waitFor();
    const { rows } = await server.database.pool.query(
      `select name_zh, kind, default_amount_fen::int as fen from fee_catalogue where code = 'GATE_VALVE'`,
    );
    expect(rows).toEqual([{ name_zh: '阀门更换费', kind: 'repair', fen: 3550 }]);
    expect(browser.problems).toEqual([]);
    await logout(page);
  });

  test('a clerk charges a customer the account-opening fee from the bills tab', async () => {
    const { rows: customers } = await server.database.pool.query<{ account_id: string }>(
      `select c.account_id from customer c join office o on o.office_id = c.office_id
       where o.code = '0101' order by c.account_id limit 1`,
    );
    const accountId = Number(customers[0]!.account_id);
    await login(page, 'clerk');
    await page.goto(`/customers/${accountId}?tab=bills`);
    await page.getByTestId('add-other-charge').click();
    await choose(page, 'charge-fee', '开户费 ¥20.00');
    await page.getByTestId('charge-total').getByText('¥20.00').waitFor();
    await page.getByTestId('charge-note').fill('新户开户');
    await page.getByTestId('charge-submit').click();

    await expect
      .poll(
        async () =>
          (
            await server.database.pool.query('select count(*)::int as n from bill where account_id = $1', [
              accountId,
            ])
          ).rows[0].n,
        { timeout: 10_000 },
      )
      .toBe(1);
    const { rows } = await server.database.pool.query<{ bill_no: string; amount_fen: number; kind: string }>(
      `select b.bill_no, b.amount_fen::int as amount_fen, b.kind, l.code, l.description_zh
       from bill b join bill_line l on l.account_id = b.account_id and l.bill_id = b.bill_id
       where b.account_id = $1`,
      [accountId],
    );
    expect(rows).toEqual([
      expect.objectContaining({
        amount_fen: 2000,
        kind: 'other',
        code: 'ACCOUNT_OPEN',
        description_zh: '开户费（新户开户）',
      }),
    ]);
    // The new bill is listed on the tab.
    await page.getByTestId('bills-tab').getByText(rows[0]!.bill_no).waitFor();
    expect(browser.problems).toEqual([]);
    await logout(page);
  });

  test("finance runs today's late fees from the page and sees what is owed, by ageing", async () => {
    // An overdue consumption bill of 100 yuan, due 40 days ago.
    const { rows: customers } = await server.database.pool.query<{ account_id: string }>(
      `select c.account_id from customer c join office o on o.office_id = c.office_id
       where o.code = '0101' order by c.account_id desc limit 1`,
    );
    const accountId = Number(customers[0]!.account_id);
    const today = todayInChina();
    const dueOn = addDays(today, -40);
    await server.database.pool.query(
      `insert into bill (account_id, bill_no, kind, period, period_from, period_to, amount_fen, due_on)
       values ($1, 'E2E-LATE-0001', 'consumption', $2, $3, $3, 10000, $3)`,
      [accountId, dueOn.slice(0, 7), dueOn],
    );
    const expected = lateFeeFen({
      unpaidFen: 10_000,
      dueOn,
      asOf: today,
      ratePerDay: 0.003,
      graceDays: 0,
      capRatio: 1,
    });
    expect(expected.feeFen).toBe(1200);

    await login(page, 'finance');
    await page.goto('/billing/late-fees');
    await page.getByTestId('late-fees-page').waitFor();
    await page.getByTestId('late-fee-run').click();
    await page.getByTestId('late-fee-runs').getByText('手动').waitFor();
    await page.getByTestId('late-fee-owed').getByText('¥12.00').waitFor();
    await page.getByTestId('late-fee-table').getByText('E2E-LATE-0001').waitFor();
    await page.getByTestId('late-fee-ageing').waitFor();
    await page.getByTestId('late-fee-by-day').waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/late-fees.png`, fullPage: true });
    const { rows } = await server.database.pool.query(
      `select r.status, r.via, lf.accrued_fen::int as accrued_fen, lf.days
       from late_fee_run r join late_fee lf on lf.run_id = r.run_id`,
    );
    expect(rows).toEqual([{ status: 'done', via: 'ui', accrued_fen: 1200, days: 40 }]);

    // The customer's bills tab shows the fee on the bill.
    await page.goto(`/customers/${accountId}?tab=bills`);
    await page.getByTestId('late-fee-E2E-LATE-0001').getByText('¥12.00').waitFor();
    expect(browser.problems).toEqual([]);
  });
});
