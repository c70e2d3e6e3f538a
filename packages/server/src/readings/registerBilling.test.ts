import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { addDays, todayInChina } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RequestContext, staffContext } from '../platform/context.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { processBulkFile } from './bulk.ts';
import { type FixtureMeter, makeBook, officeId, planOn, staffId } from './fixtures.ts';
import {
  dueRegisterDays,
  endOfChinaDay,
  RegisterBillingScheduler,
  settleRegisterDay,
} from './registerBilling.ts';
import { processRegisterFile } from './registers.ts';

/**
 * Billing readings from register reads (registerBilling.ts): a book planned two days ago, its smart
 * meters' register reads of the days around it, and what a run takes — the newest usable read of the
 * last register.billingMaxAgeDays, through the smart-meter files' rules, for the plan's period — what
 * it leaves to the reader and why, that a run again stores nothing twice, that a reading the analyst
 * rejected is not taken again, the API and the days the daily job finds due.
 */

let t: TestApp;
let dir: string;
let ctx: RequestContext;
let office: number;

const DAY_MS = 86_400_000;
/** The planned day: two days ago (China); its end is yesterday's 00:00. */
const today = todayInChina();
const day = addDays(today, -2);
const period = day.slice(0, 7);
/** Midnight (China) `n` days after the planned day (n = 1: the end of the planned day). */
const midnight = (n: number) => new Date(Date.parse(`${day}T00:00:00+08:00`) + n * DAY_MS).toISOString();

interface Meter extends FixtureMeter {
  /** The register after its last accepted reading, thousandths, and when. */
  register: number;
  at: number;
  /** Its use a day between its last two readings, thousandths. */
  daily: number;
}

/** The meter's register `n` days after the planned day, on the line of its use. */
const onLine = (m: Meter, n: number) =>
  Math.round(m.register + (m.daily * (Date.parse(midnight(n)) - m.at)) / DAY_MS);
const m3 = (milli: number) => (milli / 1000).toFixed(3);

let book: number;
let meters: Meter[];
/** The fixture's nine meters, each for a case. */
type Nine = [Meter, Meter, Meter, Meter, Meter, Meter, Meter, Meter, Meter];

async function registerFile(rows: string[]) {
  const filePath = path.join(dir, `r-${Math.random().toString(16).slice(2)}.csv`);
  await writeFile(filePath, `meter_no,read_at,index\n${rows.join('\n')}\n`);
  return processRegisterFile(t.db, ctx, { officeId: office, filePath, fileName: 'r.csv', pool: t.pool });
}

beforeAll(async () => {
  t = await createTestApp({ customers: 300, metering: true });
  dir = await mkdtemp(path.join(os.tmpdir(), 'meterline-register-billing-'));
  office = await officeId(t, '0101');
  ctx = await staffContext(t.db, 'analyst', { requestId: 'register-billing-test', lang: 'en' });
  const made = await makeBook(t, { reader: 'reader', officeCode: '0101', count: 9 });
  book = made.bookId;
  await planOn(t, book, day);
  // The fixture's meters have no reading of this month; on the first days of a month the planned day
  // is last month's: their readings of it go, so that the period is to read.
  await t.pool.query(
    `delete from reading where period = $1
       and (account_id, meter_id) in (select account_id, meter_id from meter where book_id = $2)`,
    [period, book],
  );
  const { rows } = await t.pool.query<{
    account_id: number;
    meter_id: number;
    register: number;
    at: Date;
    daily: number;
  }>(
    `select m.account_id, m.meter_id, (l.index_value * 1000)::float8 as register, l.read_at as at,
            greatest(100, ((l.index_value - p.index_value) * 1000 * 86400
              / extract(epoch from l.read_at - p.read_at)))::float8 as daily
     from meter m
     cross join lateral (select * from reading r where r.account_id = m.account_id and r.meter_id = m.meter_id
                         and r.status = 'accepted' and r.kind = 'actual' order by r.read_at desc limit 1) l
     cross join lateral (select * from reading r where r.account_id = m.account_id and r.meter_id = m.meter_id
                         and r.status = 'accepted' and r.kind = 'actual' and r.read_at < l.read_at
                         order by r.read_at desc limit 1) p
     where m.book_id = $1`,
    [book],
  );
  const byKey = new Map(rows.map((r) => [`${r.account_id}:${r.meter_id}`, r]));
  meters = made.meters.map((m) => {
    const r = byKey.get(`${m.accountId}:${m.meterId}`)!;
    return { ...m, register: r.register, at: r.at.getTime(), daily: r.daily };
  });
});

afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function readingsOf(m: FixtureMeter) {
  const { rows } = await t.pool.query<{
    reading_id: number;
    period: string;
    read_at: Date;
    index_value: string;
    status: string;
    source: string;
    client_id: string;
    flags: string[];
  }>(
    `select reading_id, period, read_at, index_value, status, source, client_id, flags from reading
     where account_id = $1 and meter_id = $2 and period = $3 order by reading_id`,
    [m.accountId, m.meterId, period],
  );
  return rows;
}

describe('billing readings from register reads', () => {
  it('takes each smart meter’s newest usable read of the planned day, and lists the rest', async () => {
    const [a, b, c, d, e, f, g, h] = meters as Nine;
    // Six days of reads up to the end of the planned day (n = -4 … 1).
    const days = [-4, -3, -2, -1, 0, 1];
    const rows: string[] = [];
    for (const n of days) {
      rows.push(`${a.meterNo},${midnight(n)},${m3(onLine(a, n))}`);
      // b leaks on the planned day: far above its use.
      rows.push(`${b.meterNo},${midnight(n)},${m3(onLine(b, n) + (n === 1 ? 900_000 : 0))}`);
      // c goes backwards on the last two days: its read of the day before stands.
      rows.push(`${c.meterNo},${midnight(n)},${m3(n >= 0 ? onLine(c, -4) - 5000 : onLine(c, n))}`);
      // d stopped reporting four days before the end of the planned day.
      if (n <= -3) rows.push(`${d.meterNo},${midnight(n)},${m3(onLine(d, n))}`);
      // e's reads of the last three days all went backwards.
      rows.push(`${e.meterNo},${midnight(n)},${m3(n >= -1 ? onLine(e, -4) - 5000 : onLine(e, n))}`);
      // f stopped too, but for one read at the end that was sent twice with two indexes.
      if (n <= -3 || n === 1) rows.push(`${f.meterNo},${midnight(n)},${m3(onLine(f, n))}`);
      // g reports, and its reader read it too.
      rows.push(`${g.meterNo},${midnight(n)},${m3(onLine(g, n))}`);
      // h is no smart meter (no register read); the ninth meter reports after the planned day only.
    }
    rows.push(`${meters[8]!.meterNo},${midnight(2)},${m3(onLine(meters[8]!, 2))}`);
    const first = await registerFile(rows);
    expect(first.rejected).toBe(0);
    const conflict = await registerFile([`${f.meterNo},${midnight(1)},${m3(onLine(f, 1) + 2000)}`]);
    expect(conflict.conflict).toBe(1);
    // g's reading from a billing file of the planned day.
    const bulkPath = path.join(dir, 'billing.csv');
    await writeFile(
      bulkPath,
      `meter_no,read_at,index\n${g.meterNo},${day}T10:00:00+08:00,${m3(onLine(g, 0))}\n`,
    );
    const billing = await processBulkFile(t.db, ctx, {
      officeId: office,
      filePath: bulkPath,
      fileName: 'b.csv',
      dataDir: dir,
    });
    expect(billing.accepted).toBe(1);

    const run = await settleRegisterDay(t.db, ctx, { officeId: office, day, pool: t.pool });
    expect(run).toMatchObject({
      books: 1,
      meters: 7,
      accepted: 2,
      review: 1,
      conflict: 0,
      rejected: 0,
      otherwise: 1,
      missing: 3,
      stored: 3,
    });
    // a: the read of the end of the planned day, for the plan's period, as a smart-meter file's row.
    const [ra] = await readingsOf(a);
    expect(ra).toMatchObject({
      period,
      index_value: m3(onLine(a, 1)),
      status: 'accepted',
      source: 'bulk',
      client_id: `register:${a.meterNo}@${midnight(1)}`,
    });
    expect(ra!.read_at.toISOString()).toBe(endOfChinaDay(day).toISOString());
    // b: far above its use, waiting for review.
    const [rb] = await readingsOf(b);
    expect(rb).toMatchObject({ status: 'review', index_value: m3(onLine(b, 1) + 900_000) });
    expect(rb!.flags).toContain('HIGH');
    // c: its newest read that did not go backwards.
    const [rc] = await readingsOf(c);
    expect(rc).toMatchObject({ status: 'accepted', index_value: m3(onLine(c, -1)) });
    expect(rc!.read_at.toISOString()).toBe(midnight(-1));
    // g keeps its reader's reading alone.
    expect(await readingsOf(g)).toHaveLength(1);
    for (const m of [d, e, f, h, meters[8]!]) expect(await readingsOf(m), m.meterNo).toEqual([]);

    const missing = await t.as('analyst')({
      method: 'GET',
      url: `/api/readings/registers/billing/missing?officeId=${office}&day=${day}`,
    });
    expect(missing.statusCode).toBe(200);
    const items = missing.json().items as {
      meterNo: string;
      reason: string;
      lastReadAt: string;
      readSince: boolean;
    }[];
    expect(items.map((x) => [x.meterNo, x.reason]).sort()).toEqual(
      [
        [d.meterNo, 'stale'],
        [e.meterNo, 'backwards'],
        [f.meterNo, 'conflict'],
      ].sort(),
    );
    expect(items.find((x) => x.meterNo === d.meterNo)!.lastReadAt).toBe(midnight(-3));
    expect(items.every((x) => !x.readSince)).toBe(true);
  });

  it('stores nothing twice when run again, and takes no read again for a reading the analyst rejected', async () => {
    const [a, b] = meters as [Meter, Meter];
    const before = (await t.pool.query('select count(*)::int as n from reading')).rows[0].n;
    // Without the pool (plain statements), through the API.
    const again = await t.as('analyst')({
      method: 'POST',
      url: `/api/readings/registers/billing?officeId=${office}`,
      payload: { day },
    });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toMatchObject({
      meters: 7,
      accepted: 2,
      review: 1,
      otherwise: 1,
      missing: 3,
      stored: 0,
    });
    expect((await t.pool.query('select count(*)::int as n from reading')).rows[0].n).toBe(before);

    // The analyst rejects b's reading (back to the reader): the next run leaves b to the reader.
    const [rb] = await readingsOf(b);
    const reject = await t.as('analyst')({
      method: 'POST',
      url: `/api/customers/${b.accountId}/readings/${rb!.reading_id}/review`,
      payload: { action: 'reject', note: '核实是否漏水，安排抄表员上门' },
    });
    expect(reject.statusCode, reject.body).toBe(200);
    const third = await settleRegisterDay(t.db, ctx, { officeId: office, day, pool: t.pool });
    expect(third).toMatchObject({ accepted: 2, review: 0, rejected: 1, stored: 0 });
    expect(await readingsOf(b)).toHaveLength(1);
    expect((await readingsOf(a))[0]!.status).toBe('accepted');

    const runs = await t.as('analyst')({
      method: 'GET',
      url: `/api/readings/registers/billing?officeId=${office}`,
    });
    expect(runs.statusCode).toBe(200);
    const run = (runs.json() as { day: string; runs: number; finishedAt: string | null }[]).find(
      (r) => r.day === day,
    );
    expect(run).toMatchObject({ runs: 3, accepted: 2, rejected: 1, missing: 3 });
    expect(run!.finishedAt).not.toBeNull();
    // Every chunk audited.
    const audits = await t.pool.query(
      `select count(*)::int as n from audit_log where entity_type = 'register_billing' and entity_id = $1`,
      [`${office}:${day}`],
    );
    expect(audits.rows[0].n).toBeGreaterThanOrEqual(1);
  });

  it('refuses a day that is not over, on the field, in the caller’s language', async () => {
    const res = await t.as('analyst')({
      method: 'POST',
      url: `/api/readings/registers/billing?officeId=${office}`,
      payload: { day: today },
      headers: { 'accept-language': 'zh-CN' },
    });
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.fields[0]).toMatchObject({ path: 'day', code: 'DAY_NOT_OVER' });
    expect(error.message).toContain('尚未结束');
    const bad = await t.as('analyst')({
      method: 'POST',
      url: `/api/readings/registers/billing?officeId=${office}`,
      payload: { day: '2026-13-01' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields[0].path).toBe('day');
    // A reader may not run it.
    const reader = await t.as('reader')({
      method: 'POST',
      url: `/api/readings/registers/billing?officeId=${office}`,
      payload: { day },
    });
    expect(reader.statusCode).toBe(403);
  });

  it('finds yesterday due from register.billingAt on, earlier days at once, each office-day once settled', async () => {
    const at = (hhmm: string) => new Date(`${today}T${hhmm}:00+08:00`);
    const yesterday = addDays(today, -1);
    const second = await makeBook(t, { reader: 'reader', officeCode: '0101', count: 1 });
    await planOn(t, second.bookId, yesterday);
    const mine = (x: { officeId: number; day: string }) => x.officeId === office && x.day === yesterday;
    expect((await dueRegisterDays(t.db, at('09:59'), '10:00')).some(mine)).toBe(false);
    const late = await dueRegisterDays(t.db, at('10:00'), '10:00');
    expect(late.some(mine)).toBe(true);
    // The day settled above is not due again.
    expect(late.some((x) => x.day === day && x.officeId === office)).toBe(false);
    // The job settles every due day (the demo plan's too) and then finds none.
    const job = new RegisterBillingScheduler(t.db, t.pool, () => {});
    await job.tick(at('10:00'));
    expect(await dueRegisterDays(t.db, at('10:00'), '10:00')).toEqual([]);
  });

  it('puts the smart meters on the reader’s route as remote, and the meters their reads could not bill back on it', async () => {
    const [a, b, c, d, e, , g, h, ninth] = meters as Nine;
    const device = `PDA-${Date.now()}`;
    // The planned day's route: a meter reporting in the register.billingMaxAgeDays before the day is remote.
    const route = await t.as('reader')({
      method: 'GET',
      url: `/api/field/route?date=${day}&deviceId=${device}`,
    });
    expect(route.statusCode, route.body).toBe(200);
    const onRoute = new Map(
      (
        route.json().meters as { meterId: number; accountId: number; remote: boolean; revisit: boolean }[]
      ).map((m) => [`${m.accountId}:${m.meterId}`, m]),
    );
    const of = (m: FixtureMeter) => onRoute.get(`${m.accountId}:${m.meterId}`);
    for (const m of [a, c, e, g]) expect(of(m), m.meterNo).toMatchObject({ remote: true, revisit: false });
    // d stopped reporting, h never did, the ninth only after the day: the reader reads them.
    for (const m of [d, h, ninth]) expect(of(m), m.meterNo).toMatchObject({ remote: false });

    // The day monitor counts them apart from the reader's meters due: a, b, c, e, f and g report.
    const monitor = await t.as('analyst')({
      method: 'GET',
      url: `/api/readings/day-monitor?date=${day}&officeId=${office}`,
    });
    const readerId = await staffId(t, 'reader');
    const row = (monitor.json().readers as { readerId: number; due: number; remote: number }[]).find(
      (r) => r.readerId === readerId,
    );
    expect(row?.remote).toBe(6);
    expect(monitor.json().totals.remote).toBe(6);

    // The next download: the planned day's smart meters left unread do not hold it up, the others do.
    const next = await t.as('reader')({
      method: 'GET',
      url: `/api/field/route?date=${today}&deviceId=${device}`,
    });
    expect(next.statusCode).toBe(409);
    const waiting = new Set(
      (next.json().error.meters as { accountId: number; meterId: number }[]).map(
        (m) => `${m.accountId}:${m.meterId}`,
      ),
    );
    for (const m of [d, h, ninth]) expect(waiting.has(`${m.accountId}:${m.meterId}`), m.meterNo).toBe(true);
    for (const m of [a, c, e]) expect(waiting.has(`${m.accountId}:${m.meterId}`), m.meterNo).toBe(false);
    await t.pool.query('delete from route_download where device_id = $1', [device]);

    // A later day's route (the book not planned): the meters the register reads could not bill come
    // back to be read by hand, as b does (its reading taken from a register read was sent back).
    const later = await t.as('reader')({
      method: 'GET',
      url: `/api/field/route?date=${today}&deviceId=${device}-2`,
    });
    expect(later.statusCode, later.body).toBe(200);
    const back = (
      later.json().meters as { accountId: number; meterId: number; revisit: boolean; remote: boolean }[]
    )
      .filter((m) => m.revisit)
      .map((m) => `${m.accountId}:${m.meterId}`);
    for (const m of [b, d, e]) expect(back, m.meterNo).toContain(`${m.accountId}:${m.meterId}`);
    expect(back).not.toContain(`${a.accountId}:${a.meterId}`);
    await t.pool.query('delete from route_download where device_id = $1', [`${device}-2`]);
  });
});
