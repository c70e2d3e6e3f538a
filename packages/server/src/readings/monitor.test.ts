import { addDays, isReadingMonth, isToRead, todayInChina, type Zone } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { type FixtureMeter, handOver, makeBook, officeId, planOn, reading, staffId } from './fixtures.ts';
import { addMonths, chinaDate } from './model.ts';

/**
 * The analyst's day monitor and the reading statistics must say exactly what the rows say: this test
 * computes every figure again from the rows, with the domain rules (isToRead, isReadingMonth), and
 * compares.
 */

let t: TestApp;
let today: string;
/** A book of reader's that goes to reader2 tomorrow. */
let handedBook: number;

beforeAll(async () => {
  t = await createTestApp({ customers: 800, metering: true });
  today = todayInChina();
  // A day of work for two readers: readings, a no-access entry, an anomaly, a reading in review,
  // a conflict, and a correction approved on an older reading.
  const book = await makeBook(t, { reader: 'reader', officeCode: '0101', count: 6 });
  const other = await makeBook(t, { reader: 'reader3', officeCode: '0102', count: 3 });
  await planOn(t, book.bookId, today);
  await planOn(t, other.bookId, today);
  handedBook = book.bookId;
  const routeOf = async (user: string) => {
    const res = await t.as(user)({ method: 'GET', url: `/api/field/route?date=${today}&deviceId=PDA-M` });
    expect(res.statusCode, res.body).toBe(200);
    return new Map(
      res
        .json()
        .meters.map((m: { accountId: number; previousIndex: string; expectedM3: string }) => [
          m.accountId,
          m,
        ]),
    ) as Map<number, { previousIndex: string; expectedM3: string }>;
  };
  const ok = (
    route: Map<number, { previousIndex: string; expectedM3: string }>,
    m: FixtureMeter,
    extra = 0,
  ) => {
    const p = route.get(m.accountId)!;
    return String(Math.round(Number(p.previousIndex) + Number(p.expectedM3)) + extra);
  };
  const r1 = await routeOf('reader');
  const [a, b, c, d, e] = book.meters as FixtureMeter[];
  const up = (user: string, readings: unknown[]) =>
    t.as(user)({ method: 'POST', url: '/api/field/readings', payload: { deviceId: 'PDA-M', readings } });
  await up('reader', [
    reading(a!, ok(r1, a!)),
    reading(b!, ok(r1, b!), { anomalyCodes: ['leak'] }),
    reading(c!, null, { anomalyCodes: ['no_access'] }),
    reading(d!, ok(r1, d!, 5000)),
  ]);
  await up('reader2', [reading(a!, ok(r1, a!, 4))]);
  const r3 = await routeOf('reader3');
  const [x, y] = other.meters as FixtureMeter[];
  await up('reader3', [reading(x!, ok(r3, x!)), reading(y!, null, { anomalyCodes: ['meter_covered'] })]);
  // An approved correction on an older reading of e.
  const last = (
    await t.pool.query(
      `select reading_id, index_value from reading where account_id = $1 and meter_id = $2 and status = 'accepted'
       and kind = 'actual' order by read_at desc limit 1`,
      [e!.accountId, e!.meterId],
    )
  ).rows[0];
  const asked = await t.as('clerk')({
    method: 'POST',
    url: `/api/customers/${e!.accountId}/readings/${last.reading_id}/corrections`,
    payload: { newIndex: String(Number(last.index_value) + 1), reason: '复核' },
  });
  expect(asked.statusCode, asked.body).toBe(201);
  const decided = await t.as('manager')({
    method: 'POST',
    url: `/api/customers/${e!.accountId}/corrections/${asked.json().correctionId}/decide`,
    payload: { approve: true, note: '' },
  });
  expect(decided.statusCode, decided.body).toBe(200);
  // The book changes hands tomorrow: today, and its reading this month, stay with the reader who has
  // it (the statistics and the day monitor must not move them to the next one already).
  await handOver(t, book.bookId, 'reader2', addDays(today, 1));
});

afterAll(async () => {
  await t?.close();
});

const LIVE = new Set(['accepted', 'review', 'conflict']);

async function rows() {
  const [customers, meters, books, readings, corrections, codes, plans, staff] = await Promise.all([
    t.db.selectFrom('customer').select(['account_id', 'office_id', 'state', 'connected_on']).execute(),
    t.db.selectFrom('meter').select(['account_id', 'meter_id', 'state', 'book_id']).execute(),
    t.db.selectFrom('book').select(['book_id', 'zone', 'reader_id', 'office_id']).execute(),
    t.db
      .selectFrom('reading')
      .select([
        'account_id',
        'reading_id',
        'meter_id',
        'book_id',
        'period',
        'kind',
        'status',
        'reader_id',
        'read_at',
        'created_at',
        'anomaly_codes',
      ])
      .execute(),
    t.db
      .selectFrom('reading_correction')
      .select(['account_id', 'reading_id'])
      .where('status', '=', 'approved')
      .execute(),
    t.db.selectFrom('anomaly_code').select(['code', 'prevents_reading']).execute(),
    t.db.selectFrom('reading_plan').select(['book_id', 'period', 'planned_on']).execute(),
    t.db.selectFrom('staff').select(['staff_id']).execute(),
  ]);
  const assignments = await t.db.selectFrom('book_assignment').selectAll().execute();
  /**
   * Who held a book on a day: the assignment in force (its end day excluded); before the first one,
   * who handed it over; a book never assigned, its present reader.
   */
  const holder = (bookId: number, day: string): number | null => {
    const own = assignments.filter((a) => a.book_id === bookId);
    if (own.length === 0) return books.find((b) => b.book_id === bookId)!.reader_id;
    const held = own.find((a) => a.from_date <= day && (a.to_date === null || day < a.to_date));
    if (held) return held.reader_id;
    const later = own.filter((a) => a.from_date > day).sort((a, b) => a.from_date.localeCompare(b.from_date));
    return later[0]?.handed_over_by ?? null;
  };
  /** The reader a book's month counts under: the holder on its planned day, else the month's last day (or today). */
  const monthReader = (bookId: number, month: string): number | null => {
    const planned = plans.find((p) => p.book_id === bookId && p.period === month)?.planned_on;
    const last = addDays(`${addMonths(month, 1)}-01`, -1);
    return holder(bookId, planned ?? (last < today ? last : today));
  };
  return { customers, meters, books, readings, corrections, codes, plans, staff, holder, monthReader };
}

describe('reading statistics', () => {
  it('equal the figures computed from the rows, month by month, by office, book and reader', async () => {
    const month = today.slice(0, 7);
    const res = await t.as('analyst')({ method: 'GET', url: `/api/readings/stats?month=${month}` });
    expect(res.statusCode, res.body).toBe(200);
    const stats = res.json();
    const data = await rows();
    const bookOf = new Map(data.books.map((b) => [b.book_id, b]));
    const corrected = new Set(data.corrections.map((c) => `${c.account_id}/${c.reading_id}`));
    const metersOf = new Map<number, typeof data.meters>();
    for (const m of data.meters) metersOf.set(m.account_id, [...(metersOf.get(m.account_id) ?? []), m]);
    const readingsOf = new Map<string, typeof data.readings>();
    for (const r of data.readings) {
      if (!LIVE.has(r.status)) continue;
      const key = `${r.account_id}@${r.period}`;
      readingsOf.set(key, [...(readingsOf.get(key) ?? []), r]);
    }
    type Fig = { toRead: number; read: number; estimated: number; readings: number; corrected: number };
    const add = (map: Map<string, Fig>, key: string, f: Fig) => {
      const x = map.get(key) ?? { toRead: 0, read: 0, estimated: 0, readings: 0, corrected: 0 };
      for (const k of Object.keys(f) as (keyof Fig)[]) x[k] += f[k];
      map.set(key, x);
    };
    const compute = (m: string) => {
      const byOffice = new Map<string, Fig>();
      const byBook = new Map<string, Fig>();
      const byReader = new Map<string, Fig>();
      const total = new Map<string, Fig>();
      for (const c of data.customers) {
        if (!isToRead({ state: c.state as never, connectedOn: c.connected_on }, m)) continue;
        // The customer's book: that of its first meter in service filed in a book.
        const due = (metersOf.get(c.account_id) ?? [])
          .filter((x) => x.state === 'in_service' && x.book_id !== null)
          .sort((p, q) => p.meter_id - q.meter_id)[0];
        if (!due || !isReadingMonth(bookOf.get(due.book_id!)!.zone as Zone, Number(m.slice(5, 7)))) continue;
        const book = bookOf.get(due.book_id!)!;
        const live = readingsOf.get(`${c.account_id}@${m}`) ?? [];
        const actual = live.filter((r) => r.kind === 'actual');
        const f: Fig = {
          toRead: 1,
          read: actual.length > 0 ? 1 : 0,
          estimated: actual.length === 0 && live.some((r) => r.kind === 'estimated') ? 1 : 0,
          readings: actual.length,
          corrected: actual.filter((r) => corrected.has(`${r.account_id}/${r.reading_id}`)).length,
        };
        add(total, 'all', f);
        add(byOffice, String(c.office_id), f);
        add(byBook, String(book.book_id), f);
        add(byReader, `${data.monthReader(book.book_id, m) ?? ''}:${c.office_id}`, f);
      }
      return { total: total.get('all')!, byOffice, byBook, byReader };
    };
    const pick = (x: Fig & Record<string, unknown>) => ({
      toRead: x.toRead,
      read: x.read,
      estimated: x.estimated,
      readings: x.readings,
      corrected: x.corrected,
    });
    const expected = compute(month);
    // The book handed over tomorrow: this month still counts under the reader who read it.
    expect(data.monthReader(handedBook, month)).toBe(await staffId(t, 'reader'));
    expect(data.books.find((b) => b.book_id === handedBook)!.reader_id).toBe(await staffId(t, 'reader2'));
    expect(pick(stats.totals)).toEqual(expected.total);
    expect(stats.totals.readingRate).toBe(
      Math.round((expected.total.read / expected.total.toRead) * 10_000) / 10_000,
    );
    expect(expected.total.read).toBeGreaterThan(0);
    expect(expected.total.corrected + expected.total.estimated).toBeGreaterThan(0);
    const asMap = (items: (Fig & { key: string | number })[]) =>
      new Map(items.map((i) => [String(i.key), pick(i)]));
    expect(asMap(stats.byOffice)).toEqual(expected.byOffice);
    expect(asMap(stats.byBook)).toEqual(expected.byBook);
    expect(asMap(stats.byReader)).toEqual(expected.byReader);
    // Twelve months for the charts, each equal to its own computation.
    expect(stats.trend.map((x: { month: string }) => x.month)).toEqual(
      Array.from({ length: 12 }, (_, i) => addMonths(month, i - 11)),
    );
    for (const point of stats.trend) {
      const e = compute(point.month).total ?? { toRead: 0, read: 0, estimated: 0, readings: 0, corrected: 0 };
      expect(pick(point), point.month).toEqual(e);
    }
    // Past months by book and reader: each book's month under the reader who held it then (the demo's
    // books that changed hands show their earlier reader before the handover).
    let earlier = 0;
    for (const back of [1, 4, 8]) {
      const past = addMonths(month, -back);
      const got = (await t.as('analyst')({ method: 'GET', url: `/api/readings/stats?month=${past}` })).json();
      const want = compute(past);
      expect(asMap(got.byBook), past).toEqual(want.byBook);
      expect(asMap(got.byReader), past).toEqual(want.byReader);
      for (const b of got.byBook as { bookId: number; readerId: number | null }[]) {
        expect(b.readerId, `${past} book ${b.bookId}`).toBe(data.monthReader(b.bookId, past));
        if (b.readerId !== data.books.find((x) => x.book_id === b.bookId)!.reader_id) earlier++;
      }
    }
    expect(earlier).toBeGreaterThan(0);
    // The seeded history makes the past months believable: most customers due were read.
    const past = stats.trend.find((p: { month: string }) => p.month === addMonths(month, -1));
    expect(past.readingRate).toBeGreaterThan(0.9);
    expect(past.accuracy).toBeGreaterThan(0.95);
  });

  it('an office manager sees their office only', async () => {
    const res = await t.as('manager')({
      method: 'GET',
      url: `/api/readings/stats?month=${today.slice(0, 7)}`,
    });
    const own = await officeId(t, '0101');
    expect(res.json().byOffice.map((o: { officeId: number }) => o.officeId)).toEqual([own]);
    for (const b of res.json().byBook) expect(b.officeId).toBe(own);
    const other = await t.as('manager')({
      method: 'GET',
      url: `/api/readings/stats?officeId=${await officeId(t, '0102')}`,
    });
    expect(other.statusCode).toBe(403);
  });
});

describe('day monitor', () => {
  it('equals the figures computed from the rows, per reader and office', async () => {
    const res = await t.as('analyst')({ method: 'GET', url: `/api/readings/day-monitor?date=${today}` });
    expect(res.statusCode, res.body).toBe(200);
    const monitor = res.json();
    const data = await rows();
    const month = today.slice(0, 7);
    const customerOf = new Map(data.customers.map((c) => [c.account_id, c]));
    const bookOf = new Map(data.books.map((b) => [b.book_id, b]));
    const noAccess = new Set(data.codes.filter((c) => c.prevents_reading).map((c) => c.code));
    type Row = {
      due: number;
      read: number;
      estimated: number;
      skipped: number;
      review: number;
      anomalies: number;
      offRoute: number;
      uploaded: number;
      firstReadAt: string | null;
      lastReadAt: string | null;
      uploadedAt: string | null;
    };
    const expected = new Map<string, Row>();
    const row = (key: string) => {
      let r = expected.get(key);
      if (!r) {
        r = {
          due: 0,
          read: 0,
          estimated: 0,
          skipped: 0,
          review: 0,
          anomalies: 0,
          offRoute: 0,
          uploaded: 0,
          firstReadAt: null,
          lastReadAt: null,
          uploadedAt: null,
        };
        expected.set(key, r);
      }
      return r;
    };
    for (const p of data.plans.filter((x) => x.planned_on === today)) {
      const book = bookOf.get(p.book_id)!;
      const holder = data.holder(book.book_id, today);
      if (holder === null) continue;
      const r = row(`${holder}:${book.office_id}`);
      for (const m of data.meters) {
        if (m.book_id !== book.book_id || m.state !== 'in_service') continue;
        const c = customerOf.get(m.account_id)!;
        if (isToRead({ state: c.state as never, connectedOn: c.connected_on }, month)) r.due++;
      }
    }
    const iso = (d: Date) => d.toISOString();
    // Counted by meter: a meter read twice that day (a conflict) counts once; readings all count
    // as uploaded; a meter not on the reader's books planned that day is off the route.
    const plannedToday = new Set(
      data.plans
        .filter((x) => x.planned_on === today)
        .map((x) => `${data.holder(x.book_id, today)}:${x.book_id}`),
    );
    const perMeter = new Map<string, { key: string; list: (typeof data.readings)[number][] }>();
    for (const x of data.readings) {
      if (x.reader_id === null || chinaDate(new Date(x.read_at)) !== today) continue;
      const key = `${x.reader_id}:${customerOf.get(x.account_id)!.office_id}`;
      const m = `${key}|${x.account_id}:${x.meter_id}`;
      const entry = perMeter.get(m) ?? { key, list: [] };
      entry.list.push(x);
      perMeter.set(m, entry);
    }
    for (const { key, list } of perMeter.values()) {
      const r = row(key);
      r.uploaded += list.length;
      const actual = list.some((x) => x.kind === 'actual');
      if (actual) r.read++;
      else r.estimated++;
      if (list.some((x) => x.anomaly_codes.some((c) => noAccess.has(c)))) r.skipped++;
      if (list.some((x) => x.status === 'review' || x.status === 'conflict')) r.review++;
      if (list.some((x) => x.anomaly_codes.length > 0)) r.anomalies++;
      if (!list.some((x) => plannedToday.has(`${x.reader_id}:${x.book_id}`))) r.offRoute++;
      for (const x of list) {
        const at = iso(new Date(x.read_at));
        const created = iso(new Date(x.created_at));
        if (r.firstReadAt === null || at < r.firstReadAt) r.firstReadAt = at;
        if (r.lastReadAt === null || at > r.lastReadAt) r.lastReadAt = at;
        if (r.uploadedAt === null || created > r.uploadedAt) r.uploadedAt = created;
      }
    }
    const got = new Map(
      monitor.readers.map((r: Row & { readerId: number; officeId: number }) => [
        `${r.readerId}:${r.officeId}`,
        {
          due: r.due,
          read: r.read,
          estimated: r.estimated,
          skipped: r.skipped,
          review: r.review,
          anomalies: r.anomalies,
          offRoute: r.offRoute,
          uploaded: r.uploaded,
          firstReadAt: r.firstReadAt,
          lastReadAt: r.lastReadAt,
          uploadedAt: r.uploadedAt,
        },
      ]),
    );
    expect(got).toEqual(expected);
    const reader = monitor.readers.find((r: { readerName: string }) => r.readerName === '李强');
    expect(reader).toMatchObject({ read: 3, estimated: 1, skipped: 1, anomalies: 2 });
    expect(reader.downloadedAt).not.toBeNull();
    // reader2 read one of reader's meters: off their route, and a conflict with reader's reading.
    const second = monitor.readers.find((r: { offRoute: number }) => r.offRoute > 0);
    expect(second).toMatchObject({ read: 1, offRoute: 1, review: 1 });
    expect(monitor.totals.uploaded).toBe([...expected.values()].reduce((s, r) => s + r.uploaded, 0));
  });

  it('an office manager sees their office’s readers only', async () => {
    const res = await t.as('manager')({ method: 'GET', url: `/api/readings/day-monitor?date=${today}` });
    const own = await officeId(t, '0101');
    expect(res.json().readers.length).toBeGreaterThan(0);
    for (const r of res.json().readers) expect(r.officeId).toBe(own);
  });
});
