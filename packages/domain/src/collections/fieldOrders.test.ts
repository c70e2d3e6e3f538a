import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type FieldOrderResultInput,
  meterNumberMatches,
  minutesLeft,
  recheckOutcome,
  validateFieldOrderResult,
  validateRecheck,
} from './fieldOrders.ts';

const base: FieldOrderResultInput = {
  kind: 'shutoff',
  outcome: 'done',
  action: 'valve_closed',
  confirmedMeterNo: 'W0101-000123',
  expectedMeterNo: 'W0101-000123',
  note: '',
};
const codes = (r: Partial<FieldOrderResultInput>) =>
  validateFieldOrderResult({ ...base, ...r }).map((p) => `${p.path}:${p.code}`);

describe('meterNumberMatches ("The meter number is checked before shut-off")', () => {
  it('the same number matches, whatever spaces or letter case were typed', () => {
    expect(meterNumberMatches('W0101-000123', 'W0101-000123')).toBe(true);
    expect(meterNumberMatches(' w0101-000 123 ', 'W0101-000123')).toBe(true);
  });
  it('another number, or nothing typed, does not', () => {
    expect(meterNumberMatches('W0101-000124', 'W0101-000123')).toBe(false);
    expect(meterNumberMatches('', '')).toBe(false);
    expect(meterNumberMatches('  ', 'W1')).toBe(false);
  });
  it('property: a number always matches itself and never a number differing in one digit', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Z0-9-]{1,20}$/), fc.nat(19), (no, at) => {
        expect(meterNumberMatches(no, no)).toBe(true);
        const i = at % no.length;
        const c = no[i] === '1' ? '2' : '1';
        expect(meterNumberMatches(no.slice(0, i) + c + no.slice(i + 1), no)).toBe(false);
      }),
    );
  });
});

describe('validateFieldOrderResult', () => {
  it('shut-off done: the way it was shut off and the right meter number', () => {
    expect(codes({})).toEqual([]);
    expect(codes({ action: 'meter_removed' })).toEqual([]);
    expect(codes({ action: null, confirmedMeterNo: '' })).toEqual([
      'action:ORDER_ACTION_REQUIRED',
      'confirmedMeterNo:ORDER_METER_NO_REQUIRED',
    ]);
  });
  it('a different meter number on site: refused as done, to be recorded as a mismatch', () => {
    expect(codes({ confirmedMeterNo: 'W0101-999999' })).toEqual(['confirmedMeterNo:ORDER_METER_NO_MISMATCH']);
    expect(codes({ outcome: 'mismatch', action: null, confirmedMeterNo: 'W0101-999999' })).toEqual([]);
  });
  it('"Obstruction goes to the inspectors": with a note saying what obstructs', () => {
    expect(codes({ outcome: 'obstructed', action: null, note: '' })).toEqual(['note:ORDER_NOTE_REQUIRED']);
    expect(codes({ outcome: 'obstructed', action: null, note: '表井被车辆压住' })).toEqual([]);
  });
  it('an unknown outcome, and a restore that is anything but done', () => {
    expect(codes({ outcome: 'maybe' })).toEqual(['outcome:ORDER_OUTCOME_UNKNOWN']);
    expect(codes({ kind: 'restore', outcome: 'done', action: null, confirmedMeterNo: '' })).toEqual([]);
    expect(codes({ kind: 'restore', outcome: 'obstructed' })).toEqual(['outcome:ORDER_OUTCOME_UNKNOWN']);
  });
  it('messages in both languages', () => {
    const [p] = validateFieldOrderResult({ ...base, confirmedMeterNo: 'X' });
    expect(p!.messages['zh-CN']).toContain('不得停水');
    expect(p!.messages.en).toContain('mismatch');
  });
  it('notes are bounded', () => {
    expect(codes({ note: 'x'.repeat(501) })).toEqual(['note:ORDER_NOTE_TOO_LONG']);
  });
});

describe('re-checks ("Readers re-check shut-off customers for self-reconnection")', () => {
  it('only a reconnection counts as reconnected (and is referred on); a removed meter is still off', () => {
    expect(recheckOutcome('reconnected')).toBe('reconnected');
    expect(recheckOutcome('still_off')).toBe('intact');
    expect(recheckOutcome('meter_removed')).toBe('intact');
  });
  it('the finding must be one of the list', () => {
    expect(validateRecheck({ finding: 'still_off', note: '' })).toEqual([]);
    expect(validateRecheck({ finding: 'x', note: '' }).map((p) => p.code)).toEqual([
      'RECHECK_FINDING_UNKNOWN',
    ]);
  });
});

describe('minutesLeft (the handheld countdown)', () => {
  const now = new Date('2026-10-08T02:00:00Z');
  it('minutes to the deadline, negative when overdue, null without a deadline', () => {
    expect(minutesLeft('2026-10-08T03:30:00Z', now)).toBe(90);
    expect(minutesLeft('2026-10-08T01:59:30Z', now)).toBe(-1);
    expect(minutesLeft(null, now)).toBeNull();
  });
});
