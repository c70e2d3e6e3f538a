import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureDefaultTariffs } from '../packages/server/src/seed/tariffs.ts';
import { pageCount, pdfPages } from '../packages/server/src/testing/pdf.ts';
import { login } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * Bill runs in a real browser (issue 4): the office manager previews a run over their office (a dry
 * run: totals by usage type, exceptions, no bill), bills the same scope for real from the dry run's
 * page, follows its progress to the end and finds the bills it made; then opens a customer's bill
 * notice (水费通知单) as a PDF and prints a book's notices, one page a meter in route order.
 */

const POLL = { timeout: 60_000, interval: 500 };

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;

const status = () => page.getByTestId('run-status').first().textContent();
const runIdOf = () => Number(new URL(page.url()).pathname.split('/').at(-1));
const billCount = async () =>
  Number((await server.database.pool.query('select count(*) as n from bill')).rows[0].n);

beforeAll(async () => {
  server = await startMeterline({ customers: 60, metering: true });
  await ensureDefaultTariffs(server.database.db);
  browser = await openBrowser({ baseURL: server.url, timezoneId: 'Asia/Shanghai' });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('bill runs', () => {
  test('a dry run shows the totals and writes nothing; billing it for real makes the bills', async () => {
    await login(page, 'manager');
    await page.goto('/billing/runs');
    await page.getByTestId('start-run-form').waitFor();
    expect(await page.getByTestId('run-dry').isChecked()).toBe(true);
    await page.getByTestId('start-run').click();

    // The dry run's page: it finishes, with totals by usage type and no bill written.
    await page.waitForURL(/\/billing\/runs\/\d+$/);
    const dryRunId = runIdOf();
    await expect.poll(status, POLL).toBe('已完成');
    const totals = page.getByTestId('run-totals');
    await totals.getByText('居民生活用水').waitFor();
    expect(await billCount()).toBe(0);
    const dry = await server.database.db
      .selectFrom('bill_run')
      .selectAll()
      .where('run_id', '=', dryRunId)
      .executeTakeFirstOrThrow();
    expect(dry.dry_run).toBe(true);
    expect(dry.billed).toBeGreaterThan(0);

    // Bill the same scope for real.
    await page.getByTestId('commit-run').click();
    await page.getByRole('button', { name: '正式开账' }).last().click();
    await page.waitForURL((url) => url.pathname !== `/billing/runs/${dryRunId}`);
    const runId = runIdOf();
    // The real run's page (not the dry run's, still on screen for a moment).
    await page.getByRole('heading', { name: `开账批次 #${runId}` }).waitFor();
    await expect.poll(status, POLL).toBe('已完成');
    // Every account of the office gone through, the bar complete.
    await page.getByText(/已处理 ([\d,]+) \/ \1 户/).waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/bill-run.png`, fullPage: true });
    const run = await server.database.db
      .selectFrom('bill_run')
      .selectAll()
      .where('run_id', '=', runId)
      .executeTakeFirstOrThrow();
    expect(run.dry_run).toBe(false);
    expect(run.office_ids).toEqual(dry.office_ids);
    expect(run.billed).toBe(dry.billed);
    expect(await billCount()).toBe(run.billed);

    // Both runs are in the list.
    await page.goto('/billing/runs');
    const table = page.getByTestId('runs-table');
    await table.getByRole('link', { name: `#${runId}` }).waitFor();
    await table.getByRole('link', { name: `#${dryRunId}` }).waitFor();
    if (process.env.E2E_SCREENSHOTS)
      await page.screenshot({ path: `${process.env.E2E_SCREENSHOTS}/bill-runs.png`, fullPage: true });
    expect(browser.problems).toEqual([]);
  });

  test("a customer's notice opens as a PDF; a book's notices print one a page in route order", async () => {
    // The book and month with the most bills of the run above.
    const { rows: books } = await server.database.pool.query<{ book_id: string; period: string }>(
      `select m.book_id, b.period from bill b
       join meter m on m.account_id = b.account_id and m.meter_id = b.meter_id
       where b.status = 'open' and m.book_id is not null
       group by m.book_id, b.period order by count(*) desc, m.book_id limit 1`,
    );
    const { book_id: bookId, period } = books[0]!;
    const { rows: route } = await server.database.pool.query<{
      account_id: string;
      bill_id: string;
      bill_no: string;
    }>(
      `select b.account_id, b.bill_id, b.bill_no from bill b
       join meter m on m.account_id = b.account_id and m.meter_id = b.meter_id
       where m.book_id = $1 and b.period = $2 and b.status = 'open'
       order by m.route_seq nulls last, b.bill_no`,
      [bookId, period],
    );
    expect(route.length).toBeGreaterThan(1);
    const { code: bookCode } = (
      await server.database.pool.query<{ code: string }>('select code from book where book_id = $1', [bookId])
    ).rows[0]!;

    // One customer's notice from the bills tab: a new tab with the notice PDF.
    const first = route[0]!;
    await page.goto(`/customers/${first.account_id}?tab=bills`);
    const popup = browser.context.waitForEvent('page');
    await page.getByTestId(`notice-${first.bill_no}`).click();
    const notice = await popup;
    expect(notice.url()).toContain(`/api/customers/${first.account_id}/bills/${first.bill_id}/notice.pdf`);
    const single = await page.request.get(notice.url());
    expect(single.headers()['content-type']).toBe('application/pdf');
    const singlePdf = await single.body();
    expect(pageCount(singlePdf)).toBe(1);
    expect(pdfPages(singlePdf)[0]).toContain(first.bill_no);
    await notice.close();

    // The book's batch from the billing summary: one page a bill, in route order.
    await page.goto(`/billing/summary?month=${period}`);
    await page.getByTestId('batch-book').click();
    await page.keyboard.type(bookCode);
    await page.keyboard.press('Enter');
    const download = page.waitForEvent('download');
    await page.getByTestId('batch-download').click();
    const file = await (await download).path();
    const batch = await readFile(file);
    expect(batch.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pageCount(batch)).toBe(route.length);
    const printed = pdfPages(batch).map((text) => route.find((r) => text.includes(r.bill_no))?.bill_no);
    expect(printed).toEqual(route.map((r) => r.bill_no));
    expect(browser.problems).toEqual([]);
  });
});
