import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TariffVersion } from './tariff.ts';
import { type BilledVersion, billedVersionChanges } from './tariffEdit.ts';
import { fenToYuan, formatFenAsYuan, yuanToFen } from './yuan.ts';

const V2024: TariffVersion = {
  version: '2024-01',
  effectiveFrom: '2024-01-01',
  effectiveTo: null,
  charge: {
    kind: 'blocks',
    basis: 'annual',
    blocks: [
      { fromM3: '0', toM3: '180', priceFenPerM3: '210' },
      { fromM3: '180', toM3: '260', priceFenPerM3: '315' },
      { fromM3: '260', toM3: null, priceFenPerM3: '630' },
    ],
  },
  surcharges: [{ code: 'sewage', name: { 'zh-CN': '污水处理费', en: 'Sewage' }, priceFenPerM3: '95' }],
  minimumChargeFenPerMonth: null,
};

const BILLED: BilledVersion[] = [
  { version: '2024-01', firstDay: '2024-01-01', lastDay: '2025-05-31', bills: 12 },
];

const clone = (v: TariffVersion): TariffVersion => structuredClone(v);

describe('billedVersionChanges: a price change is a new version, never a rewrite of a billed one (DOMAIN.md §4)', () => {
  it('allows closing a billed version after its last billed day and adding the next one', () => {
    const closed = { ...clone(V2024), effectiveTo: '2025-06-30' };
    const next = { ...clone(V2024), version: '2025-07', effectiveFrom: '2025-07-01', effectiveTo: null };
    expect(billedVersionChanges([V2024], [closed, next], BILLED)).toEqual([]);
  });

  it('allows renaming a surcharge and writing a price with trailing zeros', () => {
    const v = clone(V2024);
    v.surcharges[0]!.name = { 'zh-CN': '污水处理费（含管网）', en: 'Sewage treatment' };
    if (v.charge.kind === 'blocks') v.charge.blocks[0]!.priceFenPerM3 = '210.00';
    expect(billedVersionChanges([V2024], [v], BILLED)).toEqual([]);
  });

  it('refuses closing it before a billed day, naming the day', () => {
    const closed = { ...clone(V2024), effectiveTo: '2025-05-30' };
    const problems = billedVersionChanges([V2024], [closed], BILLED);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({
      path: 'versions[0].effectiveTo',
      code: 'BILLED_VERSION_ENDS_EARLIER',
    });
    expect(problems[0]!.messages['zh-CN']).toContain('2025-05-31');
    expect(problems[0]!.messages.en).toBe(
      'Version 2024-01 priced bills up to 2025-05-31; it cannot end before that',
    );
  });

  it('refuses starting it after its first billed day', () => {
    const later = { ...clone(V2024), effectiveFrom: '2024-02-01' };
    expect(billedVersionChanges([V2024], [later], BILLED)).toMatchObject([
      { path: 'versions[0].effectiveFrom', code: 'BILLED_VERSION_STARTS_LATER' },
    ]);
  });

  it('refuses a changed block price, block bound, surcharge or minimum at the field that changed', () => {
    const v = clone(V2024);
    if (v.charge.kind !== 'blocks') throw new Error('blocks');
    v.charge.blocks[1]!.priceFenPerM3 = '320';
    v.charge.blocks[0]!.toM3 = '200';
    v.surcharges[0]!.priceFenPerM3 = '100';
    v.minimumChargeFenPerMonth = 500;
    const moved = { ...v, version: '2024-01' };
    const problems = billedVersionChanges(
      [V2024],
      [{ ...clone(V2024), version: 'x', effectiveTo: '2023-12-31', effectiveFrom: '2023-01-01' }, moved],
      BILLED,
    );
    expect(problems.map((p) => p.path).sort()).toEqual([
      'versions[1].charge.blocks[0].toM3',
      'versions[1].charge.blocks[1].priceFenPerM3',
      'versions[1].minimumChargeFenPerMonth',
      'versions[1].surcharges[0].priceFenPerM3',
    ]);
    expect(new Set(problems.map((p) => p.code))).toEqual(new Set(['BILLED_VERSION_PRICE']));
  });

  it('refuses removing or renaming it, and removing a block or a surcharge', () => {
    expect(billedVersionChanges([V2024], [{ ...clone(V2024), version: '2024' }], BILLED)).toMatchObject([
      { path: 'versions', code: 'BILLED_VERSION_REMOVED' },
    ]);
    const fewer = clone(V2024);
    if (fewer.charge.kind === 'blocks') fewer.charge.blocks.pop();
    fewer.surcharges = [];
    const paths = billedVersionChanges([V2024], [fewer], BILLED).map((p) => p.path);
    expect(paths).toContain('versions[0].charge.blocks');
    expect(paths).toContain('versions[0].surcharges');
  });

  it('refuses turning blocks into a flat price', () => {
    const flat: TariffVersion = { ...clone(V2024), charge: { kind: 'flat', priceFenPerM3: '210' } };
    const paths = billedVersionChanges([V2024], [flat], BILLED).map((p) => p.path);
    expect(paths).toContain('versions[0].charge.kind');
  });

  it('lets an unbilled version change freely', () => {
    const v = clone(V2024);
    if (v.charge.kind === 'blocks') v.charge.blocks[0]!.priceFenPerM3 = '1';
    expect(billedVersionChanges([V2024], [v], [])).toEqual([]);
  });
});

describe('yuan and fen, by moving the decimal point in the text (no binary float)', () => {
  it('converts typed yuan prices to fen', () => {
    expect(yuanToFen('2.1')).toBe('210');
    expect(yuanToFen('3.15')).toBe('315');
    expect(yuanToFen('0.955')).toBe('95.5');
    expect(yuanToFen('0.07')).toBe('7');
    expect(yuanToFen('0.000001')).toBe('0.0001');
    expect(yuanToFen(' 6.30 ')).toBe('630');
    expect(yuanToFen('0')).toBe('0');
    expect(yuanToFen('-0')).toBe('0');
    expect(yuanToFen('-1.5')).toBe('-150');
    expect(yuanToFen('1234567.123456')).toBe('123456712.3456');
    // 0.1 + 0.2 in floating point would not be 0.3; here nothing is a float.
    expect(yuanToFen('0.3')).toBe('30');
  });

  it('refuses what is not a yuan price', () => {
    for (const bad of ['', '.5', '1.', '1.0000001', 'abc', '1e3', '12345678', '1,5', '+1'])
      expect(yuanToFen(bad), bad).toBeNull();
  });

  it('shows fen prices in yuan with at least two decimals', () => {
    expect(fenToYuan('210')).toBe('2.10');
    expect(fenToYuan('95.5')).toBe('0.955');
    expect(fenToYuan('7')).toBe('0.07');
    expect(fenToYuan('0')).toBe('0.00');
    expect(fenToYuan('-5')).toBe('-0.05');
    expect(fenToYuan('0.0001')).toBe('0.000001');
    expect(fenToYuan('x')).toBeNull();
    expect(formatFenAsYuan(21450)).toBe('214.50');
    expect(formatFenAsYuan(-3)).toBe('-0.03');
    expect(formatFenAsYuan(0)).toBe('0.00');
  });

  it('round-trips every fen price with at most 4 decimals', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 13n) + 1n, max: 10n ** 13n - 1n }), (tenThousandths) => {
        const negative = tenThousandths < 0n;
        const abs = (negative ? -tenThousandths : tenThousandths).toString().padStart(5, '0');
        const whole = abs.slice(0, -4).replace(/^0+(?=\d)/, '');
        const fraction = abs.slice(-4).replace(/0+$/, '');
        const fen = `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
        expect(yuanToFen(fenToYuan(fen)!)).toBe(fen);
      }),
    );
  });
});
