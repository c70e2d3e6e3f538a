import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  afterFailedAttempt,
  isMessageExpired,
  isWithinCallingHours,
  outboxExpiryCutoff,
  parseDeliveryReceipt,
  receiptOutcome,
  receiptStatOfMessageState,
  retryDelayMs,
  smsSegmentCount,
  splitSmsUcs2,
  validateSmsRecipient,
} from './outbox.ts';

describe('validateSmsRecipient: an SMS goes to a mainland mobile number only', () => {
  it('accepts 11-digit numbers from 1[3-9], with +86 / 0086 and spaces stripped', () => {
    expect(validateSmsRecipient('13812345678')).toEqual({ ok: true, normalized: '13812345678' });
    expect(validateSmsRecipient('+86 138 1234 5678')).toEqual({ ok: true, normalized: '13812345678' });
    expect(validateSmsRecipient('0086-19912345678')).toEqual({ ok: true, normalized: '19912345678' });
  });
  it('refuses landlines, short numbers, 12x prefixes and empty input with the reason', () => {
    expect(validateSmsRecipient('0371-12345678')).toEqual({ ok: false, code: 'MOBILE_FORMAT' });
    expect(validateSmsRecipient('1381234567')).toEqual({ ok: false, code: 'MOBILE_FORMAT' });
    expect(validateSmsRecipient('12812345678')).toEqual({ ok: false, code: 'MOBILE_FORMAT' });
    expect(validateSmsRecipient('138123456789')).toEqual({ ok: false, code: 'MOBILE_FORMAT' });
    expect(validateSmsRecipient('abc')).toEqual({ ok: false, code: 'MOBILE_FORMAT' });
    expect(validateSmsRecipient('')).toEqual({ ok: false, code: 'PHONE_REQUIRED' });
    expect(validateSmsRecipient(null)).toEqual({ ok: false, code: 'PHONE_REQUIRED' });
  });
});

describe('splitSmsUcs2: UCS2 parts of 70 units, or 67 when concatenated', () => {
  it('keeps a short Chinese text in one part and splits a long one', () => {
    expect(splitSmsUcs2('您的水费已出账')).toEqual(['您的水费已出账']);
    expect(smsSegmentCount('水'.repeat(70))).toBe(1);
    expect(smsSegmentCount('水'.repeat(71))).toBe(2);
    expect(splitSmsUcs2('水'.repeat(134)).map((p) => p.length)).toEqual([67, 67]);
    expect(smsSegmentCount('水'.repeat(135))).toBe(3);
  });
  it('never cuts a surrogate pair', () => {
    const text = `${'水'.repeat(66)}𠮷${'费'.repeat(10)}`; // 𠮷 is two UTF-16 units at 66–67
    const parts = splitSmsUcs2(text);
    expect(parts[0]).toBe('水'.repeat(66));
    expect(parts[1]!.startsWith('𠮷')).toBe(true);
  });
  it('property: the parts join to the text and each fits its SMS', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (text) => {
        const parts = splitSmsUcs2(text);
        expect(parts.join('')).toBe(text);
        if (parts.length === 1) expect(parts[0]!.length).toBeLessThanOrEqual(70);
        else for (const p of parts) expect(p.length).toBeLessThanOrEqual(67);
      }),
    );
  });
});

describe('retryDelayMs / afterFailedAttempt: exponential back-off with a cap, then failed', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelayMs(n, 60_000, 3_600_000))).toEqual([
      60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_600_000,
    ]);
    expect(retryDelayMs(1000, 60_000, 3_600_000)).toBe(3_600_000);
    expect(() => retryDelayMs(0, 1, 1)).toThrow();
  });
  it('property: the delay never decreases with the attempt and never exceeds the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.nat(100_000), fc.nat(10_000_000), (n, base, cap) => {
        const d = retryDelayMs(n, base, cap);
        expect(d).toBeLessThanOrEqual(cap);
        expect(retryDelayMs(n + 1, base, cap)).toBeGreaterThanOrEqual(d);
      }),
    );
  });
  it('retries while attempts remain, fails after the last', () => {
    const s = { maxAttempts: 3, retryBaseMs: 1000, retryCapMs: 10_000 };
    expect(afterFailedAttempt(1, s)).toEqual({ action: 'retry', delayMs: 1000 });
    expect(afterFailedAttempt(2, s)).toEqual({ action: 'retry', delayMs: 2000 });
    expect(afterFailedAttempt(3, s)).toEqual({ action: 'fail' });
  });
});

describe('isWithinCallingHours: voice calls from 09:00 until 20:00', () => {
  it('includes the start and excludes the end', () => {
    expect(isWithinCallingHours('08:59', '09:00', '20:00')).toBe(false);
    expect(isWithinCallingHours('09:00', '09:00', '20:00')).toBe(true);
    expect(isWithinCallingHours('19:59', '09:00', '20:00')).toBe(true);
    expect(isWithinCallingHours('20:00', '09:00', '20:00')).toBe(false);
    expect(() => isWithinCallingHours('9:00', '09:00', '20:00')).toThrow();
  });
});

describe('delivery receipts', () => {
  it('reads the SMPP 3.4 Appendix B text', () => {
    const r = parseDeliveryReceipt(
      'id:A1B2C3 sub:001 dlvr:001 submit date:2611232300 done date:2611232301 stat:DELIVRD err:000 text:您的水费',
    );
    expect(r).toEqual({
      smscMessageId: 'A1B2C3',
      stat: 'DELIVRD',
      err: '000',
      doneAt: '2026-11-23T23:01:00+08:00',
    });
    expect(parseDeliveryReceipt('id:9 stat:undeliv err:012')).toEqual({
      smscMessageId: '9',
      stat: 'UNDELIV',
      err: '012',
      doneAt: null,
    });
    expect(parseDeliveryReceipt('hello')).toBeNull();
  });
  it('maps stats and message states to outcomes', () => {
    expect(receiptOutcome('DELIVRD')).toBe('delivered');
    for (const s of ['UNDELIV', 'EXPIRED', 'REJECTD', 'DELETED']) expect(receiptOutcome(s)).toBe('failed');
    for (const s of ['ACCEPTD', 'ENROUTE', 'UNKNOWN']) expect(receiptOutcome(s)).toBeNull();
    expect(receiptStatOfMessageState(2)).toBe('DELIVRD');
    expect(receiptStatOfMessageState(5)).toBe('UNDELIV');
    expect(receiptStatOfMessageState(99)).toBeNull();
  });
});

describe('isMessageExpired: a stale notice or dunning message is not sent', () => {
  const now = new Date('2026-11-24T01:00:00Z');
  const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);
  it("expires an SMS or voice notice/dunning message due more than the setting's days ago, not one due since", () => {
    expect(isMessageExpired({ channel: 'sms', purpose: 'notice', notBefore: daysAgo(8) }, now, 7)).toBe(true);
    expect(isMessageExpired({ channel: 'voice', purpose: 'dunning', notBefore: daysAgo(7.01) }, now, 7)).toBe(
      true,
    );
    expect(isMessageExpired({ channel: 'sms', purpose: 'dunning', notBefore: daysAgo(6.99) }, now, 7)).toBe(
      false,
    );
    // Exactly at the cutoff is not yet stale.
    expect(isMessageExpired({ channel: 'sms', purpose: 'notice', notBefore: daysAgo(7) }, now, 7)).toBe(
      false,
    );
    expect(
      isMessageExpired({ channel: 'sms', purpose: 'notice', notBefore: '2026-11-01T09:00:00+08:00' }, now, 7),
    ).toBe(true);
  });
  it('never expires letters or messages of other purposes, and nothing when the setting is 0', () => {
    expect(isMessageExpired({ channel: 'letter', purpose: 'letter', notBefore: daysAgo(400) }, now, 7)).toBe(
      false,
    );
    expect(isMessageExpired({ channel: 'letter', purpose: 'dunning', notBefore: daysAgo(400) }, now, 7)).toBe(
      false,
    );
    expect(isMessageExpired({ channel: 'sms', purpose: 'service', notBefore: daysAgo(400) }, now, 7)).toBe(
      false,
    );
    expect(isMessageExpired({ channel: 'sms', purpose: 'notice', notBefore: daysAgo(400) }, now, 0)).toBe(
      false,
    );
    expect(outboxExpiryCutoff(now, 0)).toBeNull();
    expect(outboxExpiryCutoff(now, Number.NaN)).toBeNull();
    expect(outboxExpiryCutoff(now, 7)?.toISOString()).toBe('2026-11-17T01:00:00.000Z');
  });
  it('property: a message is stale exactly when it was due before the cutoff', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 0, max: 90 * 86_400_000 }),
        (days, ageMs) => {
          const notBefore = new Date(now.getTime() - ageMs);
          const expired = isMessageExpired({ channel: 'sms', purpose: 'dunning', notBefore }, now, days);
          return expired === ageMs > days * 86_400_000;
        },
      ),
    );
  });
});
