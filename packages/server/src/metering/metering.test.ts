import {
  addDays,
  DEFAULT_WORKLOAD_CONFIG,
  type MeterCategory,
  type MeterCounts,
  readingDays,
  todayInChina,
} from '@meterline/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkingCalendar } from '../calendar/load.ts';
import { hashPassword } from '../platform/passwords.ts';
import { addMonths } from '../readings/model.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { meterCountsByBook } from './repository.ts';

let t: TestApp;
let officeA: number;
let officeB: number;
const staff: Record<string, number> = {};

interface Book {
  bookId: number;
  officeId: number;
  code: string;
  zone: string;
  areaType: string;
  readerId: number | null;
  readerSince: string | null;
  meterCount: number;
  version: number;
  rotation: { status: string; dueOn: string; warnFrom: string } | null;
}
interface RouteMeter {
  accountId: number;
  meterId: number;
  routeSeq: number;
  meterNo: string;
  building: string;
  unit: string;
  door: string;
  zoneClass: string;
  effectiveZoneClass: string;
  fitsBook: boolean;
}
interface PlanRow {
  bookId: number;
  officeId: number;
  code: string;
  readerId: number | null;
  period: string;
  plannedOn: string;
  originalOn: string;
}

const manager = () => t.as('manager');

async function books(user = 'manager', query = ''): Promise<Book[]> {
  const res = await t.as(user)({ method: 'GET', url: `/api/books${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function route(bookId: number): Promise<{ book: Book; meters: RouteMeter[] }> {
  const res = await manager()({ method: 'GET', url: `/api/books/${bookId}/route` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function plan(query: string): Promise<PlanRow[]> {
  const res = await manager()({ method: 'GET', url: `/api/reading-plan?${query}` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function generate(year: number, officeId = officeA) {
  const res = await manager()({
    method: 'POST',
    url: '/api/reading-plan/generate',
    payload: { officeId, year },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    books: number;
    planned: number;
    unchanged: number;
    kept: number;
    removed: number;
    unfit: { bookId: number; code: string; period: string; reason: string; daysNeeded: number }[];
  };
}

const codes = (res: { json(): { error: { fields?: { code: string }[] } } }) =>
  (res.json().error.fields ?? []).map((f) => f.code);

const num = (s: string) => Number(s.replace(/\D/g, '') || 0);

beforeAll(async () => {
  t = await createTestApp({ customers: 600, metering: true });
  const offices = await t.db.selectFrom('office').select(['office_id', 'code']).execute();
  officeA = offices.find((o) => o.code === '0101')!.office_id;
  officeB = offices.find((o) => o.code === '0102')!.office_id;
  for (const s of await t.db.selectFrom('staff').select(['staff_id', 'username']).execute())
    staff[s.username] = s.staff_id;
});

afterAll(async () => {
  expect(t.built.unaudited).toEqual([]);
  await t.close();
});

describe('demo books (seedDemoBooks)', () => {
  it('files every meter of office A in a book of its zone class, in route order by building, unit and door', async () => {
    const list = await books();
    expect(list.length).toBeGreaterThan(2);
    expect(list.every((b) => b.officeId === officeA)).toBe(true);
    expect(list.every((b) => b.readerId === staff.reader || b.readerId === staff.reader2)).toBe(true);
    expect(new Set(list.map((b) => b.zone)).has('0')).toBe(true);
    const unbooked = await sql<{ n: number }>`
      select count(*)::int as n from meter m join customer c on c.account_id = m.account_id
      where c.office_id = ${officeA} and m.book_id is null and m.state = 'in_service' and c.state <> 'closed'`.execute(
      t.db,
    );
    expect(unbooked.rows[0]!.n).toBe(0);
    for (const b of list) {
      const r = await route(b.bookId);
      expect(r.meters).toHaveLength(b.meterCount);
      expect(r.meters.every((m) => m.fitsBook)).toBe(true);
      expect(r.meters.map((m) => m.routeSeq)).toEqual(r.meters.map((_, i) => i + 1));
      if (b.zone !== '0' && b.areaType === 'concentrated') {
        const keys = r.meters.map((m) => [num(m.building), num(m.unit), num(m.door)]);
        const sorted = [...keys].sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!);
        expect(keys).toEqual(sorted);
      }
    }
  });

  it('gives every book a reader with a start date and a rotation status, some with a written handover', async () => {
    const all = await books('admin');
    expect(all.every((b) => b.readerSince !== null && b.rotation !== null)).toBe(true);
    const handovers = await t.db
      .selectFrom('book_assignment')
      .select(['book_id', 'to_date'])
      .where('to_date', 'is not', null)
      .execute();
    const assignments = await t.db.selectFrom('book_assignment').select('book_id').execute();
    expect(assignments.length).toBe(all.length + handovers.length);
  });

  it('plans the current year for every office', async () => {
    const year = new Date(Date.now() + 8 * 3600_000).getUTCFullYear();
    const rows = await plan(`year=${year}`);
    expect(new Set(rows.map((r) => r.bookId)).size).toBe((await books()).length);
  });
});

describe('books and routes', () => {
  let bookC: Book;
  let book0: Book;
  let newBook: number;

  beforeAll(async () => {
    const list = await books();
    bookC = list.find((b) => ['C', 'D', 'E'].includes(b.zone) && b.meterCount >= 5)!;
    book0 = list.find((b) => b.zone === '0')!;
    expect(bookC && book0).toBeTruthy();
  });

  it('creates a book (audited) and refuses a taken code, a reader of another office and another office', async () => {
    const ok = await manager()({
      method: 'POST',
      url: '/api/books',
      payload: { officeId: officeA, code: 'T-C01', name: '测试册本', zone: 'C', readerId: staff.reader2 },
    });
    expect(ok.statusCode, ok.body).toBe(201);
    newBook = ok.json().bookId;
    const created = (await route(newBook)).book;
    expect(created).toMatchObject({ code: 'T-C01', zone: 'C', readerId: staff.reader2, meterCount: 0 });
    const again = await manager()({
      method: 'POST',
      url: '/api/books',
      payload: { officeId: officeA, code: 'T-C01', name: 'x', zone: 'C' },
    });
    expect(again.statusCode).toBe(409);
    expect(codes(again)).toEqual(['BOOK_CODE_TAKEN']);
    const foreignReader = await manager()({
      method: 'POST',
      url: '/api/books',
      payload: { officeId: officeA, code: 'T-C02', name: 'x', zone: 'C', readerId: staff.reader3 },
    });
    expect(codes(foreignReader)).toEqual(['READER_NOT_IN_OFFICE']);
    const otherOffice = await manager()({
      method: 'POST',
      url: '/api/books',
      payload: { officeId: officeB, code: 'T-B01', name: 'x', zone: 'C' },
    });
    expect(otherOffice.statusCode).toBe(403);
    const clerk = await t.as('clerk')({
      method: 'POST',
      url: '/api/books',
      payload: { officeId: officeA, code: 'T-C03', name: 'x', zone: 'C' },
    });
    expect(clerk.statusCode).toBe(403);
  });

  it('edits a book with its version; a stale version is a conflict', async () => {
    const { book } = await route(newBook);
    const res = await manager()({
      method: 'PUT',
      url: `/api/books/${newBook}`,
      payload: {
        name: '测试册本（改）',
        zone: 'D',
        areaType: 'dispersed',
        active: true,
        version: book.version,
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ name: '测试册本（改）', zone: 'D', version: book.version + 1 });
    const stale = await manager()({
      method: 'PUT',
      url: `/api/books/${newBook}`,
      payload: { name: 'x', zone: 'C', areaType: 'concentrated', active: true, version: book.version },
    });
    expect(stale.statusCode).toBe(409);
  });

  it('moves meters of the office into a book, appended; refuses other offices’ meters and other zone classes', async () => {
    const source = await route(bookC.bookId);
    const two = source.meters.slice(0, 2).map((m) => ({ accountId: m.accountId, meterId: m.meterId }));
    const moved = await manager()({
      method: 'POST',
      url: `/api/books/${newBook}/meters`,
      payload: { meters: two },
    });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json()).toEqual({ bookId: newBook, moved: 2 });
    const target = await route(newBook);
    expect(target.meters.map((m) => [m.meterId, m.routeSeq])).toEqual(two.map((m, i) => [m.meterId, i + 1]));
    expect((await route(bookC.bookId)).meters).toHaveLength(source.meters.length - 2);

    const foreign = await t.db
      .selectFrom('meter as m')
      .innerJoin('customer as c', 'c.account_id', 'm.account_id')
      .select(['m.account_id', 'm.meter_id'])
      .where('c.office_id', '=', officeB)
      .executeTakeFirstOrThrow();
    const refused = await manager()({
      method: 'POST',
      url: `/api/books/${newBook}/meters`,
      payload: { meters: [{ accountId: foreign.account_id, meterId: foreign.meter_id }] },
    });
    expect(refused.statusCode).toBe(400);
    expect(codes(refused)).toEqual(['METER_NOT_IN_OFFICE']);

    const large = (await route(book0.bookId)).meters[0]!;
    const mismatch = await manager()({
      method: 'POST',
      url: `/api/books/${newBook}/meters`,
      payload: { meters: [{ accountId: large.accountId, meterId: large.meterId }] },
    });
    expect(mismatch.statusCode).toBe(400);
    expect(codes(mismatch)).toEqual(['ZONE_CLASS_MISMATCH']);
  });

  it('overrides a meter’s zone only with a reason; the override lets it join a book of that class', async () => {
    const large = (await route(book0.bookId)).meters[0]!;
    const url = `/api/customers/${large.accountId}/meters/${large.meterId}/zone`;
    const noReason = await manager()({ method: 'PUT', url, payload: { zone: 'D' } });
    expect(noReason.statusCode).toBe(400);
    expect(codes(noReason)).toEqual(['REASON_REQUIRED']);
    const ok = await manager()({
      method: 'PUT',
      url,
      payload: { zone: 'D', reason: '实为户表，口径登记有误' },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({
      zoneClass: '0',
      zoneOverride: 'D',
      effectiveZoneClass: 'CDE',
      fitsBook: false,
    });
    const moved = await manager()({
      method: 'POST',
      url: `/api/books/${newBook}/meters`,
      payload: { meters: [{ accountId: large.accountId, meterId: large.meterId }] },
    });
    expect(moved.statusCode, moved.body).toBe(200);
    const there = (await route(newBook)).meters.find(
      (m) => m.meterId === large.meterId && m.accountId === large.accountId,
    )!;
    expect(there).toMatchObject({ routeSeq: 3, zoneClass: '0', effectiveZoneClass: 'CDE', fitsBook: true });
    const audit = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('entity_type', '=', 'meter')
      .where('action', '=', 'override_zone')
      .executeTakeFirstOrThrow();
    expect(audit.after).toMatchObject({ zone_override: 'D', zone_override_reason: '实为户表，口径登记有误' });
    // Clearing needs no reason.
    const other = (await route(bookC.bookId)).meters[0]!;
    const otherUrl = `/api/customers/${other.accountId}/meters/${other.meterId}/zone`;
    expect(
      (await manager()({ method: 'PUT', url: otherUrl, payload: { zone: 'E', reason: '核对' } })).statusCode,
    ).toBe(200);
    const cleared = await manager()({ method: 'PUT', url: otherUrl, payload: { zone: null } });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json()).toMatchObject({ zoneOverride: null, zoneOverrideReason: '' });
  });

  it('reorders the whole route; refuses an order that misses, repeats or adds a meter', async () => {
    const before = await route(newBook);
    const order = before.meters.map((m) => ({ accountId: m.accountId, meterId: m.meterId }));
    const reversed = [...order].reverse();
    const put = (payload: unknown) =>
      manager()({ method: 'PUT', url: `/api/books/${newBook}/route`, payload });
    const missing = await put({ order: reversed.slice(1), version: before.book.version });
    expect(missing.statusCode).toBe(400);
    expect(codes(missing)).toEqual(['ROUTE_MISSING']);
    expect(missing.json().error.fields[0].message).toContain(before.meters.at(-1)!.meterNo);
    const dup = await put({ order: [...reversed, reversed[0]], version: before.book.version });
    expect(codes(dup)).toEqual(['ROUTE_DUPLICATE']);
    const stranger = (await route(bookC.bookId)).meters[0]!;
    const extra = await put({
      order: [...reversed, { accountId: stranger.accountId, meterId: stranger.meterId }],
      version: before.book.version,
    });
    expect(codes(extra)).toEqual(['ROUTE_NOT_IN_BOOK']);
    const stale = await put({ order: reversed, version: before.book.version - 1 });
    expect(stale.statusCode).toBe(409);

    const ok = await put({ order: reversed, version: before.book.version });
    expect(ok.statusCode, ok.body).toBe(200);
    const after = ok.json() as { book: Book; meters: RouteMeter[] };
    expect(after.meters.map((m) => m.meterId)).toEqual(reversed.map((m) => m.meterId));
    expect(after.meters.map((m) => m.routeSeq)).toEqual([1, 2, 3]);
    expect(after.book.version).toBe(before.book.version + 1);
  });

  it('assigns a reader with a written handover, closing the previous assignment', async () => {
    const noNote = await manager()({
      method: 'POST',
      url: `/api/books/${newBook}/assign`,
      payload: { readerId: staff.reader, fromDate: '2026-11-01' },
    });
    expect(codes(noNote)).toEqual(['HANDOVER_REQUIRED']);
    const foreign = await manager()({
      method: 'POST',
      url: `/api/books/${newBook}/assign`,
      payload: { readerId: staff.reader3, fromDate: '2026-11-01', handoverNote: 'x' },
    });
    expect(codes(foreign)).toEqual(['READER_NOT_IN_OFFICE']);
    const history0 = (await manager()({ method: 'GET', url: `/api/books/${newBook}/assignments` })).json();
    expect(history0).toHaveLength(1);
    const early = await manager()({
      method: 'POST',
      url: `/api/books/${newBook}/assign`,
      payload: { readerId: staff.reader, fromDate: '2000-01-01', handoverNote: 'x' },
    });
    expect(codes(early)).toEqual(['BEFORE_CURRENT_ASSIGNMENT']);

    const res = await manager()({
      method: 'POST',
      url: `/api/books/${newBook}/assign`,
      payload: {
        readerId: staff.reader,
        fromDate: history0[0].fromDate,
        handoverNote: '册本、表位图、钥匙已移交',
        openItems: '3栋2单元表井积水待处理',
      },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      readerId: staff.reader,
      handedOverBy: staff.reader2,
      handoverNote: '册本、表位图、钥匙已移交',
      openItems: '3栋2单元表井积水待处理',
      toDate: null,
    });
    const history = (await manager()({ method: 'GET', url: `/api/books/${newBook}/assignments` })).json();
    expect(history).toHaveLength(2);
    expect(history[1]).toMatchObject({ readerId: staff.reader2, toDate: history0[0].fromDate });
    const { book } = await route(newBook);
    expect(book).toMatchObject({ readerId: staff.reader, readerSince: history0[0].fromDate });
    expect(book.rotation?.status).toBe('ok');
    const same = await manager()({
      method: 'POST',
      url: `/api/books/${newBook}/assign`,
      payload: { readerId: staff.reader, fromDate: history0[0].fromDate, handoverNote: 'x' },
    });
    expect(codes(same)).toEqual(['SAME_READER']);
  });
});

describe('workload and rotation', () => {
  it('reads and validates the office’s figures', async () => {
    const url = `/api/offices/${officeA}/workload`;
    const get = await manager()({ method: 'GET', url });
    expect(get.statusCode, get.body).toBe(200);
    expect(get.json()).toMatchObject({ officeId: officeA, custom: false, config: DEFAULT_WORKLOAD_CONFIG });
    const zero = await manager()({
      method: 'PUT',
      url,
      payload: {
        ...DEFAULT_WORKLOAD_CONFIG,
        metersPerDay: { ...DEFAULT_WORKLOAD_CONFIG.metersPerDay, zone0: 0 },
      },
    });
    expect(zero.statusCode).toBe(400);
    const warn = await manager()({
      method: 'PUT',
      url,
      payload: { ...DEFAULT_WORKLOAD_CONFIG, rotationWarnMonths: 24 },
    });
    expect(warn.statusCode).toBe(400);
    const other = await manager()({ method: 'GET', url: `/api/offices/${officeB}/workload` });
    expect(other.statusCode).toBe(404);
  });

  it('flags a reader whose books need more than 16 working days in a month', async () => {
    // A book too big for 16 days: at 3 household meters a day, a book of 60 takes 20 days.
    const url = `/api/offices/${officeA}/workload`;
    const slow = {
      ...DEFAULT_WORKLOAD_CONFIG,
      metersPerDay: { ...DEFAULT_WORKLOAD_CONFIG.metersPerDay, cde_wall: 3, cde_buried: 3 },
    };
    const put = await manager()({ method: 'PUT', url, payload: slow });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ custom: true, config: slow });
    const list = await books();
    const big = list.find((b) => ['C', 'D', 'E'].includes(b.zone) && b.meterCount >= 60)!;
    const month = ({ C: '2026-10', D: '2026-11', E: '2026-12' } as Record<string, string>)[big.zone]!;
    const res = await manager()({ method: 'GET', url: `/api/workload?officeId=${officeA}&month=${month}` });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ officeId: officeA, month });
    const reader = body.readers.find((r: { readerId: number }) => r.readerId === big.readerId);
    expect(reader.books.map((b: { bookId: number }) => b.bookId)).toContain(big.bookId);
    expect(reader.days).toBeGreaterThan(16);
    expect(reader).toMatchObject({ limit: 16, over: true, areaType: 'concentrated' });
    expect(reader.meters.cde_wall + (reader.meters.cde_buried ?? 0)).toBeGreaterThanOrEqual(60);
    for (const b of reader.books)
      expect(b.rotation === null || ['ok', 'warn', 'over'].includes(b.rotation.status)).toBe(true);

    // The plan reports the book that does not fit instead of overloading the reader.
    const summary = await generate(2027);
    expect(summary.unfit.some((u) => u.bookId === big.bookId && u.reason === 'OVER_MONTHLY_DAYS')).toBe(true);

    const reset = await manager()({ method: 'PUT', url, payload: DEFAULT_WORKLOAD_CONFIG });
    expect(reset.statusCode).toBe(200);
    const after = (
      await manager()({ method: 'GET', url: `/api/workload?officeId=${officeA}&month=${month}` })
    ).json();
    expect(after.readers.every((r: { over: boolean }) => !r.over)).toBe(true);
  });

  it('shows the rotation warning for books held close to two years', async () => {
    const list = await books('admin');
    const statuses = new Set(list.map((b) => b.rotation?.status));
    expect(statuses.has('ok')).toBe(true);
    const b = list[0]!;
    await t.db
      .updateTable('book')
      .set({ reader_since: '2024-12-01' })
      .where('book_id', '=', b.bookId)
      .execute();
    const warned = (await books('admin')).find((x) => x.bookId === b.bookId)!;
    expect(warned.rotation).toEqual(expect.objectContaining({ dueOn: '2026-12-01', warnFrom: '2026-10-01' }));
  });

  it('counts a book handed over later under the reader who holds it on its planned day', async () => {
    const month = todayInChina().slice(0, 7);
    const next = addMonths(month, 1);
    if (next.slice(0, 4) !== month.slice(0, 4)) await generate(Number(next.slice(0, 4)));
    const rows = [
      ...(await plan(`officeId=${officeA}&year=${month.slice(0, 4)}`)),
      ...(next.slice(0, 4) !== month.slice(0, 4)
        ? await plan(`officeId=${officeA}&year=${next.slice(0, 4)}`)
        : []),
    ];
    const dayOf = (bookId: number, period: string) =>
      rows.find((r) => r.bookId === bookId && r.period === period)?.plannedOn;
    // A monthly (zone 0) book read this month and next, held since before this month's day.
    const book = (await books()).find(
      (b) =>
        b.zone === '0' &&
        b.readerId !== null &&
        dayOf(b.bookId, month) !== undefined &&
        dayOf(b.bookId, next) !== undefined &&
        b.readerSince! < dayOf(b.bookId, month)!,
    )!;
    expect(book).toBeDefined();
    const holder = book.readerId!;
    const taker = holder === staff.reader ? staff.reader2! : staff.reader!;
    const handed = await manager()({
      method: 'POST',
      url: `/api/books/${book.bookId}/assign`,
      payload: {
        readerId: taker,
        fromDate: addDays(dayOf(book.bookId, month)!, 1),
        handoverNote: '书面交接',
      },
    });
    expect(handed.statusCode, handed.body).toBe(200);
    const readerOf = async (m: string) => {
      const res = await manager()({ method: 'GET', url: `/api/workload?officeId=${officeA}&month=${m}` });
      expect(res.statusCode, res.body).toBe(200);
      return res
        .json()
        .readers.filter((r: { books: { bookId: number }[] }) => r.books.some((b) => b.bookId === book.bookId))
        .map((r: { readerId: number }) => r.readerId);
    };
    // This month's reading was the holder's; next month's is the taker's.
    expect(await readerOf(month)).toEqual([holder]);
    expect(await readerOf(next)).toEqual([taker]);
    const planned = async (m: string, query = '') =>
      (await plan(`officeId=${officeA}&year=${m.slice(0, 4)}&period=${m}${query}`)).filter(
        (r) => r.bookId === book.bookId,
      );
    expect((await planned(month)).map((r) => r.readerId)).toEqual([holder]);
    expect((await planned(next)).map((r) => r.readerId)).toEqual([taker]);
    expect(await planned(month, `&readerId=${taker}`)).toEqual([]);
    expect(await planned(month, `&readerId=${holder}`)).toHaveLength(1);
  });
});

describe('the annual reading plan', () => {
  // 2027 lies ahead, so the API plans all of it (the demo's 2026 is mostly read already). The
  // holiday package has no 2027 yet: the admin enters its National Day, as an office would.
  let reader7: number;

  beforeAll(async () => {
    const admin = t.as('admin');
    for (let d = 1; d <= 7; d++) {
      const res = await admin({
        method: 'PUT',
        url: `/api/calendar/days/2027-10-0${d}`,
        payload: { kind: 'holiday', name: '国庆节' },
      });
      expect(res.statusCode, res.body).toBe(200);
    }
    for (const day of ['2027-09-26', '2027-10-09'])
      await admin({
        method: 'PUT',
        url: `/api/calendar/days/${day}`,
        payload: { kind: 'workday', name: '国庆节（补班）' },
      });
  });

  it('puts every book of a reading month on a working day, within each reader’s day and month', async () => {
    const summary = await generate(2027);
    expect(summary.unfit).toEqual([]);
    const rows = await plan(`officeId=${officeA}&year=2027`);
    expect(rows.length).toBe(summary.planned + summary.unchanged);
    const cal = await loadWorkingCalendar(t.db, '2027-01-01', '2027-12-31');
    expect(cal.isWorkingDay('2027-10-09')).toBe(true);
    for (const r of rows) {
      expect(cal.isWorkingDay(r.plannedOn), `${r.code} ${r.plannedOn}`).toBe(true);
      expect(r.plannedOn.slice(0, 7)).toBe(r.period);
      expect(r.plannedOn < '2027-10-01' || r.plannedOn > '2027-10-07').toBe(true);
    }
    // Every active book, in each month its zone is read.
    const list = await books();
    const months = (zone: string) => ({ '0': 12, A: 6, B: 6, C: 4, D: 4, E: 4 })[zone as '0'];
    expect(rows.length).toBe(list.reduce((sum, b) => sum + months(b.zone), 0));
    // Capacity: a reader's day holds one day of reading at the daily minimums; at most 16 days a month.
    const counts = await meterCountsByBook(
      t.db,
      list.map((b) => b.bookId),
    );
    const day = new Map<string, MeterCounts>();
    const daysUsed = new Map<string, Set<string>>();
    for (const r of rows) {
      const m = counts.get(r.bookId) ?? {};
      if (r.readerId === null || readingDays(m) !== 1) continue;
      const key = `${r.readerId}|${r.plannedOn}`;
      const sum = day.get(key) ?? {};
      for (const [k, v] of Object.entries(m) as [MeterCategory, number][]) sum[k] = (sum[k] ?? 0) + v;
      day.set(key, sum);
      const lane = `${r.readerId}|${r.period}`;
      daysUsed.set(lane, (daysUsed.get(lane) ?? new Set()).add(r.plannedOn));
    }
    expect(day.size).toBeGreaterThan(0);
    for (const [key, m] of day) expect(readingDays(m), key).toBeLessThanOrEqual(1);
    for (const [lane, set] of daysUsed) expect(set.size, lane).toBeLessThanOrEqual(16);
  });

  it('uses an adjusted Saturday (9 October 2027) like any working day', async () => {
    const row = await t.db
      .insertInto('staff')
      .values({
        username: 'reader7',
        full_name: '抄表员七',
        role_code: 'reader',
        home_office_id: officeA,
        password_hash: await hashPassword('meterline'),
      })
      .returning('staff_id')
      .executeTakeFirstOrThrow();
    reader7 = row.staff_id;
    await t.db.insertInto('staff_office').values({ staff_id: reader7, office_id: officeA }).execute();
    for (let i = 1; i <= 9; i++) {
      const res = await manager()({
        method: 'POST',
        url: '/api/books',
        payload: { officeId: officeA, code: `T-OCT-${i}`, name: `十月册 ${i}`, zone: 'C', readerId: reader7 },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const summary = await generate(2027);
    // Only the new books were planned: the others kept their days.
    expect(summary.planned).toBe(9 * 4);
    const october = (await plan(`officeId=${officeA}&year=2027&period=2027-10&readerId=${reader7}`)).map(
      (r) => r.plannedOn,
    );
    expect(october).toHaveLength(9);
    expect(october).toContain('2027-10-09');
    expect(october.filter((d) => d >= '2027-10-01' && d <= '2027-10-07')).toEqual([]);
  });

  it('is idempotent: generating again changes nothing', async () => {
    const before = await plan(`officeId=${officeA}&year=2027`);
    const again = await generate(2027);
    expect(again).toMatchObject({ planned: 0, removed: 0, unchanged: before.length });
    expect(await plan(`officeId=${officeA}&year=2027`)).toEqual(before);
  });

  it('moves a date by an approved change (the original kept); a rejected one moves nothing', async () => {
    const october = (await plan(`officeId=${officeA}&year=2027&period=2027-10`)).filter(
      (r) => r.readerId !== reader7,
    );
    const [first, second] = october;
    expect(first && second).toBeTruthy();
    const cal = await loadWorkingCalendar(t.db, '2027-10-01', '2027-10-31');
    const toDate = cal.workingDaysOfMonth('2027-10').find((d) => d !== first!.plannedOn)!;
    const ask = (payload: unknown) =>
      manager()({ method: 'POST', url: '/api/reading-plan/changes', payload });

    expect((await ask({ bookId: first!.bookId, period: '2027-10', toDate })).statusCode).toBe(400);
    const otherMonth = await ask({
      bookId: first!.bookId,
      period: '2027-10',
      toDate: '2027-11-04',
      reason: '雨雪',
    });
    expect(codes(otherMonth)).toEqual(['CHANGE_OTHER_MONTH']);
    const sunday = await ask({
      bookId: first!.bookId,
      period: '2027-10',
      toDate: '2027-10-05',
      reason: '雨雪',
    });
    expect(codes(sunday)).toEqual(['NOT_WORKING_DAY']);

    const res = await ask({
      bookId: first!.bookId,
      period: '2027-10',
      toDate,
      reason: '小区封闭施工，改期入户',
    });
    expect(res.statusCode, res.body).toBe(201);
    const change = res.json();
    expect(change).toMatchObject({
      status: 'pending',
      fromDate: first!.plannedOn,
      toDate,
      bookCode: first!.code,
    });
    const twice = await ask({ bookId: first!.bookId, period: '2027-10', toDate, reason: '再次' });
    expect(twice.statusCode).toBe(409);
    // Still planned on the old day until approved, and generating keeps it (a change is pending).
    await generate(2027);
    expect((await plan(`bookId=${first!.bookId}&year=2027&period=2027-10`))[0]!.plannedOn).toBe(
      first!.plannedOn,
    );

    const clerk = await t.as('clerk')({
      method: 'POST',
      url: `/api/reading-plan/changes/${change.changeId}/decide`,
      payload: { approve: true },
    });
    expect(clerk.statusCode).toBe(403);
    const approved = await manager()({
      method: 'POST',
      url: `/api/reading-plan/changes/${change.changeId}/decide`,
      payload: { approve: true, note: '同意' },
    });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({
      status: 'approved',
      decidedBy: staff.manager,
      decisionNote: '同意',
    });
    const moved = (await plan(`bookId=${first!.bookId}&year=2027&period=2027-10`))[0]!;
    expect(moved).toMatchObject({ plannedOn: toDate, originalOn: first!.originalOn });
    const decidedAgain = await manager()({
      method: 'POST',
      url: `/api/reading-plan/changes/${change.changeId}/decide`,
      payload: { approve: false },
    });
    expect(decidedAgain.statusCode).toBe(409);

    const toDate2 = cal.workingDaysOfMonth('2027-10').find((d) => d !== second!.plannedOn)!;
    const r2 = await ask({
      bookId: second!.bookId,
      period: '2027-10',
      toDate: toDate2,
      reason: '抄表员培训',
    });
    const rejected = await manager()({
      method: 'POST',
      url: `/api/reading-plan/changes/${r2.json().changeId}/decide`,
      payload: { approve: false, note: '按计划执行' },
    });
    expect(rejected.json()).toMatchObject({ status: 'rejected' });
    expect((await plan(`bookId=${second!.bookId}&year=2027&period=2027-10`))[0]!.plannedOn).toBe(
      second!.plannedOn,
    );

    const list = (
      await manager()({ method: 'GET', url: '/api/reading-plan/changes?status=approved' })
    ).json();
    expect(list.map((c: { changeId: number }) => c.changeId)).toEqual([change.changeId]);

    // Generating again keeps the approved move.
    await generate(2027);
    expect((await plan(`bookId=${first!.bookId}&year=2027&period=2027-10`))[0]!.plannedOn).toBe(toDate);
  });

  it('keeps the dates of periods already read', async () => {
    const november = (await plan(`officeId=${officeA}&year=2027&period=2027-11`)).filter(
      (r) => r.readerId !== reader7,
    );
    const target = november.at(-1)!;
    const cal = await loadWorkingCalendar(t.db, '2027-11-01', '2027-11-30');
    const other = cal.workingDaysOfMonth('2027-11').find((d) => d !== target.plannedOn)!;
    await t.db
      .updateTable('reading_plan')
      .set({ planned_on: other })
      .where('book_id', '=', target.bookId)
      .where('period', '=', '2027-11')
      .execute();
    const meter = (await route(target.bookId)).meters[0]!;
    await t.db
      .insertInto('reading')
      .values({
        account_id: meter.accountId,
        meter_id: meter.meterId,
        book_id: target.bookId,
        period: '2027-11',
        read_at: `${other}T09:00:00+08:00`,
        previous_index: '100',
        index_value: '110',
        consumption_m3: '10',
        kind: 'actual',
        source: 'handheld',
        status: 'accepted',
      })
      .execute();
    await generate(2027);
    expect((await plan(`bookId=${target.bookId}&year=2027&period=2027-11`))[0]!.plannedOn).toBe(other);
  });
});

describe('office scope', () => {
  it('keeps office A’s books, routes, plan and changes from office B’s manager', async () => {
    const aBook = (await books())[0]!;
    const m2 = t.as('manager2');
    for (const [method, url, payload] of [
      ['GET', `/api/books/${aBook.bookId}/route`, undefined],
      ['GET', `/api/books/${aBook.bookId}/assignments`, undefined],
      [
        'PUT',
        `/api/books/${aBook.bookId}`,
        { name: 'x', zone: 'C', areaType: 'concentrated', active: true, version: 1 },
      ],
      ['PUT', `/api/books/${aBook.bookId}/route`, { order: [], version: 1 }],
      ['POST', `/api/books/${aBook.bookId}/meters`, { meters: [{ accountId: 1, meterId: 1 }] }],
      [
        'POST',
        `/api/books/${aBook.bookId}/assign`,
        { readerId: staff.reader3, fromDate: '2026-11-01', handoverNote: 'x' },
      ],
      [
        'POST',
        '/api/reading-plan/changes',
        { bookId: aBook.bookId, period: '2026-12', toDate: '2026-12-01', reason: 'x' },
      ],
    ] as const) {
      const res = await m2({ method, url, payload });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    const change = await t.db.selectFrom('reading_plan_change').select('change_id').executeTakeFirstOrThrow();
    const decide = await m2({
      method: 'POST',
      url: `/api/reading-plan/changes/${change.change_id}/decide`,
      payload: { approve: true },
    });
    expect(decide.statusCode).toBe(404);
    expect((await books('manager2')).every((b) => b.officeId === officeB)).toBe(true);
    expect((await m2({ method: 'GET', url: `/api/books?officeId=${officeA}` })).statusCode).toBe(403);
    const planB = (await m2({ method: 'GET', url: '/api/reading-plan?year=2026' })).json() as PlanRow[];
    expect((await plan('year=2027')).every((r) => r.officeId === officeA)).toBe(true);
    expect(planB.length).toBeGreaterThan(0);
    expect(planB.every((r) => r.officeId === officeB)).toBe(true);
    const changesB = (await m2({ method: 'GET', url: '/api/reading-plan/changes' })).json();
    expect(changesB).toEqual([]);
    const generateA = await m2({
      method: 'POST',
      url: '/api/reading-plan/generate',
      payload: { officeId: officeA, year: 2026 },
    });
    expect(generateA.statusCode).toBe(403);
    const workloadB = (await m2({ method: 'GET', url: '/api/workload?month=2026-12' })).json();
    for (const r of workloadB.readers) expect(r.officeIds).toEqual([officeB]);
    const zone = await m2({
      method: 'PUT',
      url: `/api/customers/${(await route(aBook.bookId)).meters[0]!.accountId}/meters/1/zone`,
      payload: { zone: null },
    });
    expect(zone.statusCode).toBe(404);
  });
});
