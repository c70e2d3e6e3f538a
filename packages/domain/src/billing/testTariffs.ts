import type { Tariff } from './tariff.ts';

/** Tariffs for the billing rules' tests: shapes a Chinese utility really uses. */

export const WATER = { 'zh-CN': '水费', en: 'Water charge' };
export const SEWAGE = { code: 'sewage', name: { 'zh-CN': '污水处理费', en: 'Sewage treatment' } };
const WATER_RESOURCE = { code: 'water_resource', name: { 'zh-CN': '水资源费', en: 'Water-resource fee' } };

/** A typical Chinese 3-tier household tariff: annual blocks 0–180, 180–260, over 260 m³ (1 : 1.5 : 3). */
export const RESIDENTIAL: Tariff = {
  usageType: 'residential',
  chargeName: WATER,
  versions: [
    {
      version: '2024-01',
      effectiveFrom: '2024-01-01',
      effectiveTo: '2025-06-30',
      charge: {
        kind: 'blocks',
        basis: 'annual',
        blocks: [
          { fromM3: '0', toM3: '180', priceFenPerM3: '210' },
          { fromM3: '180', toM3: '260', priceFenPerM3: '315' },
          { fromM3: '260', toM3: null, priceFenPerM3: '630' },
        ],
      },
      surcharges: [{ ...SEWAGE, priceFenPerM3: '95' }],
      minimumChargeFenPerMonth: null,
    },
    {
      version: '2025-07',
      effectiveFrom: '2025-07-01',
      effectiveTo: null,
      charge: {
        kind: 'blocks',
        basis: 'annual',
        blocks: [
          { fromM3: '0', toM3: '180', priceFenPerM3: '245' },
          { fromM3: '180', toM3: '260', priceFenPerM3: '368' },
          { fromM3: '260', toM3: null, priceFenPerM3: '735' },
        ],
      },
      surcharges: [
        { ...SEWAGE, priceFenPerM3: '140' },
        { ...WATER_RESOURCE, priceFenPerM3: '25' },
      ],
      minimumChargeFenPerMonth: null,
    },
  ],
};

export const NON_RESIDENTIAL: Tariff = {
  usageType: 'non_residential',
  chargeName: WATER,
  versions: [
    {
      version: '2024-01',
      effectiveFrom: '2024-01-01',
      effectiveTo: null,
      charge: { kind: 'flat', priceFenPerM3: '425' },
      surcharges: [{ ...SEWAGE, priceFenPerM3: '140' }],
      minimumChargeFenPerMonth: 2000,
    },
  ],
};

export const GAS_MONTHLY: Tariff = {
  usageType: 'gas_residential',
  chargeName: { 'zh-CN': '燃气费', en: 'Gas charge' },
  versions: [
    {
      version: 'g1',
      effectiveFrom: '2020-01-01',
      effectiveTo: null,
      charge: {
        kind: 'blocks',
        basis: 'monthly',
        blocks: [
          { fromM3: '0', toM3: '10', priceFenPerM3: '300' },
          { fromM3: '10', toM3: null, priceFenPerM3: '450' },
        ],
      },
      surcharges: [],
      minimumChargeFenPerMonth: null,
    },
  ],
};
