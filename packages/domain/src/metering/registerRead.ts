import { checkReadingMilli, DEFAULT_READING_THRESHOLDS, type ReadingThresholds } from './readingCheck.ts';

/**
 * Smart meters' register reads (远传日冻结读数): the reads a vendor's platform sends daily or more often.
 * They are not billing readings: each is checked against the meter's own reference (its last read
 * that did not go backwards) and its usual daily use, a running average over the last
 * `averageDays` days that every read with a volume moves. The same register checks as a reading
 * (checkReadingMilli: below the reference, rollover, far above the expected volume) decide its flags.
 */

/** Flags of a register read, as bits (stored in one smallint). */
export const REGISTER_FLAGS = {
  BELOW_PREVIOUS: 1,
  ROLLOVER: 2,
  HIGH: 4,
  ZERO: 8,
  /** Older than the meter's newest read (a platform sending a missed day later). */
  LATE: 16,
  /** The read came with anomaly codes (the meter's own alarms: battery, valve, tamper…). */
  ANOMALY: 32,
} as const;
export type RegisterFlag = keyof typeof REGISTER_FLAGS;

/** The flags that make a read an exception for the analyst (ZERO and LATE alone do not). */
export const REGISTER_EXCEPTION_BITS =
  REGISTER_FLAGS.BELOW_PREVIOUS | REGISTER_FLAGS.ROLLOVER | REGISTER_FLAGS.HIGH | REGISTER_FLAGS.ANOMALY;

const FLAG_NAMES = Object.entries(REGISTER_FLAGS) as [RegisterFlag, number][];

/** The names of a read's flag bits, in REGISTER_FLAGS order. */
export function registerFlagNames(bits: number): RegisterFlag[] {
  return FLAG_NAMES.filter(([, bit]) => (bits & bit) !== 0).map(([name]) => name);
}

export interface RegisterRules {
  /** HIGH above highFactor × the expected volume, when at least minExpectedM3 is expected. */
  thresholds: ReadingThresholds;
  /** The usual daily use follows the last this many days. */
  averageDays: number;
}

/** The rules from the settings' `register.*` figures (no LOW: a day of little use is no anomaly). */
export function registerRules(s: {
  'register.highFactor': number;
  'register.minExpectedM3': number;
  'register.averageDays': number;
}): RegisterRules {
  return {
    thresholds: {
      ...DEFAULT_READING_THRESHOLDS,
      highFactor: s['register.highFactor'],
      lowFactor: 0,
      minExpectedM3: s['register.minExpectedM3'],
    },
    averageDays: Math.max(1, Math.round(s['register.averageDays'])),
  };
}

/** Where a meter stands before a read: its reference and usual daily use (NaN: none, not known). */
export interface RegisterReference {
  /** China day number (days since 1970-01-01 in China) of the reference read (NaN: not known). */
  day: number;
  /** The reference index, thousandths of a m³. */
  indexMilli: number;
  /** Usual daily use, thousandths of a m³ a day. */
  dailyMilli: number;
}

export interface RegisterCheck {
  flags: number;
  /** Since the reference (null: no reference, or the register went backwards). */
  consumptionMilli: number | null;
  /** Whole days since the reference (null: no reference). */
  days: number | null;
  /** The usual daily use × those days (at least one), when the usual use is known. */
  expectedMilli: number | null;
  /** The usual daily use after this read (NaN: still not known). */
  dailyMilli: number;
  /** Whether this read is the reference for the next one (it did not go backwards). */
  isReference: boolean;
}

/** Intervals longer than this count as this long in the running average (keeps the sums exact). */
const MAX_AVERAGE_INTERVAL_DAYS = 3650;

/**
 * Checks one register read against the meter's reference. `anomaly`: the read came with anomaly
 * codes. Throws when the index does not fit the dial (the caller rejects such a row first).
 */
export function checkRegisterRead(
  ref: RegisterReference,
  read: { day: number; indexMilli: number; dialDigits: number; anomaly: boolean },
  rules: RegisterRules,
): RegisterCheck {
  let flags = read.anomaly ? REGISTER_FLAGS.ANOMALY : 0;
  if (Number.isNaN(ref.indexMilli)) {
    return {
      flags,
      consumptionMilli: null,
      days: null,
      expectedMilli: null,
      dailyMilli: ref.dailyMilli,
      isReference: true,
    };
  }
  // A reference of no known day (a meter's installed index): its volume, but no use per day.
  const days = Number.isNaN(ref.day) ? null : read.day - ref.day;
  const span = days === null ? 1 : Math.min(MAX_AVERAGE_INTERVAL_DAYS, Math.max(1, days));
  const known = days !== null && !Number.isNaN(ref.dailyMilli);
  const expectedMilli = known ? ref.dailyMilli * span : null;
  const check = checkReadingMilli(
    {
      previousMilli: ref.indexMilli,
      indexMilli: read.indexMilli,
      dialDigits: read.dialDigits,
      expectedMilli,
    },
    rules.thresholds,
  );
  for (const f of check.flags) if (f in REGISTER_FLAGS) flags |= REGISTER_FLAGS[f as RegisterFlag];
  const consumption = check.consumptionMilli;
  let dailyMilli = ref.dailyMilli;
  if (consumption !== null && days !== null) {
    const w = rules.averageDays;
    const k = Math.min(span, w);
    dailyMilli = known
      ? Math.round((ref.dailyMilli * (w - k) * span + consumption * k) / (w * span))
      : Math.round(consumption / span);
  }
  return {
    flags,
    consumptionMilli: consumption,
    days,
    expectedMilli,
    dailyMilli,
    isReference: consumption !== null,
  };
}
