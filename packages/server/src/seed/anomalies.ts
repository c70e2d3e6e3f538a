import type { Insertable, Kysely } from 'kysely';
import type { AnomalyCodeTable, DB } from '../db/schema.ts';

type Department = 'inspection' | 'repair' | 'billing' | 'office' | 'collection';

interface AnomalyDefault {
  code: string;
  name_zh: string;
  name_en: string;
  /** Where the follow-up goes. */
  department: Department;
  /** No index can be read: the reading becomes an estimate. */
  prevents_reading?: boolean;
  /** Stuck, dead or broken (卡、死、坏): escalated after reading.faultEscalationDays. */
  meter_fault?: boolean;
}

/**
 * The anomaly codes a reader picks from on the handheld (DOMAIN.md §3), with the department each
 * follow-up goes to. Admins may add, rename or retire codes; only missing codes are inserted.
 */
export const DEFAULT_ANOMALY_CODES: readonly AnomalyDefault[] = [
  { code: 'stopped', name_zh: '表停', name_en: 'Meter stopped', department: 'repair', meter_fault: true },
  { code: 'broken', name_zh: '表坏', name_en: 'Meter broken', department: 'repair', meter_fault: true },
  {
    code: 'reversed',
    name_zh: '倒转',
    name_en: 'Running backwards',
    department: 'inspection',
    meter_fault: true,
  },
  {
    code: 'no_access',
    name_zh: '无法入户',
    name_en: 'No access',
    department: 'office',
    prevents_reading: true,
  },
  {
    code: 'dial_unreadable',
    name_zh: '表盘模糊',
    name_en: 'Dial unreadable',
    department: 'repair',
    prevents_reading: true,
  },
  {
    code: 'meter_missing',
    name_zh: '表丢失',
    name_en: 'Meter missing',
    department: 'inspection',
    prevents_reading: true,
  },
  {
    code: 'meter_covered',
    name_zh: '表位压占',
    name_en: 'Meter buried or blocked',
    department: 'office',
    prevents_reading: true,
  },
  { code: 'seal_broken', name_zh: '铅封损坏', name_en: 'Seal broken', department: 'inspection' },
  { code: 'usage_mismatch', name_zh: '用水性质不符', name_en: 'Usage type mismatch', department: 'billing' },
  { code: 'illegal_use', name_zh: '违章用水', name_en: 'Illegal use', department: 'inspection' },
  { code: 'bypass_open', name_zh: '旁通阀开启', name_en: 'Bypass valve open', department: 'inspection' },
  { code: 'leak', name_zh: '漏水', name_en: 'Leak', department: 'repair' },
  { code: 'address_mismatch', name_zh: '门牌不符', name_en: 'Address mismatch', department: 'office' },
];

/** Inserts the default anomaly codes that are missing (admins' edits are left alone). */
export async function ensureAnomalyCodes(db: Kysely<DB>): Promise<void> {
  const rows: Insertable<AnomalyCodeTable>[] = DEFAULT_ANOMALY_CODES.map((a, i) => ({
    code: a.code,
    name_zh: a.name_zh,
    name_en: a.name_en,
    department: a.department,
    prevents_reading: a.prevents_reading ?? false,
    meter_fault: a.meter_fault ?? false,
    active: true,
    sort_order: (i + 1) * 10,
  }));
  await db
    .insertInto('anomaly_code')
    .values(rows)
    .onConflict((oc) => oc.column('code').doNothing())
    .execute();
}
