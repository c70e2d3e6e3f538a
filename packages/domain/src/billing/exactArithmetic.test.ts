import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { milliOf, milliText } from '../platform/milli.ts';
import { splitMilliIntoBlocks } from './blocks.ts';
import { calculateBill, prorateMilliByDays } from './calculateBill.ts';
import type { Tariff } from './tariff.ts';
import { WATER } from './testTariffs.ts';
import { formatFenAsYuan } from './yuan.ts';

/**
 * The bill's arithmetic in whole thousandths of a m³ and ten-thousandths of a fen: exact where a
 * Number holds the product, in BigInt where it does not. These check it against BigInt arithmetic
 * written out here, at the sizes where a double would round.
 */

const flat = (price: string): Tariff => ({
  usageType: 'flat',
  chargeName: WATER,
  versions: [
    {
      version: 'v1',
      effectiveFrom: '2020-01-01',
      effectiveTo: null,
      charge: { kind: 'flat', priceFenPerM3: price },
      surcharges: [],
      minimumChargeFenPerMonth: null,
    },
  ],
});

/** volume × price rounded half-up to the fen, in BigInt from the decimal texts. */
function expectedFen(volume: string, price: string): bigint {
  const scaled = (text: string, digits: number) => {
    const [whole, part = ''] = text.split('.');
    return BigInt(whole!) * 10n ** BigInt(digits) + BigInt(part.padEnd(digits, '0') || '0');
  };
  const product = scaled(volume, 3) * scaled(price, 4); // 10^-7 fen
  return product / 10_000_000n + ((product % 10_000_000n) * 2n >= 10_000_000n ? 1n : 0n);
}

const volumeText = fc
  .tuple(fc.bigInt({ min: 0n, max: 999_999_999_999n }), fc.integer({ min: 0, max: 999 }))
  .map(([whole, part]) => `${whole}.${String(part).padStart(3, '0')}`);
const priceText = fc
  .tuple(fc.integer({ min: 0, max: 999_999 }), fc.integer({ min: 0, max: 9_999 }))
  .map(([whole, part]) => `${whole}.${String(part).padStart(4, '0')}`);

describe('exact bill arithmetic', () => {
  it('prices a line exactly, half-up to the fen, whatever the size (BigInt past 2^53)', () => {
    fc.assert(
      fc.property(volumeText, priceText, (volume, price) => {
        const run = () =>
          calculateBill({
            tariff: flat(price),
            periodFrom: '2026-01-01',
            periodTo: '2026-01-31',
            reading: { kind: 'volume', consumptionM3: volume },
          });
        const fen = expectedFen(volume, price);
        // An amount no Number holds exactly is refused, never rounded.
        if (fen > BigInt(Number.MAX_SAFE_INTEGER)) expect(run).toThrow('safe integer of fen');
        else if (milliOf(volume) === 0) {
          // No volume, no line (and nothing to pay).
          expect(run()).toMatchObject({ lines: [], totalFen: 0 });
        } else {
          const b = run();
          expect(b.lines[0]!.amountFen).toBe(Number(fen));
          expect(b.totalFen).toBe(Number(fen));
        }
      }),
      { numRuns: 2_000 },
    );
    // 999,999,999,999.999 m³ × 333.3333 fen: the product has 22 digits.
    const b = calculateBill({
      tariff: flat('333.3333'),
      periodFrom: '2026-01-01',
      periodTo: '2026-01-31',
      reading: { kind: 'volume', consumptionM3: '999999999999.999' },
    });
    expect(b.totalFen).toBe(Number(expectedFen('999999999999.999', '333.3333')));
    expect(b.lines[0]!.unitPriceFen).toBe('333.3333');
  });

  it('rounds an exact half fen up: 0.005 m³ × 1 fen = 0.005 fen → 0, 0.5 m³ × 1 fen → 1 fen', () => {
    const at = (volume: string, price: string) =>
      calculateBill({
        tariff: flat(price),
        periodFrom: '2026-01-01',
        periodTo: '2026-01-31',
        reading: { kind: 'volume', consumptionM3: volume },
      }).totalFen;
    expect(at('0.005', '1')).toBe(0);
    expect(at('0.5', '1')).toBe(1);
    expect(at('0.499', '1')).toBe(0);
    expect(at('1', '0.5')).toBe(1);
    expect(at('1', '0.4999')).toBe(0);
  });

  it('shares a volume by days exactly, the remainders to the largest rests then the earlier day', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1_000_000_000_000_000n }),
        fc.array(fc.integer({ min: 1, max: 366 }), { minLength: 1, maxLength: 4 }),
        (units, days) => {
          const shares = prorateMilliByDays(Number(units), days);
          const total = BigInt(days.reduce((s, d) => s + d, 0));
          const floors = days.map((d) => (units * BigInt(d)) / total);
          const rests = days.map((d) => (units * BigInt(d)) % total);
          let left = units - floors.reduce((s, x) => s + x, 0n);
          const order = days
            .map((_, i) => i)
            .sort((a, b) => (rests[b]! > rests[a]! ? 1 : rests[b]! < rests[a]! ? -1 : a - b));
          const expected = [...floors];
          for (const i of order) {
            if (left <= 0n) break;
            expected[i]! += 1n;
            left--;
          }
          expect(shares.map(BigInt)).toEqual(expected);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('fills blocks from the year’s usage in thousandths', () => {
    const blocks = [
      { from: 0, to: 180_000 },
      { from: 180_000, to: 260_000 },
      { from: 260_000, to: null },
    ];
    expect(splitMilliIntoBlocks(100_000, 170_000, blocks)).toEqual([
      { index: 0, milli: 10_000 },
      { index: 1, milli: 80_000 },
      { index: 2, milli: 10_000 },
    ]);
    expect(splitMilliIntoBlocks(0, 170_000, blocks)).toEqual([]);
    expect(() =>
      splitMilliIntoBlocks(1, 0, [
        { from: 0, to: 10 },
        { from: 11, to: null },
      ]),
    ).toThrow('blocks must start at 0');
  });

  it('reads and prints volumes and yuan as decimal.js did', () => {
    expect(milliOf('1234.5')).toBe(1_234_500);
    expect(milliOf('-0.25')).toBe(-250);
    expect(milliOf('999999999999.999')).toBe(999_999_999_999_999);
    expect(milliText(1_234_500)).toBe('1234.500');
    expect(milliText(7)).toBe('0.007');
    expect(milliText(-250)).toBe('-0.250');
    expect(formatFenAsYuan(0)).toBe('0.00');
    expect(formatFenAsYuan(5)).toBe('0.05');
    expect(formatFenAsYuan(123_456)).toBe('1234.56');
  });
});
