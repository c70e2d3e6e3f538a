import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { DomainError } from '../platform/errors.ts';
import { calculateBill } from './calculateBill.ts';
import { NON_RESIDENTIAL, RESIDENTIAL } from './testTariffs.ts';
import { priceVolumeAdjustment } from './volumeAdjustment.ts';

const PERIOD = { periodFrom: '2026-01-01', periodTo: '2026-03-31' };

describe('priceVolumeAdjustment (调量 / 补量)', () => {
  it('takes volume off at the blocks it fell in: the top of the bill first', () => {
    // 200 m³ from an empty year: 180 in block 1, 20 in block 2. Taking 30 off leaves 170, all block 1.
    const a = priceVolumeAdjustment({
      tariff: RESIDENTIAL,
      kind: 'reduce',
      ...PERIOD,
      billedM3: '200',
      annualBlockUsed: { year: 2026, volumeM3: '0' },
      volumeM3: '30',
    });
    const line = (code: string, blockNo: number | null) =>
      a.lines.find((l) => l.code === code && l.blockNo === blockNo);
    expect(line('charge', 2)).toMatchObject({ volumeM3: '-20.000', amountFen: -20 * 368 });
    expect(line('charge', 1)).toMatchObject({ volumeM3: '-10.000', amountFen: -10 * 245 });
    expect(line('sewage', null)).toMatchObject({ volumeM3: '-30.000', amountFen: -30 * 140 });
    expect(line('water_resource', null)).toMatchObject({ volumeM3: '-30.000', amountFen: -30 * 25 });
    expect(a.totalFen).toBe(-(20 * 368 + 10 * 245 + 30 * 140 + 30 * 25));
    expect(a.totalFen).toBe(a.after.totalFen - a.before!.totalFen);
    expect(a.explanation[0]!['zh-CN']).toBe('调减水量 30.000 m³：原计费 200.000 m³，调整后 170.000 m³');
  });

  it('adds a supplementary volume on top of what the year used before', () => {
    // 170 m³ used before this period: 10 more fill block 1, the other 15 go to block 2.
    const a = priceVolumeAdjustment({
      tariff: RESIDENTIAL,
      kind: 'supplement',
      ...PERIOD,
      billedM3: '0',
      annualBlockUsed: { year: 2026, volumeM3: '170' },
      volumeM3: '25',
    });
    expect(a.before).toBeNull();
    const whole = calculateBill({
      tariff: RESIDENTIAL,
      ...PERIOD,
      reading: { kind: 'volume', consumptionM3: '25' },
      annualBlockUsed: { year: 2026, volumeM3: '170' },
    });
    expect(a.totalFen).toBe(whole.totalFen);
    expect(a.lines.map((l) => [l.code, l.blockNo, l.volumeM3])).toEqual(
      whole.lines.map((l) => [l.code, l.blockNo, l.volumeM3]),
    );
  });

  it('keeps a minimum charge out of a supplement on its own but in a reduced bill', () => {
    // Non-residential: a minimum of 20 yuan a month. A bill reduced to nothing still owes it.
    const reduced = priceVolumeAdjustment({
      tariff: NON_RESIDENTIAL,
      kind: 'reduce',
      ...PERIOD,
      billedM3: '2',
      volumeM3: '2',
    });
    expect(reduced.after.totalFen).toBe(3 * 2000);
    expect(reduced.totalFen).toBe(3 * 2000 - reduced.before!.totalFen);
  });

  it('refuses a reduction above the billed volume and volumes that are not volumes, on the field', () => {
    const refused = (volumeM3: string, billedM3 = '10') => {
      try {
        priceVolumeAdjustment({ tariff: RESIDENTIAL, kind: 'reduce', ...PERIOD, billedM3, volumeM3 });
      } catch (e) {
        return e as DomainError;
      }
      throw new Error('accepted');
    };
    const over = refused('10.001');
    expect(over.code).toBe('ADJUSTMENT_INVALID');
    expect(over.fieldErrorsIn('zh-CN')).toEqual([
      {
        path: 'volumeM3',
        code: 'ADJUSTMENT_EXCEEDS_BILLED',
        message: '调减水量 10.001 m³ 超过该账单的计费水量 10.000 m³',
      },
    ]);
    for (const bad of ['0', '-1', 'abc', '1.0001', ''])
      expect(refused(bad).fieldErrorsIn('en')[0]).toMatchObject({
        path: 'volumeM3',
        code: 'ADJUSTMENT_VOLUME',
      });
  });

  it('for any volumes: lines add up to the difference of the two pricings, and reduce then supplement restores the bill', () => {
    const litres = (max: number) => fc.integer({ min: 1, max: max * 1000 }).map((l) => (l / 1000).toFixed(3));
    fc.assert(
      fc.property(litres(600), litres(600), litres(300), fc.boolean(), (billed, delta, used, flat) => {
        const tariff = flat ? NON_RESIDENTIAL : RESIDENTIAL;
        const annualBlockUsed = { year: 2026, volumeM3: used };
        const supplement = priceVolumeAdjustment({
          tariff,
          kind: 'supplement',
          ...PERIOD,
          billedM3: billed,
          annualBlockUsed,
          volumeM3: delta,
        });
        const sum = supplement.lines.reduce((s, l) => s + l.amountFen, 0);
        expect(sum).toBe(supplement.totalFen);
        expect(supplement.totalFen).toBe(supplement.after.totalFen - supplement.before!.totalFen);
        expect(supplement.totalFen).toBeGreaterThanOrEqual(0);
        for (const l of supplement.lines) expect(Number.isInteger(l.amountFen)).toBe(true);
        // Taking the same volume off the supplemented bill gives the original bill back.
        const back = priceVolumeAdjustment({
          tariff,
          kind: 'reduce',
          ...PERIOD,
          billedM3: supplement.after.payableM3,
          annualBlockUsed,
          volumeM3: delta,
        });
        expect(back.totalFen + supplement.totalFen).toBe(0);
        expect(back.after.totalFen).toBe(supplement.before!.totalFen);
      }),
      { numRuns: 300 },
    );
  });
});
