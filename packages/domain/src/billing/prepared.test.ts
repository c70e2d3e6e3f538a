import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../calendar/workingDays.ts';
import { DomainError } from '../platform/errors.ts';
import { calculateBill } from './calculateBill.ts';
import { daysInclusive, daysInMonth, monthsIn, nextDay } from './days.ts';
import { prepareTariff, type Tariff } from './tariff.ts';

/**
 * What a bill run relies on to price a million bills quickly (docs/billing.md "The bill engine"):
 * a tariff prepared once is validated once and cannot change afterwards, and the day arithmetic
 * gives the same answers as the plain calendar functions it replaced.
 */

const NAME = { 'zh-CN': '水费', en: 'Water charge' };

const tariff = (): Tariff => ({
  usageType: 'W_RES',
  chargeName: NAME,
  versions: [
    {
      version: '2024',
      effectiveFrom: '2024-01-01',
      effectiveTo: '2025-06-30',
      charge: {
        kind: 'blocks',
        basis: 'annual',
        blocks: [
          { fromM3: '0', toM3: '180', priceFenPerM3: '210' },
          { fromM3: '180', toM3: null, priceFenPerM3: '315' },
        ],
      },
      surcharges: [{ code: 'sewage', name: { 'zh-CN': '污水处理费', en: 'Sewage' }, priceFenPerM3: '95' }],
      minimumChargeFenPerMonth: null,
    },
    {
      version: '2025-07',
      effectiveFrom: '2025-07-01',
      effectiveTo: null,
      charge: { kind: 'flat', priceFenPerM3: '333.3' },
      surcharges: [],
      minimumChargeFenPerMonth: 1500,
    },
  ],
});

/** Every day from 2023 to 2027 (leap year 2024 included). */
const dayArb = fc.integer({ min: 0, max: 5 * 366 }).map((n) => addDays('2023-01-01', n));

describe('prepareTariff', () => {
  it('returns a frozen copy that prices exactly as the tariff it was made from', () => {
    const raw = tariff();
    const prepared = prepareTariff(raw);
    expect(prepared).not.toBe(raw);
    expect(prepared).toEqual(raw);
    expect(Object.isFrozen(prepared.versions[0]!.charge)).toBe(true);
    expect(() => {
      (prepared.versions as unknown as unknown[]).push({});
    }).toThrow();
    fc.assert(
      fc.property(
        dayArb,
        fc.integer({ min: 0, max: 400 }),
        fc.integer({ min: 0, max: 400_000 }),
        (from, days, litres) => {
          const input = {
            periodFrom: from,
            periodTo: addDays(from, days),
            reading: { kind: 'volume' as const, consumptionM3: new Decimal(litres).div(1000).toFixed(3) },
            annualBlockUsed: { year: Number(from.slice(0, 4)), volumeM3: '100' },
          };
          const lenient = (t: Tariff) => {
            try {
              return calculateBill({ tariff: t, ...input });
            } catch (error) {
              return (error as DomainError).code;
            }
          };
          expect(lenient(prepared)).toEqual(lenient(raw));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses an invalid tariff as calculateBill would', () => {
    const bad = tariff();
    bad.versions[0]!.effectiveTo = '2025-07-05';
    expect(() => prepareTariff(bad)).toThrow(DomainError);
    try {
      prepareTariff(bad);
    } catch (error) {
      expect((error as DomainError).code).toBe('TARIFF_INVALID');
    }
  });
});

describe('day arithmetic', () => {
  it('nextDay is addDays(day, 1)', () => {
    fc.assert(
      fc.property(dayArb, (day) => {
        expect(nextDay(day)).toBe(addDays(day, 1));
      }),
      { numRuns: 2000 },
    );
    expect(nextDay('2024-02-28')).toBe('2024-02-29');
    expect(nextDay('2023-02-28')).toBe('2023-03-01');
    expect(nextDay('2026-12-31')).toBe('2027-01-01');
  });

  it('daysInMonth knows leap years', () => {
    expect([2023, 2024, 1900, 2000].map((y) => daysInMonth(y, 2))).toEqual([28, 29, 28, 29]);
    expect(daysInMonth(2026, 4)).toBe(30);
    expect(daysInMonth(2026, 12)).toBe(31);
  });

  it('monthsIn is the sum of each day’s share of its month, by calendar month', () => {
    /** The definition, day by day, as the calendar functions count it. */
    const reference = (from: string, to: string) => {
      let months = new Decimal(0);
      for (let cursor = from; cursor <= to; ) {
        const monthDays = daysInMonth(Number(cursor.slice(0, 4)), Number(cursor.slice(5, 7)));
        const monthEnd = `${cursor.slice(0, 8)}${String(monthDays).padStart(2, '0')}`;
        const end = monthEnd < to ? monthEnd : to;
        months = months.plus(new Decimal(daysInclusive(cursor, end)).div(monthDays));
        cursor = addDays(end, 1);
      }
      return months;
    };
    fc.assert(
      fc.property(dayArb, fc.integer({ min: -3, max: 800 }), (from, days) => {
        const to = addDays(from, days);
        expect(monthsIn(from, to).toString()).toBe(reference(from, to).toString());
      }),
      { numRuns: 1000 },
    );
  });
});

describe('index bounds', () => {
  it('refuses an index at or above 10^dialDigits, whatever its leading zeros', () => {
    const bill = (endIndex: string, dialDigits: number) => {
      try {
        calculateBill({
          tariff: tariff(),
          periodFrom: '2025-08-01',
          periodTo: '2025-08-31',
          reading: { kind: 'index', startIndex: '0', endIndex, dialDigits },
        });
        return 'ok';
      } catch (error) {
        return (error as DomainError).fields[0]?.code;
      }
    };
    expect(bill('99999.999', 5)).toBe('ok');
    expect(bill('00099999', 5)).toBe('ok');
    expect(bill('100000', 5)).toBe('INDEX_TOO_LARGE');
    expect(bill('000100000.5', 5)).toBe('INDEX_TOO_LARGE');
    expect(bill('0', 1)).toBe('ok');
    expect(bill('0000', 3)).toBe('ok');
    expect(bill('10', 1)).toBe('INDEX_TOO_LARGE');
  });
});
