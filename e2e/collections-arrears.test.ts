import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { choose, login } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * Disputes and ageing in a real browser (issue 6, "a dispute is reviewed"; docs/arrears.md): the
 * clerk records a dispute on a customer's overdue bill from the customer page; the amount is held;
 * the office manager rejects it with a note on the disputes page and the hold is gone; the ageing
 * clerk then requests an installment agreement, the deputy GM approves it, the clerk records the
 * signing (the arrears are held again); the ageing page shows the arrears and the chart, the results
 * page its charts.
 */

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;
let accountId: number;

const q = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) =>
  (await server.database.pool.query(text, params)).rows as T[];

beforeAll(async () => {
  server = await startMeterline({ customers: 40 });
  browser = await openBrowser({ baseURL: server.url, timezoneId: 'Asia/Shanghai' });
  page = browser.page;
  const [c] = await q<{ account_id: string }>(
    `select c.account_id from customer c join office o on o.office_id = c.office_id
      where o.code = '0101' and c.state = 'active' order by c.account_id limit 1`,
  );
  accountId = Number(c!.account_id);
  // ¥88.00 due 50 days ago.
  const [b] = await q<{ bill_id: string }>(
    `insert into bill (account_id, bill_no, kind, period, period_from, period_to, amount_fen, due_on)
     values ($1, 'E2E-AR-0001', 'consumption', to_char(current_date - 80, 'YYYY-MM'), current_date - 80,
             current_date - 51, 8800, current_date - 50) returning bill_id`,
    [accountId],
  );
  await q(
    `insert into bill_line (account_id, bill_id, line_no, kind, code, description_zh, description_en, amount_fen)
     values ($1, $2, 1, 'charge', 'charge', '水费', 'Water', 8800)`,
    [accountId, b!.bill_id],
  );
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const held = async () =>
  Number(
    (
      await q<{ n: string }>(
        `select coalesce(sum(held_fen), 0) as n from collection_hold where account_id = $1`,
        [accountId],
      )
    )[0]!.n,
  );

describe('disputes and ageing', () => {
  test('a dispute is recorded and rejected, an installment agreement approved and signed; ageing and results show', async () => {
    await login(page, 'clerk');
    await page.goto(`/customers/${accountId}?tab=arrears`);
    await page.getByTestId('new-dispute').click();
    await choose(page, 'dispute-category', '抄表读数');
    await page.getByTestId('dispute-description').fill('本期读数比上期高出很多');
    await page.getByTestId('dispute-claim').fill('家中无人居住，不应有用水');
    await page.getByTestId('dispute-bill-0').fill('50');
    await page.getByTestId('dispute-ok').click();
    await page.getByText('异议已登记').waitFor();
    await page.getByText(/暂缓催缴升级的金额：¥50\.00/).waitFor();
    expect(await held()).toBe(5000);

    await login(page, 'manager');
    await page.goto('/collections/disputes');
    const [d] = await q<{ dispute_id: string }>(`select dispute_id from dispute where account_id = $1`, [
      accountId,
    ]);
    await page.getByTestId(`review-${d!.dispute_id}`).click();
    await page.getByLabel('驳回异议').check();
    await page.getByTestId('review-note').fill('复核读数无误，维持原账单');
    await page.getByTestId('review-ok').click();
    await page.getByText('审核意见已保存').waitFor();
    expect(await held()).toBe(0);
    const [row] = await q<{ status: string }>(`select status from dispute where dispute_id = $1`, [
      d!.dispute_id,
    ]);
    expect(row!.status).toBe('rejected');

    // An installment agreement: the clerk requests it on the customer page, the deputy GM
    // approves it, the clerk records the signing; the arrears are held again, by the agreement.
    await login(page, 'clerk');
    await page.goto(`/customers/${accountId}?tab=arrears`);
    await page.getByTestId('new-installment').click();
    await page.getByTestId('installment-ok').click();
    await page.getByText('已提交审批').waitFor();
    const [a] = await q<{ agreement_id: string; debt_fen: string }>(
      `select agreement_id, debt_fen from installment_agreement where account_id = $1`,
      [accountId],
    );
    expect(Number(a!.debt_fen)).toBe(8800);
    await login(page, 'deputy');
    await page.goto('/collections/installments');
    await page.getByTestId(`approve-${a!.agreement_id}`).click();
    await page.getByTestId('installment-decision-ok').click();
    await page.getByText('已批准').first().waitFor();
    await login(page, 'clerk');
    await page.goto('/collections/installments?');
    await page.getByText('待签订').first().click();
    await page.getByTestId(`sign-${a!.agreement_id}`).click();
    await page.getByTestId('installment-sign-ok').click();
    await page.getByText('已签订，欠费暂缓催缴并恢复供水').waitFor();
    expect(await held()).toBe(8800);

    await login(page, 'manager');
    await page.goto('/collections/ageing');
    await page.getByTestId('ageing-chart').waitFor();
    await page.getByTestId('ageing-table').getByText('金水营业所').waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/ageing.png`, fullPage: true });
    await page.goto('/collections/results');
    await page.getByTestId('results-rate-chart').waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/results.png`, fullPage: true });
  });
});
