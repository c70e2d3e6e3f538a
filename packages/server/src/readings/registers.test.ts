import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_SETTINGS, REGISTER_FLAGS, registerFlagNames } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RequestContext, staffContext } from '../platform/context.ts';
import { DEMO_REGISTER_DAYS, seedDemoRegisterReads } from '../seed/registers.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { multipart } from '../testing/multipart.ts';
import { officeId } from './fixtures.ts';
import { processRegisterFile, type RegisterReport } from './registers.ts';

/**
 * Smart meters' register reads (registers.ts): a first file checked against where the billing
 * readings leave each meter, a next day's file against the reads stored, late reads, conflicts,
 * repeats within a file and across chunks, a file sent again — the same through COPY on a raw client
 * (small chunks) and through the API's plain statements — and the views over them.
 */

let t: TestApp;
let dir: string;
let ctx: RequestContext;
let office: number;

interface MeterRow {
  account_id: number;
  meter_id: number;
  meter_no: string;
  /** The register after the meter's last accepted reading, thousandths. */
  register: number;
  read_day: string;
}

const DAY_MS = 86_400_000;
/** Midnight (China) `n` days ago, as a read time. */
const midnight = (n: number) => {
  const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
  return new Date(Date.parse(`${today}T00:00:00+08:00`) - n * DAY_MS).toISOString();
};
const m3 = (milli: number) => (milli / 1000).toFixed(3);
/** Days from a meter's last billing reading to midnight `n` days ago. */
const daysSince = (m: { read_day: string }, n: number) =>
  Math.round((Date.parse(midnight(n)) - Date.parse(`${m.read_day}T00:00:00+08:00`)) / DAY_MS);

let meters: MeterRow[];

beforeAll(async () => {
  t = await createTestApp({ customers: 300, metering: true });
  dir = await mkdtemp(path.join(os.tmpdir(), 'meterline-registers-'));
  office = await officeId(t, '0101');
  ctx = await staffContext(t.db, 'analyst', { requestId: 'registers-test', lang: 'en' });
  const { rows } = await t.pool.query<MeterRow>(
    `select m.account_id, m.meter_id, m.meter_no,
            ((case when l.kind = 'actual' then l.index_value else l.previous_index + l.consumption_m3 end) * 1000)::float8
              as register,
            to_char(l.read_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD') as read_day
     from meter m join customer c on c.account_id = m.account_id join office o on o.office_id = c.office_id
     cross join lateral (
       select r.* from reading r where r.account_id = m.account_id and r.meter_id = m.meter_id and r.status = 'accepted'
       order by r.read_at desc limit 1) l
     where o.code = '0101' and m.state = 'in_service' and m.dial_digits = 5
       and l.read_at < now() - interval '3 days'
       and (case when l.kind = 'actual' then l.index_value else l.previous_index + l.consumption_m3 end) < 90000
     order by m.account_id, m.meter_id
     limit 8`,
  );
  meters = rows;
  expect(meters).toHaveLength(8);
});

afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const csv = (rows: string[]) => `meter_no,read_at,index,anomaly_codes\n${rows.join('\n')}\n`;

/**
 * Two days of reads: the first day's against the billing history (one meter far above its use, one
 * gone backwards, one with an alarm), bad rows of each kind, a repeat; the next day's against the first.
 */
function files() {
  const [a, b, c, d, e, f, g, h] = meters as [
    MeterRow,
    MeterRow,
    MeterRow,
    MeterRow,
    MeterRow,
    MeterRow,
    MeterRow,
    MeterRow,
  ];
  const d2 = midnight(2);
  const d1 = midnight(1);
  const first = csv([
    `${a.meter_no},${d2},${m3(a.register + 1500)},`,
    `${b.meter_no},${d2},${m3(b.register + 2_000_000)},`, // 2,000 m³: far above any household's use
    `${c.meter_no},${d2},${m3(c.register - 5000)},`, // backwards
    `${d.meter_no},${d2},${m3(d.register + 700)},leak`,
    `${e.meter_no},${d2},${m3(e.register)},`,
    `${a.meter_no},${d2},${m3(a.register + 1500)},`, // the same row again
    `W999999999,${d2},12,`,
    `${f.meter_no},not-a-date,12,`,
    `${f.meter_no},${d2},,`,
    `${g.meter_no},${d2},123456,`,
    `${g.meter_no},${d2},12,nonsense`,
    `${h.meter_no},${new Date(Date.now() + 3_600_000).toISOString()},12,`,
    `${f.meter_no},${d2},${m3(f.register + 300)},`,
  ]);
  const second = csv([
    `${a.meter_no},${d1},${m3(a.register + 1900)},`,
    `${c.meter_no},${d1},${m3(c.register + 400)},`, // above the reference again
    `${b.meter_no},${d2},${m3(b.register + 1)},`, // another index for a stored read: a conflict
    `${a.meter_no},${midnight(3)},${m3(a.register + 1000)},`, // a late read, before the first file's
    `${e.meter_no},${d1},${m3(e.register + 250)},`,
    `${f.meter_no},${d1},${m3(f.register + 300)},`,
    `${f.meter_no},${d1},${m3(f.register + 350)},`, // the same time again, another index
  ]);
  return { first, second };
}

/** What register_read and register_conflict hold, without the file they came from. */
async function stored() {
  const reads = await t.pool.query(
    `select account_id, meter_id, read_at, index_milli, flags, consumption_milli, days, expected_milli, daily_milli,
            ref_at, ref_milli, anomaly_codes
     from register_read order by account_id, meter_id, read_at`,
  );
  const conflicts = await t.pool.query(
    `select account_id, meter_id, read_at, index_milli, stored_milli from register_conflict
     order by account_id, meter_id, read_at, index_milli`,
  );
  return { reads: reads.rows, conflicts: conflicts.rows };
}

async function clear() {
  await t.pool.query('truncate register_read, register_conflict, register_file');
}

async function viaPool(content: string, chunkRows: number): Promise<RegisterReport> {
  const filePath = path.join(dir, `f-${Math.random().toString(16).slice(2)}.csv`);
  await writeFile(filePath, content);
  return processRegisterFile(t.db, ctx, {
    officeId: office,
    filePath,
    fileName: 'r.csv',
    pool: t.pool,
    chunkRows,
  });
}

const send = (content: string, user = 'manager', o = office) => {
  const body = multipart({}, { name: 'reads.csv', type: 'text/csv', content });
  return t.as(user)({ method: 'POST', url: `/api/readings/registers?officeId=${o}`, ...body });
};

describe('register reads', () => {
  it('checks each read against its meter and stores the same through COPY and through the API', async () => {
    const { first, second } = files();
    const [a, b, c, d, e, f] = meters as [MeterRow, MeterRow, MeterRow, MeterRow, MeterRow, MeterRow];

    // Through COPY, three rows a chunk: the repeats and the meters straddle chunks.
    await clear();
    const one = await viaPool(first, 3);
    expect(one).toMatchObject({
      rows: 13,
      stored: 3,
      flagged: 3,
      duplicate: 1,
      conflict: 0,
      rejected: 6,
      chunks: 5,
    });
    expect(one.errors.map((x) => [x.rowNo, x.code])).toEqual([
      [8, 'METER_NO_UNKNOWN'],
      [9, 'READ_AT_FORMAT'],
      [10, 'REGISTER_INDEX_REQUIRED'],
      [11, 'INDEX_TOO_LARGE'],
      [12, 'ANOMALY_UNKNOWN'],
      [13, 'READ_AT_FUTURE'],
    ]);
    const two = await viaPool(second, 3);
    expect(two).toMatchObject({ rows: 7, stored: 5, flagged: 0, duplicate: 0, conflict: 2, rejected: 0 });
    const again = await viaPool(second, 2);
    expect(again).toMatchObject({ rows: 7, stored: 0, flagged: 0, duplicate: 5, conflict: 2, rejected: 0 });
    const byCopy = await stored();

    // The reads, one by one.
    const of = (m: MeterRow) =>
      byCopy.reads.filter((r) => r.meter_id === m.meter_id && r.account_id === m.account_id);
    const [a3, a2, a1] = of(a);
    // From where the billing readings leave the meter: 1.5 m³ since its last reading.
    expect(a2).toMatchObject({
      index_milli: a.register + 1500,
      consumption_milli: 1500,
      flags: 0,
      ref_at: null,
    });
    expect(a2.days).toBe(daysSince(a, 2));
    // The next day against it, the usual daily use moving by a 30th of the gap.
    expect(a1).toMatchObject({ consumption_milli: 400, days: 1, expected_milli: a2.daily_milli, flags: 0 });
    const w = DEFAULT_SETTINGS['register.averageDays'];
    expect(a1.daily_milli).toBe(Math.round((a2.daily_milli * (w - 1) + 400) / w));
    // The late read, against the billing reference, leaving the meter's state alone.
    expect(registerFlagNames(a3.flags)).toContain('LATE');
    expect(a3.consumption_milli).toBe(1000);
    expect(registerFlagNames(of(b)[0].flags)).toEqual(['HIGH']);
    const [c2, c1] = of(c);
    expect(registerFlagNames(c2.flags)).toEqual(['BELOW_PREVIOUS']);
    expect(c2).toMatchObject({ consumption_milli: null, ref_milli: c.register });
    // The next day against the reference before it went backwards.
    expect(c1).toMatchObject({ consumption_milli: 400, ref_at: null });
    expect(c1.days).toBe(daysSince(c, 1));
    expect(of(d)[0]).toMatchObject({
      flags: REGISTER_FLAGS.ANOMALY,
      anomaly_codes: ['leak'],
      consumption_milli: 700,
    });
    expect(registerFlagNames(of(e)[0].flags)).toEqual(['ZERO']);
    expect(of(e)[1]).toMatchObject({ consumption_milli: 250, flags: 0 });
    expect(of(f).map((r) => r.index_milli)).toEqual([f.register + 300, f.register + 300]);
    expect(byCopy.conflicts).toEqual([
      expect.objectContaining({
        meter_id: b.meter_id,
        index_milli: b.register + 1,
        stored_milli: b.register + 2_000_000,
      }),
      expect.objectContaining({
        meter_id: f.meter_id,
        index_milli: f.register + 350,
        stored_milli: f.register + 300,
      }),
    ]);

    // The same files through the API (plain statements in one transaction a chunk): the same reads.
    await clear();
    for (const content of [first, second, second]) {
      const res = await send(content);
      expect(res.statusCode, res.body).toBe(200);
    }
    expect(await stored()).toEqual(byCopy);
    expect(t.built.unaudited).toEqual([]);
  });

  it('keeps an office’s meters between files only while nothing else changed them', async () => {
    await clear();
    const { first, second } = files();
    const [a, , , , e] = meters as [MeterRow, MeterRow, MeterRow, MeterRow, MeterRow];
    await viaPool(first, 50);
    // A file of the office stored another way (another server, the API without the pool): the next
    // file sees its reads — kept state would take them for new ones (and fail on the key).
    const third = csv([`${a.meter_no},${midnight(0)},${m3(a.register + 2200)},`]);
    expect((await send(third)).json()).toMatchObject({ stored: 1 });
    expect(await viaPool(third, 50)).toMatchObject({ stored: 0, duplicate: 1 });
    expect(await viaPool(second, 50)).toMatchObject({ stored: 5, conflict: 2 });
    const aReads = (await stored()).reads.filter(
      (r) => r.meter_id === a.meter_id && r.account_id === a.account_id,
    );
    // The day after the first (midnight(1)) is late against today's: checked against the one before it.
    expect(aReads.map((r) => [r.index_milli, registerFlagNames(r.flags)])).toEqual([
      [a.register + 1000, ['LATE']],
      [a.register + 1500, []],
      [a.register + 1900, ['LATE']],
      [a.register + 2200, []],
    ]);
    // The meters' version moves once per transaction that changes what a file is checked against.
    const version = async () =>
      Number((await t.pool.query('select version from meter_directory_version')).rows[0].version);
    const v0 = await version();
    await t.db.transaction().execute(async (trx) => {
      await trx.updateTable('meter').set({ make: 'X' }).where('account_id', '=', e.account_id).execute();
    });
    expect(await version()).toBe(v0);
    await t.db.transaction().execute(async (trx) => {
      for (const m of [a, e])
        await trx
          .updateTable('meter')
          .set({ dial_digits: 5 })
          .where('account_id', '=', m.account_id)
          .where('meter_id', '=', m.meter_id)
          .execute();
    });
    expect(await version()).toBe(v0 + 1);
    // A meter taken out of service since the last file: refused, not taken from memory.
    await t.pool.query(
      `update meter set state = 'removed', removed_on = current_date where account_id = $1 and meter_id = $2`,
      [e.account_id, e.meter_id],
    );
    try {
      const after = await viaPool(csv([`${e.meter_no},${midnight(0)},${m3(e.register + 900)},`]), 50);
      expect(after.errors.map((x) => x.code)).toEqual(['METER_REMOVED']);
    } finally {
      await t.pool.query(
        `update meter set state = 'in_service', removed_on = null where account_id = $1 and meter_id = $2`,
        [e.account_id, e.meter_id],
      );
    }
    // Back in service: known again.
    expect(await viaPool(csv([`${e.meter_no},${midnight(0)},${m3(e.register + 900)},`]), 50)).toMatchObject({
      stored: 1,
    });
  });

  it('seeds the demo’s smart meters through the same path: daily reads with their leaks and a read backwards', async () => {
    await clear();
    const { reads } = await seedDemoRegisterReads(t.db, t.pool);
    const { rows } = await t.pool.query<{ meters: number; days: number; reads: number; files: number }>(
      `select count(distinct (account_id, meter_id))::int as meters, count(distinct read_at)::int as days,
              count(*)::int as reads, count(distinct file_id)::int as files
       from register_read`,
    );
    expect(rows[0]).toMatchObject({ days: DEMO_REGISTER_DAYS, reads, files: DEMO_REGISTER_DAYS });
    expect(rows[0]!.meters).toBeGreaterThan(20);
    const flags = await t.pool.query<{ flags: number; n: number }>(
      'select flags, count(*)::int as n from register_read group by flags',
    );
    const names = new Set(flags.rows.flatMap((f) => registerFlagNames(f.flags)));
    expect(names).toContain('HIGH');
    expect(names).toContain('BELOW_PREVIOUS');
    // Mostly ordinary days.
    const ordinary = flags.rows.filter((f) => f.flags === 0).reduce((n, f) => n + f.n, 0);
    expect(ordinary / reads).toBeGreaterThan(0.9);
    // Only the one read made to go backwards goes backwards: the reads follow the billing readings.
    const below = await t.pool.query(`select count(*)::int as n from register_read where flags & 1 <> 0`);
    expect(below.rows[0].n).toBe(1);
    // Through the billing readings: each billing reading in the window lies between the register reads
    // of the midnights around it (within the day's noise, 0.3 of a day's use, and 1 m³).
    const { rows: gaps } = await t.pool.query<{ gap: number }>(
      `select greatest(b.milli - n.index_milli, p.index_milli - b.milli)::float8 as gap
       from (select r.account_id, r.meter_id, r.read_at,
                    ((case when r.kind = 'actual' then r.index_value else r.previous_index + r.consumption_m3 end) * 1000)::int8 as milli
             from reading r where r.status = 'accepted' and r.read_at > now() - interval '40 days'
               and exists (select 1 from register_read x where x.account_id = r.account_id and x.meter_id = r.meter_id)) b
       cross join lateral (select index_milli from register_read x where x.account_id = b.account_id and x.meter_id = b.meter_id
                           and x.read_at < b.read_at and x.flags & 1 = 0 order by read_at desc limit 1) p
       cross join lateral (select index_milli from register_read x where x.account_id = b.account_id and x.meter_id = b.meter_id
                           and x.read_at > b.read_at and x.flags & 1 = 0 order by read_at limit 1) n`,
    );
    expect(gaps.length).toBeGreaterThan(0);
    expect(Math.max(...gaps.map((g) => g.gap))).toBeLessThan(1000);
    // Seeded once.
    expect(await seedDemoRegisterReads(t.db, t.pool)).toEqual({ reads: 0 });
  });

  it('stores each week’s reads in a partition of its own, made as reads of a new week arrive', async () => {
    await clear();
    const [a] = meters as [MeterRow];
    const weeks = async () =>
      (
        await t.pool.query<{ name: string }>(
          `select c.relname as name from pg_inherits i join pg_class c on c.oid = i.inhrelid
           where i.inhparent = 'register_read'::regclass order by 1`,
        )
      ).rows.map((r) => r.name);
    const before = await weeks();
    // A read of 300 days ago (a platform sending an old day): its week is made, the read stored.
    const old = new Date(Date.parse(midnight(300)) + 8 * 3600_000).toISOString();
    const res = await send(csv([`${a.meter_no},${old},${m3(Math.max(a.register - 100_000, 0))},`]));
    expect(res.json()).toMatchObject({ rows: 1, rejected: 0 });
    const after = await weeks();
    expect(after.length).toBe(before.length + 1);
    const [week] = after.filter((w) => !before.includes(w));
    const stored = await t.pool.query(`select tableoid::regclass::text as part from register_read`);
    expect(stored.rows).toEqual([{ part: week }]);
    // The week's Monday, China time.
    const monday = await t.pool.query<{ day: string }>(
      `select to_char(register_week_start($1::timestamptz) at time zone 'Asia/Shanghai', 'YYYYMMDD Dy') as day`,
      [old],
    );
    expect(`register_read_${monday.rows[0]!.day.slice(0, 8)}`).toBe(week);
    expect(monday.rows[0]!.day.endsWith('Mon')).toBe(true);
  });

  it('lists the files, the exceptions and a customer’s reads, to the offices’ staff only', async () => {
    await clear();
    const { first, second } = files();
    const res = await send(first);
    expect(res.json()).toMatchObject({
      fileName: 'reads.csv',
      officeId: office,
      rows: 13,
      stored: 3,
      flagged: 3,
    });
    await send(second);

    const list = await t.as('manager')({
      method: 'GET',
      url: `/api/readings/registers/files?officeId=${office}`,
    });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json()).toMatchObject([
      { fileName: 'reads.csv', rows: 7, stored: 5, flagged: 0, conflict: 2, chunks: 1 },
      { fileName: 'reads.csv', rows: 13, stored: 3, flagged: 3, duplicate: 1, rejected: 6, chunks: 1 },
    ]);
    expect(list.json()[0].finishedAt).not.toBeNull();
    expect((await t.as('manager2')({ method: 'GET', url: '/api/readings/registers/files' })).json()).toEqual(
      [],
    );

    const [a, b, c, d] = meters as [MeterRow, MeterRow, MeterRow, MeterRow];
    const ex = await t.as('manager')({
      method: 'GET',
      url: `/api/readings/registers/exceptions?officeId=${office}`,
    });
    expect(ex.statusCode, ex.body).toBe(200);
    const body = ex.json();
    expect(body.total).toBe(3);
    // LATE and ZERO alone are no exceptions.
    expect(body.items.map((i: { meterNo: string; flags: string[] }) => [i.meterNo, i.flags]).sort()).toEqual(
      [
        [b.meter_no, ['HIGH']],
        [c.meter_no, ['BELOW_PREVIOUS']],
        [d.meter_no, ['ANOMALY']],
      ].sort(),
    );
    expect(body.items.find((i: { meterNo: string }) => i.meterNo === b.meter_no)).toMatchObject({
      accountId: b.account_id,
      indexValue: m3(b.register + 2_000_000),
      consumptionM3: m3(2_000_000),
      fileName: 'reads.csv',
    });
    const chinaDay = (n: number) =>
      new Date(Date.parse(midnight(n)) + 8 * 3600_000).toISOString().slice(0, 10);
    expect(body.byDay).toEqual([
      { day: chinaDay(2), flagged: 3, conflict: 1 },
      { day: chinaDay(1), flagged: 0, conflict: 1 },
    ]);
    const conflicts = await t.as('manager')({
      method: 'GET',
      url: `/api/readings/registers/exceptions?officeId=${office}&kind=conflict`,
    });
    expect(
      conflicts
        .json()
        .items.map((i: { meterNo: string; storedIndex: string }) => [i.meterNo, i.storedIndex])
        .sort(),
    ).toEqual(
      [
        [b.meter_no, m3(b.register + 2_000_000)],
        [meters[5]!.meter_no, m3(meters[5]!.register + 300)],
      ].sort(),
    );
    // A range before the reads: nothing; a range the wrong way round: a field error.
    const before = await t.as('manager')({
      method: 'GET',
      url: `/api/readings/registers/exceptions?officeId=${office}&from=2020-01-01&to=2020-01-31`,
    });
    expect(before.json()).toMatchObject({ total: 0, items: [], byDay: [] });
    const wrong = await t.as('manager')({
      method: 'GET',
      url: `/api/readings/registers/exceptions?from=2026-02-01&to=2026-01-01`,
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.fields).toEqual([expect.objectContaining({ path: 'to', code: 'DATE_ORDER' })]);
    // Another office's manager sees none of them.
    const theirs = await t.as('manager2')({ method: 'GET', url: '/api/readings/registers/exceptions' });
    expect(theirs.json().total).toBe(0);

    // The customer's reads, oldest first, with the usual daily use now.
    const mine = await t.as('manager')({
      method: 'GET',
      url: `/api/customers/${a.account_id}/registers?days=30`,
    });
    expect(mine.statusCode, mine.body).toBe(200);
    const meter = mine.json().meters.find((m: { meterId: number }) => m.meterId === a.meter_id);
    expect(meter.meterNo).toBe(a.meter_no);
    expect(meter.reads.map((r: { indexValue: string; flags: string[] }) => [r.indexValue, r.flags])).toEqual([
      [m3(a.register + 1000), ['LATE']],
      [m3(a.register + 1500), []],
      [m3(a.register + 1900), []],
    ]);
    const newest = (await stored()).reads
      .filter((r) => r.meter_id === a.meter_id && r.account_id === a.account_id)
      .at(-1);
    expect(meter.dailyM3).toBe(m3(newest.daily_milli));
    expect(
      (await t.as('manager2')({ method: 'GET', url: `/api/customers/${a.account_id}/registers` })).statusCode,
    ).toBe(404);
  });
});
