import type { WorkingCalendar } from '../calendar/workingDays.ts';
import { assert } from '../platform/errors.ts';
import {
  type AreaType,
  DEFAULT_WORKLOAD_CONFIG,
  type MeterCategory,
  readingDays,
  type WorkloadConfig,
} from './workload.ts';
import {
  DEFAULT_ZONE_CONFIG,
  isReadingMonth,
  type Zone,
  type ZoneClass,
  type ZoneConfig,
  zoneClassOf,
} from './zones.ts';

/**
 * The annual reading calendar (年度抄收日期表, DOMAIN.md §3): every book is read on a fixed working
 * day in each month its zone is read; no reading early or late without an approved change.
 *
 * How a month is planned, reader by reader:
 * - a reader's day holds at most one day of reading at the daily minimums (`readingDays` of the
 *   day's meters by category ≤ 1); a book that needs more than one day takes that many working
 *   days in a row to itself, starting on its planned day;
 * - a reader reads on at most `maxDaysPerMonth` working days of the month (16 concentrated, 18
 *   dispersed; a reader with books of both kinds gets the stricter figure), and never more days
 *   than the month has: the other days are for collection (readers are reader–collectors);
 * - the reader's books, in book-code order, are spread over the whole month: each book aims at
 *   the working day where its share of the month's work begins (so 10 days of reading in a
 *   21-working-day month falls on about every other day), and takes the first day from there that
 *   has room, else the nearest earlier one;
 * - dates already fixed (a period read, a move approved, a day past) are kept and count against
 *   the reader's days, and take their share of the month when the others aim (so generating again
 *   later gives the open books the days it gave them before);
 * - nothing new goes before `from` (today): months already over are left as they are;
 * - a book that finds no room is reported, not squeezed in: the office rebalances its readers.
 * Books without a reader are planned each on its own, spread over the month in code order.
 */

export type MeterCounts = Partial<Record<MeterCategory, number>>;

export interface PlanBook {
  bookId: number;
  code: string;
  zone: Zone;
  areaType: AreaType;
  readerId: number | null;
  /** The book's meters by category (`meterCategory`), read at the daily minimums. */
  meters: MeterCounts;
  /**
   * false: the book is only here for its fixed dates (a reader's book in another office), so
   * its days count against the reader; it is not planned. Default true.
   */
  plan?: boolean;
}

/** A date that stays as it is: the period was read, moved by an approved change, or is past. */
export interface FixedReading {
  bookId: number;
  period: string;
  date: string;
}

export interface ReadingPlanInput {
  year: number;
  books: PlanBook[];
  calendar: WorkingCalendar;
  workload?: WorkloadConfig;
  zones?: ZoneConfig;
  fixed?: FixedReading[];
  /**
   * The first day open for planning (usually today): earlier days take no new reading, and months
   * over before it are left as they are. Default: 1 January of the year.
   */
  from?: string;
}

export interface PlannedReading {
  bookId: number;
  /** YYYY-MM */
  period: string;
  plannedOn: string;
  /** Kept from the input's fixed dates. */
  fixed: boolean;
}

export type UnfitReason =
  /** The month has no working day at all. */
  | 'NO_WORKING_DAYS'
  /** The reader's reading days of the month are used up (or the book alone needs more). */
  | 'OVER_MONTHLY_DAYS'
  /** Days are left, but none (or no run of days) with room for this book. */
  | 'NO_ROOM';

export interface UnfitReading {
  bookId: number;
  readerId: number | null;
  period: string;
  daysNeeded: number;
  reason: UnfitReason;
}

export interface ReaderMonth {
  readerId: number;
  period: string;
  /** Working days of the month with some reading planned. */
  daysUsed: number;
  /** The most reading days allowed this month (area type limit, capped by the working days). */
  limit: number;
}

export interface ReadingPlanResult {
  planned: PlannedReading[];
  unfit: UnfitReading[];
  readers: ReaderMonth[];
}

/** Months of a year, 'YYYY-MM'. */
export function periodsOfYear(year: number): string[] {
  assert(Number.isInteger(year) && year >= 1900 && year <= 2200, 'a plausible year');
  return Array.from({ length: 12 }, (_, i) => `${year}-${String(i + 1).padStart(2, '0')}`);
}

/** Working days a book takes at the daily minimums (a part day counts as a day); 0 when empty. */
export function bookReadingDays(
  meters: MeterCounts,
  config: WorkloadConfig = DEFAULT_WORKLOAD_CONFIG,
): number {
  return readingDays(meters, config);
}

/** The book's share of a reader's day at the daily minimums, unrounded (for spreading only). */
function dayShare(meters: MeterCounts, config: WorkloadConfig): number {
  let share = 0;
  for (const [category, count] of Object.entries(meters) as [MeterCategory, number][])
    share += count / config.metersPerDay[category];
  return share;
}

function addCounts(a: MeterCounts, b: MeterCounts): MeterCounts {
  const out: MeterCounts = { ...a };
  for (const [category, count] of Object.entries(b) as [MeterCategory, number][])
    out[category] = (out[category] ?? 0) + count;
  return out;
}

/**
 * The monthly limit of a reader: the area type's maximum reading days; with books of both area
 * types the stricter (smaller) one.
 */
export function readerMonthlyLimit(
  areaTypes: Iterable<AreaType>,
  config: WorkloadConfig = DEFAULT_WORKLOAD_CONFIG,
): { limit: number; areaType: AreaType } {
  let best: { limit: number; areaType: AreaType } | null = null;
  for (const areaType of areaTypes) {
    const limit = config.maxDaysPerMonth[areaType];
    if (!best || limit < best.limit) best = { limit, areaType };
  }
  return best ?? { limit: config.maxDaysPerMonth.concentrated, areaType: 'concentrated' };
}

/** One reader's (or one unassigned book's) days in one month. */
class Lane {
  private readonly meters: MeterCounts[];
  /** Days taken whole by a book of more than one day. */
  private readonly exclusive: boolean[];
  private readonly used: boolean[];
  private usedCount = 0;

  /** `firstOpen`: index of the first day a new reading may go on (-1: none this month). */
  constructor(
    readonly days: readonly string[],
    readonly limit: number,
    private readonly firstOpen = 0,
  ) {
    this.meters = days.map(() => ({}));
    this.exclusive = days.map(() => false);
    this.used = days.map(() => false);
  }

  get daysUsed(): number {
    return this.usedCount;
  }

  private use(index: number): void {
    if (!this.used[index]) {
      this.used[index] = true;
      this.usedCount++;
    }
  }

  /** Counts a fixed date's load (a date that is no longer a working day counts nowhere). */
  fix(date: string, meters: MeterCounts, need: number): void {
    const index = this.days.indexOf(date);
    if (index < 0 || need === 0) return;
    if (need === 1) {
      this.meters[index] = addCounts(this.meters[index]!, meters);
      this.use(index);
      return;
    }
    for (let i = index; i < Math.min(this.days.length, index + need); i++) {
      this.exclusive[i] = true;
      this.use(i);
    }
  }

  private fitsAt(index: number, meters: MeterCounts, need: number, config: WorkloadConfig): boolean {
    if (this.firstOpen < 0 || index < this.firstOpen) return false;
    if (need === 1) {
      if (this.exclusive[index]) return false;
      if (!this.used[index] && this.usedCount >= this.limit) return false;
      return readingDays(addCounts(this.meters[index]!, meters), config) <= 1;
    }
    if (index + need > this.days.length || this.usedCount + need > this.limit) return false;
    for (let i = index; i < index + need; i++) if (this.used[i]) return false;
    return true;
  }

  /** Places a book at or after `ideal` (else at the nearest earlier day); the day, or null. */
  place(ideal: number, meters: MeterCounts, need: number, config: WorkloadConfig): string | null {
    const n = this.days.length;
    if (this.firstOpen < 0) return null;
    const start = Math.min(Math.max(ideal, this.firstOpen), n - 1);
    if (need === 0) return this.days[start]!;
    let found = -1;
    for (let i = start; i < n && found < 0; i++) if (this.fitsAt(i, meters, need, config)) found = i;
    for (let i = start - 1; i >= 0 && found < 0; i--) if (this.fitsAt(i, meters, need, config)) found = i;
    if (found < 0) return null;
    if (need === 1) {
      this.meters[found] = addCounts(this.meters[found]!, meters);
      this.use(found);
    } else {
      for (let i = found; i < found + need; i++) {
        this.exclusive[i] = true;
        this.use(i);
      }
    }
    return this.days[found]!;
  }
}

/** Plans a year: for every book, a working day in each month its zone is read. */
export function planReadingYear(input: ReadingPlanInput): ReadingPlanResult {
  const config = input.workload ?? DEFAULT_WORKLOAD_CONFIG;
  const zones = input.zones ?? DEFAULT_ZONE_CONFIG;
  const from = input.from ?? `${input.year}-01-01`;
  const fixed = new Map<string, string>();
  for (const f of input.fixed ?? []) fixed.set(`${f.bookId}|${f.period}`, f.date);
  const books = [...input.books].sort((a, b) =>
    a.code < b.code ? -1 : a.code > b.code ? 1 : a.bookId - b.bookId,
  );
  // A reader's limit follows all their books (the stricter area type), whatever month it is.
  const areaTypesByReader = new Map<number, Set<AreaType>>();
  for (const b of books) {
    if (b.readerId === null) continue;
    const set = areaTypesByReader.get(b.readerId) ?? new Set<AreaType>();
    set.add(b.areaType);
    areaTypesByReader.set(b.readerId, set);
  }

  const result: ReadingPlanResult = { planned: [], unfit: [], readers: [] };
  for (const period of periodsOfYear(input.year)) {
    const month = Number(period.slice(5, 7));
    const days = input.calendar.workingDaysOfMonth(period);
    const n = days.length;
    // A month over before `from` is history: its open periods are left alone.
    const monthOver = `${period}-31` < from;
    const due = books.filter((b) => isReadingMonth(b.zone, month, zones));
    const need = new Map(due.map((b) => [b.bookId, bookReadingDays(b.meters, config)]));
    const dateOf = (b: PlanBook) => fixed.get(`${b.bookId}|${period}`);
    const toPlan = (b: PlanBook) => b.plan !== false && dateOf(b) === undefined && !monthOver;
    // The books of a lane this month: fixed ones count, open ones get a day, other offices' open
    // ones are not here.
    const present = due.filter((b) => dateOf(b) !== undefined || toPlan(b));
    for (const b of present) {
      const date = dateOf(b);
      if (date !== undefined && b.plan !== false)
        result.planned.push({ bookId: b.bookId, period, plannedOn: date, fixed: true });
    }
    const open = present.filter(toPlan);
    if (open.length === 0) continue;
    const unfit = (b: PlanBook, reason: UnfitReason) =>
      result.unfit.push({
        bookId: b.bookId,
        readerId: b.readerId,
        period,
        daysNeeded: need.get(b.bookId)!,
        reason,
      });
    if (n === 0) {
      for (const b of open) unfit(b, 'NO_WORKING_DAYS');
      continue;
    }
    const firstOpen = days.findIndex((d) => d >= from);
    // Every working day of the month is before `from`: as good as over.
    if (firstOpen < 0) continue;

    // One lane per reader; each book without a reader is a lane of its own.
    const lanes = new Map<string, { readerId: number | null; books: PlanBook[]; lane: Lane }>();
    for (const b of present) {
      const key = b.readerId === null ? `book:${b.bookId}` : `reader:${b.readerId}`;
      let entry = lanes.get(key);
      if (!entry) {
        const limit =
          b.readerId === null
            ? config.maxDaysPerMonth[b.areaType]
            : readerMonthlyLimit(areaTypesByReader.get(b.readerId) ?? [], config).limit;
        entry = { readerId: b.readerId, books: [], lane: new Lane(days, Math.min(limit, n), firstOpen) };
        lanes.set(key, entry);
      }
      entry.books.push(b);
      const date = dateOf(b);
      if (date !== undefined) entry.lane.fix(date, b.meters, need.get(b.bookId)!);
    }
    const unassigned = present.filter((b) => b.readerId === null);
    for (const { readerId, books: list, lane } of lanes.values()) {
      // Each book aims where its share of the lane's month begins, fixed books included, so a
      // second generation aims every open book where the first one did.
      const shares = list.map((b) => dayShare(b.meters, config));
      const total = shares.reduce((s, x) => s + x, 0);
      let before = 0;
      list.forEach((b, i) => {
        let ideal: number;
        if (readerId === null) {
          const k = unassigned.indexOf(b);
          ideal = Math.floor((k * n) / unassigned.length);
        } else {
          ideal = total > 0 ? Math.floor((before / total) * n) : Math.floor((i * n) / list.length);
        }
        before += shares[i]!;
        if (!toPlan(b)) return;
        const needDays = need.get(b.bookId)!;
        const date = lane.place(ideal, b.meters, needDays, config);
        if (date) result.planned.push({ bookId: b.bookId, period, plannedOn: date, fixed: false });
        else
          unfit(
            b,
            needDays > lane.limit || lane.daysUsed + needDays > lane.limit ? 'OVER_MONTHLY_DAYS' : 'NO_ROOM',
          );
      });
      if (readerId !== null)
        result.readers.push({ readerId, period, daysUsed: lane.daysUsed, limit: lane.limit });
    }
  }
  result.planned.sort((a, b) =>
    a.plannedOn < b.plannedOn ? -1 : a.plannedOn > b.plannedOn ? 1 : a.bookId - b.bookId,
  );
  return result;
}

/** The zone class a meter is read in: an admin's override (with its reason) wins over the rule. */
export function effectiveZoneClass(ruleClass: ZoneClass, override: Zone | null): ZoneClass {
  return override === null ? ruleClass : zoneClassOf(override);
}

/** A book carries one zone; a meter belongs in it when its (effective) class is the zone's class. */
export function meterFitsBook(meterClass: ZoneClass, bookZone: Zone): boolean {
  return zoneClassOf(bookZone) === meterClass;
}
