import {
  DEFAULT_WORKLOAD_CONFIG,
  DEFAULT_ZONE_CONFIG,
  effectiveZoneClass,
  type MeterCounts,
  meterCategory,
  type WorkloadConfig,
  type Zone,
  type ZoneConfig,
  zoneClassForMeter,
} from '@meterline/domain';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { loadSettings } from '../platform/settings.ts';

type Db = Kysely<DB> | Transaction<DB>;

/**
 * A household meter (户表) for zoneClassForMeter: a residential usage type of a person's account,
 * not a master meter. Used with the aliases m (meter), c (customer), ut (usage_type).
 */
export const HOUSEHOLD_SQL = sql<boolean>`(c.kind = 'person' and ut.price_class = 'residential' and m.role <> 'master')`;

/** The zone rule's configuration: the large-meter caliber is a setting (reading.largeMeterMinDn). */
export async function zoneConfig(db: Db): Promise<ZoneConfig> {
  const settings = await loadSettings(db as Kysely<DB>);
  return { ...DEFAULT_ZONE_CONFIG, largeMeterMinDn: settings['reading.largeMeterMinDn'] };
}

/** An office's workload figures: its office_workload row over the defaults, field by field. */
export function workloadFrom(raw: unknown): WorkloadConfig {
  const r = (raw ?? {}) as Partial<WorkloadConfig>;
  return {
    metersPerDay: { ...DEFAULT_WORKLOAD_CONFIG.metersPerDay, ...(r.metersPerDay ?? {}) },
    maxDaysPerMonth: { ...DEFAULT_WORKLOAD_CONFIG.maxDaysPerMonth, ...(r.maxDaysPerMonth ?? {}) },
    rotationMonths: r.rotationMonths ?? DEFAULT_WORKLOAD_CONFIG.rotationMonths,
    rotationWarnMonths: r.rotationWarnMonths ?? DEFAULT_WORKLOAD_CONFIG.rotationWarnMonths,
  };
}

export async function workloadConfigs(
  db: Db,
  officeIds: readonly number[],
): Promise<Map<number, WorkloadConfig>> {
  const rows = officeIds.length
    ? await db
        .selectFrom('office_workload')
        .select(['office_id', 'config'])
        .where('office_id', 'in', [...officeIds])
        .execute()
    : [];
  const byOffice = new Map(rows.map((r) => [r.office_id, r.config]));
  return new Map(officeIds.map((id) => [id, workloadFrom(byOffice.get(id))]));
}

export async function workloadConfig(db: Db, officeId: number): Promise<WorkloadConfig> {
  return (await workloadConfigs(db, [officeId])).get(officeId)!;
}

/** The meters that count in a book: in service, of a customer that is not closed. */
const COUNTED = sql`m.state = 'in_service' and c.state <> 'closed'`;

/**
 * Meters by category (meterCategory) of each book, at the zone the rule (or an override) gives
 * each meter. Set-based: one grouped scan of the books' meters.
 */
export async function meterCountsByBook(
  db: Db,
  bookIds: readonly number[],
): Promise<Map<number, MeterCounts>> {
  const out = new Map<number, MeterCounts>(bookIds.map((id) => [id, {}]));
  if (bookIds.length === 0) return out;
  const zones = await zoneConfig(db);
  const rows = await sql<{
    book_id: number;
    caliber_dn: number | null;
    household: boolean;
    resettlement: boolean;
    mounting: string;
    zone_override: Zone | null;
    n: number;
  }>`
    select m.book_id, m.caliber_dn, ${HOUSEHOLD_SQL} as household, sp.resettlement, m.mounting, m.zone_override,
           count(*)::int as n
    from meter m
    join customer c on c.account_id = m.account_id
    join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
    join usage_type ut on ut.code = sp.usage_type_code
    where m.book_id = any(${[...bookIds]}::bigint[]) and ${COUNTED}
    group by 1, 2, 3, 4, 5, 6`.execute(db);
  for (const r of rows.rows) {
    const zoneClass = effectiveZoneClass(
      zoneClassForMeter(
        { caliberDn: r.caliber_dn, household: r.household, resettlement: r.resettlement },
        zones,
      ),
      r.zone_override,
    );
    const category = meterCategory({ zoneClass, mounting: r.mounting, resettlement: r.resettlement });
    const counts = out.get(r.book_id)!;
    counts[category] = (counts[category] ?? 0) + r.n;
  }
  return out;
}

/** Meters in service per book (the book list's meterCount). */
export async function meterTotals(db: Db, bookIds: readonly number[]): Promise<Map<number, number>> {
  if (bookIds.length === 0) return new Map();
  const rows = await sql<{ book_id: number; n: number }>`
    select m.book_id, count(*)::int as n from meter m
    where m.book_id = any(${[...bookIds]}::bigint[]) and m.state = 'in_service'
    group by m.book_id`.execute(db);
  return new Map(rows.rows.map((r) => [r.book_id, r.n]));
}

export function totalOf(counts: MeterCounts): number {
  return Object.values(counts).reduce((s, n) => s + (n ?? 0), 0);
}

/**
 * The staff who may read for an office: active, assigned to it, with the handheld permission, in
 * an office-scoped role (an organisation-wide admin holds every permission but reads no route).
 */
export async function readersOf(db: Db, officeIds: readonly number[] | null) {
  return db
    .selectFrom('staff as s')
    .innerJoin('staff_office as so', 'so.staff_id', 's.staff_id')
    .innerJoin('role as r', 'r.role_code', 's.role_code')
    .where('r.org_wide', '=', false)
    .select(['s.staff_id', 's.full_name', 's.username', 'so.office_id', 's.home_office_id'])
    .where('s.active', '=', true)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('role_permission as rp')
          .select('rp.permission')
          .whereRef('rp.role_code', '=', 's.role_code')
          .where('rp.permission', '=', 'reading.field'),
      ),
    )
    .$if(officeIds !== null, (qb) =>
      qb.where('so.office_id', 'in', officeIds!.length ? [...officeIds!] : [-1]),
    )
    .orderBy('s.staff_id')
    .execute();
}

/** The names of these staff (none asked: no query). */
export async function staffNames(db: Db, staffIds: readonly number[]): Promise<Map<number, string>> {
  if (staffIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('staff')
    .select(['staff_id', 'full_name'])
    .where('staff_id', 'in', [...staffIds])
    .execute();
  return new Map(rows.map((s) => [s.staff_id, s.full_name]));
}
