import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { todayInChina } from '@meterline/domain';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { DB } from '../db/schema.ts';
import { staffContext } from '../platform/context.ts';
import { processRegisterFile } from '../readings/registers.ts';
import { rng } from './random.ts';

/** Days of register reads the demo starts with (up to yesterday). */
export const DEMO_REGISTER_DAYS = 45;
/** Meters of the demo's first office that report daily (远传表). */
export const DEMO_REGISTER_METERS = 200;

const DAY_MS = 86_400_000;

/** The demo's smart meters ($1: office 0101's id, $2: DEMO_REGISTER_METERS), as a subquery `m`. */
const DEMO_SMART_METERS = `(select m.* from meter m join customer c on c.account_id = m.account_id
           where c.office_id = $1 and m.state = 'in_service' and m.utility = 'water'
           order by m.account_id, m.meter_id limit $2) m`;

/**
 * The demo's smart meters, `<account id>:<meter id>` (none before office 0101 has meters): their
 * current month is not read by the readers (seedDemoReadings' remoteMeters) but taken from their
 * register reads.
 */
export async function demoSmartMeters(pool: pg.Pool): Promise<Set<string>> {
  const office = await pool.query<{ office_id: number }>(`select office_id from office where code = '0101'`);
  if (!office.rowCount) return new Set();
  const { rows } = await pool.query<{ key: string }>(
    `select m.account_id || ':' || m.meter_id as key from ${DEMO_SMART_METERS}`,
    [office.rows[0]!.office_id, DEMO_REGISTER_METERS],
  );
  return new Set(rows.map((r) => r.key));
}

/**
 * The demo's smart meters: the first DEMO_REGISTER_METERS meters in service of office 0101 send a
 * daily frozen read for the last DEMO_REGISTER_DAYS days, each day's file stored as the analyst
 * would upload it (processRegisterFile, so every read is checked and the meters' state is real).
 * Their use by day varies around what their billing readings show; a few meters leak for some days
 * (far above their use), one goes backwards once, a few raise an alarm; some days a read is missing.
 * Only on a database without register reads.
 */
export async function seedDemoRegisterReads(
  db: Kysely<DB>,
  pool: pg.Pool,
  opts: { log?: (msg: string) => void; today?: string } = {},
): Promise<{ reads: number }> {
  const any = await pool.query('select 1 from register_read limit 1');
  if (any.rowCount) return { reads: 0 };
  const office = await pool.query<{ office_id: number }>(`select office_id from office where code = '0101'`);
  const analyst = await pool.query<{ staff_id: number }>(
    `select staff_id from staff where username = 'analyst'`,
  );
  if (!office.rowCount || !analyst.rowCount) return { reads: 0 };
  const officeId = office.rows[0]!.office_id;
  const today = opts.today ?? todayInChina();
  const first = new Date(Date.parse(`${today}T00:00:00+08:00`) - DEMO_REGISTER_DAYS * DAY_MS);
  // Each meter's accepted readings from the last one before the first day on (the register after
  // each, in thousandths, and its time): the register reads pass through them.
  const { rows } = await pool.query<{ key: string; at: Date | null; register: number; top: number }>(
    `select m.account_id || ':' || m.meter_id as key, r.read_at as at,
            (coalesce(case when r.kind = 'actual' then r.index_value else r.previous_index + r.consumption_m3 end,
                      m.initial_index) * 1000)::float8 as register,
            (10::float8 ^ (m.dial_digits + 3)) as top
     from ${DEMO_SMART_METERS}
     left join reading r on r.account_id = m.account_id and r.meter_id = m.meter_id and r.status = 'accepted'
       and r.read_at >= coalesce((select max(p.read_at) from reading p where p.account_id = m.account_id
                                  and p.meter_id = m.meter_id and p.status = 'accepted' and p.read_at < $3), $3)
     order by m.account_id, m.meter_id, r.read_at`,
    [officeId, DEMO_REGISTER_METERS, first],
  );
  const byMeter = new Map<string, { at: number; register: number }[]>();
  const tops = new Map<string, number>();
  for (const row of rows) {
    const list = byMeter.get(row.key) ?? [];
    // A meter without a reading starts at its installed index, a month before the first day.
    list.push({ at: row.at ? row.at.getTime() : first.getTime() - 30 * DAY_MS, register: row.register });
    byMeter.set(row.key, list);
    tops.set(row.key, row.top);
  }
  const meterNos = await pool.query<{ key: string; meter_no: string }>(
    `select account_id || ':' || meter_id as key, meter_no from meter where account_id || ':' || meter_id = any($1)`,
    [[...byMeter.keys()]],
  );
  const meters = meterNos.rows
    .map((m) => {
      const points = byMeter.get(m.key)!;
      const last = points[points.length - 1]!;
      const before = points[points.length - 2];
      // After the last reading: the use a day of the interval before it (a household's 0.4 m³ without one).
      const daily =
        before && last.at > before.at
          ? Math.max(80, ((last.register - before.register) * DAY_MS) / (last.at - before.at))
          : 400;
      return { meterNo: m.meter_no, points, daily, top: tops.get(m.key)! };
    })
    .sort((x, y) => x.meterNo.localeCompare(y.meterNo));
  if (meters.length === 0) return { reads: 0 };
  const r = rng(20261124);
  const dayOf = (n: number) =>
    new Date(Date.parse(`${today}T00:00:00Z`) - n * DAY_MS).toISOString().slice(0, 10);
  /** The register at an instant: between two readings, on the line through them; after the last, at its use a day. */
  const registerAt = (m: (typeof meters)[number], at: number): number => {
    const { points } = m;
    for (let i = 1; i < points.length; i++) {
      const p = points[i - 1]!;
      const q = points[i]!;
      if (at <= q.at)
        return p.register + ((q.register - p.register) * (at - p.at)) / Math.max(1, q.at - p.at);
    }
    const last = points[points.length - 1]!;
    return last.register + (m.daily * (at - last.at)) / DAY_MS;
  };
  // Leaks: a few meters, for three days of the last ten after their last reading; one meter read
  // backwards once.
  const leakFrom = new Map<number, number>();
  for (let i = 7; i < meters.length; i += 23) leakFrom.set(i, 3 + Math.floor(r() * 7));
  const leaked = meters.map(() => 0);
  const ctx = await staffContext(db, 'analyst', { requestId: 'demo-register-reads' });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'meterline-demo-registers-'));
  let reads = 0;
  try {
    for (let n = DEMO_REGISTER_DAYS; n >= 1; n--) {
      const day = dayOf(n);
      const at = `${day}T00:00:00+08:00`;
      const atMs = Date.parse(at);
      const lines = ['表号,抄表时间,读数,异常代码'];
      for (const [i, m] of meters.entries()) {
        if (r() < 0.01) continue; // no read that day
        const leak = leakFrom.get(i);
        const lastReading = m.points[m.points.length - 1]!.at;
        if (leak !== undefined && n <= leak && n > leak - 3 && atMs > lastReading)
          leaked[i]! += Math.round(m.daily * (8 + r() * 4));
        // A little noise on the line, never backwards: a day's use varies.
        const line = registerAt(m, atMs);
        const slope = line - registerAt(m, atMs - DAY_MS);
        const register = Math.round(Math.max(line - slope * 0.3 * r(), 0) + leaked[i]!) % m.top;
        const backwards = i === 3 && n === 5;
        const index = backwards ? Math.max(0, register - 3000) : register;
        const alarm = r() < 0.002 ? 'leak' : '';
        lines.push(`${m.meterNo},${at},${(index / 1000).toFixed(3)},${alarm}`);
      }
      const file = path.join(dir, `registers-${day}.csv`);
      await writeFile(file, `${lines.join('\n')}\n`);
      const report = await processRegisterFile(db, ctx, {
        officeId,
        filePath: file,
        fileName: `远传日冻结-${day}.csv`,
        pool,
      });
      reads += report.stored + report.flagged;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  opts.log?.(`demo register reads: ${reads.toLocaleString('en')} reads of ${meters.length} smart meters`);
  return { reads };
}
