import { existsSync } from 'node:fs';
import path from 'node:path';
import { addDays, todayInChina } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type FixtureMeter,
  handOver,
  makeBook,
  planOn,
  reading,
  staffId,
  TINY_JPEG,
  TINY_PNG,
} from '../readings/fixtures.ts';
import { addMonths } from '../readings/model.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';

/**
 * The handheld's day (DOMAIN.md §3, docs/reading.md "The handheld"): download the day's route,
 * upload the readings (idempotent, conflicts kept, bad rows refused one by one), and no new day
 * before the last one is uploaded.
 */

let t: TestApp;
let day1: string;
let day2: string;
let book1: { bookId: number; meters: FixtureMeter[] };
let book2: { bookId: number; meters: FixtureMeter[] };
type Answer = {
  clientId: string;
  outcome: string;
  readingId?: number;
  flags: string[];
  error?: { code: string; message: string };
};

beforeAll(async () => {
  t = await createTestApp({ customers: 600, metering: true });
  const today = todayInChina();
  day1 = addDays(today, -2);
  day2 = addDays(today, -1);
  book1 = await makeBook(t, { reader: 'reader', officeCode: '0101', count: 6 });
  book2 = await makeBook(t, { reader: 'reader', officeCode: '0101', count: 4 });
  await planOn(t, book1.bookId, day1);
  await planOn(t, book2.bookId, day2);
});

afterAll(async () => {
  await t?.close();
});

const asReader = () => t.as('reader');
const upload = async (readings: unknown[], deviceId = 'PDA-1', lang = 'zh-CN') => {
  const res = await asReader()({
    method: 'POST',
    url: '/api/field/readings',
    payload: { deviceId, readings },
    headers: { 'accept-language': lang },
  });
  return { res, results: (res.statusCode === 200 ? res.json().results : []) as Answer[] };
};
const route = (date: string, deviceId = 'PDA-1') =>
  asReader()({ method: 'GET', url: `/api/field/route?date=${date}&deviceId=${deviceId}` });
const readingCount = async () => Number((await t.pool.query('select count(*) as n from reading')).rows[0].n);

describe('the day cycle', () => {
  let routeMeters: {
    accountId: number;
    meterId: number;
    previousIndex: string;
    expectedM3: string | null;
    lastReadings: unknown[];
    dialDigits: number;
    visitForced: boolean;
  }[];

  it('downloads the day’s books with what the handheld checks against, and records the download', async () => {
    const res = await route(day1);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.workDate).toBe(day1);
    expect(body.books.map((b: { bookId: number }) => b.bookId)).toContain(book1.bookId);
    const mine = body.meters.filter((m: { bookId: number }) => m.bookId === book1.bookId);
    expect(mine.map((m: { meterId: number; accountId: number }) => m.accountId)).toEqual(
      book1.meters.map((m) => m.accountId),
    );
    routeMeters = mine;
    for (const m of mine) {
      expect(m.previousIndex).toMatch(/^\d+(\.\d+)?$/);
      expect(m.lastReadings.length).toBeGreaterThanOrEqual(3);
      expect(m.expectedM3).not.toBeNull();
      expect(m.visitForced).toBe(false);
      expect(m.customerName).toBeTruthy();
      expect(m.address).toBeTruthy();
    }
    // The previous index is the last accepted reading's index.
    const last = await t.pool.query(
      `select index_value from reading where account_id = $1 and meter_id = $2 and status = 'accepted'
       order by read_at desc limit 1`,
      [mine[0].accountId, mine[0].meterId],
    );
    expect(Number(mine[0].previousIndex)).toBe(Number(last.rows[0].index_value));
    expect(body.anomalyCodes.find((a: { code: string }) => a.code === 'no_access').preventsReading).toBe(
      true,
    );
    expect(body.thresholds).toMatchObject({ highFactor: 3, lowFactor: 0.3, maxConsecutiveEstimates: 2 });
    const download = await t.db
      .selectFrom('route_download')
      .selectAll()
      .where('work_date', '=', day1)
      .execute();
    expect(download).toHaveLength(1);
    expect(download[0]!.book_ids).toContain(book1.bookId);
  });

  it('refuses the next day (UPLOAD_FIRST, listing the meters) until every meter has a reading or a no-access entry', async () => {
    const blocked = await route(day2);
    expect(blocked.statusCode).toBe(409);
    const error = blocked.json().error;
    expect(error.code).toBe('UPLOAD_FIRST');
    expect(error.workDate).toBe(day1);
    expect(error.meters.map((m: { accountId: number }) => m.accountId).sort()).toEqual(
      book1.meters.map((m) => m.accountId).sort(),
    );

    // All but the last read, the last one no access.
    const batch = routeMeters
      .slice(0, -1)
      .map((m, i) =>
        reading(book1.meters[i]!, String(Math.round(Number(m.previousIndex) + Number(m.expectedM3)))),
      );
    const last = book1.meters[book1.meters.length - 1]!;
    batch.push(reading(last, null, { anomalyCodes: ['no_access'], note: '无人在家' }));
    const { res, results } = await upload(batch);
    expect(res.statusCode, res.body).toBe(200);
    expect(results.slice(0, -1).every((r) => r.outcome === 'accepted')).toBe(true);
    expect(results.at(-1)!.outcome).toBe('accepted');
    const estimate = await t.pool.query(
      'select kind, index_value, consumption_m3 from reading where reading_id = $1',
      [results.at(-1)!.readingId],
    );
    expect(estimate.rows[0]).toMatchObject({ kind: 'estimated', index_value: null });
    expect(Number(estimate.rows[0].consumption_m3)).toBeGreaterThan(0);
    // The no-access entry opened a follow-up for its department.
    const followup = await t.db
      .selectFrom('followup')
      .selectAll()
      .where('account_id', '=', last.accountId)
      .where('anomaly_code', '=', 'no_access')
      .execute();
    expect(followup).toHaveLength(1);
    expect(followup[0]!.department).toBe('office');

    const next = await route(day2);
    expect(next.statusCode, next.body).toBe(200);
    expect(next.json().books.map((b: { bookId: number }) => b.bookId)).toEqual([book2.bookId]);
  });

  it('audits every stored reading and the request', async () => {
    const entries = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('entity_type', 'in', ['reading', 'reading_upload'])
      .execute();
    expect(entries.filter((e) => e.entity_type === 'reading' && e.action === 'upload')).toHaveLength(6);
    expect(entries.filter((e) => e.entity_type === 'reading_upload')).toHaveLength(1);
    expect(t.built.unaudited).toEqual([]);
  });
});

describe('uploads', () => {
  let meters: FixtureMeter[];
  let previous: Map<number, { previousIndex: string; expectedM3: string }>;

  beforeAll(async () => {
    meters = book2.meters;
    const res = await route(day2);
    previous = new Map(
      res
        .json()
        .meters.map((m: { accountId: number; previousIndex: string; expectedM3: string }) => [
          m.accountId,
          m,
        ]),
    );
  });
  const ordinary = (m: FixtureMeter) => {
    const p = previous.get(m.accountId)!;
    return String(Math.round(Number(p.previousIndex) + Number(p.expectedM3)));
  };

  it('a retried batch, and the same clientId from a second phone, record each reading once', async () => {
    const batch = [reading(meters[0]!, ordinary(meters[0]!), { clientId: 'retry-1' })];
    const first = await upload(batch);
    expect(first.results[0]).toMatchObject({ outcome: 'accepted' });
    const before = await readingCount();
    const again = await upload(batch);
    expect(again.results[0]).toMatchObject({ outcome: 'duplicate', readingId: first.results[0]!.readingId });
    const otherPhone = await upload(batch, 'PDA-2');
    expect(otherPhone.results[0]).toMatchObject({
      outcome: 'duplicate',
      readingId: first.results[0]!.readingId,
    });
    // The same reading typed again under a new clientId is the same reading, not a second one.
    const retyped = await upload(
      [reading(meters[0]!, ordinary(meters[0]!), { clientId: 'retyped-1' })],
      'PDA-2',
    );
    expect(retyped.results[0]).toMatchObject({
      outcome: 'duplicate',
      readingId: first.results[0]!.readingId,
    });
    // And twice in one batch.
    const doubled = await upload([batch[0], batch[0]]);
    expect(doubled.results.map((r) => r.outcome)).toEqual(['duplicate', 'duplicate']);
    expect(await readingCount()).toBe(before);
  });

  it('keeps a different reading of the same meter and period as a conflict the analyst sees', async () => {
    const other = String(Number(ordinary(meters[0]!)) + 3);
    const { results } = await upload([reading(meters[0]!, other, { clientId: 'conflicting-1' })], 'PDA-9');
    expect(results[0]!.outcome).toBe('conflict');
    const queue = await t.as('analyst')({
      method: 'GET',
      url: '/api/readings/review?status=conflict&pageSize=200',
    });
    expect(queue.statusCode).toBe(200);
    const item = queue.json().items.find((i: { readingId: number }) => i.readingId === results[0]!.readingId);
    expect(item).toBeTruthy();
    expect(item.status).toBe('conflict');
    expect(item.index).toBe(other);
    expect(item.others.map((o: { status: string }) => o.status)).toEqual(['accepted']);
  });

  it('refuses bad rows one by one with a reason, and stores the rest', async () => {
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const batch = [
      { ...reading(meters[1]!, ordinary(meters[1]!)), accountId: 999_999_999 },
      reading(meters[1]!, '12ab'),
      reading(meters[1]!, ordinary(meters[1]!), { readAt: future }),
      reading(meters[1]!, ordinary(meters[1]!), { anomalyCodes: ['no_such_code'] }),
      reading(meters[1]!, '100000000'),
      reading(meters[1]!, null),
      reading(meters[1]!, ordinary(meters[1]!), { photo: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=' }),
      reading(meters[1]!, ordinary(meters[1]!), {
        photo: TINY_JPEG,
        signature: TINY_PNG,
        signerName: '物业 张',
      }),
    ];
    const before = await readingCount();
    const { res, results } = await upload(batch, 'PDA-1', 'en');
    expect(res.statusCode, res.body).toBe(200);
    expect(results.map((r) => r.error?.code ?? r.outcome)).toEqual([
      'METER_UNKNOWN',
      'INDEX_FORMAT',
      'READ_AT_FUTURE',
      'ANOMALY_UNKNOWN',
      'INDEX_TOO_LARGE',
      'INDEX_REQUIRED',
      'IMAGE_TYPE',
      'accepted',
    ]);
    expect(results[2]!.error!.message).toBe('The read time is in the future');
    expect(await readingCount()).toBe(before + 1);
    const stored = await t.db
      .selectFrom('reading')
      .selectAll()
      .where('reading_id', '=', results[7]!.readingId!)
      .executeTakeFirstOrThrow();
    expect(stored.photo_path).toBe(
      path.join('readings', String(meters[1]!.accountId), `${stored.reading_id}-photo.jpg`),
    );
    expect(existsSync(path.join(t.config.dataDir, stored.photo_path!))).toBe(true);
    expect(existsSync(path.join(t.config.dataDir, stored.signature_path!))).toBe(true);
    expect(stored).toMatchObject({
      device_id: 'PDA-1',
      signer_name: '物业 张',
      latitude: '34.750000',
      accuracy_m: 8,
    });
    const photo = await t.as('clerk')({
      method: 'GET',
      url: `/api/customers/${meters[1]!.accountId}/readings/${stored.reading_id}/photo`,
    });
    expect(photo.statusCode).toBe(200);
    expect(photo.headers['content-type']).toBe('image/jpeg');
  });

  it('refuses a malformed body whole (400) and stores nothing', async () => {
    const before = await readingCount();
    for (const payload of [
      {
        deviceId: 'PDA-1',
        readings: [{ ...reading(meters[2]!, '1'), accountId: 'abc' }, reading(meters[3]!, '1')],
      },
      { deviceId: 'PDA-1', readings: 'x' },
      { readings: [reading(meters[2]!, '1')] },
      { deviceId: 'PDA-1', readings: [] },
      { deviceId: 'PDA-1', readings: [{ ...reading(meters[2]!, '1'), clientId: undefined }] },
    ]) {
      const res = await asReader()({ method: 'POST', url: '/api/field/readings', payload });
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(res.json().error.code).toBe('VALIDATION');
    }
    expect(await readingCount()).toBe(before);
  });

  it('sends readings the checks flag to review, kept as entered', async () => {
    const p = previous.get(meters[2]!.accountId)!;
    const high = String(Math.round(Number(p.previousIndex) + Number(p.expectedM3) * 5 + 10));
    const below = String(Math.max(0, Number(previous.get(meters[3]!.accountId)!.previousIndex) - 5));
    const { results } = await upload([reading(meters[2]!, high), reading(meters[3]!, below)]);
    expect(results.map((r) => [r.outcome, r.flags])).toEqual([
      ['review', ['HIGH']],
      ['review', ['BELOW_PREVIOUS']],
    ]);
    const stored = await t.pool.query(
      'select index_value, consumption_m3, status from reading where reading_id = $1',
      [results[1]!.readingId],
    );
    expect(Number(stored.rows[0].index_value)).toBe(Number(below));
    expect(stored.rows[0]).toMatchObject({ consumption_m3: null, status: 'review' });
  });

  it('a reading rejected in review puts the meter back on the reader’s next route', async () => {
    const queue = await t.as('analyst')({
      method: 'GET',
      url: '/api/readings/review?status=review&pageSize=200',
    });
    const item = queue.json().items.find((i: { accountId: number }) => i.accountId === meters[3]!.accountId);
    const decided = await t.as('analyst')({
      method: 'POST',
      url: `/api/customers/${item.accountId}/readings/${item.readingId}/review`,
      payload: { action: 'reject', note: '读数低于上次，请重抄' },
    });
    expect(decided.statusCode, decided.body).toBe(200);
    expect(decided.json().status).toBe('rejected');
    const today = todayInChina();
    const res = await route(today);
    expect(res.statusCode, res.body).toBe(200);
    const back = res.json().meters.find((m: { accountId: number }) => m.accountId === meters[3]!.accountId);
    expect(back).toMatchObject({ revisit: true, bookId: book2.bookId });
    // Read again: the meter leaves the route.
    const { results } = await upload([reading(meters[3]!, ordinary(meters[3]!))]);
    expect(results[0]!.outcome).toBe('accepted');
    const after = await route(today);
    expect(after.json().meters.some((m: { accountId: number }) => m.accountId === meters[3]!.accountId)).toBe(
      false,
    );
  });
});

describe('office scope', () => {
  it('a reader of another office cannot upload this office’s meters, nor see their readings', async () => {
    const m = book1.meters[0]!;
    const res = await t.as('reader3')({
      method: 'POST',
      url: '/api/field/readings',
      payload: { deviceId: 'PDA-3', readings: [reading(m, '1', { clientId: 'scope-1' })] },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().results[0]).toMatchObject({ outcome: 'rejected', error: { code: 'METER_UNKNOWN' } });
    const list = await t.as('reader3')({ method: 'GET', url: `/api/customers/${m.accountId}/readings` });
    expect(list.statusCode).toBe(404);
    const own = await t.as('reader')({ method: 'GET', url: `/api/customers/${m.accountId}/readings` });
    expect(own.statusCode).toBe(200);
    expect(own.json().items.length).toBeGreaterThan(3);
  });

  it('the route holds only the caller’s books', async () => {
    const res = await t.as('reader2')({ method: 'GET', url: `/api/field/route?date=${day1}&deviceId=PDA-7` });
    expect(res.statusCode).toBe(200);
    expect(res.json().books.map((b: { bookId: number }) => b.bookId)).not.toContain(book1.bookId);
    const analyst = await t.as('analyst')({ method: 'GET', url: `/api/field/route?date=${day1}&deviceId=x` });
    expect(analyst.statusCode).toBe(403);
    expect(await staffId(t, 'reader2')).toBeGreaterThan(0);
  });

  it('a book handed over from a later date stays on its reader’s routes until that day', async () => {
    const today = todayInChina();
    const book = await makeBook(t, { reader: 'reader2', officeCode: '0101', count: 3 });
    // Read tomorrow, handed over the day after, read again the next month (one planned day a month).
    const before = addDays(today, 1);
    const after = `${addMonths(before.slice(0, 7), 1)}-15`;
    await planOn(t, book.bookId, before);
    await planOn(t, book.bookId, after);
    await handOver(t, book.bookId, 'reader', addDays(today, 2));
    const booksOf = async (user: string, date: string) => {
      const res = await t.as(user)({ method: 'GET', url: `/api/field/route?date=${date}&deviceId=PDA-H` });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().books.map((b: { bookId: number }) => b.bookId);
    };
    // (The later day first: a route downloaded and not read would hold the next one back.)
    expect(await booksOf('reader2', after)).not.toContain(book.bookId);
    expect(await booksOf('reader2', before)).toContain(book.bookId);
  });
});
