import { addDays, todayInChina } from '@meterline/domain';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { endOfChinaDay } from '../packages/server/src/readings/registerBilling.ts';
import { demoSmartMeters } from '../packages/server/src/seed/registers.ts';
import type { TestDatabase } from '../packages/server/src/testing/harness.ts';
import { login, logout } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { downloadRoute, FIXED_POSITION, fieldLogin, PHONE } from './lib/fieldApp.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * Billing readings from register reads (远传结算) in a real browser against a real server started as the
 * demo's first start does it: the demo's smart meters of office 0101 are not read by hand this month,
 * they send daily register reads, and the daily job settles the days planned this month before today.
 * The analyst opens the smart-meter page's 远传结算 kind: the settled days are listed with the API's
 * counts; a day with meters left to the reader lists them; a day that is not over is refused at the
 * date; a planned day that is over is settled again (nothing twice), by the analyst now; the labels
 * follow the language.
 */

/** Enough customers for office 0101 to have smart meters in most of its books. */
const CUSTOMERS = 2000;

interface BillingRun {
  officeId: number;
  officeName: string;
  day: string;
  startedAt: string;
  finishedAt: string | null;
  startedByName: string | null;
  runs: number;
  books: number;
  meters: number;
  accepted: number;
  review: number;
  conflict: number;
  rejected: number;
  otherwise: number;
  missing: number;
}

interface MissingMeter {
  accountId: number;
  meterId: number;
  lastReadAt: string | null;
  customerCode: string;
  meterNo: string;
  reason: 'stale' | 'backwards' | 'conflict' | 'rejected';
  readSince: boolean;
}

const COUNTS = [
  'books',
  'meters',
  'accepted',
  'review',
  'conflict',
  'rejected',
  'otherwise',
  'missing',
  'runs',
] as const;

/** The missing list's page (RegisterBilling's MISSING_PAGE_SIZE). */
const MISSING_PAGE_SIZE = 20;
const DAY_MS = 86_400_000;

const REASONS = { stale: '读数过旧', backwards: '读数倒走', conflict: '读数冲突', rejected: '规则拒绝' };

let server: RunningMeterline;
let database: TestDatabase;
let url: string;
let browser: BrowserSession;
let page: Page;

/** The demo's first start as far as smart meters go (the job's first check settles the days due). */
beforeAll(async () => {
  server = await startMeterline({ customers: CUSTOMERS, metering: true, smartMeters: true });
  database = server.database;
  url = server.url;
  browser = await openBrowser({ baseURL: url });
  page = browser.page;
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** A run's row in the runs table. */
const runRow = (day: string): Locator =>
  page.getByTestId('register-billing-runs').locator(`tbody tr.ant-table-row[data-day="${day}"]`);

/** The number a row shows for a count (the missing count is a link, "缺读 N"). */
async function shown(row: Locator, count: (typeof COUNTS)[number]): Promise<number> {
  const text = (await row.locator(`td[data-count="${count}"]`).textContent()) ?? '';
  return Number(text.replace(/[^\d]/g, ''));
}

/** The missing list of an office's day, opened from its row's link, against the API's. */
async function checkMissing(officeId: number, day: string): Promise<MissingMeter[]> {
  const res = await page.request.get(
    `/api/readings/registers/billing/missing?officeId=${officeId}&day=${day}`,
  );
  expect(res.status()).toBe(200);
  const { items } = (await res.json()) as { items: MissingMeter[] };
  expect(items.length).toBeGreaterThan(0);
  await runRow(day).getByTestId('register-billing-missing-link').click();
  const card = page.locator(`[data-testid="register-billing-missing"][data-day="${day}"]`);
  await card.waitFor();
  expect(await shown(runRow(day), 'missing')).toBe(items.length);
  const listed = card.getByTestId('register-billing-missing-table').locator('tbody tr.ant-table-row');
  await expect.poll(() => listed.count()).toBe(Math.min(items.length, MISSING_PAGE_SIZE));
  if (items.length > MISSING_PAGE_SIZE) await card.getByText(`共 ${items.length} 只`).waitFor();
  for (const [i, item] of items.slice(0, MISSING_PAGE_SIZE).entries()) {
    const row = listed.nth(i);
    expect(await row.textContent()).toContain(item.meterNo);
    expect(await row.locator(`[data-reason="${item.reason}"]`).textContent()).toBe(REASONS[item.reason]);
    const customer = row.getByTestId('register-billing-customer');
    expect(await customer.getAttribute('href')).toBe(`/customers/${item.accountId}?tab=readings`);
    expect(await customer.textContent()).toBe(item.customerCode);
    expect(await row.getByTestId('register-billing-read-since').count()).toBe(item.readSince ? 1 : 0);
  }
  return items;
}

describe('billing readings from register reads in the back office', () => {
  test('the settled days as the API counts them, the missing meters, a day not over, a day again', async () => {
    const { rows: offices } = await database.pool.query<{ office_id: number }>(
      `select office_id from office where code = '0101'`,
    );
    const officeId = offices[0]!.office_id;
    const today = todayInChina();
    // The days planned this month before yesterday for books with smart meters: the job settled them
    // before the server listened (yesterday's only from 10:00 China time, so it is not counted on).
    const smart = [...(await demoSmartMeters(database.pool))];
    expect(smart.length).toBeGreaterThan(0);
    const { rows: planned } = await database.pool.query<{ day: string }>(
      `select distinct rp.planned_on::text as day
       from reading_plan rp join meter m on m.book_id = rp.book_id
       where m.account_id || ':' || m.meter_id = any($1::text[])
         and rp.planned_on >= $2::date and rp.planned_on < $3::date
       order by 1`,
      [smart, `${today.slice(0, 7)}-01`, addDays(today, -1)],
    );

    await login(page, 'analyst');
    await page.goto('/reading/smart-files');
    await page.getByTestId('smart-file-kind').getByText('远传结算').click();
    await page.waitForURL((u) => u.searchParams.get('kind') === 'billing-reads');
    // The analyst's home office is 0101.
    await page.getByTestId('office-select').getByText('0101').waitFor();
    await page.getByTestId('register-billing').getByText('每日任务自动结算', { exact: false }).waitFor();
    // The upload is not offered for this kind.
    expect(await page.getByTestId('smart-upload').count()).toBe(0);

    // ---- the runs table shows what the API counts, day by day
    const fetchRuns = async () => {
      const res = await page.request.get(`/api/readings/registers/billing?officeId=${officeId}`);
      expect(res.status()).toBe(200);
      return (await res.json()) as BillingRun[];
    };
    const runs = await fetchRuns();
    expect(runs.length).toBeGreaterThan(0);
    const rows = page.getByTestId('register-billing-runs').locator('tbody tr.ant-table-row');
    await expect.poll(() => rows.count()).toBe(runs.length);
    const taken = (r: BillingRun) => r.accepted + r.review + r.conflict;
    for (const day of planned.map((p) => p.day)) {
      const run = runs.find((r) => r.day === day);
      expect(run, `planned day ${day}`).toBeDefined();
      expect(taken(run!), `readings taken on ${day}`).toBeGreaterThan(0);
    }
    // The newest day with readings taken (on the first days of a month there may be none yet: then
    // the newest day), checked against the API, count by count.
    const checked = runs.find((r) => taken(r) > 0) ?? runs[0]!;
    if (planned.length > 0) expect(taken(checked)).toBeGreaterThan(0);
    const row = runRow(checked.day);
    for (const count of COUNTS) expect(await shown(row, count), count).toBe(checked[count]);
    expect(checked.meters).toBe(
      checked.accepted +
        checked.review +
        checked.conflict +
        checked.rejected +
        checked.otherwise +
        checked.missing,
    );
    expect(await row.textContent()).toContain(checked.officeName);
    // The job ran it; the bar shows its outcomes.
    expect(checked.startedByName).toBeNull();
    expect(await row.textContent()).toContain('每日任务');
    expect(checked.finishedAt).not.toBeNull();
    await row.getByTestId('smart-outcome-bar').waitFor();
    if (checked.accepted > 0) await row.locator('[data-outcome="accepted"]').waitFor();

    // ---- the meters left to the reader, on a day with some (the demo may have none)
    const withMissing = runs.find((r) => r.missing > 0);
    if (withMissing) await checkMissing(officeId, withMissing.day);

    // ---- a day not over yet is refused at the date
    const form = page.getByTestId('register-billing-form');
    const dateInput = form.locator('.ant-picker input');
    expect(await dateInput.inputValue()).toBe(addDays(today, -1));
    // Enter in the date sends the form, as the button does.
    await dateInput.fill(today);
    await dateInput.press('Enter');
    await expect.poll(() => form.locator('.ant-form-item-explain-error').textContent()).toContain('尚未结束');

    // ---- a planned day that is over, settled again now: nothing twice, the analyst's run. Before it,
    // one of the day's meters loses the reading taken for it and its register reads of the last four
    // days (a platform that never re-sent them, say): the run leaves it to the reader, its read too old.
    const again = checked.day;
    const { rows: lost } = await database.pool.query<{
      reading_id: string;
      account_id: number;
      meter_id: number;
    }>(
      `select g.reading_id::text, g.account_id, g.meter_id
       from reading g join meter m on m.account_id = g.account_id and m.meter_id = g.meter_id
       join book b on b.book_id = m.book_id
       join reading_plan rp on rp.book_id = b.book_id and rp.planned_on = $1::date and rp.period = g.period
       where b.office_id = $2 and g.client_id like 'register:%'
       order by g.account_id, g.meter_id limit 1`,
      [again, officeId],
    );
    const gone = taken(checked) > 0 ? lost[0] : undefined;
    if (gone) {
      await database.pool.query('delete from reading where reading_id = $1::int8', [gone.reading_id]);
      const end = endOfChinaDay(again);
      await database.pool.query(
        'delete from register_read where account_id = $1 and meter_id = $2 and read_at > $3 and read_at <= $4',
        [gone.account_id, gone.meter_id, new Date(end.getTime() - 4 * DAY_MS), end],
      );
    }
    await dateInput.fill(again);
    await dateInput.press('Tab');
    // The date's error goes with the change.
    await expect.poll(() => form.locator('.ant-form-item-explain-error').count()).toBe(0);
    const posted = page.waitForResponse(
      (r) => r.request().method() === 'POST' && r.url().includes('/api/readings/registers/billing'),
    );
    await form.getByTestId('register-billing-run').click();
    const answer = (await (await posted).json()) as BillingRun & { stored: number };
    expect(answer.stored).toBe(0);
    expect(taken(answer)).toBe(taken(checked) - (gone ? 1 : 0));
    expect(answer.missing).toBe(checked.missing + (gone ? 1 : 0));
    await page.locator('.ant-message-notice', { hasText: `${again} 已结算` }).waitFor();
    const after = (await fetchRuns()).find((r) => r.day === again)!;
    expect(after.runs).toBe(checked.runs + 1);
    expect(after.startedByName).not.toBeNull();
    await expect.poll(() => shown(runRow(again), 'runs')).toBe(after.runs);
    await expect.poll(() => shown(runRow(again), 'missing')).toBe(after.missing);
    expect(await runRow(again).textContent()).toContain(after.startedByName);
    // The run shows its day's missing meters, the lost one among them, too old.
    await page.locator(`[data-testid="register-billing-missing"][data-day="${again}"]`).waitFor();
    if (gone) {
      const items = await checkMissing(officeId, again);
      const item = items.find((i) => i.accountId === gone.account_id && i.meterId === gone.meter_id);
      expect(item).toMatchObject({ reason: 'stale', readSince: false });
      expect(item!.lastReadAt).not.toBeNull();
    }

    // ---- in English
    await page.getByTestId('lang-switch').getByText('English').click();
    await page.getByTestId('smart-file-kind').getByText('Billing from register reads').waitFor();
    await form.getByRole('button', { name: 'Settle now' }).waitFor();
    await page
      .getByTestId('register-billing-runs')
      .getByRole('columnheader', { name: 'Smart meters' })
      .waitFor();
    await page.getByTestId('lang-switch').getByText('中文').click();
    await form.getByRole('button', { name: /立即结算/ }).waitFor();

    await logout(page);
    expect(browser.problems).toEqual([]);
  });

  test('on a phone, the reader’s route shows the smart meters as remote and leaves them out of the day’s count', async () => {
    // A book of office 0101 holding demo smart meters, planned today for its reader.
    const smart = [...(await demoSmartMeters(database.pool))];
    const today = todayInChina();
    const { rows } = await database.pool.query<{ book_id: number; username: string }>(
      `select b.book_id, s.username from book b join staff s on s.staff_id = b.reader_id
       where exists (select 1 from meter m where m.book_id = b.book_id
                       and m.account_id || ':' || m.meter_id = any($1::text[]))
       order by b.book_id limit 1`,
      [smart],
    );
    expect(rows).toHaveLength(1);
    const { book_id: bookId, username } = rows[0]!;
    await database.pool.query(
      `insert into reading_plan (book_id, period, planned_on, original_on) values ($1, $2, $3, $3)
       on conflict (book_id, period) do update set planned_on = excluded.planned_on`,
      [bookId, today.slice(0, 7), today],
    );
    const phone = await openBrowser({
      baseURL: url,
      viewport: PHONE,
      hasTouch: true,
      geolocation: FIXED_POSITION,
    });
    try {
      await fieldLogin(phone.page, username);
      await downloadRoute(phone.page, today);
      // What the server sent: the smart meters that reported in the last days are remote.
      const route = await phone.page.request.get(`/api/field/route?date=${today}&deviceId=e2e-remote`);
      expect(route.status()).toBe(200);
      const meters = (await route.json()).meters as { accountId: number; meterId: number; remote: boolean }[];
      const remote = meters.filter((m) => m.remote);
      expect(remote.length).toBeGreaterThan(0);
      for (const m of remote) expect(smart).toContain(`${m.accountId}:${m.meterId}`);
      await expect.poll(() => phone.page.getByTestId('remote-tag').count()).toBe(remote.length);
      for (const m of remote)
        await phone.page
          .getByTestId(`route-item-${m.accountId}:${m.meterId}`)
          .getByTestId('remote-tag')
          .waitFor();
      // The day's count leaves them out: nothing read yet of the meters left to read by hand.
      expect(await phone.page.getByTestId('progress-count').textContent()).toBe(
        `已抄 0 / ${meters.length - remote.length}`,
      );
      expect(await phone.page.getByTestId('remote-count').textContent()).toContain(String(remote.length));
      // A remote meter opened says why it need not be read.
      const first = remote[0]!;
      await phone.page.getByTestId(`route-item-${first.accountId}:${first.meterId}`).click();
      await phone.page.getByText('远传表：次日按远传日冻结读数结算', { exact: false }).waitFor();
    } finally {
      await phone.close();
    }
  });
});
