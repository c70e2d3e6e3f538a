import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoCollections } from '../seed/collections.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { generateTasks } from './tasks.ts';
import { bookWith, customersWithMeters, officeId, overdueBills, staffId } from './tasksFixtures.ts';
import { FieldTaskScheduler } from './tasksScheduler.ts';

/**
 * Field collection tasks on real PostgreSQL (DOMAIN.md §6 "Field tasks"): a dedicated collector's
 * daily list = arrears points ÷ working days left, in book order; reading-day tasks for the route's
 * customers in arrears; carried-over and repeat visits; generating twice makes nothing twice; what
 * the office manager changed by hand is kept.
 */

let t: TestApp;
let office: number;
let collector: number;
let reader: number;
/** Collector's books: B-01 (accounts 0–5), B-02 (6–11); reader's book R-01 (12–15), read on READ_DAY. */
let accounts: number[];
let readingBook: number;
let bookB02: number;
// Monday 23 November 2026: 23–27 and 30 November are the 6 working days left.
const DAY = '2026-11-23';
const NEXT = '2026-11-24';

const tasksOf = async (date: string, assignee?: number) =>
  t.db
    .selectFrom('collection_task')
    .selectAll()
    .where('task_date', '=', date)
    .$if(assignee !== undefined, (q) => q.where('assignee_id', '=', assignee!))
    .orderBy('assignee_id')
    .orderBy('seq')
    .execute();

beforeAll(async () => {
  t = await createTestApp({ customers: 60 });
  office = await officeId(t.db, '0101');
  collector = await staffId(t.db, 'collector');
  reader = await staffId(t.db, 'reader');
  accounts = (await customersWithMeters(t.db, office)).slice(0, 16);
  expect(accounts).toHaveLength(16);
  // Route order deliberately not account order: B-01 holds accounts 5,4,3,2,1,0 in that route order.
  bookB02 = await bookWith(t.db, office, 'B-02', accounts.slice(6, 12), { collectorId: collector });
  await bookWith(t.db, office, 'B-01', accounts.slice(0, 6).reverse(), { collectorId: collector });
  readingBook = await bookWith(t.db, office, 'R-01', accounts.slice(12, 16), { readerId: reader });
  await t.db
    .insertInto('reading_plan')
    .values({ book_id: readingBook, period: '2026-11', planned_on: DAY, original_on: DAY })
    .execute();
  // 11 of the collector's 12 customers owe (account 7 has paid up); 3 of the reader's 4.
  for (const [i, a] of accounts.entries()) {
    if (i === 7 || i === 15) continue;
    await overdueBills(t.db, a, i % 3 === 0 ? 2 : 1);
  }
  // A bill not yet due does not count.
  await overdueBills(t.db, accounts[7]!, 1, { dueOn: '2026-12-20' });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('generating a day', () => {
  it('the collector gets ⌈11 points ÷ 6 working days⌉ = 2 tasks in book order; the reader gets the read route’s debtors', async () => {
    const res = await t.as('manager')({
      method: 'POST',
      url: '/api/collections/tasks/generate',
      payload: { officeId: office, date: DAY },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      workingDaysLeft: 6,
      collectionDay: 2,
      readingDay: 3,
      carried: 0,
      repeat: 0,
    });
    const mine = await tasksOf(DAY, collector);
    // Book B-01 first, in route order: account 5 (route 10), then account 4 (route 20).
    expect(mine.map((x) => x.account_id)).toEqual([accounts[5], accounts[4]]);
    expect(mine.map((x) => x.seq)).toEqual([1, 2]);
    expect(mine.every((x) => x.kind === 'collection_day' && x.status === 'open')).toBe(true);
    const readerTasks = await tasksOf(DAY, reader);
    expect(readerTasks.map((x) => x.account_id)).toEqual(accounts.slice(12, 15));
    expect(readerTasks.map((x) => x.kind)).toEqual(['reading_day', 'reading_day', 'reading_day']);
    // Graded by arrears cycles, with the amount as it stood.
    expect(readerTasks.map((x) => [x.arrears_cycles, Number(x.arrears_fen)])).toEqual([
      [2, 10000],
      [1, 5000],
      [1, 5000],
    ]);
  });

  it('generating again makes nothing twice', async () => {
    const before = await tasksOf(DAY);
    const again = await generateTasks(t.db, null, office, DAY);
    expect(again).toMatchObject({ collectionDay: 0, readingDay: 0, carried: 0, repeat: 0 });
    expect(await tasksOf(DAY)).toEqual(before);
  });

  it('removals, additions and the order set by hand are kept when the day is generated again', async () => {
    const [first, second] = await tasksOf(DAY, collector);
    const removed = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${first!.account_id}/collection-tasks/${first!.task_id}/remove`,
      payload: { reason: '客户已承诺到营业厅缴费' },
    });
    expect(removed.statusCode, removed.body).toBe(200);
    // Account 11 (last in book order) added by hand.
    const added = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${accounts[11]}/collection-tasks`,
      payload: { assigneeId: collector, date: DAY },
    });
    expect(added.statusCode, added.body).toBe(201);
    await generateTasks(t.db, null, office, DAY);
    const mine = await tasksOf(DAY, collector);
    const open = mine.filter((x) => x.status === 'open').map((x) => x.account_id);
    // The removed one stays removed; the quota of 2 is made up by the next in book order (account 3); the added one stays.
    expect(mine.find((x) => x.account_id === first!.account_id)!.status).toBe('removed');
    expect(open).toEqual([second!.account_id, accounts[3], accounts[11]]);
    // Reorder: the added one first.
    const reorder = await t.as('manager')({
      method: 'POST',
      url: '/api/collections/tasks/reorder',
      payload: {
        officeId: office,
        date: DAY,
        assigneeId: collector,
        order: [
          { accountId: accounts[11], taskId: mine.find((x) => x.account_id === accounts[11])!.task_id },
        ],
      },
    });
    expect(reorder.statusCode, reorder.body).toBe(200);
    await generateTasks(t.db, null, office, DAY);
    const after = (await tasksOf(DAY, collector)).filter((x) => x.status === 'open').map((x) => x.account_id);
    expect(after).toEqual([accounts[11], second!.account_id, accounts[3]]);
    // Audited.
    const audits = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('entity_type', 'in', ['collection_task', 'collection_list', 'collection_tasks'])
      .execute();
    expect(audits.map((a) => a.action).sort()).toEqual(
      expect.arrayContaining(['add', 'generate', 'remove', 'reorder']),
    );
  });

  it('the list API shows each collector’s progress, only to the office', async () => {
    const res = await t.as('manager')({ method: 'GET', url: `/api/collections/tasks?date=${DAY}` });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const list = body.lists.find((l: { assigneeId: number }) => l.assigneeId === collector);
    expect(list).toMatchObject({ total: 3, visited: 0 });
    expect(body.items.every((i: { officeId: number }) => i.officeId === office)).toBe(true);
    const other = await t.as('manager2')({ method: 'GET', url: `/api/collections/tasks?date=${DAY}` });
    expect(other.json().items).toEqual([]);
    const forbidden = await t.as('manager2')({
      method: 'POST',
      url: '/api/collections/tasks/generate',
      payload: { officeId: office, date: DAY },
    });
    expect(forbidden.statusCode).toBe(403);
    const notManager = await t.as('collector')({
      method: 'POST',
      url: '/api/collections/tasks/generate',
      payload: { officeId: office, date: DAY },
    });
    expect(notManager.statusCode).toBe(403);
  });

  it('the next day carries what was left undone and takes the next share of the points', async () => {
    // One of today's visited: a signed confirmation recorded directly.
    const today = (await tasksOf(DAY, collector)).filter((x) => x.status === 'open');
    const visited = today[0]!;
    await t.db
      .insertInto('collection_visit')
      .values({
        account_id: visited.account_id,
        task_id: visited.task_id,
        office_id: office,
        client_visit_id: 'v-carry-1',
        method: 'account_confirmation',
        outcome: 'signed',
        phone_call: null,
        site: null,
        promised_on: null,
        photo_path: null,
        signature_path: null,
        latitude: null,
        longitude: null,
        accuracy_m: null,
        visited_at: new Date('2026-11-23T03:00:00Z'),
        visited_on: DAY,
        device_id: 'd',
        staff_id: collector,
      })
      .execute();
    await t.db
      .updateTable('collection_task')
      .set({ status: 'visited' })
      .where('account_id', '=', visited.account_id)
      .where('task_id', '=', visited.task_id)
      .execute();
    const res = await generateTasks(t.db, null, office, NEXT);
    // Carried: the 2 collector tasks left open and the reader's 3 reading-day tasks.
    expect(res.carried).toBe(5);
    const next = await tasksOf(NEXT);
    const carriedFrom = new Set(next.filter((x) => x.from_task_id !== null).map((x) => x.account_id));
    for (const x of today.slice(1)) expect(carriedFrom.has(x.account_id)).toBe(true);
    expect(carriedFrom.has(visited.account_id)).toBe(false);
    const old = await tasksOf(DAY);
    expect(old.filter((x) => x.status === 'carried')).toHaveLength(5);
    // No task twice on a day.
    expect(new Set(next.map((x) => x.account_id)).size).toBe(next.length);
    // Again: nothing twice.
    expect(await generateTasks(t.db, null, office, NEXT)).toMatchObject({
      carried: 0,
      collectionDay: 0,
      repeat: 0,
    });
  });

  it('a refused visit is due again after collection.repeatAfterDays (7) while the customer owes', async () => {
    const a = accounts[9]!;
    await t.db
      .insertInto('collection_visit')
      .values({
        account_id: a,
        task_id: null,
        office_id: office,
        client_visit_id: 'v-repeat-1',
        method: 'notice_posted',
        outcome: 'refused',
        reason: '不认可水量',
        phone_call: null,
        site: null,
        promised_on: null,
        photo_path: null,
        signature_path: null,
        latitude: null,
        longitude: null,
        accuracy_m: null,
        visited_at: new Date('2026-11-10T03:00:00Z'),
        visited_on: '2026-11-10',
        device_id: 'd',
        staff_id: collector,
      })
      .execute();
    expect((await generateTasks(t.db, null, office, '2026-11-16')).repeat).toBe(0);
    const due = await generateTasks(t.db, null, office, '2026-11-17');
    expect(due.repeat).toBe(1);
    const task = (await tasksOf('2026-11-17')).find((x) => x.account_id === a)!;
    expect(task).toMatchObject({ kind: 'repeat', assignee_id: collector, status: 'open' });
  });

  it('a collection day is adjustable by book: only the chosen books’ customers are listed', async () => {
    const res = await t.as('manager')({
      method: 'POST',
      url: '/api/collections/tasks/generate',
      payload: { officeId: office, date: '2026-11-26', bookIds: [bookB02] },
    });
    expect(res.statusCode, res.body).toBe(200);
    const list = await tasksOf('2026-11-26', collector);
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((x) => x.book_id === bookB02)).toBe(true);
    // B-02 in route order: accounts 6, 8, 9, … (7 has paid up).
    expect(list[0]!.account_id).toBe(accounts[6]);
  });

  it('the server makes every office’s tasks once a day from collection.tasksAt (07:00 China)', async () => {
    const scheduler = new FieldTaskScheduler(t.db, () => {});
    // 06:00 in China on 27 November: too early.
    expect(await scheduler.tick(new Date('2026-11-26T22:00:00Z'))).toBe(0);
    expect(await tasksOf('2026-11-27')).toEqual([]);
    // 08:30: the day is made.
    expect(await scheduler.tick(new Date('2026-11-27T00:30:00Z'))).toBeGreaterThan(0);
    const made = await tasksOf('2026-11-27');
    expect(made.some((x) => x.assignee_id === collector)).toBe(true);
    // Later checks, and a second server, make nothing twice.
    expect(await scheduler.tick(new Date('2026-11-27T02:00:00Z'))).toBe(0);
    expect(await new FieldTaskScheduler(t.db, () => {}).tick(new Date('2026-11-27T03:00:00Z'))).toBe(0);
    expect(await tasksOf('2026-11-27')).toEqual(made);
  });

  it('the demo seed makes the demo collector the collector of the books most in arrears and fills today’s list', async () => {
    await t.db.updateTable('book').set({ collector_id: null }).execute();
    const made = await seedDemoCollections(t.db, () => {}, '2026-11-25');
    expect(made).toBeGreaterThan(0);
    const books = await t.db
      .selectFrom('book')
      .select('code')
      .where('collector_id', '=', collector)
      .orderBy('code')
      .execute();
    // The three books with customers in arrears (the seed takes up to four).
    expect(books.map((b) => b.code)).toEqual(['B-01', 'B-02', 'R-01']);
    const list = await tasksOf('2026-11-25', collector);
    expect(list.length).toBeGreaterThan(0);
    // Run again: nothing twice, the books stay as they are.
    expect(await seedDemoCollections(t.db, () => {}, '2026-11-25')).toBe(0);
  });
});
