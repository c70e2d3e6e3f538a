import { Decimal } from 'decimal.js';
import { milliText } from '../platform/milli.ts';

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

// ------------------------------------------------------------------ the same check in thousandths

/**
 * checkReading on whole thousandths of a m³ (indexes and volumes are NUMERIC(12, 3)), for the
 * smart-meter bulk path where decimal.js costs more than the rest of a reading. Same answers as
 * checkReading for every input (packages/domain/src/metering/fastRules.test.ts checks it on
 * random inputs): the thresholds are read exactly as decimal.js reads a number (its shortest
 * decimal form) and compared as exact fractions; where decimal.js would round a product (a
 * threshold with more digits than its precision allows) the decimal version answers instead.
 */
export interface ReadingCheckMilliInput {
  /** Thousandths of a m³, a whole number ≥ 0. */
  previousMilli: number;
  indexMilli: number;
  dialDigits: number;
  expectedMilli: number | null;
}

export interface ReadingCheckMilli {
  consumptionMilli: number | null;
  flags: ReadingFlag[];
  needsReview: boolean;
}

/** A decimal number as decimal.js reads it, exactly: num / 10^scale. */
interface Fraction {
  num: bigint;
  scale: number;
  /** 10^scale. */
  pow: bigint;
  /** num and pow as numbers (exact while they are safe integers). */
  numN: number;
  powN: number;
  /** Significant digits of num (what a product with it needs of decimal.js's precision). */
  digits: number;
}

function fractionOf(x: number): Fraction {
  const text = new Decimal(x).toFixed();
  const negative = text.startsWith('-');
  const [whole, part = ''] = (negative ? text.slice(1) : text).split('.');
  const num = BigInt(`${whole}${part}`) * (negative ? -1n : 1n);
  const digits = (num < 0n ? -num : num).toString().replace(/0+$/, '').length || 1;
  const pow = 10n ** BigInt(part.length);
  return { num, scale: part.length, pow, numN: Number(num), powN: Number(pow), digits };
}

/** ⌈a / b⌉ for b > 0. */
function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return q * b === a || a < 0n ? q : q + 1n;
}

interface CompiledThresholds {
  /** Per dial size: the lowest previous index (thousandths) that may roll over, the index below which the new one must lie. */
  rollover: Map<number, { fromMilli: number; belowMilli: number }>;
  /** Whether decimal.js multiplies the register's top by the rollover shares without rounding. */
  exact: boolean;
  minExpectedMilli: number;
  /** Expected volumes (thousandths) from here on make decimal.js round expected × factor. */
  expectedLimitMilli: number;
  low: Fraction;
  high: Fraction;
  topShare: Fraction;
  bottomShare: Fraction;
}

const compiledThresholds = new WeakMap<ReadingThresholds, CompiledThresholds>();

function compile(t: ReadingThresholds): CompiledThresholds {
  let c = compiledThresholds.get(t);
  if (!c) {
    const min = fractionOf(t.minExpectedM3);
    const low = fractionOf(t.lowFactor);
    const high = fractionOf(t.highFactor);
    const topShare = fractionOf(1 - t.rolloverTopShare);
    const bottomShare = fractionOf(t.rolloverBottomShare);
    c = {
      rollover: new Map(),
      exact: Math.max(topShare.digits, bottomShare.digits) <= Decimal.precision,
      minExpectedMilli: Number(ceilDiv(min.num * 1000n, min.pow)),
      expectedLimitMilli: 10 ** (Decimal.precision - Math.max(low.digits, high.digits)),
      low,
      high,
      topShare,
      bottomShare,
    };
    compiledThresholds.set(t, c);
  }
  return c;
}

/** 10^digits m³ in thousandths, the register's top; digits beyond 12 do not fit a NUMERIC(12, 3). */
function topMilliOf(dialDigits: number): number {
  if (!Number.isInteger(dialDigits) || dialDigits < 0 || dialDigits > 12)
    throw new Error(`a register has 0 to 12 digits, not ${dialDigits}`);
  return 10 ** (dialDigits + 3);
}

/** Whether a·b < c·d exactly (a, c whole numbers; b, d as number and bigint). */
function productLess(a: number, bN: number, b: bigint, c: number, dN: number, d: bigint): boolean {
  const left = a * bN;
  const right = c * dN;
  const safe = Number.MAX_SAFE_INTEGER;
  if (Math.abs(left) <= safe && Math.abs(right) <= safe) return left < right;
  return BigInt(a) * b < BigInt(c) * d;
}

export function checkReadingMilli(
  input: ReadingCheckMilliInput,
  t: ReadingThresholds = DEFAULT_READING_THRESHOLDS,
): ReadingCheckMilli {
  const { previousMilli: prev, indexMilli: next, dialDigits, expectedMilli: expected } = input;
  if (!Number.isSafeInteger(prev) || !Number.isSafeInteger(next))
    throw new Error('indexes are whole thousandths');
  if (prev < 0 || next < 0) throw new Error('indexes are never negative');
  const top = topMilliOf(dialDigits);
  if (next >= top) throw new Error(`index ${milliText(next)} does not fit a ${dialDigits}-digit register`);
  const c = compile(t);
  // A product decimal.js would round, or an expected volume that is no whole thousandth: its answer.
  if (
    !c.exact ||
    (expected !== null &&
      (!Number.isSafeInteger(expected) || expected < 0 || expected >= c.expectedLimitMilli))
  ) {
    return fromDecimalCheck(input, t);
  }
  const flags: ReadingFlag[] = [];
  let consumption: number | null;
  if (next >= prev) {
    consumption = next - prev;
  } else {
    let rollover = c.rollover.get(dialDigits);
    if (!rollover) {
      const topBig = BigInt(top);
      rollover = {
        fromMilli: Number(ceilDiv(topBig * c.topShare.num, c.topShare.pow)),
        belowMilli: Number(ceilDiv(topBig * c.bottomShare.num, c.bottomShare.pow)),
      };
      c.rollover.set(dialDigits, rollover);
    }
    if (prev >= rollover.fromMilli && next < rollover.belowMilli) {
      consumption = top - prev + next;
      flags.push('ROLLOVER');
    } else {
      consumption = null;
      flags.push('BELOW_PREVIOUS');
    }
  }
  if (consumption !== null && expected !== null && expected >= c.minExpectedMilli) {
    const { low, high } = c;
    if (consumption === 0) flags.push('ZERO');
    else if (productLess(consumption, low.powN, low.pow, expected, low.numN, low.num)) flags.push('LOW');
    if (productLess(expected, high.numN, high.num, consumption, high.powN, high.pow)) flags.push('HIGH');
  }
  let needsReview = false;
  for (const f of flags) if (REVIEW_FLAGS.has(f)) needsReview = true;
  return { consumptionMilli: consumption, flags, needsReview };
}

function fromDecimalCheck(input: ReadingCheckMilliInput, t: ReadingThresholds): ReadingCheckMilli {
  const r = checkReading(
    {
      previousIndex: milliText(input.previousMilli),
      index: milliText(input.indexMilli),
      dialDigits: input.dialDigits,
      expectedM3: input.expectedMilli === null ? null : new Decimal(input.expectedMilli).div(1000).toFixed(),
    },
    t,
  );
  return {
    // toFixed(3): the digits without the point are the thousandths.
    consumptionMilli: r.consumptionM3 === null ? null : Number(r.consumptionM3.replace('.', '')),
    flags: r.flags,
    needsReview: r.needsReview,
  };
}
