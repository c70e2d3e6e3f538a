import { describe, expect, it } from 'vitest';
import { chinaDateTime, todayInChina, validateIsoDate } from './dates.ts';

describe('dates in the utility’s timezone', () => {
  it('reckons today in China time, not the machine’s', () => {
    expect(todayInChina(new Date('2026-11-22T15:59:59Z'))).toBe('2026-11-22');
    expect(todayInChina(new Date('2026-11-22T16:00:00Z'))).toBe('2026-11-23');
  });

  it('shows an instant in China time whatever the viewer’s clock', () => {
    expect(chinaDateTime('2026-11-16T00:46:00.000Z')).toBe('2026-11-16 08:46:00');
    expect(chinaDateTime(new Date('2026-12-31T16:30:05Z'))).toBe('2027-01-01 00:30:05');
    expect(chinaDateTime('2026-11-16T08:46:00+08:00')).toBe('2026-11-16 08:46:00');
    expect(chinaDateTime(null)).toBe('');
    expect(chinaDateTime('not a time')).toBe('');
  });

  it('validates calendar dates', () => {
    expect(validateIsoDate('2026-02-29')).toEqual({ ok: false, code: 'DATE_INVALID' });
    expect(validateIsoDate('2026-2-1')).toEqual({ ok: false, code: 'DATE_FORMAT' });
    expect(validateIsoDate('2026-11-24', { notAfter: '2026-11-23' })).toEqual({
      ok: false,
      code: 'DATE_IN_FUTURE',
    });
    expect(validateIsoDate('2028-02-29')).toEqual({ ok: true });
  });
});
