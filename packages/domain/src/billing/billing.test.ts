import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../platform/errors.ts';
import { splitIntoBlocks } from './blocks.ts';
import { type BillInput, calculateBill, prorateByDays } from './calculateBill.ts';
import { monthsIn } from './days.ts';
import { type Tariff, type TariffVersion, validateTariff } from './tariff.ts';
import { GAS_MONTHLY, NON_RESIDENTIAL, RESIDENTIAL, SEWAGE } from './testTariffs.ts';

function bill(overrides: Partial<BillInput> & Pick<BillInput, 'periodFrom' | 'periodTo'>) {
  return calculateBill({
    tariff: RESIDENTIAL,
    reading: { kind: 'index', startIndex: '1200', endIndex: '1250', dialDigits: 5 },
    ...overrides,
  });
}

const amounts = (b: ReturnType<typeof calculateBill>) =>
  b.lines.map((l) => [l.tariffVersion, l.code, l.blockNo, l.volumeM3, l.amountFen]);

describe('calculateBill — 3-tier annual household tariff (0–180 / 180–260 / over 260 m³ a year) with sewage', () => {
  it('a quarter inside block 1: 50 m³ × 2.10 + 50 m³ × 0.95 = 152.50 yuan', () => {
    const b = bill({
      periodFrom: '2025-01-01',
      periodTo: '2025-03-31',
      annualBlockUsed: { year: 2025, volumeM3: '0' },
    });
    expect(b.consumptionM3).toBe('50.000');
    expect(b.payableM3).toBe('50.000');
    expect(amounts(b)).toEqual([
      ['2024-01', 'charge', 1, '50.000', 10_500],
      ['2024-01', 'sewage', null, '50.000', 4_750],
    ]);
    expect(b.totalFen).toBe(15_250);
    expect(b.annualBlockUsedAfter).toEqual({ year: 2025, volumeM3: '50.000' });
    expect(b.lines[0]!.description).toEqual({
      'zh-CN': '水费第一阶梯（年用量 0–180 m³）',
      en: 'Water charge, block 1 (0–180 m³ a year)',
    });
    expect(b.lines[0]!.unitPriceFen).toBe('210');
    expect(b.explanation.at(-1)).toEqual({
      'zh-CN': '合计 152.50 元（2 项，每项四舍五入到分后相加）',
      en: 'Total 152.50 yuan (2 line(s), each rounded half-up to the fen, then added)',
    });
  });

  it('crosses into block 2 where earlier bills left off: 150 used, 60 more = 30 × 2.10 + 30 × 3.15', () => {
    const b = bill({
      periodFrom: '2025-04-01',
      periodTo: '2025-06-30',
      reading: { kind: 'index', startIndex: '1250', endIndex: '1310', dialDigits: 5 },
      annualBlockUsed: { year: 2025, volumeM3: '150' },
    });
    expect(amounts(b)).toEqual([
      ['2024-01', 'charge', 1, '30.000', 6_300],
      ['2024-01', 'charge', 2, '30.000', 9_450],
      ['2024-01', 'sewage', null, '60.000', 5_700],
    ]);
    expect(b.totalFen).toBe(21_450);
    expect(b.annualBlockUsedAfter.volumeM3).toBe('210.000');
  });

  it('reaches block 3: 250 used, 25 more = 10 × 3.15 + 15 × 6.30 + 25 × 0.95', () => {
    const b = bill({
      periodFrom: '2025-04-01',
      periodTo: '2025-06-30',
      reading: { kind: 'index', startIndex: '1000', endIndex: '1025', dialDigits: 5 },
      annualBlockUsed: { year: 2025, volumeM3: '250' },
    });
    expect(amounts(b)).toEqual([
      ['2024-01', 'charge', 2, '10.000', 3_150],
      ['2024-01', 'charge', 3, '15.000', 9_450],
      ['2024-01', 'sewage', null, '25.000', 2_375],
    ]);
    expect(b.totalFen).toBe(14_975);
    expect(b.lines[1]!.description['zh-CN']).toBe('水费第三阶梯（年用量 260 m³ 以上）');
  });

  it('rounds each line half-up to the fen once: 12.345 × 210 = 2592.45 → 2592, × 95 = 1172.775 → 1173', () => {
    const b = bill({
      periodFrom: '2025-01-01',
      periodTo: '2025-01-31',
      reading: { kind: 'index', startIndex: '100.000', endIndex: '112.345', dialDigits: 5 },
    });
    expect(b.lines.map((l) => l.amountFen)).toEqual([2_592, 1_173]);
    expect(b.totalFen).toBe(3_765);
  });

  it('splits a period that spans a tariff change pro rata by days (30 June days old, 31 July days new)', () => {
    const b = bill({
      periodFrom: '2025-06-01',
      periodTo: '2025-07-31',
      reading: { kind: 'index', startIndex: '1000', endIndex: '1061', dialDigits: 5 },
      annualBlockUsed: { year: 2025, volumeM3: '100' },
    });
    expect(b.days).toBe(61);
    expect(b.segments).toEqual([
      { from: '2025-06-01', to: '2025-06-30', days: 30, tariffVersion: '2024-01', volumeM3: '30.000' },
      { from: '2025-07-01', to: '2025-07-31', days: 31, tariffVersion: '2025-07', volumeM3: '31.000' },
    ]);
    expect(amounts(b)).toEqual([
      ['2024-01', 'charge', 1, '30.000', 6_300],
      ['2024-01', 'sewage', null, '30.000', 2_850],
      ['2025-07', 'charge', 1, '31.000', 7_595],
      ['2025-07', 'sewage', null, '31.000', 4_340],
      ['2025-07', 'water_resource', null, '31.000', 775],
    ]);
    expect(b.totalFen).toBe(21_860);
    expect(b.lines[2]).toMatchObject({ from: '2025-07-01', to: '2025-07-31' });
    expect(b.annualBlockUsedAfter.volumeM3).toBe('161.000');
  });

  it('at a tariff change the earlier days take the lower blocks first (160 used: old 20 @ b1 + 10 @ b2, new 31 @ b2)', () => {
    const b = bill({
      periodFrom: '2025-06-01',
      periodTo: '2025-07-31',
      reading: { kind: 'index', startIndex: '1000', endIndex: '1061', dialDigits: 5 },
      annualBlockUsed: { year: 2025, volumeM3: '160' },
    });
    expect(amounts(b)).toEqual([
      ['2024-01', 'charge', 1, '20.000', 4_200],
      ['2024-01', 'charge', 2, '10.000', 3_150],
      ['2024-01', 'sewage', null, '30.000', 2_850],
      ['2025-07', 'charge', 2, '31.000', 11_408],
      ['2025-07', 'sewage', null, '31.000', 4_340],
      ['2025-07', 'water_resource', null, '31.000', 775],
    ]);
    expect(b.totalFen).toBe(26_723);
  });

  it('shares an uneven volume by days in litres that add up: 10 m³ over 20 + 10 days = 6.667 + 3.333', () => {
    const b = bill({
      periodFrom: '2025-06-11',
      periodTo: '2025-07-10',
      reading: { kind: 'index', startIndex: '0', endIndex: '10', dialDigits: 5 },
    });
    expect(b.segments.map((s) => s.volumeM3)).toEqual(['6.667', '3.333']);
    // 6.667×210=1400.07→1400, ×95=633.365→633; 3.333×245=816.585→817, ×140=466.62→467, ×25=83.325→83
    expect(b.lines.map((l) => l.amountFen)).toEqual([1_400, 633, 817, 467, 83]);
    expect(b.totalFen).toBe(3_400);
  });

  it('restarts annual blocks on 1 January within a period that spans the new year', () => {
    const b = bill({
      periodFrom: '2024-12-01',
      periodTo: '2025-01-31',
      reading: { kind: 'index', startIndex: '500', endIndex: '562', dialDigits: 5 },
      annualBlockUsed: { year: 2024, volumeM3: '170' },
    });
    expect(amounts(b)).toEqual([
      ['2024-01', 'charge', 1, '10.000', 2_100],
      ['2024-01', 'charge', 2, '21.000', 6_615],
      ['2024-01', 'sewage', null, '31.000', 2_945],
      ['2024-01', 'charge', 1, '31.000', 6_510],
      ['2024-01', 'sewage', null, '31.000', 2_945],
    ]);
    expect(b.totalFen).toBe(21_115);
    expect(b.annualBlockUsedAfter).toEqual({ year: 2025, volumeM3: '31.000' });
  });

  it('treats last year’s annual usage as nothing used in a bill of the new year', () => {
    const b = bill({
      periodFrom: '2025-01-01',
      periodTo: '2025-03-31',
      annualBlockUsed: { year: 2024, volumeM3: '300' },
    });
    expect(b.lines[0]).toMatchObject({ blockNo: 1, volumeM3: '50.000' });
  });

  it('refuses annual usage recorded for a year after the period starts', () => {
    expect(() =>
      bill({
        periodFrom: '2024-11-01',
        periodTo: '2025-01-31',
        annualBlockUsed: { year: 2025, volumeM3: '10' },
      }),
    ).toThrow(DomainError);
  });
});

describe('calculateBill — consumption (DOMAIN.md §4: end − start with rollover, less sub-meters, less low-income reduction)', () => {
  it('reads through a register rollover: 99990 → 12 on 5 digits is 22 m³', () => {
    const b = bill({
      periodFrom: '2025-01-01',
      periodTo: '2025-01-31',
      reading: { kind: 'index', startIndex: '99990', endIndex: '12', dialDigits: 5 },
    });
    expect(b.rollover).toBe(true);
    expect(b.consumptionM3).toBe('22.000');
    expect(b.explanation[0]!['zh-CN']).toContain('字轮已归零');
  });

  it('bills a master meter less its sub-meters: 500 − 120.5 − 179.5 = 200 m³ at 4.25 + 1.40', () => {
    const b = calculateBill({
      tariff: NON_RESIDENTIAL,
      periodFrom: '2025-01-01',
      periodTo: '2025-01-31',
      reading: { kind: 'volume', consumptionM3: '500' },
      subMeterConsumptionsM3: ['120.5', '179.5'],
    });
    expect(b.subMetersM3).toBe('300.000');
    expect(b.payableM3).toBe('200.000');
    expect(b.lines.map((l) => [l.kind, l.amountFen])).toEqual([
      ['flat', 85_000],
      ['surcharge', 28_000],
    ]);
    expect(b.totalFen).toBe(113_000);
  });

  it('refuses a master meter whose sub-meters used more than it did, with both volumes in the reason', () => {
    const run = () =>
      calculateBill({
        tariff: NON_RESIDENTIAL,
        periodFrom: '2025-01-01',
        periodTo: '2025-01-31',
        reading: { kind: 'volume', consumptionM3: '100' },
        subMeterConsumptionsM3: ['60', '41'],
      });
    expect(run).toThrow(DomainError);
    try {
      run();
    } catch (e) {
      const err = e as DomainError;
      expect(err.code).toBe('SUB_METERS_EXCEED_MASTER');
      expect(err.messageIn('zh-CN')).toBe(
        '分表用量合计 101.000 m³ 大于总表用量 100.000 m³，请核实抄表后再开账',
      );
    }
  });

  it('reduces a low-income household by 5 m³ a month: a quarter is exactly 15 m³', () => {
    const b = bill({
      periodFrom: '2025-01-01',
      periodTo: '2025-03-31',
      reading: { kind: 'index', startIndex: '0', endIndex: '40', dialDigits: 5 },
      lowIncome: { reductionM3PerMonth: '5' },
    });
    expect(b.lowIncomeReductionM3).toBe('15.000');
    expect(b.payableM3).toBe('25.000');
    expect(b.totalFen).toBe(25 * 210 + 25 * 95);
    expect(b.annualBlockUsedAfter.volumeM3).toBe('25.000');
  });

  it('never reduces below zero and stops the reduction after its validity', () => {
    const small = bill({
      periodFrom: '2025-01-01',
      periodTo: '2025-03-31',
      reading: { kind: 'index', startIndex: '0', endIndex: '8', dialDigits: 5 },
      lowIncome: { reductionM3PerMonth: '5' },
    });
    expect(small.lowIncomeReductionM3).toBe('8.000');
    expect(small.payableM3).toBe('0.000');
    expect(small.lines).toEqual([]);
    expect(small.totalFen).toBe(0);
    // 1 month of January + 15/28 of February = 1.5357… months × 5 = 7.679 m³
    const expiring = bill({
      periodFrom: '2025-01-01',
      periodTo: '2025-03-31',
      reading: { kind: 'index', startIndex: '0', endIndex: '40', dialDigits: 5 },
      lowIncome: { reductionM3PerMonth: '5', validUntil: '2025-02-15' },
    });
    expect(expiring.lowIncomeReductionM3).toBe('7.679');
  });
});

describe('calculateBill — monthly blocks and minimum charges', () => {
  it('counts months by calendar month: February is one month, January–March three', () => {
    expect(monthsIn('2025-02-01', '2025-02-28').toString()).toBe('1');
    expect(monthsIn('2025-01-01', '2025-03-31').toString()).toBe('3');
    expect(monthsIn('2024-02-01', '2024-02-29').toString()).toBe('1');
  });

  it('a February gas bill: 10 m³ × 3.00 + 2 m³ × 4.50', () => {
    const b = calculateBill({
      tariff: GAS_MONTHLY,
      periodFrom: '2025-02-01',
      periodTo: '2025-02-28',
      reading: { kind: 'volume', consumptionM3: '12' },
    });
    expect(b.lines.map((l) => [l.blockNo, l.volumeM3, l.amountFen])).toEqual([
      [1, '10.000', 3_000],
      [2, '2.000', 900],
    ]);
  });

  it('a quarter has three months of block: 30 m³ × 3.00 + 5 m³ × 4.50', () => {
    const b = calculateBill({
      tariff: GAS_MONTHLY,
      periodFrom: '2025-01-01',
      periodTo: '2025-03-31',
      reading: { kind: 'volume', consumptionM3: '35' },
    });
    expect(b.totalFen).toBe(11_250);
    expect(b.lines[0]!.description.en).toBe('Gas charge, block 1 (0–10 m³ a month × 3.000 months)');
  });

  it('a period across months scales the block by its share of each month: 17/31 + 14/28 months', () => {
    const b = calculateBill({
      tariff: GAS_MONTHLY,
      periodFrom: '2025-01-15',
      periodTo: '2025-02-14',
      reading: { kind: 'volume', consumptionM3: '12' },
    });
    // 1.048387… months × 10 m³ = 10.484 m³ in block 1: 10.484 × 300 = 3145.2 → 3145; 1.516 × 450 = 682.2 → 682
    expect(b.lines.map((l) => [l.volumeM3, l.amountFen])).toEqual([
      ['10.484', 3_145],
      ['1.516', 682],
    ]);
    expect(b.totalFen).toBe(3_827);
  });

  it('tops the main charge up to the minimum (20 yuan a month × 3 months), surcharges on top', () => {
    const b = calculateBill({
      tariff: NON_RESIDENTIAL,
      periodFrom: '2025-01-01',
      periodTo: '2025-03-31',
      reading: { kind: 'volume', consumptionM3: '10' },
    });
    expect(b.lines.map((l) => [l.kind, l.amountFen])).toEqual([
      ['flat', 4_250],
      ['minimum', 1_750],
      ['surcharge', 1_400],
    ]);
    expect(b.totalFen).toBe(7_400);
    expect(b.lines[1]!.unitPriceFen).toBeNull();
    const enough = calculateBill({
      tariff: NON_RESIDENTIAL,
      periodFrom: '2025-01-01',
      periodTo: '2025-03-31',
      reading: { kind: 'volume', consumptionM3: '100' },
    });
    expect(enough.lines.some((l) => l.kind === 'minimum')).toBe(false);
  });
});

describe('calculateBill — refused input', () => {
  it('refuses a period with no tariff version in effect, naming the day', () => {
    try {
      bill({ periodFrom: '2023-12-01', periodTo: '2024-01-31' });
      expect.unreachable();
    } catch (e) {
      expect((e as DomainError).code).toBe('TARIFF_NOT_IN_EFFECT');
      expect((e as DomainError).messageIn('en')).toBe(
        'Tariff residential has no version in effect on 2023-12-01',
      );
    }
  });

  it('returns field errors for bad indexes, registers and dates', () => {
    try {
      bill({
        periodFrom: '2025-03-01',
        periodTo: '2025-02-01',
        reading: { kind: 'index', startIndex: '-1', endIndex: '100000', dialDigits: 5 },
        subMeterConsumptionsM3: ['1.2345'],
      });
      expect.unreachable();
    } catch (e) {
      const err = e as DomainError;
      expect(err.code).toBe('BILL_INPUT_INVALID');
      expect(err.fieldErrorsIn('en').map((f) => [f.path, f.code])).toEqual([
        ['periodTo', 'PERIOD_ORDER'],
        ['reading.startIndex', 'INDEX_FORMAT'],
        ['reading.endIndex', 'INDEX_TOO_LARGE'],
        ['subMeterConsumptionsM3[0]', 'VOLUME_FORMAT'],
      ]);
      expect(err.fieldErrorsIn('zh-CN')[2]!.message).toBe('表码 100000 超出 5 位字轮');
    }
  });

  it('refuses an invalid tariff with its problems', () => {
    const bad: Tariff = {
      ...RESIDENTIAL,
      versions: [{ ...RESIDENTIAL.versions[1]!, effectiveFrom: '2025-06-30' }],
    };
    const ok = { ...bad, versions: [RESIDENTIAL.versions[0]!, ...bad.versions] };
    expect(() => bill({ tariff: ok, periodFrom: '2025-01-01', periodTo: '2025-01-31' })).toThrow(
      'The tariff has 1 problem(s) and was refused',
    );
  });
});

describe('validateTariff (issue 4: overlapping versions, gaps between blocks or negative prices are refused with the reason)', () => {
  const v0 = RESIDENTIAL.versions[0]!;
  const v1 = RESIDENTIAL.versions[1]!;
  const withVersions = (...versions: TariffVersion[]): Tariff => ({ ...RESIDENTIAL, versions });
  const codes = (t: Tariff) => validateTariff(t).map((p) => [p.path, p.code]);

  it('accepts the example tariffs', () => {
    expect(validateTariff(RESIDENTIAL)).toEqual([]);
    expect(validateTariff(NON_RESIDENTIAL)).toEqual([]);
    expect(validateTariff(GAS_MONTHLY)).toEqual([]);
  });

  it('refuses overlapping versions, in either order, and says which', () => {
    const overlapping = withVersions(v1, { ...v0, effectiveTo: '2025-07-01' });
    const problems = validateTariff(overlapping);
    expect(problems.map((p) => [p.path, p.code])).toEqual([['versions[0].effectiveFrom', 'VERSION_OVERLAP']]);
    expect(problems[0]!.messages).toEqual({
      'zh-CN': '版本 2025-07 自 2025-07-01 生效，与版本 2024-01（2024-01-01 至 2025-07-01）重叠',
      en: 'Version 2025-07 starts on 2025-07-01, inside version 2024-01 (2024-01-01 to 2025-07-01)',
    });
    expect(codes(withVersions({ ...v0, effectiveTo: null }, v1))).toEqual([
      ['versions[1].effectiveFrom', 'VERSION_OVERLAP'],
    ]);
  });

  it('refuses days without a price between versions', () => {
    const problems = validateTariff(withVersions({ ...v0, effectiveTo: '2025-06-27' }, v1));
    expect(problems.map((p) => p.code)).toEqual(['VERSION_GAP']);
    expect(problems[0]!.messages.en).toBe(
      'Version 2024-01 ends on 2025-06-27 and version 2025-07 starts on 2025-07-01: 3 day(s) without a price',
    );
  });

  it('refuses a gap between blocks written the everyday way (0–180, 181–260)', () => {
    const gap = withVersions({
      ...v0,
      effectiveTo: null,
      charge: {
        kind: 'blocks',
        basis: 'annual',
        blocks: [
          { fromM3: '0', toM3: '180', priceFenPerM3: '210' },
          { fromM3: '181', toM3: '260', priceFenPerM3: '315' },
          { fromM3: '250', toM3: null, priceFenPerM3: '630' },
        ],
      },
    });
    const problems = validateTariff(gap);
    expect(problems.map((p) => [p.path, p.code])).toEqual([
      ['versions[0].charge.blocks[1].fromM3', 'BLOCK_GAP'],
      ['versions[0].charge.blocks[2].fromM3', 'BLOCK_OVERLAP'],
    ]);
    expect(problems[0]!.messages['zh-CN']).toBe('第2阶梯自 181 m³ 起，但上一阶梯止于 180 m³，中间有空档');
  });

  it('refuses negative prices wherever they are', () => {
    const negative = withVersions(
      { ...v0, surcharges: [{ ...SEWAGE, priceFenPerM3: '-95' }] },
      { ...v1, charge: { kind: 'flat', priceFenPerM3: '-1.5' } },
    );
    expect(codes(negative)).toEqual([
      ['versions[0].surcharges[0].priceFenPerM3', 'PRICE_NEGATIVE'],
      ['versions[1].charge.priceFenPerM3', 'PRICE_NEGATIVE'],
    ]);
  });

  it('checks block shape, dates, labels, surcharges and minimums', () => {
    const messy = withVersions(
      {
        ...v0,
        version: 'x',
        effectiveTo: '2023-01-01',
        charge: {
          kind: 'blocks',
          basis: 'weekly' as 'annual',
          blocks: [
            { fromM3: '5', toM3: null, priceFenPerM3: 'abc' },
            { fromM3: '10', toM3: '10', priceFenPerM3: '1' },
          ],
        },
        surcharges: [
          { ...SEWAGE, priceFenPerM3: '1' },
          { ...SEWAGE, priceFenPerM3: '2' },
        ],
        minimumChargeFenPerMonth: 1.5,
      },
      { ...v1, version: 'x', effectiveFrom: '2025-02-30' },
    );
    expect(codes(messy)).toEqual([
      ['versions[0].effectiveTo', 'VERSION_ENDS_BEFORE_START'],
      ['versions[0].charge.basis', 'BLOCK_BASIS'],
      ['versions[0].charge.blocks[0].priceFenPerM3', 'PRICE_FORMAT'],
      ['versions[0].charge.blocks[0].fromM3', 'BLOCK_FIRST_FROM_ZERO'],
      ['versions[0].charge.blocks[0].toM3', 'BLOCK_OPEN_NOT_LAST'],
      ['versions[0].charge.blocks[1].toM3', 'BLOCK_EMPTY'],
      ['versions[0].charge.blocks[1].toM3', 'BLOCK_LAST_OPEN'],
      ['versions[0].surcharges[1].code', 'SURCHARGE_DUPLICATE'],
      ['versions[0].minimumChargeFenPerMonth', 'MINIMUM_CHARGE_FORMAT'],
      ['versions[1].effectiveFrom', 'DATE_INVALID'],
      ['versions[1].version', 'VERSION_DUPLICATE'],
    ]);
    expect(codes({ ...RESIDENTIAL, versions: [] })).toEqual([['versions', 'TARIFF_NO_VERSIONS']]);
  });
});

describe('splitIntoBlocks and prorateByDays', () => {
  const blocks = [
    { fromM3: new Decimal(0), toM3: new Decimal(180) },
    { fromM3: new Decimal(180), toM3: new Decimal(260) },
    { fromM3: new Decimal(260), toM3: null },
  ];

  it('fills the blocks from what the year already used', () => {
    const shares = splitIntoBlocks(new Decimal(100), new Decimal(170), blocks);
    expect(shares.map((s) => [s.index, s.volumeM3.toString()])).toEqual([
      [0, '10'],
      [1, '80'],
      [2, '10'],
    ]);
  });

  it('refuses blocks that do not join', () => {
    expect(() =>
      splitIntoBlocks(new Decimal(1), new Decimal(0), [
        { fromM3: new Decimal(0), toM3: new Decimal(10) },
        { fromM3: new Decimal(11), toM3: null },
      ]),
    ).toThrow('blocks must start at 0');
  });

  it('shares by days in litres that add up to the whole', () => {
    expect(prorateByDays(new Decimal('1'), [1, 1, 1]).map((x) => x.toFixed(3))).toEqual([
      '0.334',
      '0.333',
      '0.333',
    ]);
    expect(prorateByDays(new Decimal('0'), [5, 7]).map((x) => x.toFixed(3))).toEqual(['0.000', '0.000']);
  });
});
