import { DEFAULT_ROLES } from '@meterline/domain';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { ensureAnomalyCodes } from './anomalies.ts';

/** Usage types (用水性质 / 用气性质) a new installation starts with; admins add their own. */
export const DEFAULT_USAGE_TYPES = [
  {
    code: 'W_RES',
    utility: 'water',
    name_zh: '居民生活用水',
    name_en: 'Residential water',
    price_class: 'residential',
  },
  {
    code: 'W_ADM',
    utility: 'water',
    name_zh: '行政事业用水',
    name_en: 'Public institutions',
    price_class: 'non_residential',
  },
  {
    code: 'W_BIZ',
    utility: 'water',
    name_zh: '经营服务用水',
    name_en: 'Commercial water',
    price_class: 'non_residential',
  },
  {
    code: 'W_IND',
    utility: 'water',
    name_zh: '工业用水',
    name_en: 'Industrial water',
    price_class: 'non_residential',
  },
  {
    code: 'W_SPC',
    utility: 'water',
    name_zh: '特种行业用水',
    name_en: 'Special industry water',
    price_class: 'special',
  },
  {
    code: 'W_CON',
    utility: 'water',
    name_zh: '建筑施工用水',
    name_en: 'Construction water',
    price_class: 'non_residential',
  },
  { code: 'W_FIRE', utility: 'water', name_zh: '消防用水', name_en: 'Fire service', price_class: 'fire' },
  {
    code: 'G_RES',
    utility: 'gas',
    name_zh: '居民用气',
    name_en: 'Residential gas',
    price_class: 'residential',
  },
  {
    code: 'G_BIZ',
    utility: 'gas',
    name_zh: '商业用气',
    name_en: 'Commercial gas',
    price_class: 'non_residential',
  },
  {
    code: 'G_IND',
    utility: 'gas',
    name_zh: '工业用气',
    name_en: 'Industrial gas',
    price_class: 'non_residential',
  },
  {
    code: 'G_HEAT',
    utility: 'gas',
    name_zh: '采暖用气',
    name_en: 'Heating gas',
    price_class: 'non_residential',
  },
  { code: 'C_TV', utility: 'catv', name_zh: '有线电视', name_en: 'Cable TV', price_class: 'residential' },
  { code: 'C_BB', utility: 'catv', name_zh: '宽带', name_en: 'Broadband', price_class: 'residential' },
] as const;

/**
 * Reference data every installation needs: the built-in roles with their default permissions
 * and the usage types. Only missing rows are inserted, and each default permission is granted
 * once, so admins' changes survive restarts and upgrades.
 */
export async function ensureReferenceData(db: Kysely<DB>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    for (const role of DEFAULT_ROLES) {
      await trx
        .insertInto('role')
        .values({
          role_code: role.code,
          name_zh: role.name['zh-CN'],
          name_en: role.name.en,
          org_wide: role.orgWide,
          builtin: true,
        })
        .onConflict((oc) => oc.column('role_code').doNothing())
        .execute();
      // Default permissions not granted before (new roles, or defaults added by an upgrade).
      const granted = await trx
        .selectFrom('role_default_grant')
        .select('permission')
        .where('role_code', '=', role.code)
        .execute();
      const missing = role.permissions.filter((p) => !granted.some((g) => g.permission === p));
      if (missing.length) {
        await trx
          .insertInto('role_permission')
          .values(missing.map((permission) => ({ role_code: role.code, permission })))
          .onConflict((oc) => oc.doNothing())
          .execute();
        await trx
          .insertInto('role_default_grant')
          .values(missing.map((permission) => ({ role_code: role.code, permission })))
          .execute();
      }
    }
    await trx
      .insertInto('usage_type')
      .values(DEFAULT_USAGE_TYPES.map((u, i) => ({ ...u, sort_order: i })))
      .onConflict((oc) => oc.column('code').doNothing())
      .execute();
  });
  await ensureAnomalyCodes(db);
}
