import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pageCount, pdfPages } from '../packages/server/src/testing/pdf.ts';
import { login, logout } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * Counter payments in a real browser (issue 5, "Browser test"): a clerk finds a customer with two
 * unpaid bills (one with a late fee), takes a cash payment that settles the older bill and part of
 * the newer one, prints the receipt slip (an 80 mm PDF naming the bills), exchanges the slip for an
 * invoice (once: the slip is taken back), and closes the day with the cash counted against the
 * system — first short without a reason (refused on the field), then with the reason.
 */

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;
let accountId: number;
let customerCode: string;

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await server.database.pool.query(text, params)).rows as T[];

beforeAll(async () => {
  server = await startMeterline({ customers: 20 });
  browser = await openBrowser({ baseURL: server.url, timezoneId: 'Asia/Shanghai' });
  page = browser.page;
  const [c] = await q<{ account_id: string; customer_code: string }>(
    `select c.account_id, c.customer_code from customer c join office o on o.office_id = c.office_id
     where o.code = '0101' order by c.account_id limit 1`,
  );
  accountId = Number(c!.account_id);
  customerCode = c!.customer_code;
  // Two unpaid bills with their lines (¥80.00 due in September with a ¥3.00 late fee, ¥50.00 due in October).
  for (const [no, fen, due] of [
    ['E2E-PAY-0001', 8000, '2026-09-20'],
    ['E2E-PAY-0002', 5000, '2026-10-20'],
  ] as const) {
    const [b] = await q<{ bill_id: string }>(
      `insert into bill (account_id, bill_no, kind, period, period_from, period_to, amount_fen, due_on)
       values ($1, $2, 'consumption', $3, $4, $4, $5, $4) returning bill_id`,
      [accountId, no, due.slice(0, 7), due, fen],
    );
    await q(
      `insert into bill_line (account_id, bill_id, line_no, kind, code, description_zh, description_en, amount_fen)
       values ($1, $2, 1, 'charge', 'charge', '水费', 'Water', $3)`,
      [accountId, b!.bill_id, fen],
    );
    if (no === 'E2E-PAY-0001')
      await q(
        `insert into late_fee (account_id, bill_id, principal_fen, due_on, rate_per_day, grace_days, accrued_fen, accrued_through)
         values ($1, $2, 8000, $3, 0.003, 0, 300, '2026-10-03')`,
        [accountId, b!.bill_id, due],
      );
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the counter', () => {
  test('take a cash payment, print the slip, exchange it for an invoice, close the day', async () => {
    await login(page, 'clerk');
    await page.goto('/payments/counter');
    await page.getByTestId('counter-search').fill(customerCode);
    await page.getByTestId('counter-search').press('Enter');
    // The customer code is an exact hit: the counter opens on the customer.
    await page.waitForURL(`**/payments/counter/${accountId}`);
    await page.getByTestId('open-bills').getByText('E2E-PAY-0001').waitFor();
    // Due: 80 + 3 + 50 = ¥133.00, offered as the amount.
    await expect
      .poll(() => page.getByTestId('due-fen').getAttribute('data-fen'), { timeout: 20_000 })
      .toBe('13300');
    await expect.poll(() => page.getByTestId('pay-amount').inputValue()).toBe('133.00');

    // A bad amount is refused on its field, nothing posted.
    await page.getByTestId('pay-amount').fill('12.345');
    await page.getByTestId('pay-submit').click();
    await page.getByText('请输入大于 0、最多两位小数的金额').waitFor();
    expect((await q<{ n: number }>('select count(*)::int as n from payment'))[0]!.n).toBe(0);

    // ¥100.00 in cash: late fee first, then the September bill, the rest to October.
    await page.getByTestId('pay-amount').fill('100');
    await page.getByTestId('pay-submit').click();
    await page.getByTestId('payment-taken').waitFor();
    const [payment] = await q<{ payment_id: number; amount_fen: number; channel: string }>(
      'select payment_id, amount_fen, channel from payment where account_id = $1',
      [accountId],
    );
    expect(payment).toMatchObject({ amount_fen: 10000, channel: 'cash' });
    const bills = await q<{ bill_no: string; paid_fen: number }>(
      'select bill_no, paid_fen from bill where account_id = $1 order by bill_no',
      [accountId],
    );
    expect(bills).toEqual([
      { bill_no: 'E2E-PAY-0001', paid_fen: 8000 },
      { bill_no: 'E2E-PAY-0002', paid_fen: 1700 },
    ]);
    expect(
      (await q<{ paid_fen: number }>('select paid_fen from late_fee where account_id = $1', [accountId]))[0],
    ).toEqual({ paid_fen: 300 });
    // What is still due: ¥33.00.
    await expect
      .poll(() => page.getByTestId('due-fen').getAttribute('data-fen'), { timeout: 20_000 })
      .toBe('3300');

    // The slip: a new tab with the 80 mm PDF naming the bills settled.
    const popup = browser.context.waitForEvent('page');
    await page.getByTestId('print-slip').click();
    const slipTab = await popup;
    expect(slipTab.url()).toMatch(new RegExp(`/api/customers/${accountId}/receipts/\\d+/pdf$`));
    const slip = await page.request.get(slipTab.url());
    expect(slip.headers()['content-type']).toBe('application/pdf');
    const slipPdf = await slip.body();
    expect(pageCount(slipPdf)).toBe(1);
    const text = pdfPages(slipPdf)[0]!;
    for (const s of ['收费小票', 'E2E-PAY-0001', 'E2E-PAY-0002', '100.00', '滞纳金', '33.00'])
      expect(text).toContain(s);
    // 80 mm wide: 226.77 pt.
    const box = /\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/.exec(slipPdf.toString('latin1'));
    expect(Number(box?.[1])).toBeCloseTo(226.77, 1);
    await slipTab.close();

    // Exchange the slip for an invoice: the slip is taken back, the invoice is issued once.
    const [slipRow] = await q<{ receipt_no: string }>(
      `select receipt_no from receipt where account_id = $1 and kind = 'slip'`,
      [accountId],
    );
    await page.getByTestId(`exchange-${slipRow!.receipt_no}`).click();
    await page.getByRole('dialog').getByText(slipRow!.receipt_no).waitFor();
    await page.getByRole('dialog').getByRole('button', { name: '换开发票' }).click();
    await page
      .getByTestId('payment-list')
      .getByText(/FP\d{4}-\d{8}/)
      .waitFor();
    const receipts = await q<{ kind: string; status: string }>(
      'select kind, status from receipt where account_id = $1 order by receipt_id',
      [accountId],
    );
    expect(receipts).toEqual([
      { kind: 'slip', status: 'taken_back' },
      { kind: 'invoice', status: 'issued' },
    ]);
    // The exchange button is gone: a slip is exchanged once.
    expect(await page.getByTestId(`exchange-${slipRow!.receipt_no}`).count()).toBe(0);
    expect(browser.problems).toEqual([]);

    // Close the day: ¥100.00 cash in the system; ¥99.50 counted needs a reason.
    await page.goto('/payments/close');
    await expect
      .poll(() => page.getByTestId('system-cash').getAttribute('data-fen'), { timeout: 20_000 })
      .toBe('10000');
    await page.getByTestId('close-counted').fill('99.50');
    await page.getByTestId('close-handed').fill('99.50');
    await page.getByTestId('close-voucher').fill('JK20261124-001');
    await page.getByTestId('close-submit').click();
    await page.getByText('实点现金与系统不符，请填写原因').waitFor();
    expect((await q<{ n: number }>('select count(*)::int as n from cashier_close'))[0]!.n).toBe(0);
    await page.getByTestId('close-reason').fill('找零少收五角');
    await page.getByTestId('close-submit').click();
    await page.getByTestId('close-history').getByText('JK20261124-001').waitFor();
    const closes = await q(
      `select payments, system_cash_fen::int as system, counted_cash_fen::int as counted, difference_fen::int as diff,
              difference_reason, bank_voucher_no, handed_over_fen::int as handed from cashier_close`,
    );
    expect(closes).toEqual([
      {
        payments: 1,
        system: 10000,
        counted: 9950,
        diff: -50,
        difference_reason: '找零少收五角',
        bank_voucher_no: 'JK20261124-001',
        handed: 9950,
      },
    ]);
    expect(
      (await q<{ n: number }>('select count(*)::int as n from payment where close_id is null'))[0]!.n,
    ).toBe(0);

    // The ledger balances: debits = credits over the account.
    const [totals] = await q<{ d: string; c: string }>(
      'select sum(debit_fen)::text as d, sum(credit_fen)::text as c from account_ledger where account_id = $1',
      [accountId],
    );
    expect(totals!.d).toBe(totals!.c);

    // The collection report shows the day's cash with its chart.
    await page.goto('/payments/report');
    await page.getByTestId('collection-chart').waitFor();
    await page.getByText('¥100.00').first().waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/collection-report.png`, fullPage: true });
    expect(browser.problems).toEqual([]);
    await logout(page);
  });

  test('online payment through the sandbox, and a reversal asked by the clerk and approved by the manager', async () => {
    // A second customer owes one bill of ¥45.60.
    const [c] = await q<{ account_id: number }>(
      `select c.account_id from customer c join office o on o.office_id = c.office_id
       where o.code = '0101' and c.account_id <> $1
         and not exists (select 1 from bill b where b.account_id = c.account_id and b.amount_fen > b.paid_fen)
       order by c.account_id limit 1`,
      [accountId],
    );
    const other = Number(c!.account_id);
    const [b] = await q<{ bill_id: number }>(
      `insert into bill (account_id, bill_no, kind, period, period_from, period_to, amount_fen, due_on)
       values ($1, 'E2E-PAY-0003', 'consumption', '2026-10', '2026-10-01', '2026-10-31', 4560, '2026-11-30') returning bill_id`,
      [other],
    );
    await q(
      `insert into bill_line (account_id, bill_id, line_no, kind, code, description_zh, description_en, amount_fen)
       values ($1, $2, 1, 'charge', 'charge', '水费', 'Water', 4560)`,
      [other, b!.bill_id],
    );
    await login(page, 'clerk');
    await page.goto(`/payments/counter/${other}`);
    await expect
      .poll(() => page.getByTestId('due-fen').getAttribute('data-fen'), { timeout: 20_000 })
      .toBe('4560');
    const popup = browser.context.waitForEvent('page');
    await page.getByTestId('online-pay').getByRole('button').click();
    const checkout = await popup;
    await checkout.waitForURL(/\/sandbox-gateway\/checkout\//);
    await checkout.getByRole('button', { name: '确认支付' }).click();
    await checkout.waitForLoadState();
    // The signed callback posts the payment; the counter page sees it on its next poll (every 2 s).
    await expect
      .poll(
        async () =>
          (
            await q<{ n: number }>(`select count(*)::int as n from payment where account_id = $1`, [other])
          )[0]!.n,
        { timeout: 30_000 },
      )
      .toBe(1);
    await page.locator('[data-testid="online-pay-status"][data-status="paid"]').waitFor({ timeout: 30_000 });
    await checkout.close();
    const online = await q(
      `select source, channel, amount_fen::int as amount_fen from payment where account_id = $1`,
      [other],
    );
    expect(online).toEqual([{ source: 'gateway', channel: 'online', amount_fen: 4560 }]);
    expect(
      (await q<{ paid_fen: number }>('select paid_fen from bill where account_id = $1', [other]))[0],
    ).toEqual({
      paid_fen: 4560,
    });

    // The clerk asks to reverse the first customer's cash payment (taken by mistake on the wrong account).
    await page.goto(`/payments/counter/${accountId}`);
    await page.getByTestId('payment-list').getByRole('button', { name: '申请冲正' }).click();
    await page.getByTestId('request-reason').fill('收错用户，原路退回');
    await page.getByRole('dialog').getByRole('button', { name: '提交申请' }).click();
    await page.getByTestId('payment-list').getByText('冲正待审批').waitFor();
    const [request] = await q<{ request_id: number; status: string }>(
      'select request_id, status from payment_request where account_id = $1',
      [accountId],
    );
    expect(request!.status).toBe('pending');
    await logout(page);

    // The office manager approves it: the bills owe again, the receipts are void.
    await login(page, 'manager');
    await page.goto('/payments/requests');
    await page.getByTestId(`approve-${request!.request_id}`).click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: /OK|确\s*定/ })
      .click();
    await expect
      .poll(
        async () =>
          (await q<{ status: string }>('select status from payment where account_id = $1', [accountId]))[0]!
            .status,
        { timeout: 15_000 },
      )
      .toBe('reversed');
    const bills = await q(
      'select bill_no, paid_fen::int as paid_fen from bill where account_id = $1 order by bill_no',
      [accountId],
    );
    expect(bills).toEqual([
      { bill_no: 'E2E-PAY-0001', paid_fen: 0 },
      { bill_no: 'E2E-PAY-0002', paid_fen: 0 },
    ]);
    const receipts = await q('select kind, status from receipt where account_id = $1 order by receipt_id', [
      accountId,
    ]);
    expect(receipts).toEqual([
      { kind: 'slip', status: 'taken_back' },
      { kind: 'invoice', status: 'voided' },
    ]);
    const [totals] = await q<{ d: string; c: string }>(
      'select sum(debit_fen)::text as d, sum(credit_fen)::text as c from account_ledger where account_id = $1',
      [accountId],
    );
    expect(totals!.d).toBe(totals!.c);
    expect(browser.problems).toEqual([]);
    await logout(page);
  });

  test('finance exports a direct-debit file and imports the bank’s result: each debit posted once', async () => {
    // The first customer (owing again after the reversal) signs a CCB direct-debit mandate at the counter.
    await q(`delete from debit_mandate where account_id = $1`, [accountId]);
    await login(page, 'clerk');
    await page.goto(`/customers/${accountId}?tab=payments`);
    await page.getByTestId('mandate-add').click();
    await page.getByTestId('mandate-bank').click();
    await page
      .locator('.ant-select-dropdown:visible .ant-select-item-option')
      .filter({ hasText: 'CCB' })
      .click();
    await page.getByTestId('mandate-account').fill('6217 0000 0000 0000 999');
    await page
      .getByRole('dialog')
      .getByRole('button', { name: /OK|确\s*定/ })
      .click();
    await page.getByTestId('mandates').getByText('6217000000000000999').waitFor();
    expect(
      await q('select bank_code, bank_account_no, status from debit_mandate where account_id = $1', [
        accountId,
      ]),
    ).toEqual([{ bank_code: 'CCB', bank_account_no: '6217000000000000999', status: 'active' }]);
    await logout(page);
    await login(page, 'finance');
    await page.goto('/payments/bank-files');
    await page.getByTestId('bank-select').click();
    await page
      .locator('.ant-select-dropdown:visible .ant-select-item-option')
      .filter({ hasText: 'CCB' })
      .click();
    const download = page.waitForEvent('download');
    await page.getByTestId('bank-export').click();
    const request = readFileSync((await (await download).path())!, 'utf8');
    const mine = request.split(/\r?\n/).find((l) => l.includes(customerCode));
    expect(mine).toBeDefined();
    // The bank debits every line; its result file repeats each line with its reference and 00.
    let n = 0;
    const result = request
      .split(/\r?\n/)
      .filter((l) => l !== '')
      .map((l) => (l.startsWith('D,') ? `${l},CCBE2E${String(++n).padStart(4, '0')},00,` : l))
      .join('\r\n');
    await page
      .locator('input[type=file]')
      .setInputFiles({ name: 'ccb-result.csv', mimeType: 'text/csv', buffer: Buffer.from(`${result}\r\n`) });
    await page.getByTestId('bank-report').waitFor();
    await expect
      .poll(
        async () =>
          (
            await q<{ n: number }>(
              `select count(*)::int as n from payment where account_id = $1 and source = 'bank_file' and status = 'posted'`,
              [accountId],
            )
          )[0]!.n,
      )
      .toBe(1);
    // Everything the customer owed (¥130 + ¥3 late fee) is paid by the debit.
    expect(
      await q(
        'select bill_no, (amount_fen - paid_fen)::int as unpaid from bill where account_id = $1 order by bill_no',
        [accountId],
      ),
    ).toEqual([
      { bill_no: 'E2E-PAY-0001', unpaid: 0 },
      { bill_no: 'E2E-PAY-0002', unpaid: 0 },
    ]);
    // The same file again: recognised, nothing posted twice.
    await page.locator('input[type=file]').setInputFiles({
      name: 'ccb-result-again.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(`${result}\r\n`),
    });
    await page
      .getByTestId('bank-report')
      .getByText('ccb-result-again.csv')
      .waitFor({ timeout: 10_000 })
      .catch(() => {});
    expect(
      (
        await q<{ n: number }>(
          `select count(*)::int as n from payment where account_id = $1 and source = 'bank_file'`,
          [accountId],
        )
      )[0]!.n,
    ).toBe(1);
    expect(browser.problems).toEqual([]);
    await logout(page);
  });
});
