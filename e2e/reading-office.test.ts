import { addDays, chinaDateTime, todayInChina } from '@meterline/domain';
import { sql } from 'kysely';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { choose, login, logout } from './lib/backOffice.ts';
import { type BrowserSession, openBrowser } from './lib/browser.ts';
import { type RunningMeterline, startMeterline } from './lib/server.ts';

/**
 * The back office of meter reading in a real browser against a real server with the demo books,
 * plan and reading history: the office manager plans next year, asks to move a book's reading day
 * (with a reason) and approves the move, reorders a book's route by dragging a row and finds the
 * order saved, hands the book over to another reader in writing; the analyst decides a flagged
 * reading in the review queue.
 */

let server: RunningMeterline;
let browser: BrowserSession;
let page: Page;

/** The meter numbers of the book page's route, in order. */
async function routeOrder(): Promise<string[]> {
  const rows = page.getByTestId('route-row');
  await rows.first().waitFor();
  return rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-meter-no') ?? ''));
}

/** Drags a route row by its handle onto another row's place, in small pointer steps. */
async function dragRow(from: number, to: number) {
  const handle = page.getByTestId('route-handle').nth(from);
  const source = (await handle.boundingBox())!;
  const target = (await page.getByTestId('route-row').nth(to).boundingBox())!;
  const x = source.x + source.width / 2;
  const y0 = source.y + source.height / 2;
  const y1 = target.y + target.height / 2 + 4;
  await page.mouse.move(x, y0);
  await page.mouse.down();
  const STEPS = 15;
  for (let i = 1; i <= STEPS; i++) {
    await page.mouse.move(x, y0 + ((y1 - y0) * i) / STEPS);
    await page.waitForTimeout(20);
  }
  await page.mouse.up();
}

beforeAll(async () => {
  server = await startMeterline({ customers: 1000, metering: true });
  browser = await openBrowser({ baseURL: server.url, timezoneId: 'UTC' });
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('meter reading in the back office', () => {
  test('plan a year, move and approve a reading day, reorder a route, review a flagged reading', async () => {
    const db = server.database.db;
    const office = await db
      .selectFrom('office')
      .select('office_id')
      .where('code', '=', '0101')
      .executeTakeFirstOrThrow();
    const year = Number(todayInChina().slice(0, 4)) + 1;

    // ---- the office manager generates next year's plan (a provisional year: weekends only)
    await login(page, 'manager');
    await page.goto(`/reading/plan?officeId=${office.office_id}&year=${year}&month=3`);
    await page.getByTestId('calendar-provisional').waitFor();
    await page.getByTestId('plan-generate').click();
    await page
      .getByRole('dialog')
      .getByRole('button', { name: /生成年度计划/ })
      .click();
    await page.getByTestId('plan-summary').waitFor();
    const planned = await db
      .selectFrom('reading_plan as p')
      .innerJoin('book as b', 'b.book_id', 'p.book_id')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('b.office_id', '=', office.office_id)
      .where('p.period', 'like', `${year}-%`)
      .executeTakeFirstOrThrow();
    expect(Number(planned.n)).toBeGreaterThan(0);
    const tags = page.getByTestId('plan-book');
    await tags.first().waitFor();

    // ---- ask to move a book's reading day within the month, with a reason
    const tag = tags.first();
    const book = (await tag.getAttribute('data-book'))!;
    const from = (await tag.getAttribute('data-date'))!;
    await tag.click();
    const modal = page.locator('.ant-modal-wrap:visible');
    const picked = modal.locator('.ant-picker input');
    let to = '';
    // A click that lands while the picker is still opening picks nothing: pick until it holds.
    for (let attempt = 0; attempt < 5 && (to === '' || (await picked.inputValue()) !== to); attempt++) {
      await page.getByTestId('plan-to-date').click();
      const cell = page
        .locator('.ant-picker-dropdown:visible td.ant-picker-cell-in-view:not(.ant-picker-cell-disabled)')
        .first();
      to = (await cell.getAttribute('title'))!;
      await page.waitForTimeout(300);
      await cell.click();
      await page.waitForTimeout(200);
    }
    expect(to.slice(0, 7)).toBe(from.slice(0, 7));
    expect(to).not.toBe(from);
    expect(await picked.inputValue()).toBe(to);
    await modal.getByLabel('原因').fill('小区二次供水改造，当日无法入户');
    await modal.getByRole('button', { name: /提交申请/ }).click();
    // Either the request is taken (the confirmation shows) or the form says why not.
    const outcome = page.getByText('调整申请已提交').or(modal.locator('.ant-form-item-explain-error'));
    await outcome.first().waitFor();
    expect(await modal.locator('.ant-form-item-explain-error').allInnerTexts()).toEqual([]);
    const changes = page.getByTestId('plan-changes');
    await changes.getByText('小区二次供水改造').waitFor();

    // ---- the office manager approves it with a note: the book is read on the new day
    await changes.getByTestId('change-approve').first().click();
    await page.getByLabel('审批意见').fill('同意调整');
    await page
      .getByRole('dialog')
      .getByRole('button', { name: /批\s*准/ })
      .click();
    await page.getByText('已批准').first().waitFor();
    await page.locator(`[data-testid="plan-book"][data-book="${book}"][data-date="${to}"]`).waitFor();
    const moved = await db
      .selectFrom('reading_plan as p')
      .innerJoin('book as b', 'b.book_id', 'p.book_id')
      .select(['p.planned_on', 'p.original_on'])
      .where('b.code', '=', book)
      .where('p.period', '=', from.slice(0, 7))
      .executeTakeFirstOrThrow();
    expect(moved).toEqual({ planned_on: to, original_on: from });

    // ---- reorder a book's route by dragging a row; the saved order survives a reload
    const { rows: books } = await sql<{ book_id: number; code: string }>`
      select b.book_id, b.code from book b
      where b.office_id = ${office.office_id}
        and (select count(*) from meter m where m.book_id = b.book_id and m.state = 'in_service') >= 4
      order by b.code limit 1`.execute(db);
    await page.goto(`/reading/books/${books[0]!.book_id}`);
    const before = await routeOrder();
    await dragRow(0, 2);
    const dragged = await routeOrder();
    expect(dragged[2]).toBe(before[0]);
    expect(dragged).not.toEqual(before);
    await page.getByTestId('route-save').click();
    await page.getByText('线路顺序已保存').waitFor();
    await page.reload();
    expect(await routeOrder()).toEqual(dragged);
    // The keyboard-accessible buttons move a row too.
    await page.getByTestId('route-down').first().click();
    const stepped = await routeOrder();
    expect(stepped.slice(0, 2)).toEqual([dragged[1], dragged[0]]);
    await page.getByTestId('route-save').click();
    await page.getByText('线路顺序已保存').waitFor();

    // ---- the manager hands the book over to the office's other reader from three days on, in
    // writing: until then the book stays with its reader
    const bookId = books[0]!.book_id;
    const { rows: readers } = await sql<{
      staff_id: number;
      full_name: string;
      username: string;
      holds: boolean;
    }>`
      select s.staff_id, s.full_name, s.username, s.staff_id = b.reader_id as holds
      from staff s join book b on b.book_id = ${bookId}
      where s.role_code = 'reader' and ${office.office_id} = any(select office_id from staff_office so where so.staff_id = s.staff_id)
      order by s.username`.execute(db);
    const holder = readers.find((r) => r.holds)!;
    const next = readers.find((r) => !r.holds)!;
    const fromDate = addDays(todayInChina(), 3);
    await page.getByTestId('assign-reader').click();
    const assignDialog = page.getByRole('dialog');
    await assignDialog.getByText(`现抄表员：${holder.full_name}`).waitFor();
    await choose(page, 'assign-reader-select', `${next.full_name}（${next.username}）`);
    await assignDialog.locator('.ant-picker input').fill(fromDate);
    await assignDialog.locator('.ant-picker input').press('Enter');
    await assignDialog.getByLabel('交接说明').fill('书面交接：线路图、表井钥匙已移交');
    await assignDialog.getByLabel('未结事项').fill('3号楼2户表井被压占待协调');
    await assignDialog.getByRole('button', { name: /确认交接/ }).click();
    await page.getByText('已记录交接并更换抄表员').waitFor();
    const history = page.getByTestId('assignments-table');
    await history.locator('tr', { hasText: next.full_name }).getByText('待接手').waitFor();
    await history.locator('tr', { hasText: holder.full_name }).getByText(fromDate).waitFor();
    expect(await history.locator('tr', { hasText: holder.full_name }).getByText('在岗').count()).toBe(1);
    const tenures = await db
      .selectFrom('book_assignment')
      .select(['reader_id', 'from_date', 'to_date', 'handover_note', 'open_items'])
      .where('book_id', '=', bookId)
      .orderBy('from_date', 'desc')
      .execute();
    expect(tenures[0]).toEqual({
      reader_id: next.staff_id,
      from_date: fromDate,
      to_date: null,
      handover_note: '书面交接：线路图、表井钥匙已移交',
      open_items: '3号楼2户表井被压占待协调',
    });
    expect(tenures.find((x) => x.reader_id === holder.staff_id && x.to_date === fromDate)).toBeDefined();
    // The office's books list it under the next reader, who takes over on that day.
    await page.goto(`/reading/books?officeId=${office.office_id}`);
    const listed = page.locator('tr', { hasText: books[0]!.code });
    await listed.getByText(`${fromDate} 起接手`).waitFor();
    await logout(page);

    // ---- the analyst decides a flagged reading in the review queue
    await login(page, 'analyst');
    const { rows: flagged } = await sql<{ office_id: number; account_id: number; reading_id: number }>`
      select c.office_id, r.account_id, r.reading_id from reading r join customer c using (account_id)
      where r.status = 'review' order by r.read_at limit 1`.execute(db);
    const item = flagged[0]!;
    await page.goto(`/reading/review?officeId=${item.office_id}&status=review`);
    const detail = page.getByTestId('review-detail');
    await detail.waitFor();
    await page.getByTestId('review-chart').waitFor();
    await page.getByTestId('review-queue').locator('tbody tr.ant-table-row').first().click();
    const first = await db
      .selectFrom('reading as r')
      .innerJoin('meter as m', (j) =>
        j.onRef('m.account_id', '=', 'r.account_id').onRef('m.meter_id', '=', 'r.meter_id'),
      )
      .innerJoin('customer as c', 'c.account_id', 'r.account_id')
      .select(['r.account_id', 'r.reading_id', 'm.meter_no'])
      .where('r.status', '=', 'review')
      .where('c.office_id', '=', item.office_id)
      .orderBy('r.read_at')
      .orderBy('r.reading_id')
      .executeTakeFirstOrThrow();
    await detail.getByText(first.meter_no).waitFor();
    await detail.getByTestId('review-reject').click();
    await page.getByRole('dialog').getByLabel('备注').fill('读数明显偏高，请复抄');
    await page
      .getByRole('dialog')
      .getByRole('button', { name: /退回重抄/ })
      .click();
    await page.getByText('已退回抄表员').waitFor();
    const decided = await db
      .selectFrom('reading')
      .select(['status', 'review_note'])
      .where('account_id', '=', first.account_id)
      .where('reading_id', '=', first.reading_id)
      .executeTakeFirstOrThrow();
    expect(decided).toEqual({ status: 'rejected', review_note: '读数明显偏高，请复抄' });

    // ---- the analyst's day monitor for the last day read: each reader's meters read and first
    // reading time are those of the rows, the time in China time whatever the browser's clock
    const { rows: last } = await sql<{ day: string }>`
      select max((read_at at time zone 'Asia/Shanghai')::date)::text as day from reading
      where reader_id is not null and (read_at at time zone 'Asia/Shanghai')::date < ${todayInChina()}::date`.execute(
      db,
    );
    const day = last[0]!.day;
    const { rows: byReader } = await sql<{ reader_id: number; read: number; first: Date }>`
      select reader_id, count(distinct (account_id, meter_id)) filter (where kind = 'actual')::int as read,
             min(read_at) as first
      from reading where reader_id is not null and (read_at at time zone 'Asia/Shanghai')::date = ${day}::date
      group by reader_id`.execute(db);
    expect(byReader.length).toBeGreaterThan(0);
    await page.goto(`/reading/monitor?officeId=all&date=${day}`);
    const table = page.getByTestId('monitor-table');
    for (const r of byReader) {
      const row = table.locator(`tr[data-row-key="${r.reader_id}"]`);
      await row.waitFor();
      const cells = row.locator('td');
      // Reader, progress, due, remote (smart meters), read, estimated, skipped, …, first reading.
      expect(Number(await cells.nth(4).textContent())).toBe(r.read);
      expect(await cells.nth(8).textContent()).toContain(chinaDateTime(r.first).slice(11, 16));
    }

    expect(browser.problems).toEqual([]);
  });

  test('upload a smart-meter file: each row checked, rejected rows listed, the file sent again stores nothing twice', async () => {
    const db = server.database.db;
    await login(page, 'manager');
    // Three meters of office 0101 whose last reading stands accepted, with room on the dial.
    const { rows: meters } = await sql<{
      office_id: number;
      account_id: number;
      meter_id: number;
      meter_no: string;
      last: string;
      used: string;
    }>`
      select c.office_id, m.account_id, m.meter_id, m.meter_no, r.index_value::text as last,
             greatest(coalesce(r.consumption_m3, 0), 10)::text as used
      from meter m join customer c using (account_id) join office o on o.office_id = c.office_id
      cross join lateral (select r.status, r.index_value, r.consumption_m3 from reading r
                          where r.account_id = m.account_id and r.meter_id = m.meter_id
                          order by r.read_at desc limit 1) r
      where o.code = '0101' and m.state = 'in_service' and r.status = 'accepted' and r.index_value is not null
        and r.index_value + 5000 < 10 ^ m.dial_digits
      order by m.account_id limit 3`.execute(db);
    expect(meters).toHaveLength(3);
    const [a, b, c] = meters as [(typeof meters)[0], (typeof meters)[0], (typeof meters)[0]];
    const at = new Date(Date.now() - 10 * 60_000).toISOString();
    const content = [
      '表号,抄表时间,读数,异常代码',
      `${a.meter_no},${at},${Math.round(Number(a.last) + Number(a.used))},`,
      // Fifty times the meter's use: the check sends it to review.
      `${b.meter_no},${at},${Math.round(Number(b.last) + 50 * Number(b.used) + 500)},`,
      `${c.meter_no},${at},,no_access`,
      `X999999999,${at},12,`,
      `${a.meter_no},${at},-4,`,
    ].join('\r\n');
    const send = async (name: string, text: string) =>
      page
        .getByTestId('smart-upload')
        .locator('input[type=file]')
        .setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(`\uFEFF${text}\r\n`, 'utf8') });

    await page.goto(`/reading/smart-files?officeId=${a.office_id}`);
    await send('远传0101.csv', content);
    const report = page.getByTestId('smart-report');
    await report.waitFor();
    const count = async (outcome: string) =>
      Number(
        (
          await page
            .getByTestId(`smart-count-${outcome}`)
            .locator('.ant-statistic-content-value')
            .textContent()
        )?.replace(/,/g, ''),
      );
    // What the page counts is what was stored, row for row.
    const stored = async () => {
      const { rows } = await sql<{ status: string; n: number }>`
        select status, count(*)::int as n from reading
        where source = 'bulk' and (account_id, meter_id) in (${sql.join(
          meters.map((m) => sql`(${m.account_id}::int8, ${m.meter_id}::int8)`),
        )})
        group by status`.execute(db);
      return Object.fromEntries(rows.map((r) => [r.status, r.n]));
    };
    const first = await stored();
    expect(await count('accepted')).toBe(first.accepted ?? 0);
    expect(await count('review')).toBe(first.review ?? 0);
    expect((first.accepted ?? 0) + (first.review ?? 0)).toBe(3);
    expect(first.review).toBeGreaterThanOrEqual(1);
    expect(await count('rejected')).toBe(2);
    await report.getByTestId('smart-outcome-bar').waitFor();
    // The way to the office's review queue, for the rows to review.
    const toReview = await report.locator('a[href^="/reading/review"]').getAttribute('href');
    expect(toReview).toBe(`/reading/review?officeId=${a.office_id}`);
    // The rejected rows by their row number in the file (the header is row 1), with the reason.
    const errors = page.getByTestId('smart-errors').locator('tbody tr.ant-table-row');
    await expect.poll(() => errors.count()).toBe(2);
    expect(await errors.nth(0).textContent()).toMatch(
      /^5\s*X999999999\s*表号 X999999999 不存在或不属于该营业所/,
    );
    expect(await errors.nth(1).textContent()).toContain('读数格式不正确');

    // The same file again: every stored row is recognised, nothing is stored twice.
    await send('远传0101.csv', content);
    await expect.poll(() => count('duplicate')).toBe(3);
    expect(await count('accepted')).toBe(0);
    expect(await count('rejected')).toBe(2);
    expect(await stored()).toEqual(first);
    // Both uploads are listed among the office's latest files, the newest first.
    const recent = page.getByTestId('smart-recent').locator('tbody tr.ant-table-row');
    await expect.poll(() => recent.count()).toBe(2);
    expect(await recent.nth(0).textContent()).toContain('远传0101.csv');
    expect(await recent.nth(0).locator('td').nth(8).textContent()).toBe('3');

    // A file without its header is refused whole, and says why.
    await send('无表头.csv', `${a.meter_no},${at},12`);
    await page.getByTestId('smart-file-error').getByText('第一行应为表头').waitFor();
    expect(await stored()).toEqual(first);

    // The readings to review are in the office's review queue.
    await page.goto(toReview!);
    const { rows: queued } = await sql<{ n: number }>`
      select count(*)::int as n from reading r join customer c using (account_id)
      where r.status = 'review' and c.office_id = ${a.office_id}`.execute(db);
    await page.locator(`.ant-tabs-tab .ant-badge-count[title="${queued[0]!.n}"]`).first().waitFor();
    await logout(page);
    expect(browser.problems).toEqual([]);
  });
});
