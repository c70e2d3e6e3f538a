import { todayInChina } from '@meterline/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BOOK_TARGET_METERS, seedDemoBooks } from '../seed/books.ts';
import { seedCustomers } from '../seed/customers.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ customers: 400, metering: true });
});

afterAll(async () => {
  await t.close();
});

const snapshot = async () => ({
  books: await t.db
    .selectFrom('book')
    .select(['book_id', 'code', 'zone', 'reader_id', 'reader_since', 'version'])
    .orderBy('book_id')
    .execute(),
  meters: await t.db
    .selectFrom('meter')
    .select(['account_id', 'meter_id', 'book_id', 'route_seq'])
    .where('book_id', 'is not', null)
    .orderBy('account_id')
    .orderBy('meter_id')
    .execute(),
  plan: await t.db.selectFrom('reading_plan').selectAll().orderBy('book_id').orderBy('period').execute(),
  assignments: await t.db.selectFrom('book_assignment').selectAll().orderBy('assignment_id').execute(),
});

const unbooked = async () =>
  (
    await sql<{ n: number }>`
      select count(*)::int as n from meter m join customer c on c.account_id = m.account_id
      where m.book_id is null and m.state = 'in_service' and c.state <> 'closed'`.execute(t.db)
  ).rows[0]!.n;

describe('seedDemoBooks', () => {
  it('sizes books by zone class and gives every office its readers', async () => {
    const sizes = await sql<{ zone: string; n: number; office: string; readers: number }>`
      select b.zone, count(m.meter_id)::int as n, o.code as office,
             (select count(distinct b2.reader_id) from book b2 where b2.office_id = b.office_id)::int as readers
      from book b join office o on o.office_id = b.office_id left join meter m on m.book_id = b.book_id
      group by b.book_id, b.zone, o.code`.execute(t.db);
    for (const s of sizes.rows) {
      const target =
        s.zone === '0'
          ? BOOK_TARGET_METERS['0']
          : 'AB'.includes(s.zone)
            ? BOOK_TARGET_METERS.AB
            : BOOK_TARGET_METERS.CDE;
      expect(s.n).toBeLessThanOrEqual(target);
      expect(s.n).toBeGreaterThan(0);
    }
    // 0101 has two demo readers, the other offices one each.
    expect(sizes.rows.find((s) => s.office === '0101')!.readers).toBe(2);
    expect(sizes.rows.find((s) => s.office === '0202')!.readers).toBe(1);
    expect(await unbooked()).toBe(0);
  });

  it('is incremental: new customers’ meters go into new books, planned around the old; nothing else changes', async () => {
    const before = await snapshot();
    await seedCustomers(t.pool, { customers: 200, seed: 2 });
    expect(await unbooked()).toBeGreaterThan(0);
    const result = await seedDemoBooks(t.pool);
    expect(result.books).toBeGreaterThan(0);
    expect(await unbooked()).toBe(0);
    const after = await snapshot();
    const oldIds = new Set(before.books.map((b) => b.book_id));
    expect(after.books.filter((b) => oldIds.has(b.book_id))).toEqual(before.books);
    const oldMeters = new Set(before.meters.map((m) => `${m.account_id}/${m.meter_id}`));
    expect(after.meters.filter((m) => oldMeters.has(`${m.account_id}/${m.meter_id}`))).toEqual(before.meters);
    expect(
      after.meters
        .filter((m) => !oldMeters.has(`${m.account_id}/${m.meter_id}`))
        .every((m) => !oldIds.has(m.book_id!)),
    ).toBe(true);
    expect(after.plan.filter((p) => oldIds.has(p.book_id))).toEqual(before.plan);
    expect(after.assignments.slice(0, before.assignments.length)).toEqual(before.assignments);
    // The new books are read and planned this year.
    const year = todayInChina().slice(0, 4);
    const newBooks = after.books.filter((b) => !oldIds.has(b.book_id));
    expect(newBooks.every((b) => b.reader_id !== null)).toBe(true);
    const planned = new Set(after.plan.filter((p) => p.period.startsWith(year)).map((p) => p.book_id));
    expect(newBooks.every((b) => planned.has(b.book_id))).toBe(true);

    const again = await seedDemoBooks(t.pool);
    expect(again.books).toBe(0);
    expect(await snapshot()).toEqual(after);
  });
});

describe('demo reading history', () => {
  it('reads each book on its planned day, up to yesterday, by the book’s reader but for one conflict an office', async () => {
    const today = todayInChina();
    const { rows } = await sql<{ off_day: number; future: number; current: number; other_reader: number }>`
      select count(*) filter (where (r.read_at at time zone 'Asia/Shanghai')::date <> p.planned_on)::int as off_day,
             count(*) filter (where (r.read_at at time zone 'Asia/Shanghai')::date >= ${today}::date)::int as future,
             count(*) filter (where r.period = ${today.slice(0, 7)})::int as current,
             count(*) filter (where r.reader_id is distinct from b.reader_id and r.status <> 'conflict')::int as other_reader
      from reading r
      join reading_plan p on p.book_id = r.book_id and p.period = r.period
      join book b on b.book_id = r.book_id`.execute(t.db);
    expect(rows[0]).toMatchObject({ off_day: 0, future: 0, other_reader: 0 });
    // Books planned before today in this month are read already (unless today is the month's first reading day).
    const plannedBefore = await sql<{ n: number }>`
      select count(*)::int as n from reading_plan
      where period = ${today.slice(0, 7)} and planned_on < ${today}::date`.execute(t.db);
    if (plannedBefore.rows[0]!.n > 0) expect(rows[0]!.current).toBeGreaterThan(0);
  });
});
