import { describe, expect, it } from 'vitest';
import { addDays, type CalendarEntry, WorkingCalendar, weekday } from './workingDays.ts';

/** The official 2026 National Day arrangement: 1–7 October off; Sunday 20 September and Saturday 10 October worked. */
const NATIONAL_DAY_2026: CalendarEntry[] = [
  ...['01', '02', '03', '04', '05', '06', '07'].map((d) => ({
    date: `2026-10-${d}`,
    kind: 'holiday' as const,
    name: '国庆节',
  })),
  { date: '2026-09-20', kind: 'adjusted_workday', name: '国庆节' },
  { date: '2026-10-10', kind: 'adjusted_workday', name: '国庆节' },
];

const cal = new WorkingCalendar(NATIONAL_DAY_2026);

describe('working-day arithmetic (DOMAIN.md §7: deadlines in working days, with holidays and 调休)', () => {
  it('knows weekdays from dates without timezone drift', () => {
    expect(weekday('2026-10-10')).toBe(6);
    expect(weekday('2026-09-20')).toBe(0);
    expect(addDays('2026-09-30', 1)).toBe('2026-10-01');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
  });

  it('holidays are rest days even on weekdays; adjusted Saturdays and Sundays are working days', () => {
    expect(cal.isWorkingDay('2026-10-05')).toBe(false); // Monday in the holiday
    expect(cal.isWorkingDay('2026-10-10')).toBe(true); // Saturday worked
    expect(cal.isWorkingDay('2026-09-20')).toBe(true); // Sunday worked
    expect(cal.isWorkingDay('2026-10-11')).toBe(false); // an ordinary Sunday
    expect(cal.kind('2026-10-10')).toBe('adjusted_workday');
  });

  it('a 7-working-day survey from 29 September jumps the holiday and counts the adjusted Saturday', () => {
    // 29, 30 Sep | 1–7 Oct off | 8 (Thu), 9 (Fri), 10 (Sat, worked), 12, 13 ...
    expect(cal.addWorkingDays('2026-09-29', 7)).toBe('2026-10-14');
    expect(cal.addWorkingDays('2026-09-30', 1)).toBe('2026-10-08');
    expect(cal.addWorkingDays('2026-10-09', 1)).toBe('2026-10-10');
  });

  it('a request received during the holiday starts on the first working day after it', () => {
    expect(cal.addWorkingDays('2026-10-03', 0)).toBe('2026-10-08');
    expect(cal.addWorkingDays('2026-10-03', 2)).toBe('2026-10-10');
  });

  it('counts working days in a range and lists a month', () => {
    expect(cal.workingDaysBetween('2026-09-28', '2026-10-11')).toBe(6); // 28, 29, 30 Sep; 8, 9, 10 Oct
    const october = cal.workingDaysOfMonth('2026-10');
    expect(october[0]).toBe('2026-10-08');
    expect(october).toContain('2026-10-10');
    expect(october).toHaveLength(18); // 8, 9, 10 and three full weeks
    expect(cal.workingDaysOfMonth('2026-09')).toContain('2026-09-20');
  });

  it('refuses a negative number of working days', () => {
    expect(() => cal.addWorkingDays('2026-10-08', -1)).toThrow();
  });
});
