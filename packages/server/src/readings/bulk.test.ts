import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { dayNumber, milliOf, milliText, todayInChina } from '@meterline/domain';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../db/pg.ts';
import { type RequestContext, staffContext } from '../platform/context.ts';
import { loadSettings } from '../platform/settings.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { processBulkFile } from './bulk.ts';
import { officeId } from './fixtures.ts';
import { type Candidate, ingestReadings } from './ingest.ts';
import {
  decideReading,
  decideReadingMilli,
  HISTORY_BEYOND_SEASON,
  historyMilli,
  INDEX_PATTERN,
  parseReadAt,
  periodFromNumber,
  periodNumber,
  readingRules,
} from './model.ts';
import {
  type BulkConnection,
  kyselyConnection,
  loadAnomalyCodes,
  loadBulkReadings,
  loadContexts,
  poolConnection,
} from './repository.ts';

/**
 * The smart-meter bulk path (COPY through a raw pool client, or plain statements on Kysely) against
 * ingestReadings, the path every handheld reading takes: the same file, chunked the same way, must
 * give every row the same outcome and store the same readings and follow-ups — on a file made to
 * hit each rule: ordinary, high and low use, an index below the last, a register's top, estimates
 * (and a visit forced after estimates in a row), conflicts and the same reading again, a period
 * review sent back, unknown meters and codes, removed meters, another office's meters, read times
 * in the future, repeats within the file, and one meter read twice across chunks.
 */

let t: TestApp;
let dir: string;
let ctx: RequestContext;
let office: number;

interface MeterRow {
  account_id: number;
  meter_id: number;
  meter_no: string;
  register: number;
  daily: number;
}

beforeAll(async () => {
  t = await createTestApp({ customers: 400, metering: true });
  dir = await mkdtemp(path.join(os.tmpdir(), 'meterline-bulk-'));
  office = await officeId(t, '0101');
  ctx = await staffContext(t.db, 'analyst', { requestId: 'bulk-test', lang: 'en' });
});

afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Meters of an office, with where their register stands and their usual daily use. */
async function metersOf(code: string, state = 'in_service'): Promise<MeterRow[]> {
  const { rows } = await t.pool.query<MeterRow>(
    `select m.account_id, m.meter_id, m.meter_no,
            coalesce(l.register, m.initial_index)::float8 as register, coalesce(l.daily, 0.5)::float8 as daily
     from meter m join customer c on c.account_id = m.account_id join office o on o.office_id = c.office_id
     left join lateral (
       select case when r.kind = 'actual' then r.index_value else r.previous_index + r.consumption_m3 end as register,
              r.consumption_m3 / 60 as daily
       from reading r where r.account_id = m.account_id and r.meter_id = m.meter_id and r.status = 'accepted'
       order by r.read_at desc limit 1) l on true
     where o.code = $1 and m.state = $2 and m.dial_digits = 5
     order by m.account_id, m.meter_id`,
    [code, state],
  );
  return rows;
}

/** The old path: each chunk through ingestReadings in one transaction (bulk.ts before COPY). */
async function referenceBulk(content: string, chunkRows: number, now: Date) {
  const settings = await loadSettings(t.db);
  const rules = readingRules(settings);
  const anomalies = await loadAnomalyCodes(t.db, { activeOnly: true });
  const lines = content.split('\n').slice(1);
  const outcomes: { rowNo: number; outcome: string; code?: string }[] = [];
  const rows = lines.map((line, i) => ({ line, rowNo: i + 2 })).filter((r) => r.line.trim() !== '');
  for (let start = 0; start < rows.length; start += chunkRows) {
    const chunk = rows.slice(start, start + chunkRows);
    await t.db.transaction().execute(async (trx) => {
      const candidates: Candidate[] = [];
      for (const { line, rowNo } of chunk) {
        const [meterNo = '', at = '', index = '', codes = ''] = line.split(',').map((c) => c.trim());
        const readAt = parseReadAt(at);
        if (!readAt) {
          outcomes.push({ rowNo, outcome: 'rejected', code: 'READ_AT_FORMAT' });
          continue;
        }
        if (index !== '' && !INDEX_PATTERN.test(index)) {
          outcomes.push({ rowNo, outcome: 'rejected', code: 'INDEX_FORMAT' });
          continue;
        }
        candidates.push({
          ref: rowNo,
          clientId: `bulk:${meterNo}@${readAt.toISOString()}`,
          meterNo,
          readAt,
          index: index === '' ? null : index,
          anomalyCodes: codes === '' ? [] : [...new Set(codes.split(/[|;\s]+/).filter(Boolean))],
          note: '',
          latitude: null,
          longitude: null,
          accuracyM: null,
          signerName: '',
          photo: null,
          signature: null,
        });
      }
      const results = await ingestReadings(trx, candidates, {
        source: 'bulk',
        readerId: null,
        deviceId: 'bulk',
        officeIds: [office],
        rules,
        anomalies,
        now,
        dataDir: dir,
        lockMeters: false,
      });
      for (const r of results) outcomes.push({ rowNo: r.ref, outcome: r.outcome, code: r.error?.code });
    });
  }
  return outcomes.sort((a, b) => a.rowNo - b.rowNo);
}

/**
 * The new path, its report as the same list of outcomes: on the pool or plain, its meters looked up
 * row by row or from the office's directory.
 */
async function newBulk(content: string, chunkRows: number, now: Date, withPool: boolean, directory = false) {
  const file = path.join(dir, 'file.csv');
  await writeFile(file, content);
  const report = await processBulkFile(t.db, ctx, {
    officeId: office,
    filePath: file,
    fileName: 'file.csv',
    dataDir: dir,
    pool: withPool ? t.pool : undefined,
    chunkRows,
    directoryFromRows: directory ? 1 : Number.POSITIVE_INFINITY,
    now,
  });
  const errors = new Map(report.errors.map((e) => [e.rowNo, e.code]));
  return { report, errors };
}

/** The readings and follow-ups the bulk path stored, comparable between runs (ids left out). */
async function storedState() {
  const readings = await t.pool.query(
    `select account_id, meter_id, book_id, period, read_at, previous_index::text, index_value::text,
            consumption_m3::text, kind, source, anomaly_codes, flags, note, photo_path, signature_path, signer_name,
            latitude, longitude, accuracy_m, reader_id, device_id, client_id, status
     from reading where client_id like 'bulk:%' order by client_id`,
  );
  const followups = await t.pool.query(
    `select f.account_id, f.meter_id, r.client_id, f.anomaly_code, f.department, f.status
     from followup f join reading r on r.account_id = f.account_id and r.reading_id = f.reading_id
     where r.client_id like 'bulk:%' order by r.client_id, f.anomaly_code`,
  );
  return { readings: readings.rows, followups: followups.rows };
}

async function clearBulk() {
  await t.pool.query(
    `delete from followup f using reading r
     where r.account_id = f.account_id and r.reading_id = f.reading_id and r.client_id like 'bulk:%'`,
  );
  await t.pool.query(`delete from reading where client_id like 'bulk:%'`);
}

/**
 * Sends a file twice through the old path (then clears what it stored), then twice through the bulk
 * path in each way it can run (with the pool or without, meters probed or from the directory): each
 * time the same counts, errors and stored rows.
 */
async function compareWithReference(content: string, chunkRows: number, now: Date) {
  const expected = await referenceBulk(content, chunkRows, now);
  const expectedAgain = await referenceBulk(content, chunkRows, now);
  const expectedState = await storedState();
  await clearBulk();
  for (const [withPool, directory] of [
    [true, false],
    [false, false],
    [true, true],
    [false, true],
  ]) {
    for (const [pass, reference] of [expected, expectedAgain].entries()) {
      const { report, errors } = await newBulk(content, chunkRows, now, withPool!, directory);
      const count = (o: string) => reference.filter((r) => r.outcome === o).length;
      const way = `${withPool ? 'COPY' : 'plain'}${directory ? ', directory' : ''} pass ${pass}`;
      expect(report, way).toMatchObject({
        rows: reference.length,
        accepted: count('accepted'),
        review: count('review'),
        conflict: count('conflict'),
        duplicate: count('duplicate'),
        rejected: count('rejected'),
      });
      expect(new Map(reference.filter((r) => r.code).map((r) => [r.rowNo, r.code])), way).toEqual(errors);
    }
    expect(await storedState()).toEqual(expectedState);
    await clearBulk();
  }
  return { expected, expectedState };
}

describe('smart-meter files in bulk', () => {
  it('give every row the outcome ingestReadings gives, and store the same readings', async () => {
    const today = todayInChina();
    const now = new Date(`${today}T12:00:00+08:00`);
    const meters = await metersOf('0101');
    expect(meters.length).toBeGreaterThan(60);
    const other = (await metersOf('0102')).slice(0, 2);
    const [removed] = meters.splice(0, 1) as [MeterRow];
    await t.pool.query(`update meter set state = 'removed' where account_id = $1 and meter_id = $2`, [
      removed.account_id,
      removed.meter_id,
    ]);
    // Review sent a meter back: its last reading rejected, none standing in that period.
    const [sentBack] = meters.splice(0, 1) as [MeterRow];
    await t.pool.query(
      `update reading set status = 'rejected'
       where (account_id, reading_id) = (select account_id, reading_id from reading
                                         where account_id = $1 and meter_id = $2 and status = 'accepted'
                                         order by read_at desc limit 1)`,
      [sentBack.account_id, sentBack.meter_id],
    );
    // Estimates in a row: the next estimate must wait for a visit.
    const [estimated] = meters.splice(0, 1) as [MeterRow];
    await t.pool.query(
      `update reading set kind = 'estimated', index_value = null
       where (account_id, reading_id) in (select account_id, reading_id from reading
                                          where account_id = $1 and meter_id = $2 and status = 'accepted'
                                          order by read_at desc limit 2)`,
      [estimated.account_id, estimated.meter_id],
    );
    // Meters read already this period (by a handheld): a different index is a conflict, the same one is kept once.
    const [conflicted, same] = meters.splice(0, 2) as [MeterRow, MeterRow];
    const earlier = new Date(now.getTime() - 3 * 3600_000).toISOString();
    for (const m of [conflicted, same]) {
      await t.pool.query(
        `insert into reading (account_id, meter_id, period, read_at, previous_index, index_value, consumption_m3,
                              kind, source, client_id, status)
         values ($1, $2, $3, $4, $5, $6, 10, 'actual', 'handheld', $7, 'accepted')`,
        [
          m.account_id,
          m.meter_id,
          today.slice(0, 7),
          earlier,
          m.register,
          m.register + 10,
          `hh:${m.meter_id}`,
        ],
      );
    }

    const at = `${today}T09:00:00+08:00`;
    const later = `${today}T10:30:00+08:00`;
    const tomorrow = new Date(now.getTime() + 86_400_000).toISOString();
    const idx = (m: MeterRow, factor = 1) =>
      String((Math.floor(m.register) + Math.max(1, Math.round(m.daily * 30 * factor))) % 100_000);
    const lines: string[] = [];
    for (const [i, m] of meters.entries()) {
      const kind = i % 12;
      if (kind === 0) lines.push(`${m.meter_no},${at},${idx(m, 8)},`);
      else if (kind === 1) lines.push(`${m.meter_no},${at},${idx(m, 0.05)},`);
      else if (kind === 2) lines.push(`${m.meter_no},${at},${Math.max(0, Math.floor(m.register) - 50)},`);
      else if (kind === 3) lines.push(`${m.meter_no},${at},,no_access`);
      else if (kind === 4) lines.push(`${m.meter_no},${at},,`);
      else if (kind === 5) lines.push(`${m.meter_no},${at},123456789,`);
      else if (kind === 6) lines.push(`${m.meter_no},${at},${idx(m)},leak`);
      else if (kind === 7) lines.push(`${m.meter_no},${at},${idx(m)},zzz_unknown`);
      else if (kind === 8) lines.push(`${m.meter_no},${tomorrow},${idx(m)},`);
      else if (kind === 9) {
        // The same row twice, then the meter again later the same day.
        lines.push(`${m.meter_no},${at},${idx(m)},`, `${m.meter_no},${at},${idx(m)},`);
        lines.push(`${m.meter_no},${later},${idx(m, 1.5)},`);
      } else if (kind === 10) lines.push(`${m.meter_no},${at},${Math.floor(m.register)},`);
      else lines.push(`${m.meter_no},${at},${idx(m)},leak|no_access`);
    }
    lines.push(
      `${removed.meter_no},${at},${idx(removed)},`,
      `${sentBack.meter_no},${at},${idx(sentBack)},`,
      `${estimated.meter_no},${at},,no_access`,
      `${estimated.meter_no},${later},${idx(estimated)},`,
      `${conflicted.meter_no},${at},${Math.floor(conflicted.register) + 25},`,
      `${same.meter_no},${at},${Math.floor(same.register) + 10},`,
      `X000000000,${at},12,`,
      `${other[0]!.meter_no},${at},${idx(other[0]!)},`,
      `${meters[0]!.meter_no},not-a-time,12,`,
      `${meters[1]!.meter_no},${at},-3,`,
      // A meter read again in a later chunk, after its first reading was stored.
      `${meters[13]!.meter_no},${later},${idx(meters[13]!, 2)},`,
    );
    const content = `meter_no,read_at,index,anomaly_codes\n${lines.join('\n')}\n`;
    const chunkRows = 17;

    const { expected, expectedState } = await compareWithReference(content, chunkRows, now);
    const outcomes = new Set(expected.map((o) => o.code ?? o.outcome));
    for (const seen of [
      'accepted',
      'review',
      'conflict',
      'duplicate',
      'METER_NO_UNKNOWN',
      'METER_REMOVED',
      'READ_AT_FUTURE',
      'ANOMALY_UNKNOWN',
      'INDEX_REQUIRED',
      'INDEX_TOO_LARGE',
      'READ_AT_FORMAT',
      'INDEX_FORMAT',
    ]) {
      expect(outcomes, seen).toContain(seen);
    }
    expect(expectedState.readings.some((r) => (r.flags as string[]).includes('VISIT_FORCED'))).toBe(true);
    expect(expectedState.readings.some((r) => r.kind === 'estimated')).toBe(true);
    expect(expectedState.readings.some((r) => r.period < today.slice(0, 7))).toBe(true);
    expect(expectedState.followups.length).toBeGreaterThan(0);
  });

  it('let the next chunk read while one writes, and wait when they share a meter', async () => {
    const today = todayInChina();
    const now = new Date(`${today}T12:00:00+08:00`);
    const meters = (await metersOf('0101')).slice(20, 30);
    const [m, a, b, c, d] = meters as [MeterRow, MeterRow, MeterRow, MeterRow, MeterRow];
    // A second number for the same meter: only the meter, not its number, tells the chunks apart.
    await t.pool.query(`insert into meter_registry (meter_no, account_id, meter_id) values ($1, $2, $3)`, [
      `ALIAS-${m.meter_no}`,
      m.account_id,
      m.meter_id,
    ]);
    const line = (meterNo: string, hhmm: string, index: number) =>
      `${meterNo},${today}T${hhmm}:00+08:00,${index},`;
    const base = (x: MeterRow) => Math.floor(x.register);
    const content = `meter_no,read_at,index\n${[
      line(m.meter_no, '09:00', base(m) + 10),
      line(a.meter_no, '09:00', base(a) + 10),
      line(b.meter_no, '09:00', base(b) + 10),
      line(`ALIAS-${m.meter_no}`, '10:00', base(m) + 14),
      line(c.meter_no, '09:00', base(c) + 10),
      line(d.meter_no, '09:00', base(d) + 10),
      line(m.meter_no, '11:00', base(m) + 14),
      line(`ALIAS-${m.meter_no}`, '09:00', base(m) + 10),
    ].join('\n')}\n`;
    const { expected } = await compareWithReference(content, 3, now);
    expect(expected.map((o) => o.outcome)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'conflict',
      'accepted',
      'accepted',
      'duplicate',
      'duplicate',
    ]);
  });

  it('decides in thousandths as decideReading does, on the history loadContexts gives, for every meter', async () => {
    // Years of history (the seeded year again, two and four years back), so that the bounded load
    // (HISTORY_BEYOND_SEASON) leaves readings out; some meters only estimated for the last 500 days,
    // so that theirs must be loaded whole (historyComplete).
    await t.pool.query(`
      insert into reading (account_id, meter_id, book_id, period, read_at, previous_index, index_value,
                           consumption_m3, kind, source, status, client_id)
      select account_id, meter_id, book_id, to_char((read_at - y.back) at time zone 'Asia/Shanghai', 'YYYY-MM'),
             read_at - y.back, previous_index, index_value, consumption_m3, kind, source, status, null
      from reading cross join (values (interval '2 years'), (interval '4 years')) as y(back)
      where status = 'accepted';
      update reading set kind = 'estimated', index_value = null
        where meter_id % 23 = 0 and status = 'accepted' and read_at > now() - interval '500 days';`);
    // Some variety in the stored histories: estimates (in a row), readings without a volume, rejected
    // and superseded ones, two readings of a day.
    await t.pool.query(`
      update reading set kind = 'estimated', index_value = null where reading_id % 7 = 1 and status = 'accepted';
      update reading set consumption_m3 = null where reading_id % 11 = 2 and kind = 'actual';
      update reading set status = 'rejected' where reading_id % 13 = 3;
      update reading set status = 'superseded' where reading_id % 17 = 4;
      update reading r set read_at = p.read_at from reading p
        where r.reading_id % 19 = 5 and p.account_id = r.account_id and p.meter_id = r.meter_id
          and p.reading_id = r.reading_id - 1;`);
    const settings = await loadSettings(t.db);
    const rules = readingRules(settings);
    const anomalies = await loadAnomalyCodes(t.db, { activeOnly: true });
    const { rows } = await t.pool.query<{ account_id: number; meter_id: number }>(
      'select account_id, meter_id from meter order by account_id, meter_id',
    );
    const meters = rows.map((r) => ({ accountId: r.account_id, meterId: r.meter_id }));
    const today = todayInChina();
    const checked = { meters: 0, decisions: 0 };
    for (const [from, to] of [
      [new Date(`${today}T09:00:00+08:00`), new Date(`${today}T12:00:00+08:00`)],
      [new Date(Date.now() - 40 * 86_400_000), new Date(Date.now() + 3600_000)],
    ] as const) {
      const recentFrom = new Date(from.getTime() - 124 * 86_400_000).toISOString().slice(0, 7);
      const season = {
        fromUs: (from.getTime() - 400 * 86_400_000) * 1000,
        toUs: (to.getTime() - 330 * 86_400_000) * 1000,
      };
      const period = today.slice(0, 7);
      const contexts = await loadContexts(
        t.db,
        meters.map((m) => ({ ...m, period, clientId: null })),
        { from, to },
      );
      // The bounded load leaves readings out, and loads some meters whole.
      const { rows: depth } = await t.pool.query<{ cut: number; whole: number }>(
        `select count(*) filter (where older > $2)::int as cut,
                count(*) filter (where older > $2 and actuals < 3)::int as whole
         from (select count(*) filter (where read_at < to_timestamp($1::float8 / 1e6)) as older,
                      count(*) filter (where read_at >= to_timestamp($1::float8 / 1e6) and kind = 'actual') as actuals
               from reading where status = 'accepted' group by account_id, meter_id) x`,
        [season.fromUs, HISTORY_BEYOND_SEASON],
      );
      expect(depth[0]!.cut).toBeGreaterThan(meters.length / 2);
      expect(depth[0]!.whole).toBeGreaterThan(0);
      const compare = async (conn: BulkConnection, bounded: boolean) => {
        await loadBulkReadings(
          conn,
          meters,
          recentFrom,
          (i, stored) => {
            const ctx = contexts.get(i)!;
            const fast = historyMilli(
              stored,
              { dialDigits: ctx.history.dialDigits, initialMilli: milliOf(ctx.history.initialIndex) },
              season,
            );
            expect(fast.estimatesInARow).toBe(ctx.history.estimatesInARow);
            expect(fast.readings).toEqual(
              ctx.history.readings.map((r) => ({
                day: dayNumber(r.day!),
                days: r.days,
                kind: r.kind,
                indexMilli: r.indexValue === null ? null : milliOf(r.indexValue),
                previousMilli: milliOf(r.previousIndex),
                consumptionMilli: r.consumptionM3 === null ? null : milliOf(r.consumptionM3),
              })),
            );
            const revisit = stored.revisitPeriod(periodNumber(recentFrom));
            expect(revisit === null ? null : periodFromNumber(revisit)).toBe(ctx.revisitPeriod);
            expect(stored.standing(periodNumber(period), periodNumber(recentFrom))).toEqual(
              ctx.live.map((l) => ({
                estimated: l.kind === 'estimated',
                indexMilli: l.indexValue === null ? null : milliOf(l.indexValue),
              })),
            );
            const last = ctx.history.readings[0];
            const base = last ? milliOf(last.indexValue ?? last.previousIndex) : 0;
            for (const [index, codes] of [
              [base + 12_000, []],
              [base + 250_000, []],
              [base + 1_500, ['leak']],
              [base, []],
              [Math.max(0, base - 40_000), []],
              [99_999_000, []],
              [3_000, []],
              [null, ['no_access']],
              [null, []],
            ] as [number | null, string[]][]) {
              const readAt = to;
              const decimal = decideReading(
                { index: index === null ? null : milliText(index), readAt, anomalyCodes: codes },
                ctx.history,
                anomalies,
                rules,
              );
              const milli = decideReadingMilli(
                { indexMilli: index, readAt, anomalyCodes: codes },
                fast,
                anomalies,
                rules,
              );
              expect(
                milli.ok
                  ? {
                      ...milli,
                      previousMilli: milliText(milli.previousMilli),
                      indexMilli: milli.indexMilli === null ? null : milliText(milli.indexMilli),
                      consumptionMilli:
                        milli.consumptionMilli === null ? null : milliText(milli.consumptionMilli),
                    }
                  : milli,
              ).toEqual(
                decimal.ok
                  ? {
                      ok: true,
                      status: decimal.status,
                      kind: decimal.kind,
                      previousMilli: decimal.previousIndex,
                      indexMilli: decimal.indexValue,
                      consumptionMilli: decimal.consumptionM3,
                      flags: decimal.flags,
                    }
                  : decimal,
              );
              checked.decisions++;
            }
            checked.meters++;
          },
          bounded ? season.fromUs : undefined,
        );
      };
      for (const bounded of [false, true]) {
        await t.db.transaction().execute((trx) => compare(kyselyConnection(trx), bounded));
        const client = await t.pool.connect();
        try {
          await compare(poolConnection(client), bounded);
        } finally {
          client.release();
        }
      }
    }
    expect(checked.meters).toBe(meters.length * 8);
  });

  it('stores nothing of a chunk that fails, nor of the one after it; the file sent again stores the rest', async () => {
    const today = todayInChina();
    const now = new Date(`${today}T12:00:00+08:00`);
    const meters = (await metersOf('0101')).slice(40, 70);
    const at = `${today}T07:00:00+08:00`;
    // The 15th row's reading cannot be stored (a trigger standing in for a disk that fills up).
    await t.pool.query(`
      create function fail_bulk() returns trigger language plpgsql as $$
      begin
        if new.client_id like 'bulk:FAIL-%' then raise exception 'no room'; end if;
        return new;
      end $$;
      create trigger fail_bulk before insert on reading for each row execute function fail_bulk();`);
    await t.pool.query(`insert into meter_registry (meter_no, account_id, meter_id) values ($1, $2, $3)`, [
      `FAIL-${meters[14]!.meter_no}`,
      meters[14]!.account_id,
      meters[14]!.meter_id,
    ]);
    const rows = meters.map(
      (m, i) => `${i === 14 ? 'FAIL-' : ''}${m.meter_no},${at},${Math.floor(m.register) + 5}`,
    );
    const file = path.join(dir, 'failing.csv');
    await writeFile(file, `meter_no,read_at,index\n${rows.join('\n')}\n`);
    const send = () =>
      processBulkFile(t.db, ctx, {
        officeId: office,
        filePath: file,
        fileName: 'failing.csv',
        dataDir: dir,
        pool: t.pool,
        chunkRows: 10,
        now,
      });
    await expect(send()).rejects.toThrow(/no room/);
    const stored = async () =>
      Number(
        (await t.pool.query(`select count(*) as n from reading where client_id like 'bulk:%'`)).rows[0].n,
      );
    expect(await stored()).toBe(10);
    await t.pool.query('drop trigger fail_bulk on reading; drop function fail_bulk()');
    // The lock on the office's files went with the failed upload: the file again stores the rest.
    const again = await send();
    expect(again).toMatchObject({ rows: 30, duplicate: 10, rejected: 0 });
    expect(await stored()).toBe(30);
    await clearBulk();
  });

  it('stores a file sent twice at once once, and never starves a small pool', async () => {
    const today = todayInChina();
    const now = new Date(`${today}T12:00:00+08:00`);
    const write = async (name: string, code: string, count: number) => {
      const meters = (await metersOf(code)).slice(0, count);
      const at = `${today}T06:00:00+08:00`;
      const file = path.join(dir, name);
      await writeFile(
        file,
        `meter_no,read_at,index\n${meters.map((m) => `${m.meter_no},${at},${Math.floor(m.register) + 3}`).join('\n')}\n`,
      );
      return { file, office: await officeId(t, code) };
    };
    const send = (f: { file: string; office: number }, pool: pg.Pool) =>
      processBulkFile(t.db, ctx, {
        officeId: f.office,
        filePath: f.file,
        fileName: path.basename(f.file),
        dataDir: dir,
        pool,
        chunkRows: 5,
        now,
      });
    const mine = await write('twice.csv', '0101', 23);
    const [a, b] = await Promise.all([send(mine, t.pool), send(mine, t.pool)]);
    expect(a.duplicate + b.duplicate).toBe(23);
    expect(a.accepted + a.review + a.conflict + b.accepted + b.review + b.conflict).toBe(23);
    // Two connections for three uploads (of two offices), each wanting two: they take turns.
    const small = createPool(t.url, 2);
    try {
      const other = await write('other.csv', '0102', 17);
      const reports = await Promise.all([send(other, small), send(mine, small), send(other, small)]);
      expect(reports.map((r) => r.duplicate)).toEqual(expect.arrayContaining([23]));
      expect(reports.reduce((n, r) => n + r.duplicate, 0)).toBe(23 + 17);
    } finally {
      await small.end();
    }
    const stored = await t.pool.query(`select count(*)::int as n from reading where client_id like 'bulk:%'`);
    expect(stored.rows[0].n).toBe(23 + 17);
    await clearBulk();
  });

  it('writes each chunk in its own transaction with its audit entry; a file sent again after a stop stores the rest', async () => {
    const today = todayInChina();
    const now = new Date(`${today}T12:00:00+08:00`);
    const meters = (await metersOf('0101')).slice(-30);
    const at = `${today}T08:00:00+08:00`;
    const rows = meters.map((m) => `${m.meter_no},${at},${Math.floor(m.register) + 7}`);
    const send = async (lines: string[]) => {
      const file = path.join(dir, 'partial.csv');
      await writeFile(file, `meter_no,read_at,index\n${lines.join('\n')}\n`);
      return processBulkFile(t.db, ctx, {
        officeId: office,
        filePath: file,
        fileName: 'partial.csv',
        dataDir: dir,
        pool: t.pool,
        chunkRows: 10,
        now,
      });
    };
    const audits = async () =>
      Number(
        (await t.pool.query(`select count(*) as n from audit_log where entity_id = 'partial.csv'`)).rows[0].n,
      );
    // The upload stopped after its first chunk (the first 10 rows arrived); then the whole file again.
    const first = await send(rows.slice(0, 10));
    expect(first).toMatchObject({ rows: 10, duplicate: 0, rejected: 0, chunks: 1 });
    expect(first.accepted + first.review + first.conflict).toBe(10);
    expect(await audits()).toBe(1);
    const whole = await send(rows);
    expect(whole).toMatchObject({ rows: 30, duplicate: 10, rejected: 0, chunks: 3 });
    expect(whole.accepted + whole.review + whole.conflict).toBe(20);
    expect(await audits()).toBe(4);
    const stored = await t.pool.query(
      `select count(*)::int as n, count(distinct client_id)::int as keys from reading where client_id like 'bulk:%'`,
    );
    expect(stored.rows[0]).toEqual({ n: 30, keys: 30 });
    await clearBulk();
  });
});
