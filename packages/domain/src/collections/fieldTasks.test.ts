import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WorkingCalendar } from '../calendar/workingDays.ts';
import {
  type ArrearsPoint,
  dailyCollectorList,
  dailyQuota,
  isCarriedOver,
  readingDayTasks,
  repeatVisitDueOn,
  workingDaysLeftInMonth,
} from './fieldTasks.ts';

const point = (accountId: number, bookCode: string, routeSeq: number | null, cycles = 1): ArrearsPoint => ({
  accountId,
  bookId: Number(bookCode.replace(/\D/g, '')) || 1,
  bookCode,
  routeSeq,
  arrearsCycles: cycles,
  arrearsFen: cycles * 5000,
});

// October 2026: National Day holiday 1–7 October, adjusted working days on Sat 10 October.
const october = new WorkingCalendar([
  ...['01', '02', '03', '04', '05', '06', '07'].map((d) => ({
    date: `2026-10-${d}`,
    kind: 'holiday' as const,
  })),
  { date: '2026-10-10', kind: 'adjusted_workday' as const },
]);

describe('working days left in the month (the divisor of the daily list)', () => {
  it('counts today and the rest of the month, skipping weekends', () => {
    const plain = new WorkingCalendar([]);
    // Monday 2026-11-23: 23–27 and 30 November are working days.
    expect(workingDaysLeftInMonth(plain, '2026-11-23')).toBe(6);
    expect(workingDaysLeftInMonth(plain, '2026-11-30')).toBe(1);
    // Sunday 29 November: only Monday 30 is left.
    expect(workingDaysLeftInMonth(plain, '2026-11-29')).toBe(1);
  });

  it('skips a holiday and counts an adjusted working Saturday', () => {
    // From 1 October: 8, 9, 10 (adjusted), then 12–16, 19–23, 26–30 → 3 + 15 = 18.
    expect(workingDaysLeftInMonth(october, '2026-10-01')).toBe(18);
    expect(workingDaysLeftInMonth(october, '2026-10-09')).toBe(17);
  });
});

describe('dailyCollectorList: "arrears points ÷ working days this month, in ascending book order"', () => {
  it('rounds the quota up and takes points in book order, then route order', () => {
    const points = [
      point(5, 'B02', 1),
      point(1, 'B01', 3),
      point(2, 'B01', 1),
      point(7, 'B03', null),
      point(3, 'B01', 2),
      point(6, 'B03', 9),
      point(4, 'B02', null),
    ];
    // 7 points over 3 working days → ⌈7/3⌉ = 3 a day.
    const list = dailyCollectorList(points, 3);
    expect(list.map((p) => p.accountId)).toEqual([2, 3, 1]);
    expect(dailyCollectorList(points, 1).map((p) => p.accountId)).toEqual([2, 3, 1, 5, 4, 6, 7]);
  });

  it('divides by the working days left across a holiday: 36 points on 1 October are 2 a day', () => {
    const points = Array.from({ length: 36 }, (_, i) =>
      point(i + 1, `B${String(i % 4).padStart(2, '0')}`, i),
    );
    const left = workingDaysLeftInMonth(october, '2026-10-01');
    expect(dailyCollectorList(points, left)).toHaveLength(2);
    // With ordinary weekends only, 1 October 2026 (Thursday) leaves 22 working days: still 2 a day.
    expect(dailyQuota(36, workingDaysLeftInMonth(new WorkingCalendar([]), '2026-10-01'))).toBe(2);
    // Late in the month the quota grows: 36 points with 2 days left are 18 a day.
    expect(dailyQuota(36, 2)).toBe(18);
  });

  it('keeps removals and pins made by hand', () => {
    const points = [point(1, 'B01', 1), point(2, 'B01', 2), point(3, 'B01', 3), point(4, 'B02', 1)];
    // Quota 2 of 4 over 2 days; 1 removed → the next in order fills its place; 4 pinned → added.
    const list = dailyCollectorList(points, 2, { removed: [1], pinned: [4] });
    expect(list.map((p) => p.accountId)).toEqual([2, 3, 4]);
  });

  it('takes everything when no working day is left, nothing when no points', () => {
    expect(dailyQuota(5, 0)).toBe(5);
    expect(dailyQuota(0, 10)).toBe(0);
  });

  it('property: the list is the quota (less removals), ordered, a prefix of the book order', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({
            id: fc.integer({ min: 1, max: 10_000 }),
            book: fc.integer({ min: 0, max: 9 }),
            seq: fc.option(fc.integer({ min: 0, max: 50 })),
          }),
          { selector: (r) => r.id, maxLength: 80 },
        ),
        fc.integer({ min: 0, max: 23 }),
        (raw, left) => {
          const points = raw.map((r) => point(r.id, `B${r.book}`, r.seq));
          const list = dailyCollectorList(points, left);
          expect(list).toHaveLength(dailyQuota(points.length, left));
          const ordered = [...points].sort((a, b) =>
            a.bookCode !== b.bookCode
              ? a.bookCode < b.bookCode
                ? -1
                : 1
              : (a.routeSeq ?? 1e15) - (b.routeSeq ?? 1e15) || a.accountId - b.accountId,
          );
          expect(list.map((p) => p.accountId)).toEqual(ordered.slice(0, list.length).map((p) => p.accountId));
        },
      ),
    );
  });
});

describe('reading-day tasks: "tasks for the customers on the route by arrears cycle"', () => {
  it('takes the route’s customers at least minCycles behind, in route order', () => {
    const points = [
      point(1, 'B01', 3, 1),
      point(2, 'B01', 1, 3),
      point(3, 'B01', 2, 0),
      point(4, 'B01', 4, 2),
    ];
    expect(readingDayTasks(points, 1).map((p) => p.accountId)).toEqual([2, 1, 4]);
    expect(readingDayTasks(points, 2).map((p) => p.accountId)).toEqual([2, 4]);
  });
});

describe('collection-day rule: repeat visits and carried-over tasks', () => {
  it('a refused or nobody-found visit is due again N days later; a signed one is not', () => {
    expect(repeatVisitDueOn({ outcome: 'refused', visitedOn: '2026-11-20' }, 7)).toBe('2026-11-27');
    expect(repeatVisitDueOn({ outcome: 'nobody_found', visitedOn: '2026-11-28' }, 7)).toBe('2026-12-05');
    expect(repeatVisitDueOn({ outcome: 'signed', visitedOn: '2026-11-20' }, 7)).toBeNull();
  });

  it('an open task of an earlier day is carried while the customer owes', () => {
    expect(isCarriedOver({ taskDate: '2026-11-20', status: 'open' }, '2026-11-23', true)).toBe(true);
    expect(isCarriedOver({ taskDate: '2026-11-20', status: 'visited' }, '2026-11-23', true)).toBe(false);
    expect(isCarriedOver({ taskDate: '2026-11-20', status: 'open' }, '2026-11-23', false)).toBe(false);
    expect(isCarriedOver({ taskDate: '2026-11-23', status: 'open' }, '2026-11-23', true)).toBe(false);
  });
});
