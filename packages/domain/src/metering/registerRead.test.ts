import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../platform/settings.ts';
import {
  checkRegisterRead,
  REGISTER_EXCEPTION_BITS,
  REGISTER_FLAGS,
  registerFlagNames,
  registerRules,
} from './registerRead.ts';

const rules = registerRules(DEFAULT_SETTINGS);
const dial = 5;
const read = (day: number, indexMilli: number, anomaly = false) => ({
  day,
  indexMilli,
  dialDigits: dial,
  anomaly,
});

describe('register reads', () => {
  it('names the exception bits the database indexes (0026_register_reads.sql, 0028)', () => {
    expect(REGISTER_EXCEPTION_BITS).toBe(39);
  });

  it('takes its figures from the settings', () => {
    expect(rules.thresholds.highFactor).toBe(DEFAULT_SETTINGS['register.highFactor']);
    expect(rules.thresholds.minExpectedM3).toBe(DEFAULT_SETTINGS['register.minExpectedM3']);
    expect(rules.thresholds.lowFactor).toBe(0);
    expect(rules.averageDays).toBe(DEFAULT_SETTINGS['register.averageDays']);
    expect(registerRules({ ...DEFAULT_SETTINGS, 'register.averageDays': 0 }).averageDays).toBe(1);
  });

  it('checks a day against the usual daily use and moves the average', () => {
    // 0.5 m³ a day usually; 0.6 m³ read over one day: no flag; the average moves by 1/30 of the gap.
    const c = checkRegisterRead(
      { day: 100, indexMilli: 1_000_000, dailyMilli: 500 },
      read(101, 1_000_600),
      rules,
    );
    expect(c).toEqual({
      flags: 0,
      consumptionMilli: 600,
      days: 1,
      expectedMilli: 500,
      dailyMilli: Math.round((500 * 29 + 600) / 30),
      isReference: true,
    });
  });

  it('flags use far above the usual (a leak), not below it', () => {
    const high = checkRegisterRead(
      { day: 100, indexMilli: 1_000_000, dailyMilli: 500 },
      read(101, 1_002_001),
      rules,
    );
    expect(registerFlagNames(high.flags)).toEqual(['HIGH']);
    expect(high.flags & REGISTER_EXCEPTION_BITS).not.toBe(0);
    // Exactly four times the usual use is not above it.
    const four = checkRegisterRead(
      { day: 100, indexMilli: 1_000_000, dailyMilli: 500 },
      read(101, 1_002_000),
      rules,
    );
    expect(four.flags).toBe(0);
    // A day away from home: ZERO, no exception.
    const zero = checkRegisterRead(
      { day: 100, indexMilli: 1_000_000, dailyMilli: 500 },
      read(101, 1_000_000),
      rules,
    );
    expect(registerFlagNames(zero.flags)).toEqual(['ZERO']);
    expect(zero.flags & REGISTER_EXCEPTION_BITS).toBe(0);
  });

  it('checks nothing against a usual use below the minimum expected', () => {
    // 0.1 m³ a day × 1 day < 0.3 m³: even 10 m³ is no HIGH over one day; over three days it is.
    const ref = { day: 100, indexMilli: 1_000_000, dailyMilli: 100 };
    expect(checkRegisterRead(ref, read(101, 1_010_000), rules).flags).toBe(0);
    expect(registerFlagNames(checkRegisterRead(ref, read(103, 1_010_000), rules).flags)).toEqual(['HIGH']);
  });

  it('keeps the reference when the register goes backwards', () => {
    const c = checkRegisterRead(
      { day: 100, indexMilli: 1_000_000, dailyMilli: 500 },
      read(101, 999_000),
      rules,
    );
    expect(registerFlagNames(c.flags)).toEqual(['BELOW_PREVIOUS']);
    expect(c.consumptionMilli).toBeNull();
    expect(c.isReference).toBe(false);
    expect(c.dailyMilli).toBe(500);
  });

  it('counts a rollover of the dial, flagged', () => {
    // 99,999.000 → 0.500 on a 5-digit dial: 1.5 m³.
    const c = checkRegisterRead(
      { day: 100, indexMilli: 99_999_000, dailyMilli: 1000 },
      read(101, 500),
      rules,
    );
    expect(registerFlagNames(c.flags)).toEqual(['ROLLOVER']);
    expect(c.consumptionMilli).toBe(1500);
    expect(c.isReference).toBe(true);
  });

  it('spreads a read over the days since the reference', () => {
    // Ten days at 0.5: 5 m³ expected; 6 m³ read: the average moves by 10/30 of the gap a day.
    const c = checkRegisterRead({ day: 100, indexMilli: 0, dailyMilli: 500 }, read(110, 6000), rules);
    expect(c.expectedMilli).toBe(5000);
    expect(c.days).toBe(10);
    expect(c.dailyMilli).toBe(Math.round((500 * 20 * 10 + 6000 * 10) / (30 * 10)));
    // A read of the same day counts as one day.
    const same = checkRegisterRead({ day: 100, indexMilli: 0, dailyMilli: 500 }, read(100, 100), rules);
    expect(same.days).toBe(0);
    expect(same.expectedMilli).toBe(500);
    // Beyond the average's span, the interval's own use replaces it.
    const long = checkRegisterRead({ day: 100, indexMilli: 0, dailyMilli: 500 }, read(160, 60_000), rules);
    expect(long.dailyMilli).toBe(1000);
  });

  it('learns the usual use from the first volume when none is known', () => {
    const first = checkRegisterRead(
      { day: Number.NaN, indexMilli: Number.NaN, dailyMilli: Number.NaN },
      read(100, 5000, true),
      rules,
    );
    expect(first).toEqual({
      flags: REGISTER_FLAGS.ANOMALY,
      consumptionMilli: null,
      days: null,
      expectedMilli: null,
      dailyMilli: Number.NaN,
      isReference: true,
    });
    const second = checkRegisterRead(
      { day: 100, indexMilli: 5000, dailyMilli: Number.NaN },
      read(102, 6000),
      rules,
    );
    expect(second.expectedMilli).toBeNull();
    expect(second.flags).toBe(0);
    expect(second.dailyMilli).toBe(500);
    // From an installed index (no day known): checked for going backwards, no use per day learnt.
    const installed = { day: Number.NaN, indexMilli: 5000, dailyMilli: Number.NaN };
    expect(checkRegisterRead(installed, read(100, 7000), rules)).toMatchObject({
      flags: 0,
      consumptionMilli: 2000,
      days: null,
      expectedMilli: null,
      isReference: true,
    });
    expect(checkRegisterRead(installed, read(100, 7000), rules).dailyMilli).toBeNaN();
    expect(registerFlagNames(checkRegisterRead(installed, read(100, 4000), rules).flags)).toEqual([
      'BELOW_PREVIOUS',
    ]);
  });
});
