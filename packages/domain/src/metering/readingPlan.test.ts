import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CalendarEntry, WorkingCalendar } from '../calendar/workingDays.ts';
import {
  effectiveZoneClass,
  meterFitsBook,
  type PlanBook,
  planReadingYear,
  readerMonthlyLimit,
} from './readingPlan.ts';
import { DEFAULT_WORKLOAD_CONFIG, type MeterCategory, readingDays } from './workload.ts';
import { isReadingMonth, ZONES, type Zone } from './zones.ts';

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

/** A book of `wall` wall-mounted household meters (150 a day is one day). */
function book(
  bookId: number,
  zone: Zone,
  readerId: number | null,
  meters: Partial<Record<MeterCategory, number>>,
) {
  return {
    bookId,
    code: `B${String(bookId).padStart(4, '0')}`,
    zone,
    areaType: 'concentrated' as const,
    readerId,
    meters,
  } satisfies PlanBook;
}

const inMonth = (period: string) => (p: { period: string }) => p.period === period;

describe('planReadingYear (DOMAIN.md §3: an annual calendar fixes which book is read on which working day)', () => {
  it('reads each zone in its months only: 0 monthly, A/B every 2 months, C/D/E every 3', () => {
    const plan = planReadingYear({
      year: 2026,
      calendar: cal,
      books: [
        book(1, '0', 7, { zone0: 20 }),
        book(2, 'B', 7, { ab_dispersed: 30 }),
        book(3, 'D', 7, { cde_wall: 100 }),
      ],
    });
    const months = (id: number) =>
      plan.planned.filter((p) => p.bookId === id).map((p) => Number(p.period.slice(5)));
    expect(months(1)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(months(2)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(months(3)).toEqual([2, 5, 8, 11]);
    expect(plan.unfit).toEqual([]);
    for (const p of plan.planned) expect(p.plannedOn.slice(0, 7)).toBe(p.period);
  });

  it('never plans a holiday; the adjusted Saturday (10 October) is a working day like any other', () => {
    // 16 one-day books of one reader in October 2026: 18 working days, 16 of them for reading.
    const books = Array.from({ length: 16 }, (_, i) => book(i + 1, 'C', 7, { cde_wall: 150 }));
    const plan = planReadingYear({ year: 2026, calendar: cal, books });
    const october = plan.planned.filter(inMonth('2026-10'));
    expect(october).toHaveLength(16);
    for (const p of october) {
      expect(cal.isWorkingDay(p.plannedOn), p.plannedOn).toBe(true);
      expect(p.plannedOn >= '2026-10-08').toBe(true);
    }
    expect(october.map((p) => p.plannedOn)).toContain('2026-10-10');
    // One book a day: each day holds one day of reading.
    expect(new Set(october.map((p) => p.plannedOn)).size).toBe(16);
  });

  it('keeps every reader within a day of reading a day, at the daily minimums of each kind of meter', () => {
    // 90 wall (0.6 day) + 50 buried (0.5 day) cannot share a day; 60 wall (0.4) + 50 buried (0.5) can.
    const books = [
      book(1, '0', 7, { cde_wall: 90 }),
      book(2, '0', 7, { cde_buried: 50 }),
      book(3, '0', 7, { cde_wall: 60 }),
    ];
    const tight = new WorkingCalendar(
      // A month with two working days: 1 and 2 June 2026 (the rest made holidays).
      Array.from({ length: 28 }, (_, i) => ({
        date: `2026-06-${String(i + 3).padStart(2, '0')}`,
        kind: 'holiday' as const,
        name: 'x',
      })),
    );
    const plan = planReadingYear({ year: 2026, calendar: tight, books });
    const june = plan.planned.filter(inMonth('2026-06'));
    expect(june).toHaveLength(3);
    const byDay = new Map<string, Partial<Record<MeterCategory, number>>>();
    for (const p of june) {
      const b = books.find((x) => x.bookId === p.bookId)!;
      const day = byDay.get(p.plannedOn) ?? {};
      for (const [k, v] of Object.entries(b.meters))
        day[k as MeterCategory] = (day[k as MeterCategory] ?? 0) + v;
      byDay.set(p.plannedOn, day);
    }
    for (const meters of byDay.values()) expect(readingDays(meters)).toBeLessThanOrEqual(1);
    expect(june.find((p) => p.bookId === 1)!.plannedOn).not.toBe(june.find((p) => p.bookId === 2)!.plannedOn);
  });

  it('reports the books a reader cannot read within 16 days (concentrated) and plans the rest', () => {
    const books = Array.from({ length: 20 }, (_, i) => book(i + 1, 'C', 7, { cde_wall: 150 }));
    const plan = planReadingYear({ year: 2026, calendar: cal, books });
    const january = plan.planned.filter(inMonth('2026-01'));
    expect(january).toHaveLength(16);
    const unfit = plan.unfit.filter(inMonth('2026-01'));
    expect(unfit).toHaveLength(4);
    expect(unfit.every((u) => u.reason === 'OVER_MONTHLY_DAYS' && u.daysNeeded === 1)).toBe(true);
    expect(plan.readers.find((r) => r.period === '2026-01')).toMatchObject({
      readerId: 7,
      daysUsed: 16,
      limit: 16,
    });
  });

  it('gives a dispersed area 18 days, and a reader with both kinds of area the stricter 16', () => {
    expect(readerMonthlyLimit(['dispersed'])).toEqual({ limit: 18, areaType: 'dispersed' });
    expect(readerMonthlyLimit(['dispersed', 'concentrated'])).toEqual({
      limit: 16,
      areaType: 'concentrated',
    });
    const dispersed = Array.from({ length: 20 }, (_, i) => ({
      ...book(i + 1, 'C', 7, { cde_wall: 150 }),
      areaType: 'dispersed' as const,
    }));
    const plan = planReadingYear({ year: 2026, calendar: cal, books: dispersed });
    expect(plan.planned.filter(inMonth('2026-01'))).toHaveLength(18);
  });

  it('gives a book of more than one day that many working days in a row, to itself', () => {
    const books = [book(1, 'C', 7, { cde_wall: 400 }), book(2, 'C', 7, { cde_wall: 30 })];
    const plan = planReadingYear({ year: 2026, calendar: cal, books });
    const oct = plan.planned.filter(inMonth('2026-10'));
    const big = oct.find((p) => p.bookId === 1)!.plannedOn;
    const small = oct.find((p) => p.bookId === 2)!.plannedOn;
    const days = cal.workingDaysOfMonth('2026-10');
    const i = days.indexOf(big);
    expect(days.slice(i, i + 3)).not.toContain(small);
  });

  it('spreads a reader’s books over the month in book order, leaving days for collection between them', () => {
    const books = Array.from({ length: 5 }, (_, i) => book(i + 1, 'C', 7, { cde_wall: 150 }));
    const plan = planReadingYear({ year: 2026, calendar: cal, books });
    const jan = plan.planned.filter(inMonth('2026-01'));
    const dates = jan.sort((a, b) => a.bookId - b.bookId).map((p) => p.plannedOn);
    expect([...dates].sort()).toEqual(dates);
    const days = cal.workingDaysOfMonth('2026-01');
    expect(dates[0]).toBe(days[0]);
    expect(dates[4]! > days[10]!).toBe(true);
  });

  it('keeps fixed dates (read, moved by an approved change, past) and plans the rest around them', () => {
    const books = Array.from({ length: 16 }, (_, i) => book(i + 1, 'C', 7, { cde_wall: 150 }));
    const fixed = [{ bookId: 16, period: '2026-10', date: '2026-10-08' }];
    const plan = planReadingYear({ year: 2026, calendar: cal, books, fixed });
    const oct = plan.planned.filter(inMonth('2026-10'));
    expect(oct.find((p) => p.bookId === 16)).toEqual({
      bookId: 16,
      period: '2026-10',
      plannedOn: '2026-10-08',
      fixed: true,
    });
    // The fixed day is full: no other book on it.
    expect(oct.filter((p) => p.plannedOn === '2026-10-08')).toHaveLength(1);
    expect(oct).toHaveLength(16);
  });

  it('is deterministic, and re-planning with its own dates fixed changes nothing', () => {
    const books = Array.from({ length: 30 }, (_, i) =>
      book(i + 1, ZONES[i % 6]!, i % 3 === 0 ? null : (i % 2) + 1, { cde_wall: 40 + i * 7, zone0: i % 4 }),
    );
    const first = planReadingYear({ year: 2026, calendar: cal, books });
    expect(planReadingYear({ year: 2026, calendar: cal, books })).toEqual(first);
    const again = planReadingYear({
      year: 2026,
      calendar: cal,
      books,
      fixed: first.planned.map((p) => ({ bookId: p.bookId, period: p.period, date: p.plannedOn })),
    });
    expect(again.planned.map((p) => [p.bookId, p.period, p.plannedOn])).toEqual(
      first.planned.map((p) => [p.bookId, p.period, p.plannedOn]),
    );
  });

  it('plans nothing before `from` (today): past months are left alone, the current month from today on', () => {
    const books = Array.from({ length: 6 }, (_, i) => book(i + 1, '0', 7, { zone0: 30 }));
    const plan = planReadingYear({ year: 2026, calendar: cal, books, from: '2026-10-20' });
    expect(plan.planned.filter((p) => p.period < '2026-10')).toEqual([]);
    const october = plan.planned.filter(inMonth('2026-10'));
    expect(october).toHaveLength(6);
    expect(october.every((p) => p.plannedOn >= '2026-10-20')).toBe(true);
    expect(plan.unfit).toEqual([]);
  });

  it('gives the same dates when generated again later with the dates now past fixed', () => {
    const books = Array.from({ length: 24 }, (_, i) =>
      book(i + 1, ZONES[i % 6]!, (i % 3) + 1, { cde_wall: 30 + ((i * 37) % 200), zone0: i % 5 }),
    );
    const first = planReadingYear({ year: 2026, calendar: cal, books });
    const today = '2026-06-17';
    const later = planReadingYear({
      year: 2026,
      calendar: cal,
      books,
      from: today,
      fixed: first.planned
        .filter((p) => p.plannedOn < today)
        .map((p) => ({ bookId: p.bookId, period: p.period, date: p.plannedOn })),
    });
    expect(later.planned.map((p) => [p.bookId, p.period, p.plannedOn])).toEqual(
      first.planned
        .filter((p) => p.plannedOn < today || p.period >= '2026-06')
        .map((p) => [p.bookId, p.period, p.plannedOn]),
    );
  });

  it('counts a reader’s books of another office by their fixed dates only (plan: false)', () => {
    const books: PlanBook[] = [
      { ...book(1, 'C', 7, { cde_wall: 150 }), plan: false },
      book(2, 'C', 7, { cde_wall: 150 }),
    ];
    const plan = planReadingYear({
      year: 2026,
      calendar: cal,
      books,
      fixed: [{ bookId: 1, period: '2026-01', date: '2026-01-05' }],
    });
    expect(plan.planned.filter((p) => p.bookId === 1)).toEqual([]);
    const jan = plan.planned.filter(inMonth('2026-01'));
    expect(jan).toHaveLength(1);
    expect(jan[0]!.plannedOn).not.toBe('2026-01-05');
  });

  it('holds its invariants for any books: working days of the month, ≤ 1 day a day, ≤ the limit, each due book once', () => {
    const category = fc.constantFrom<MeterCategory>(
      'cde_wall',
      'cde_buried',
      'ab_resettlement',
      'ab_dispersed',
      'zone0',
    );
    const arbBook = fc.record({
      zone: fc.constantFrom(...ZONES),
      readerId: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
      areaType: fc.constantFrom('concentrated' as const, 'dispersed' as const),
      meters: fc.dictionary(category, fc.integer({ min: 0, max: 400 }), { maxKeys: 3 }),
    });
    fc.assert(
      fc.property(fc.array(arbBook, { minLength: 1, maxLength: 40 }), (raw) => {
        const books: PlanBook[] = raw.map((b, i) => ({ ...b, bookId: i + 1, code: `K${1000 + i}` }));
        const plan = planReadingYear({ year: 2026, calendar: cal, books });
        const seen = new Set<string>();
        const load = new Map<string, Partial<Record<MeterCategory, number>>>();
        const days = new Map<string, Set<string>>();
        for (const p of plan.planned) {
          const key = `${p.bookId}|${p.period}`;
          expect(seen.has(key)).toBe(false);
          seen.add(key);
          expect(cal.isWorkingDay(p.plannedOn)).toBe(true);
          expect(p.plannedOn.slice(0, 7)).toBe(p.period);
          const b = books.find((x) => x.bookId === p.bookId)!;
          if (b.readerId === null) continue;
          const need = readingDays(b.meters);
          const lane = `${b.readerId}|${p.period}`;
          if (need === 1) {
            const dayKey = `${b.readerId}|${p.plannedOn}`;
            const m = load.get(dayKey) ?? {};
            for (const [k, v] of Object.entries(b.meters))
              m[k as MeterCategory] = (m[k as MeterCategory] ?? 0) + v;
            load.set(dayKey, m);
            days.set(lane, (days.get(lane) ?? new Set()).add(p.plannedOn));
          } else if (need > 1) {
            const month = cal.workingDaysOfMonth(p.period);
            const i = month.indexOf(p.plannedOn);
            for (const d of month.slice(i, i + need)) {
              const dayKey = `${b.readerId}|${d}`;
              expect(load.has(dayKey)).toBe(false);
              load.set(dayKey, { cde_wall: 150 });
              days.set(lane, (days.get(lane) ?? new Set()).add(d));
            }
          }
        }
        for (const u of plan.unfit) {
          const key = `${u.bookId}|${u.period}`;
          expect(seen.has(key)).toBe(false);
          seen.add(key);
        }
        for (const meters of load.values()) expect(readingDays(meters)).toBeLessThanOrEqual(1);
        for (const [lane, set] of days) {
          const readerId = Number(lane.split('|')[0]);
          const { limit } = readerMonthlyLimit(
            books.filter((b) => b.readerId === readerId).map((b) => b.areaType),
            DEFAULT_WORKLOAD_CONFIG,
          );
          expect(set.size).toBeLessThanOrEqual(limit);
        }
        // Every book of a reading month is either planned or reported.
        const due = books.flatMap((b) =>
          Array.from({ length: 12 }, (_, m) => m + 1)
            .filter((m) => isReadingMonth(b.zone, m))
            .map((m) => `${b.bookId}|2026-${String(m).padStart(2, '0')}`),
        );
        expect([...seen].sort()).toEqual(due.sort());
      }),
      { numRuns: 60 },
    );
  });
});

describe('zone overrides (a book carries one zone; its meters must be of that zone’s class)', () => {
  it('an override decides the class; without one the rule does', () => {
    expect(effectiveZoneClass('CDE', null)).toBe('CDE');
    expect(effectiveZoneClass('CDE', 'A')).toBe('AB');
    expect(effectiveZoneClass('AB', '0')).toBe('0');
    expect(meterFitsBook('CDE', 'D')).toBe(true);
    expect(meterFitsBook('CDE', 'B')).toBe(false);
    expect(meterFitsBook('0', '0')).toBe(true);
  });
});
