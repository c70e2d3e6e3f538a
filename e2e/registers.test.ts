import { addDays, todayInChina } from '@meterline/domain';
import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { login, logout } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * Smart meters' register reads (远传日冻结读数) in a real browser against a real server with the demo
 * books and reading history: the analyst sends an office's daily reads for three days, in which one
 * meter's use jumps far above its usual daily use and one row names a meter that does not exist;
 * the page counts every row as the server stored it, gives the rejected row's reason, lists the jump
 * among the office's exceptions with its HIGH tag, and leads to the customer, whose readings tab
 * charts the meter's daily reads. The same file sent again stores nothing twice.
 */

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;

beforeAll(async () => {
  server = await startMeterline({ customers: 300, metering: true });
  browser = await openBrowser({ baseURL: server.url, timezoneId: 'UTC' });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** The reading's REGISTER_FLAGS bits that make a read an exception (BELOW_PREVIOUS, ROLLOVER, HIGH, ANOMALY). */
const EXCEPTION_BITS = 1 | 2 | 4 | 32;
const HIGH_BIT = 4;

describe('register reads in the back office', () => {
  test('upload daily register reads: counts, the rejected row, the exception, the customer chart, the file again', async () => {
    const db = server.database.db;
    const today = todayInChina();
    const [d1, d2] = [addDays(today, -1), today];
    // Two single-meter customers of office 0101 whose last billing reading (an accepted actual read,
    // 10 to 70 days before the first register read, a household's use) is where the register store
    // starts them from: that register, and the daily use their history gives.
    const { rows: meters } = await sql<{
      office_id: number;
      account_id: number;
      meter_id: number;
      meter_no: string;
      last: string;
    }>`
      select c.office_id, m.account_id, m.meter_id, m.meter_no, r.index_value::text as last
      from meter m join customer c using (account_id) join office o on o.office_id = c.office_id
      cross join lateral (select r.status, r.kind, r.index_value, r.consumption_m3, r.read_at from reading r
                          where r.account_id = m.account_id and r.meter_id = m.meter_id
                          order by r.read_at desc limit 1) r
      where o.code = '0101' and m.state = 'in_service' and r.status = 'accepted' and r.kind = 'actual'
        and r.consumption_m3 between 3 and 60
        and (r.read_at at time zone 'Asia/Shanghai')::date between ${d1}::date - 70 and ${d1}::date - 10
        and r.index_value + 5000 < 10 ^ m.dial_digits
        and (select count(*) from meter m2 where m2.account_id = m.account_id) = 1
      order by m.account_id limit 2`.execute(db);
    expect(meters).toHaveLength(2);
    const [steady, jumping] = meters as [(typeof meters)[0], (typeof meters)[0]];
    const index = (m: (typeof meters)[0], m3: number) => (Number(m.last) + m3).toFixed(3);
    // Each meter's daily freeze at midnight (China time), yesterday and today: the steady one uses
    // little; the other reads 3000 m³ above its last billing reading (far above weeks of a household's
    // use: HIGH), then goes on from there.
    const rows = [
      `${steady.meter_no},${d1} 00:00,${index(steady, 1.5)},`,
      `${jumping.meter_no},${d1} 00:00,${index(jumping, 3000)},`,
      `X999999999,${d1} 00:00,12.000,`,
      `${steady.meter_no},${d2} 00:00,${index(steady, 1.7)},`,
      `${jumping.meter_no},${d2} 00:00,${index(jumping, 3000.4)},`,
    ];
    const content = ['表号,抄表时间,读数,异常代码', ...rows].join('\r\n');
    const send = (name: string, text: string) =>
      page
        .getByTestId('smart-upload')
        .locator('input[type=file]')
        .setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(`\uFEFF${text}\r\n`, 'utf8') });
    const count = async (outcome: string) =>
      Number(
        (
          await page
            .getByTestId(`register-count-${outcome}`)
            .locator('.ant-statistic-content-value')
            .textContent()
        )?.replace(/,/g, ''),
      );
    /** What the register store holds for the two meters. */
    const stored = async () => {
      const { rows: reads } = await sql<{
        meter_no: string;
        day: string;
        flags: number;
        index_milli: string;
      }>`
        select m.meter_no, (r.read_at at time zone 'Asia/Shanghai')::date::text as day, r.flags,
               r.index_milli::text as index_milli
        from register_read r join meter m using (account_id, meter_id)
        where (r.account_id, r.meter_id) in (${sql.join(
          meters.map((m) => sql`(${m.account_id}::int8, ${m.meter_id}::int8)`),
        )})
        order by m.meter_no, r.read_at`.execute(db);
      return reads;
    };

    // ---- the analyst opens the smart-meter files from the menu and chooses register reads
    await login(page, 'analyst');
    const item = page.getByTestId('side-menu').getByRole('menuitem', { name: /远传表读数导入/ });
    if (!(await item.isVisible())) await page.getByTestId('side-menu').getByText('抄表管理').click();
    await item.click();
    await page.waitForURL((url) => url.pathname === '/reading/smart-files');
    await page.getByTestId('smart-file-kind').getByText('日冻结读数').click();
    await page.waitForURL((url) => url.searchParams.get('kind') === 'registers');
    // The analyst's home office is 0101.
    await page.getByTestId('office-select').getByText('0101').waitFor();

    await send('日冻结0101.csv', content);
    const report = page.getByTestId('register-report');
    await report.waitFor();
    const first = await stored();
    expect(first).toHaveLength(4);
    // One read is an exception, and it is the jump: the jumping meter's first day, flagged HIGH.
    const exceptions = first.filter((r) => (r.flags & EXCEPTION_BITS) !== 0);
    expect(exceptions).toHaveLength(1);
    expect(exceptions[0]).toMatchObject({ meter_no: jumping.meter_no, day: d1 });
    expect(exceptions[0]!.flags & HIGH_BIT).toBe(HIGH_BIT);
    // The page counts what was stored.
    expect(await count('rows')).toBe(5);
    expect(await count('stored')).toBe(3);
    expect(await count('flagged')).toBe(1);
    expect(await count('duplicate')).toBe(0);
    expect(await count('conflict')).toBe(0);
    expect(await count('rejected')).toBe(1);
    await report.getByTestId('smart-outcome-bar').waitFor();
    // The rejected row by its row number in the file (the header is row 1), with the reason.
    const errors = page.getByTestId('register-errors').locator('tbody tr.ant-table-row');
    await expect.poll(() => errors.count()).toBe(1);
    expect(await errors.nth(0).textContent()).toMatch(/^4\s*X999999999\s*表号 X999999999 不存在/);
    // In English the same row gives its reason in English (both languages come with it), and the
    // counts are named in English.
    await page.getByTestId('lang-switch').getByText('English').click();
    await expect
      .poll(() => errors.nth(0).textContent())
      .toMatch(/Meter X999999999 does not exist in this office/);
    await report.getByText('Register reads: result').waitFor();
    await page.getByTestId('lang-switch').getByText('中文').click();
    await report.getByText('日冻结读数导入结果').waitFor();

    // ---- the jump is among the office's exceptions of the last 7 days, tagged 用量突增 (HIGH)
    const listed = page
      .getByTestId('register-exceptions-table')
      .locator('tbody tr.ant-table-row', { hasText: jumping.meter_no });
    await expect.poll(() => listed.count()).toBe(1);
    expect(
      await listed.locator('[data-flag]').evaluateAll((els) => els.map((e) => e.getAttribute('data-flag'))),
    ).toEqual(['HIGH']);
    expect(await listed.locator('[data-flag="HIGH"]').textContent()).toBe('用量突增');
    // Its use since the meter's last billing reading (3000 m³), what was expected over those days.
    const { rows: jump } = await sql<{ expected_milli: string; days: number }>`
      select expected_milli::text, days from register_read
      where account_id = ${jumping.account_id} and meter_id = ${jumping.meter_id}
        and (flags & ${EXCEPTION_BITS}) <> 0`.execute(db);
    expect(jump[0]!.days).toBeGreaterThanOrEqual(10);
    const cells = listed.locator('td');
    expect(await cells.nth(0).textContent()).toBe(`${d1} 00:00:00`);
    expect(Number(await cells.nth(3).textContent())).toBe(Number(index(jumping, 3000)));
    expect(await cells.nth(4).textContent()).toBe('3000');
    expect(Number(await cells.nth(5).textContent())).toBe(Number(jump[0]!.expected_milli) / 1000);
    expect(Number(await cells.nth(6).textContent())).toBe(jump[0]!.days);
    await page.getByTestId('register-exceptions-chart').waitFor();
    // The steady meter has no exception.
    expect(
      await page
        .getByTestId('register-exceptions-table')
        .locator('tbody tr.ant-table-row', { hasText: steady.meter_no })
        .count(),
    ).toBe(0);
    // The file is listed among the office's register files.
    const files = page.getByTestId('register-files').locator('tbody tr.ant-table-row');
    await expect.poll(() => files.count()).toBe(1);
    expect(await files.nth(0).textContent()).toContain('日冻结0101.csv');
    expect(await files.nth(0).locator('td[data-outcome="flagged"]').textContent()).toBe('1');

    // ---- the row leads to the customer's readings tab, where the meter's daily reads are charted
    await listed.getByTestId('register-exception-customer').click();
    await page.waitForURL((url) => url.pathname === `/customers/${jumping.account_id}`);
    const card = page.locator(`[data-testid="register-card"][data-meter-no="${jumping.meter_no}"]`);
    await card.waitFor();
    expect(await card.getAttribute('data-reads')).toBe('2');
    expect(await card.getAttribute('data-exceptions')).toBe('1');
    await card.getByTestId('register-chart').locator('canvas').first().waitFor();
    // The usual daily use is the store's, after the jump.
    const { rows: state } = await sql<{ daily_milli: string }>`
      select daily_milli::text from register_read
      where account_id = ${jumping.account_id} and meter_id = ${jumping.meter_id}
      order by read_at desc limit 1`.execute(db);
    const dailyM3 = Number(state[0]!.daily_milli) / 1000;
    expect(dailyM3).toBeGreaterThan(1);
    const daily = await card
      .getByTestId('register-daily')
      .locator('.ant-statistic-content-value')
      .textContent();
    expect(Number(daily?.replace(/,/g, ''))).toBe(dailyM3);
    // Thirty days still hold the two reads.
    const answered = page.waitForResponse((r) => r.url().includes('/registers?days=30'));
    await card.getByTestId('register-days').getByText('30 天').click();
    await answered;
    expect(await card.getAttribute('data-reads')).toBe('2');

    // ---- the same file again: every stored read is recognised, nothing is stored twice
    await page.goBack();
    await page.waitForURL((url) => url.pathname === '/reading/smart-files');
    await page
      .getByTestId('smart-file-kind')
      .locator('.ant-segmented-item-selected')
      .getByText('日冻结读数')
      .waitFor();
    await send('日冻结0101.csv', content);
    await page.getByTestId('register-report').waitFor();
    await expect.poll(() => count('duplicate')).toBe(4);
    expect(await count('rows')).toBe(5);
    expect(await count('stored')).toBe(0);
    expect(await count('flagged')).toBe(0);
    expect(await count('conflict')).toBe(0);
    expect(await count('rejected')).toBe(1);
    expect(await stored()).toEqual(first);
    // Both files are listed, the newest first.
    await expect.poll(() => files.count()).toBe(2);
    expect(await files.nth(0).locator('td[data-outcome="duplicate"]').textContent()).toBe('4');
    expect(await files.nth(1).locator('td[data-outcome="duplicate"]').textContent()).toBe('0');
    // The exception is listed once.
    await expect.poll(() => listed.count()).toBe(1);

    await logout(page);
    expect(browser.problems).toEqual([]);
  });
});
