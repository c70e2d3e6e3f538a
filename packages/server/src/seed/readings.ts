import {
  checkReading,
  DEFAULT_ZONE_CONFIG,
  estimateConsumption,
  isReadingMonth,
  type PastPeriod,
  todayInChina,
  type Zone,
  zoneClassForMeter,
} from '@meterline/domain';
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { loadWorkingCalendar } from '../calendar/load.ts';
import { copyFrom, copyValue } from '../db/copy.ts';
import type { DB } from '../db/schema.ts';
import { addMonths, chinaTime, daysBetween, fromMilli, STATES_TO_READ, toMilli } from '../readings/model.ts';
import { rng } from './random.ts';

/**
 * A believable reading history for the seeded meters (DOMAIN.md §3): for the last HISTORY_MONTHS
 * months before the current one, a reading in every month the meter's zone is read (the book's zone,
 * else the zone rule), on the book's planned day or a working day of the month, with consumption by
 * usage type and season; some no-access estimates, a few anomalies with their follow-ups (some
 * stuck meters open for more than 30 days), a few readings waiting in review and one conflict per
 * office; and the current month up to yesterday — the books planned before today are read, those
 * planned from today on are the readers' work still to do.
 *
 * Incremental: only meters without any reading get a history. Rows are generated in chunks of
 * meters and COPYed, one transaction per chunk; a first seed of more than 50,000 meters is instead
 * one bulk transaction that sets the secondary indexes and foreign keys of reading and followup
 * aside and rebuilds them at the end (all or nothing). The same data every time for the same meters.
 */

/** Months of history before the current month. */
export const HISTORY_MONTHS = 14;
/** Meters generated and written per transaction. */
export const READING_SEED_CHUNK = 10_000;

/** Daily use in m³ by usage type: [low, high] for a customer's own level. */
const DAILY_M3: Record<string, [number, number]> = {
  W_RES: [0.33, 0.62],
  W_ADM: [3, 12],
  W_BIZ: [2, 9],
  W_IND: [10, 45],
  W_SPC: [5, 22],
  W_CON: [5, 16],
  W_FIRE: [0, 0.03],
  G_RES: [0.45, 0.9],
  G_BIZ: [5, 20],
  G_IND: [20, 70],
  G_HEAT: [10, 30],
};

/** Season by calendar month: water peaks in summer, gas in winter, heating gas only in winter. */
const WATER_SEASON = [0.9, 0.88, 0.93, 1.0, 1.08, 1.22, 1.35, 1.32, 1.12, 1.0, 0.94, 0.9];
const GAS_SEASON = [1.45, 1.4, 1.2, 1.0, 0.82, 0.65, 0.6, 0.6, 0.72, 0.9, 1.2, 1.45];
const HEAT_SEASON = [2.4, 2.2, 1.6, 0.6, 0.1, 0.05, 0.05, 0.05, 0.1, 0.5, 1.6, 2.3];

function season(usage: string, month: number): number {
  if (usage === 'G_HEAT') return HEAT_SEASON[month - 1]!;
  if (usage.startsWith('G_')) return GAS_SEASON[month - 1]!;
  return WATER_SEASON[month - 1]!;
}

const line = (values: unknown[]) => `${values.map(copyValue).join('\t')}\n`;
const pgArray = (xs: string[]) => `{${xs.join(',')}}`;

const copyInto = (client: pg.PoolClient, table: string, columns: string[], lines: string[]) =>
  copyFrom(client, table, columns, lines.join(''));

const READING_COLUMNS = [
  'account_id',
  'reading_id',
  'meter_id',
  'book_id',
  'period',
  'read_at',
  'previous_index',
  'index_value',
  'consumption_m3',
  'kind',
  'source',
  'anomaly_codes',
  'flags',
  'note',
  'latitude',
  'longitude',
  'accuracy_m',
  'reader_id',
  'device_id',
  'client_id',
  'status',
  'created_at',
];
const FOLLOWUP_COLUMNS = [
  'account_id',
  'meter_id',
  'reading_id',
  'anomaly_code',
  'department',
  'status',
  'opened_at',
  'closed_at',
  'note',
];

interface MeterRow {
  account_id: number;
  meter_id: number;
  office_id: number;
  caliber_dn: number | null;
  role: string;
  dial_digits: number;
  initial_index: string;
  install_date: string | null;
  connected_on: string;
  book_id: number | null;
  route_seq: number | null;
  zone: string | null;
  zone_override: string | null;
  reader_id: number | null;
  /** Since when the book's present reader holds it, and who held it before (null: nobody). */
  reader_since: string | null;
  previous_reader_id: number | null;
  usage: string;
  household: boolean;
  resettlement: boolean;
}

interface Codes {
  noAccess: string[];
  faults: string[];
  others: string[];
  department: Map<string, string>;
}

/** Above this many meters, a first seed of readings is one bulk transaction (see setAside). */
const BULK_ABOVE_METERS = 50_000;
const SEEDED_TABLES = ['reading', 'followup'];

interface SetAside {
  indexes: { name: string; definition: string }[];
  foreignKeys: { table: string; name: string; definition: string }[];
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Drops the seeded tables' indexes that back no constraint, and their foreign keys (for the bulk load). */
async function setAside(client: pg.PoolClient): Promise<SetAside> {
  const indexes = await client.query<{ name: string; definition: string }>(
    `select i.relname as name, pg_get_indexdef(x.indexrelid) as definition
     from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
     where t.relname = any($1) and t.relnamespace = current_schema()::regnamespace
       and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)
     order by i.relname`,
    [SEEDED_TABLES],
  );
  const foreignKeys = await client.query<{ table: string; name: string; definition: string }>(
    `select t.relname as table, c.conname as name, pg_get_constraintdef(c.oid) as definition
     from pg_constraint c join pg_class t on t.oid = c.conrelid
     where c.contype = 'f' and t.relname = any($1) and t.relnamespace = current_schema()::regnamespace
     order by t.relname, c.conname`,
    [SEEDED_TABLES],
  );
  for (const fk of foreignKeys.rows)
    await client.query(`alter table ${ident(fk.table)} drop constraint ${ident(fk.name)}`);
  for (const index of indexes.rows) await client.query(`drop index ${ident(index.name)}`);
  return { indexes: indexes.rows, foreignKeys: foreignKeys.rows };
}

async function restore(client: pg.PoolClient, aside: SetAside, log: (msg: string) => void): Promise<void> {
  await client.query("set local maintenance_work_mem = '256MB'");
  for (const index of aside.indexes) {
    const t0 = Date.now();
    await client.query(index.definition);
    log(`readings: index ${index.name} built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const t0 = Date.now();
  for (const fk of aside.foreignKeys)
    await client.query(`alter table ${ident(fk.table)} add constraint ${ident(fk.name)} ${fk.definition}`);
  log(
    `readings: ${aside.foreignKeys.length} foreign keys checked in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
}

export interface ReadingSeedResult {
  meters: number;
  readings: number;
  followups: number;
  seconds: number;
}

export async function seedDemoReadings(
  pool: pg.Pool,
  opts: {
    log?: (msg: string) => void;
    today?: string;
    seed?: number;
    /** One bulk transaction (indexes set aside); by default for a first seed above 50,000 meters. */
    bulk?: boolean;
    /** Months of history before the current one (HISTORY_MONTHS; the benchmark asks for years). */
    historyMonths?: number;
    /**
     * Smart meters (`<account id>:<meter id>`): not read in the current month — their billing readings
     * come from their register reads (readings/registerBilling.ts).
     */
    remoteMeters?: ReadonlySet<string>;
  } = {},
): Promise<ReadingSeedResult> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const today = opts.today ?? todayInChina();
  const currentMonth = today.slice(0, 7);
  const historyMonths = opts.historyMonths ?? HISTORY_MONTHS;
  const firstMonth = addMonths(currentMonth, -historyMonths);
  // The history, then the current month's days before today.
  const months = Array.from({ length: historyMonths + 1 }, (_, i) => addMonths(firstMonth, i));
  // The pool belongs to the caller: this Kysely is never destroyed (that would end the pool).
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const calendar = await loadWorkingCalendar(db, `${firstMonth}-01`, `${addMonths(currentMonth, 1)}-01`);
  const workingDays = new Map(months.map((m) => [m, calendar.workingDaysOfMonth(m)]));

  const codeRows = await db.selectFrom('anomaly_code').selectAll().where('active', '=', true).execute();
  const codes: Codes = {
    noAccess: codeRows.filter((c) => c.prevents_reading).map((c) => c.code),
    faults: codeRows.filter((c) => c.meter_fault).map((c) => c.code),
    others: codeRows.filter((c) => !c.prevents_reading && !c.meter_fault).map((c) => c.code),
    department: new Map(codeRows.map((c) => [c.code, c.department])),
  };
  const plans = new Map(
    (
      await db
        .selectFrom('reading_plan')
        .select(['book_id', 'period', 'planned_on'])
        .where('period', '>=', firstMonth)
        .where('period', '<=', currentMonth)
        .execute()
    ).map((p) => [`${p.book_id}@${p.period}`, p.planned_on]),
  );
  // Meters without a reader on their book are read by one of the office's readers.
  const readers = await db
    .selectFrom('staff as s')
    .innerJoin('staff_office as so', 'so.staff_id', 's.staff_id')
    .select(['s.staff_id', 'so.office_id'])
    .where('s.role_code', '=', 'reader')
    .orderBy('s.staff_id')
    .execute();
  const readersOf = new Map<number, number[]>();
  for (const r of readers) readersOf.set(r.office_id, [...(readersOf.get(r.office_id) ?? []), r.staff_id]);

  const client = await pool.connect();
  let failure: Error | undefined;
  const totals = { meters: 0, readings: 0, followups: 0 };
  const conflictOffices = new Set<number>();
  let aside: SetAside | null = null;
  try {
    // A first seed of many meters is one bulk transaction: the secondary indexes and foreign keys of
    // the tables it fills are set aside, rows COPYed, then indexes built and keys checked once.
    const empty = (await client.query('select not exists (select 1 from reading) as empty')).rows[0].empty;
    const meterCount = Number((await client.query('select count(*) as n from meter')).rows[0].n);
    const bulk = opts.bulk ?? (empty && meterCount > BULK_ABOVE_METERS);
    if (bulk) {
      await client.query('begin');
      aside = await setAside(client);
      log(
        `readings: bulk load in one transaction (${aside.indexes.length} indexes and ${aside.foreignKeys.length} foreign keys rebuilt at the end)`,
      );
    }
    let after: [number, number] = [0, 0];
    for (;;) {
      const { rows } = await client.query<MeterRow>(
        `select m.account_id, m.meter_id, c.office_id, m.caliber_dn, m.role, m.dial_digits, m.initial_index,
                m.install_date, c.connected_on, m.book_id, m.route_seq, b.zone, m.zone_override, b.reader_id,
                b.reader_since, hand.reader_id as previous_reader_id,
                sp.usage_type_code as usage, sp.resettlement,
                (c.kind = 'person' and ut.price_class = 'residential' and m.role <> 'master') as household
         from meter m
         join customer c on c.account_id = m.account_id
         join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
         join usage_type ut on ut.code = sp.usage_type_code
         left join book b on b.book_id = m.book_id
         -- The reader who handed the book over to its present one (the readings before were theirs).
         left join lateral (select ba.reader_id from book_assignment ba
                            where ba.book_id = b.book_id and ba.to_date = b.reader_since
                            order by ba.from_date desc limit 1) hand on true
         where (m.account_id, m.meter_id) > ($1, $2) and m.state = 'in_service' and c.state = any($3::text[])
           and c.connected_on is not null and c.connected_on < $4::date
           and ($6 or not exists (select 1 from reading r where r.account_id = m.account_id and r.meter_id = m.meter_id))
         order by m.account_id, m.meter_id
         limit $5`,
        [after[0], after[1], [...STATES_TO_READ], `${currentMonth}-01`, READING_SEED_CHUNK, bulk],
      );
      if (rows.length === 0) break;
      after = [rows[rows.length - 1]!.account_id, rows[rows.length - 1]!.meter_id];
      const generated = rows.map((m) =>
        generateMeter(m, {
          months,
          workingDays,
          plans,
          codes,
          readersOf,
          today,
          seed: opts.seed ?? 1,
          remote: opts.remoteMeters ?? NO_METERS,
        }),
      );
      // One conflict per office: another reader's different index for a last month's reading.
      const conflicts = new Map<number, GeneratedReading>();
      for (const [i, g] of generated.entries()) {
        const m = rows[i]!;
        const last = g.readings[g.readings.length - 1];
        if (
          !last ||
          conflictOffices.has(m.office_id) ||
          last.kind !== 'actual' ||
          last.status !== 'accepted' ||
          last.period !== addMonths(currentMonth, -1)
        )
          continue;
        conflictOffices.add(m.office_id);
        const other = (readersOf.get(m.office_id) ?? []).find((id) => id !== last.readerId) ?? last.readerId;
        const at = new Date(last.readAt.getTime() + 3 * 3600_000);
        conflicts.set(i, {
          ...last,
          readAt: at,
          createdAt: at,
          indexValue: fromMilli(toMilli(last.indexValue!) + 7000n),
          consumptionM3: fromMilli(toMilli(last.consumptionM3!) + 7000n),
          anomalyCodes: [],
          flags: [],
          note: '补抄：用户反映上次读数有误',
          status: 'conflict',
          readerId: other,
          followups: [],
        });
      }
      const count = generated.reduce((n, g) => n + g.readings.length, 0) + conflicts.size;
      if (!bulk) await client.query('begin');
      const ids = (
        await client.query<{ id: string }>(
          `select nextval(pg_get_serial_sequence('reading', 'reading_id')) as id from generate_series(1, $1::int)`,
          [count],
        )
      ).rows.map((x) => Number(x.id));
      let next = 0;
      const readingLines: string[] = [];
      const followupLines: string[] = [];
      for (const [i, g] of generated.entries()) {
        const m = rows[i]!;
        const conflict = conflicts.get(i);
        for (const r of conflict ? [...g.readings, conflict] : g.readings) {
          const readingId = ids[next++]!;
          readingLines.push(
            line([
              m.account_id,
              readingId,
              m.meter_id,
              m.book_id,
              r.period,
              r.readAt.toISOString(),
              r.previousIndex,
              r.indexValue,
              r.consumptionM3,
              r.kind,
              'handheld',
              pgArray(r.anomalyCodes),
              pgArray(r.flags),
              r.note,
              r.latitude,
              r.longitude,
              r.accuracyM,
              r.readerId,
              r.readerId === null ? '' : `PDA-${r.readerId}`,
              `seed:${m.meter_id}:${r.period}${r.status === 'conflict' ? ':conflict' : ''}`,
              r.status,
              r.createdAt.toISOString(),
            ]),
          );
          for (const f of r.followups) {
            followupLines.push(
              line([
                m.account_id,
                m.meter_id,
                readingId,
                f.code,
                codes.department.get(f.code) ?? 'office',
                f.status,
                r.createdAt.toISOString(),
                f.closedAt?.toISOString() ?? null,
                f.note,
              ]),
            );
          }
        }
      }
      await copyInto(client, 'reading', READING_COLUMNS, readingLines);
      await copyInto(client, 'followup', FOLLOWUP_COLUMNS, followupLines);
      if (!bulk) await client.query('commit');
      totals.meters += rows.length;
      totals.readings += readingLines.length;
      totals.followups += followupLines.length;
      if (totals.meters % (READING_SEED_CHUNK * 10) < READING_SEED_CHUNK) {
        log(
          `readings: ${totals.meters.toLocaleString('en')} meters, ${totals.readings.toLocaleString('en')} readings (${Math.round(totals.readings / ((Date.now() - started) / 1000))}/s)`,
        );
      }
    }
    if (aside) {
      log(`readings: rows written in ${((Date.now() - started) / 1000).toFixed(1)} s; building indexes…`);
      await restore(client, aside, log);
    }
    if (totals.readings > 0) {
      await client.query(
        `insert into audit_log (entity_type, entity_id, action, after) values ('system', 'seed', 'seed_readings', $1)`,
        [JSON.stringify(totals)],
      );
    }
    if (bulk) await client.query('commit');
    if (totals.readings > 0)
      await client.query(bulk ? 'vacuum (analyze) reading, followup' : 'analyze reading, followup');
  } catch (error) {
    failure = error instanceof Error ? error : new Error(String(error));
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release(failure);
  }
  const seconds = (Date.now() - started) / 1000;
  log(
    `readings: ${totals.readings.toLocaleString('en')} readings and ${totals.followups.toLocaleString('en')} follow-ups for ${totals.meters.toLocaleString('en')} meters in ${seconds.toFixed(1)} s`,
  );
  return { ...totals, seconds };
}

interface GeneratedReading {
  period: string;
  readAt: Date;
  createdAt: Date;
  previousIndex: string;
  indexValue: string | null;
  consumptionM3: string | null;
  kind: 'actual' | 'estimated';
  anomalyCodes: string[];
  flags: string[];
  note: string;
  status: 'accepted' | 'review' | 'conflict';
  readerId: number | null;
  latitude: string;
  longitude: string;
  accuracyM: number;
  followups: { code: string; status: 'open' | 'closed'; closedAt: Date | null; note: string }[];
}

interface GenerateContext {
  months: string[];
  workingDays: Map<string, string[]>;
  plans: Map<string, string>;
  codes: Codes;
  readersOf: Map<number, number[]>;
  today: string;
  seed: number;
  /** Smart meters: no reading in the current month (the last of `months`). */
  remote: ReadonlySet<string>;
}

const NO_METERS: ReadonlySet<string> = new Set();

/** The zone letter of a meter: its book's, its override, else the zone rule with a phase by account. */
function zoneOf(m: MeterRow): Zone {
  if (m.zone) return m.zone as Zone;
  if (m.zone_override) return m.zone_override as Zone;
  const cls = zoneClassForMeter(
    { caliberDn: m.caliber_dn, household: m.household, resettlement: m.resettlement },
    DEFAULT_ZONE_CONFIG,
  );
  if (cls === '0') return '0';
  return cls === 'AB'
    ? (['A', 'B'] as const)[m.account_id % 2]!
    : (['C', 'D', 'E'] as const)[m.account_id % 3]!;
}

function generateMeter(m: MeterRow, g: GenerateContext): { readings: GeneratedReading[] } {
  const r = rng((g.seed * 2_654_435_761) ^ (m.account_id * 31 + m.meter_id));
  const zone = zoneOf(m);
  const [lo, hi] = DAILY_M3[m.usage] ?? [0.3, 0.6];
  let daily = lo + r() * (hi - lo);
  if (m.role === 'master') daily *= 30;
  const top = 10n ** BigInt(m.dial_digits) * 1000n;
  const start = [m.connected_on, m.install_date ?? '0000-01-01'].sort()[1]!;
  const readerIds = g.readersOf.get(m.office_id) ?? [];
  const presentReader =
    m.book_id !== null ? m.reader_id : (readerIds[m.account_id % Math.max(1, readerIds.length)] ?? null);
  // A book that changed hands was read by its earlier reader before the handover.
  const readerOn = (day: string) =>
    m.previous_reader_id !== null && m.reader_since !== null && day < m.reader_since
      ? m.previous_reader_id
      : presentReader;
  // Where the meter sits, near Zhengzhou: one spot per meter, a few metres of GPS scatter per visit.
  const lat = 34.7 + r() * 0.12;
  const lon = 113.55 + r() * 0.2;
  // A few meters show something for the demo: stuck, in review, estimated twice in a row.
  const special = r();
  const stuck = g.codes.faults.length > 0 && special < 0.004;
  const review = !stuck && special >= 0.004 && special < 0.007;
  const twoEstimates =
    !stuck && !review && special >= 0.007 && special < 0.009 && g.codes.noAccess.length > 0;

  const dueMonths = g.months.filter(
    (month) => isReadingMonth(zone, Number(month.slice(5, 7))) && `${month}-31` > start,
  );
  const out: GeneratedReading[] = [];
  let register = toMilli(m.initial_index);
  let lastDate: string | null = null;
  const history: PastPeriod[] = [];
  let estimatesInARow = 0;
  const remote = g.remote.has(`${m.account_id}:${m.meter_id}`);
  for (const [i, month] of dueMonths.entries()) {
    if (remote && month === g.months[g.months.length - 1]) break;
    const days = g.workingDays.get(month) ?? [];
    if (days.length === 0) continue;
    const planned = m.book_id !== null ? g.plans.get(`${m.book_id}@${month}`) : undefined;
    // A book is read on its planned day (from today on: not yet); a meter without a plan on a
    // working day of the month.
    const day = planned ?? days[((m.book_id ?? m.account_id) * 7 + i) % days.length]!;
    if (day <= start || day >= g.today) continue;
    // Along the route from 08:05: about two minutes a meter, some scatter; one book-day in ten starts
    // 40 minutes late (after reading.dayStart) for the day monitor to show.
    const late = ((m.book_id ?? m.account_id) * 31 + i * 7) % 10 === 0 ? 40 : 0;
    const minutes =
      8 * 60 +
      5 +
      late +
      Math.min(460, ((m.route_seq ?? m.account_id % 200) * 2) % 460) +
      Math.floor(r() * 6);
    const readAt = chinaTime(
      day,
      `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`,
    );
    const createdAt = new Date(chinaTime(day, '16:00').getTime() + Math.floor(r() * 50) * 60_000);
    const periodDays =
      lastDate === null
        ? 30 * (zone === '0' ? 1 : zone === 'A' || zone === 'B' ? 2 : 3)
        : daysBetween(lastDate, day);
    const volume = Math.max(
      0,
      Math.round(daily * periodDays * season(m.usage, Number(month.slice(5, 7))) * (0.85 + r() * 0.3)),
    );
    const isLast = i === dueMonths.length - 1;
    const previousIndex = fromMilli(register);
    const common = {
      period: month,
      readAt,
      createdAt,
      previousIndex,
      note: '',
      readerId: readerOn(day),
      latitude: (lat + (r() - 0.5) * 0.0002).toFixed(6),
      longitude: (lon + (r() - 0.5) * 0.0002).toFixed(6),
      accuracyM: 5 + Math.floor(r() * 20),
      followups: [] as GeneratedReading['followups'],
    };
    // No access now and then (never twice running), and twice running on the last two visits of a
    // few meters, whose next visit is then forced (reading.maxConsecutiveEstimates).
    const forcedPair = twoEstimates && dueMonths.length - i <= 2;
    const noAccess =
      g.codes.noAccess.length > 0 &&
      lastDate !== null &&
      (forcedPair || (estimatesInARow === 0 && r() < 0.03));
    if (noAccess) {
      const code = g.codes.noAccess[Math.floor(r() * g.codes.noAccess.length)]!;
      const estimate = estimateConsumption(history, day, Math.max(1, periodDays));
      const consumption = toMilli(estimate.consumptionM3);
      out.push({
        ...common,
        indexValue: null,
        consumptionM3: fromMilli(consumption),
        kind: 'estimated',
        anomalyCodes: [code],
        flags: [],
        status: 'accepted',
        followups: [
          isLast
            ? { code, status: 'open', closedAt: null, note: '' }
            : {
                code,
                status: 'closed',
                closedAt: new Date(createdAt.getTime() + 5 * 86_400_000),
                note: '已联系用户，下次抄表预约入户',
              },
        ],
      });
      register = (register + consumption) % top;
      history.unshift({
        periodEnd: day,
        days: Math.max(1, periodDays),
        consumptionM3: fromMilli(consumption),
        estimated: true,
      });
      estimatesInARow++;
      lastDate = day;
      continue;
    }
    estimatesInARow = 0;
    // A stuck meter: the last reading found it stopped, more than 30 days ago, still open.
    if (stuck && isLast && daysBetween(day, g.today) > 35) {
      const code = g.codes.faults[Math.floor(r() * g.codes.faults.length)]!;
      out.push({
        ...common,
        indexValue: fromMilli(register),
        consumptionM3: '0.000',
        kind: 'actual',
        anomalyCodes: [code],
        flags: [],
        status: 'accepted',
        note: '表针不走，已报修',
        followups: [{ code, status: 'open', closedAt: null, note: '' }],
      });
      lastDate = day;
      continue;
    }
    let consumption = BigInt(volume) * 1000n;
    let status: 'accepted' | 'review' = 'accepted';
    let flags: string[] = [];
    if (review && isLast && history.length > 0) {
      // Far above this customer's use: the check flags it and the reading waits for the analyst.
      const expected = estimateConsumption(history, day, Math.max(1, periodDays));
      consumption = toMilli(expected.consumptionM3) * 5n + 9000n;
      const index = fromMilli((register + consumption) % top);
      const check = checkReading({
        previousIndex,
        index,
        dialDigits: m.dial_digits,
        expectedM3: expected.consumptionM3,
      });
      if (check.needsReview) {
        status = 'review';
        flags = check.flags;
      } else consumption = BigInt(volume) * 1000n;
    }
    const index = (register + consumption) % top;
    // Now and then an anomaly besides the index (seal broken, leak…): a follow-up, mostly closed since.
    const anomaly =
      g.codes.others.length > 0 && r() < 0.006
        ? g.codes.others[Math.floor(r() * g.codes.others.length)]!
        : null;
    out.push({
      ...common,
      indexValue: fromMilli(index),
      consumptionM3: fromMilli(consumption),
      kind: 'actual',
      anomalyCodes: anomaly ? [anomaly] : [],
      flags,
      status,
      followups: anomaly
        ? [
            isLast && r() < 0.6
              ? { code: anomaly, status: 'open', closedAt: null, note: '' }
              : {
                  code: anomaly,
                  status: 'closed',
                  closedAt: new Date(createdAt.getTime() + 7 * 86_400_000),
                  note: '已处理',
                },
          ]
        : [],
    });
    if (status === 'accepted') {
      register = index;
      if (lastDate !== null)
        history.unshift({
          periodEnd: day,
          days: Math.max(1, periodDays),
          consumptionM3: fromMilli(consumption),
          estimated: false,
        });
      lastDate = day;
    }
  }
  return { readings: out };
}
