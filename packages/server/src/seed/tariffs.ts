import { type Tariff, type TariffVersion, validateTariff } from '@meterline/domain';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * The demo utility's tariffs (DOMAIN.md §4), one per metered usage type of seed/reference.ts, at
 * prices like Zhengzhou's: residential water in three annual blocks in the national 1 : 1.5 : 3
 * ratio (0–180, 180–300, over 300 m³ a year), non-residential and special-industry water at flat
 * prices, each with the sewage treatment fee (污水处理费) and the water-resource fee (水资源费) per m³;
 * residential gas in three annual blocks (0–400, 400–600, over 600 m³ a year, 1 : 1.2 : 1.5),
 * other gas flat. Water changed price on 1 July 2026, so a period across that day is split pro
 * rata. Cable TV and broadband have no meter and no tariff here. Prices are fen per m³.
 */

const WATER = { 'zh-CN': '水费', en: 'Water charge' };
const GAS = { 'zh-CN': '燃气费', en: 'Gas charge' };
const SEWAGE = { 'zh-CN': '污水处理费', en: 'Sewage treatment' };
const RESOURCE = { 'zh-CN': '水资源费', en: 'Water-resource fee' };

/** The day the current water prices took effect; the versions before it end the day before. */
export const WATER_PRICE_CHANGE = '2026-07-01';
const FIRST_DAY = '2015-01-01';
const BEFORE_CHANGE = '2026-06-30';

type Body = Omit<TariffVersion, 'version' | 'effectiveFrom' | 'effectiveTo'>;

function waterSurcharges(sewageFen: string, resourceFen: string): TariffVersion['surcharges'] {
  return [
    { code: 'sewage', name: SEWAGE, priceFenPerM3: sewageFen },
    { code: 'water_resource', name: RESOURCE, priceFenPerM3: resourceFen },
  ];
}

function residentialWater(blocksFen: [string, string, string], sewageFen: string): Body {
  return {
    charge: {
      kind: 'blocks',
      basis: 'annual',
      blocks: [
        { fromM3: '0', toM3: '180', priceFenPerM3: blocksFen[0] },
        { fromM3: '180', toM3: '300', priceFenPerM3: blocksFen[1] },
        { fromM3: '300', toM3: null, priceFenPerM3: blocksFen[2] },
      ],
    },
    surcharges: waterSurcharges(sewageFen, '40'),
    minimumChargeFenPerMonth: null,
  };
}

function flatWater(priceFen: string, sewageFen: string, resourceFen: string): Body {
  return {
    charge: { kind: 'flat', priceFenPerM3: priceFen },
    surcharges: waterSurcharges(sewageFen, resourceFen),
    minimumChargeFenPerMonth: null,
  };
}

/** Water: the version before the 2026 price change, then the current one. */
function water(usageType: string, before: Body, current: Body): Tariff {
  return {
    usageType,
    chargeName: WATER,
    versions: [
      { version: '2015-01', effectiveFrom: FIRST_DAY, effectiveTo: BEFORE_CHANGE, ...before },
      { version: '2026-07', effectiveFrom: WATER_PRICE_CHANGE, effectiveTo: null, ...current },
    ],
  };
}

function gas(usageType: string, body: Body): Tariff {
  return {
    usageType,
    chargeName: GAS,
    versions: [{ version: '2015-01', effectiveFrom: FIRST_DAY, effectiveTo: null, ...body }],
  };
}

const NON_RESIDENTIAL_BEFORE = flatWater('340', '140', '55');
const NON_RESIDENTIAL_NOW = flatWater('360', '140', '55');

export const DEFAULT_TARIFFS: readonly Tariff[] = [
  // 4.10 yuan/m³ all in for the first block today (2.75 + 0.95 sewage + 0.40 water resource).
  water(
    'W_RES',
    residentialWater(['260', '390', '780'], '85'),
    residentialWater(['275', '412.5', '825'], '95'),
  ),
  water('W_ADM', NON_RESIDENTIAL_BEFORE, NON_RESIDENTIAL_NOW),
  water('W_BIZ', NON_RESIDENTIAL_BEFORE, NON_RESIDENTIAL_NOW),
  water('W_IND', NON_RESIDENTIAL_BEFORE, NON_RESIDENTIAL_NOW),
  water('W_CON', flatWater('380', '140', '55'), flatWater('400', '140', '55')),
  // Bath houses and car washes (特种行业).
  water('W_SPC', flatWater('1500', '140', '55'), flatWater('1800', '140', '55')),
  // Fire meters: water drawn other than for fire fighting is charged like non-residential water.
  water('W_FIRE', NON_RESIDENTIAL_BEFORE, NON_RESIDENTIAL_NOW),
  gas('G_RES', {
    charge: {
      kind: 'blocks',
      basis: 'annual',
      blocks: [
        { fromM3: '0', toM3: '400', priceFenPerM3: '256' },
        { fromM3: '400', toM3: '600', priceFenPerM3: '307' },
        { fromM3: '600', toM3: null, priceFenPerM3: '384' },
      ],
    },
    surcharges: [],
    minimumChargeFenPerMonth: null,
  }),
  gas('G_BIZ', {
    charge: { kind: 'flat', priceFenPerM3: '340' },
    surcharges: [],
    minimumChargeFenPerMonth: null,
  }),
  gas('G_IND', {
    charge: { kind: 'flat', priceFenPerM3: '320' },
    surcharges: [],
    minimumChargeFenPerMonth: null,
  }),
  // Heating boilers: a flat price with a minimum charge a month (the supply is kept ready).
  gas('G_HEAT', {
    charge: { kind: 'flat', priceFenPerM3: '300' },
    surcharges: [],
    minimumChargeFenPerMonth: 5000,
  }),
];

/**
 * Stores the default tariffs of the usage types that exist and have no tariff yet; returns how
 * many it added. Idempotent: a tariff an admin has edited (or removed versions of) is left alone.
 */
export async function ensureDefaultTariffs(db: Kysely<DB>): Promise<number> {
  for (const tariff of DEFAULT_TARIFFS) {
    const problems = validateTariff(tariff);
    if (problems.length > 0)
      throw new Error(`default tariff ${tariff.usageType} is invalid: ${problems[0]!.messages.en}`);
  }
  return db.transaction().execute(async (trx) => {
    const usageTypes = new Set(
      (await trx.selectFrom('usage_type').select('code').execute()).map((u) => u.code),
    );
    const missing = DEFAULT_TARIFFS.filter((t) => usageTypes.has(t.usageType));
    if (missing.length === 0) return 0;
    const added = await trx
      .insertInto('tariff')
      .values(
        missing.map((t) => ({
          usage_type_code: t.usageType,
          charge_name_zh: t.chargeName['zh-CN'],
          charge_name_en: t.chargeName.en,
        })),
      )
      .onConflict((oc) => oc.column('usage_type_code').doNothing())
      .returning('usage_type_code')
      .execute();
    const fresh = new Set(added.map((a) => a.usage_type_code));
    const versions = missing
      .filter((t) => fresh.has(t.usageType))
      .flatMap((t) =>
        t.versions.map((v) => ({
          usage_type_code: t.usageType,
          version: v.version,
          effective_from: v.effectiveFrom,
          effective_to: v.effectiveTo,
          body: JSON.stringify({
            charge: v.charge,
            surcharges: v.surcharges,
            minimumChargeFenPerMonth: v.minimumChargeFenPerMonth,
          }),
        })),
      );
    if (versions.length) await trx.insertInto('tariff_version').values(versions).execute();
    if (fresh.size) {
      await trx
        .insertInto('audit_log')
        .values({
          entity_type: 'system',
          entity_id: 'seed',
          action: 'seed_tariffs',
          after: JSON.stringify({ tariffs: [...fresh] }),
        })
        .execute();
    }
    return fresh.size;
  });
}
