import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  dayNumber,
  dayText,
  estimateConsumption,
  estimateConsumptionMilli,
  type PastPeriodMilli,
} from './estimation.ts';
import {
  checkReading,
  checkReadingMilli,
  DEFAULT_READING_THRESHOLDS,
  type ReadingThresholds,
} from './readingCheck.ts';

/**
 * The thousandths variants of checkReading and estimateConsumption (used by the smart-meter bulk
 * path) must answer exactly what the decimal.js versions answer: checked here on many random inputs,
 * and on the inputs where decimal.js rounds (an exact half of a m³ after a division that does not
 * terminate, factors with many digits).
 */

const text = (milli: number) => `${Math.floor(milli / 1000)}.${String(milli % 1000).padStart(3, '0')}`;
const milliOf = (m3: string | null) => (m3 === null ? null : Number(m3.replace('.', '')));

const factor = fc.oneof(
  fc.constantFrom(0, 0.1, 0.2, 0.25, 0.3, 0.5, 1, 1.5, 2, 3, 10, 0.1 + 0.2, 1 / 3, 2 / 3, 0.123456789),
  fc.integer({ min: 0, max: 5000 }).map((n) => n / 1000),
  fc.double({ min: 0, max: 20, noNaN: true }),
);
const share = fc.oneof(
  fc.constantFrom(0, 0.1, 0.2, 0.3, 0.5, 1 / 3, 0.15000000000000002),
  fc.double({ min: 0, max: 1, noNaN: true }),
);
const thresholds: fc.Arbitrary<ReadingThresholds> = fc.oneof(
  fc.constant(DEFAULT_READING_THRESHOLDS),
  fc.record({
    highFactor: factor,
    lowFactor: factor,
    minExpectedM3: fc.oneof(factor, fc.constantFrom(0, 2, 2.0005)),
    rolloverTopShare: share,
    rolloverBottomShare: share,
  }),
);

function checkBoth(
  input: { prev: number; next: number; dialDigits: number; expected: number | null },
  t: ReadingThresholds,
) {
  const decimal = checkReading(
    {
      previousIndex: text(input.prev),
      index: text(input.next),
      dialDigits: input.dialDigits,
      expectedM3: input.expected === null ? null : text(input.expected),
    },
    t,
  );
  const fast = checkReadingMilli(
    {
      previousMilli: input.prev,
      indexMilli: input.next,
      dialDigits: input.dialDigits,
      expectedMilli: input.expected,
    },
    t,
  );
  expect({ ...fast, consumptionMilli: fast.consumptionMilli }).toEqual({
    consumptionMilli: milliOf(decimal.consumptionM3),
    flags: decimal.flags,
    needsReview: decimal.needsReview,
  });
}

describe('checkReadingMilli answers as checkReading', () => {
  const reading = fc
    .integer({ min: 1, max: 9 })
    .chain((dialDigits) => {
      const top = 10 ** (dialDigits + 3);
      const index = fc.oneof(
        fc.integer({ min: 0, max: top - 1 }),
        fc.integer({ min: Math.floor(top * 0.75), max: top - 1 }),
        fc.integer({ min: 0, max: Math.ceil(top * 0.25) }),
        fc.constantFrom(0, top - 1, top * 0.8, top * 0.2, top * 0.2 - 1, top * 0.8 - 1).map(Math.round),
      );
      return fc.record({
        dialDigits: fc.constant(dialDigits),
        prev: index,
        next: index,
        expected: fc.oneof(
          fc.constant(null),
          fc.integer({ min: 0, max: 100 }).map((m3) => m3 * 1000),
          fc.integer({ min: 0, max: top }),
        ),
      });
    })
    .filter((r) => r.prev < 10 ** (r.dialDigits + 3));

  it('on random indexes, expected volumes and thresholds', () => {
    fc.assert(
      fc.property(reading, thresholds, (input, t) => checkBoth(input, t)),
      { numRuns: 20_000 },
    );
  });

  it('on consumption right at the high and low bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 500 }),
        fc.constantFrom(-1, 0, 1),
        factor,
        (expectedM3, delta, f) => {
          const t = { ...DEFAULT_READING_THRESHOLDS, highFactor: f, lowFactor: f, minExpectedM3: 0 };
          const prev = 1_000_000;
          const consumption = Math.max(0, Math.round(expectedM3 * 1000 * f) + delta);
          checkBoth({ prev, next: prev + consumption, dialDigits: 7, expected: expectedM3 * 1000 }, t);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('refuses what checkReading refuses', () => {
    expect(() =>
      checkReadingMilli({ previousMilli: 0, indexMilli: 100_000_000, dialDigits: 5, expectedMilli: null }),
    ).toThrow();
    expect(() =>
      checkReadingMilli({ previousMilli: -1, indexMilli: 1, dialDigits: 5, expectedMilli: null }),
    ).toThrow();
  });
});

describe('estimateConsumptionMilli answers as estimateConsumption', () => {
  const periodEnd = dayNumber('2026-11-20');
  const period = fc.record({
    endDay: fc.oneof(
      fc.integer({ min: periodEnd - 450, max: periodEnd - 1 }),
      fc.integer({ min: periodEnd - 400, max: periodEnd - 330 }),
      fc.constantFrom(periodEnd - 335, periodEnd - 395, periodEnd - 334, periodEnd - 396),
    ),
    days: fc.oneof(fc.integer({ min: -2, max: 400 }), fc.constantFrom(0, 1, 3, 7, 30, 61, 91, 92)),
    consumptionMilli: fc.oneof(
      fc.integer({ min: 0, max: 10_000_000 }),
      fc.integer({ min: 0, max: 500 }).map((m3) => m3 * 1000),
      fc.integer({ min: 0, max: 1000 }).map((m3) => m3 * 500),
    ),
    estimated: fc.boolean(),
  });

  const both = (history: PastPeriodMilli[], end: number, days: number) => {
    const decimal = estimateConsumption(
      history.map((p) => ({
        periodEnd: dayText(p.endDay),
        days: p.days,
        consumptionM3: text(p.consumptionMilli),
        estimated: p.estimated,
      })),
      dayText(end),
      days,
    );
    expect(estimateConsumptionMilli(history, end, days)).toEqual({
      consumptionMilli: milliOf(decimal.consumptionM3),
      basis: decimal.basis,
    });
  };

  it('on random histories', () => {
    fc.assert(
      fc.property(
        fc.array(period, { maxLength: 12 }),
        fc.oneof(fc.integer({ min: 1, max: 400 }), fc.constantFrom(1, 3, 6, 7, 9, 30, 91)),
        (history, days) => both(history, periodEnd, days),
      ),
      { numRuns: 20_000 },
    );
  });

  it('on exact halves, where decimal.js rounds the quotient first', () => {
    // 2.5 m³ over 3 days, for 3 days: exactly 2.5, but decimal.js's 0.8333… × 3 = 2.4999… → 2.
    both([{ endDay: periodEnd - 90, days: 3, consumptionMilli: 2_500, estimated: false }], periodEnd, 3);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 400 }),
        (k, days, periodDays) => {
          // volume × periodDays ÷ days = k + ½ exactly when volume = (2k + 1) × days ÷ (2 × periodDays).
          const volumeMilli = ((2 * k + 1) * days * 1000) / (2 * periodDays);
          if (!Number.isInteger(volumeMilli)) return;
          both(
            [{ endDay: periodEnd - 100, days, consumptionMilli: volumeMilli, estimated: false }],
            periodEnd,
            periodDays,
          );
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it('keeps day numbers and day texts one to one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 30_000 }), (n) => {
        expect(dayNumber(dayText(n))).toBe(n);
      }),
    );
  });
});
