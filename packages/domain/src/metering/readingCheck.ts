import { Decimal } from 'decimal.js';

/**
 * Checks an index as the reader types it (DOMAIN.md §3, issue 3): below the last reading, a dial
 * rollover, or a consumption far above or below what this customer usually uses. A reading that
 * fails is kept as entered and queued for review, never discarded.
 */

export type ReadingFlag = 'BELOW_PREVIOUS' | 'ROLLOVER' | 'HIGH' | 'LOW' | 'ZERO';

export interface ReadingThresholds {
  /** HIGH when consumption exceeds this multiple of the expected volume. */
  highFactor: number;
  /** LOW when consumption is under this fraction of the expected volume. */
  lowFactor: number;
  /** Below this expected volume (m³) the high/low checks are not meaningful. */
  minExpectedM3: number;
  /** A rollover is believed only when the previous index is within this share of the dial's top… */
  rolloverTopShare: number;
  /** …and the new index within this share of its bottom. */
  rolloverBottomShare: number;
}

export const DEFAULT_READING_THRESHOLDS: ReadingThresholds = {
  highFactor: 3,
  lowFactor: 0.3,
  minExpectedM3: 2,
  rolloverTopShare: 0.2,
  rolloverBottomShare: 0.2,
};

export interface ReadingCheckInput {
  previousIndex: string;
  index: string;
  /** Digits of the register: it rolls over to 0 after 10^digits − 1. */
  dialDigits: number;
  /** What this customer would use over the period (see estimateConsumption), or null without history. */
  expectedM3: string | null;
}

export interface ReadingCheck {
  /** Consumption in m³; null when the index is below the previous one and is no rollover. */
  consumptionM3: string | null;
  flags: ReadingFlag[];
  /** Whether the reading goes to the review queue. */
  needsReview: boolean;
}

/** Flags that send a reading to review; a believable rollover does too, so a person confirms it. */
const REVIEW_FLAGS: ReadonlySet<ReadingFlag> = new Set(['BELOW_PREVIOUS', 'ROLLOVER', 'HIGH', 'LOW']);

export function checkReading(
  input: ReadingCheckInput,
  t: ReadingThresholds = DEFAULT_READING_THRESHOLDS,
): ReadingCheck {
  const prev = new Decimal(input.previousIndex);
  const next = new Decimal(input.index);
  if (prev.isNegative() || next.isNegative()) throw new Error('indexes are never negative');
  const top = new Decimal(10).pow(input.dialDigits);
  if (next.gte(top))
    throw new Error(`index ${input.index} does not fit a ${input.dialDigits}-digit register`);
  const flags: ReadingFlag[] = [];
  let consumption: Decimal | null;
  if (next.gte(prev)) {
    consumption = next.minus(prev);
  } else if (prev.gte(top.times(1 - t.rolloverTopShare)) && next.lt(top.times(t.rolloverBottomShare))) {
    consumption = top.minus(prev).plus(next);
    flags.push('ROLLOVER');
  } else {
    consumption = null;
    flags.push('BELOW_PREVIOUS');
  }
  if (consumption !== null && input.expectedM3 !== null) {
    const expected = new Decimal(input.expectedM3);
    if (expected.gte(t.minExpectedM3)) {
      if (consumption.isZero()) flags.push('ZERO');
      else if (consumption.lt(expected.times(t.lowFactor))) flags.push('LOW');
      if (consumption.gt(expected.times(t.highFactor))) flags.push('HIGH');
    }
  }
  return {
    consumptionM3: consumption === null ? null : consumption.toFixed(3),
    flags,
    needsReview: flags.some((f) => REVIEW_FLAGS.has(f)),
  };
}
