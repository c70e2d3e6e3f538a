import {
  CUSTOMER_STATES,
  type CustomerState,
  checkReading,
  checkReadingMilli,
  DEFAULT_READING_THRESHOLDS,
  type Estimate,
  estimateConsumption,
  estimateConsumptionMilli,
  isReadingMonth,
  isToRead,
  type PastPeriod,
  type PastPeriodMilli,
  type ReadingThresholds,
  type RegisterReference,
  type Settings,
  todayInChina,
  visitForced,
  ZONES,
  type Zone,
} from '@meterline/domain';

/**
 * How the server applies the reading rules of packages/domain to stored data: which customers are
 * to be read (isToRead, as an SQL condition), a meter's history as the estimator wants it, the
 * register position after a reading, and the decision on one incoming reading (checkReading,
 * estimateConsumption, visitForced). No rule is restated here; only data is shaped for the rules.
 */

// ------------------------------------------------------------------ time in China

const CHINA_OFFSET_MS = 8 * 3600_000;
const DAY_MS = 86_400_000;

/** The calendar day in China of an instant, YYYY-MM-DD (the domain's todayInChina of that instant). */
export function chinaDate(at: Date): string {
  return todayInChina(at);
}

/** The reading period (YYYY-MM) of an instant: the month in China. */
export function periodOf(at: Date): string {
  return chinaDate(at).slice(0, 7);
}

/** Midnight in China at the start of a day, as an instant. */
export function chinaDayStart(day: string): Date {
  return new Date(Date.parse(`${day}T00:00:00Z`) - CHINA_OFFSET_MS);
}

/** A time of day in China (HH:MM) on a day, as an instant. */
export function chinaTime(day: string, hhmm: string): Date {
  return new Date(Date.parse(`${day}T${hhmm}:00Z`) - CHINA_OFFSET_MS);
}

/** An ISO 8601 time; without an offset it is China time (the handheld's local time). */
export function parseReadAt(text: string): Date | null {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)(Z|[+-]\d{2}:?\d{2})?$/.exec(
    text.trim(),
  );
  if (!m) return null;
  const iso = `${m[1]}T${m[2]}${m[3] ?? '+08:00'}`;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  const date = new Date(ms);
  // Date.parse rolls 2026-02-30 over into March: refuse days that do not exist.
  if (m[3] === undefined && periodOf(date) !== m[1]!.slice(0, 7)) return null;
  return date;
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS);
}

/** The month before (delta −1) or after a YYYY-MM month. */
export function addMonths(month: string, delta: number): string {
  const [y, m] = month.split('-').map(Number);
  const total = y! * 12 + (m! - 1) + delta;
  return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}`;
}

// ------------------------------------------------------------------ who read a book in a month

/**
 * A book's assignment to a reader (book_assignment): from `fromDate` up to (not on) `toDate`, handed
 * over by the reader who held it before (null: nobody, or not recorded).
 */
export interface BookTenure {
  readerId: number;
  fromDate: string;
  toDate: string | null;
  handedOverBy: number | null;
}

/**
 * The reader who held a book on a day: the assignment in force then; before an assignment, the reader
 * who handed the book over to it. A book with no recorded assignment is its present reader's; a day
 * after its last assignment ended, nobody's (null).
 */
export function readerOnDay(
  tenures: readonly BookTenure[],
  presentReader: number | null,
  day: string,
): number | null {
  if (tenures.length === 0) return presentReader;
  let next: BookTenure | null = null;
  for (const t of tenures) {
    if (t.fromDate <= day) {
      if (t.toDate === null || day < t.toDate) return t.readerId;
    } else if (next === null || t.fromDate < next.fromDate) next = t;
  }
  return next ? next.handedOverBy : null;
}

/**
 * The day whose reader a book's month of reading belongs to: its planned reading day in the annual
 * plan; without one, the month's last day — or `today`, when given, for the month under way (what
 * was read counts under who holds the book now; a plan looks to the month's end).
 */
export function readingMonthDay(month: string, plannedOn: string | undefined, today?: string): string {
  if (plannedOn) return plannedOn;
  const next = Date.parse(`${addMonths(month, 1)}-01T00:00:00Z`);
  const last = new Date(next - DAY_MS).toISOString().slice(0, 10);
  return today === undefined || last < today ? last : today;
}

// ------------------------------------------------------------------ customers to read

/**
 * The customer states isToRead reads, found by asking the rule itself (every state, connected long
 * ago): the SQL below filters on exactly these, so the rule keeps living in one place.
 */
export const STATES_TO_READ: readonly CustomerState[] = CUSTOMER_STATES.filter((state) =>
  isToRead({ state, connectedOn: '0001-01-01' }, '9999-12'),
);

/**
 * isToRead's connection condition as SQL on a `connected_on` column: connected before the month
 * began (a customer connected this month is not read yet). `connectedBefore(month)` is the bound.
 */
export function connectedBefore(month: string): string {
  return `${month}-01`;
}

/** The zone letters whose books are read in a month (isReadingMonth), e.g. ['0', 'A', 'C']. */
export function zonesReadIn(month: string): Zone[] {
  const m = Number(month.slice(5, 7));
  return ZONES.filter((zone) => isReadingMonth(zone, m));
}

// ------------------------------------------------------------------ thresholds

export interface ReadingRules {
  thresholds: ReadingThresholds;
  maxConsecutiveEstimates: number;
  faultEscalationDays: number;
  dayStart: string;
  uploadBy: string;
}

export function readingRules(settings: Settings): ReadingRules {
  return {
    thresholds: {
      ...DEFAULT_READING_THRESHOLDS,
      highFactor: settings['reading.highFactor'],
      lowFactor: settings['reading.lowFactor'],
      minExpectedM3: settings['reading.minExpectedM3'],
    },
    maxConsecutiveEstimates: settings['reading.maxConsecutiveEstimates'],
    faultEscalationDays: settings['reading.faultEscalationDays'],
    dayStart: settings['reading.dayStart'],
    uploadBy: settings['reading.uploadBy'],
  };
}

// ------------------------------------------------------------------ indexes

/** Digits of an index: at most 9 before the point (NUMERIC(12, 3)) and 3 after. */
export const INDEX_PATTERN = /^\d{1,9}(\.\d{1,3})?$/;

/**
 * Indexes and volumes are NUMERIC(12, 3): exact as whole thousandths of a m³. The rules do their
 * own decimal arithmetic; the server only adds, compares and wraps, in these units.
 */
export function toMilli(value: string | number): bigint {
  const text = String(value).trim();
  const m = /^(-?)(\d+)(?:\.(\d{0,3})\d*)?$/.exec(text);
  if (!m) throw new Error(`not a decimal: ${text}`);
  const milli = BigInt(m[2]!) * 1000n + BigInt((m[3] ?? '').padEnd(3, '0'));
  return m[1] ? -milli : milli;
}

export function fromMilli(milli: bigint): string {
  const sign = milli < 0n ? '-' : '';
  const abs = milli < 0n ? -milli : milli;
  return `${sign}${abs / 1000n}.${String(abs % 1000n).padStart(3, '0')}`;
}

/** 10^digits in thousandths: the register rolls over there. */
function registerTop(dialDigits: number): bigint {
  return 10n ** BigInt(dialDigits) * 1000n;
}

/** A stored index as people read it: '1234.000' → '1234', '12.500' → '12.5'. */
export function showIndex(value: string | null): string | null {
  if (value === null) return null;
  return fromMilli(toMilli(value)).replace(/\.?0+$/, '');
}

/**
 * Where the register stands after a reading: the index read, or for an estimate the previous index
 * plus the estimated volume (wrapped at the dial's top). The next reading's consumption is counted
 * from here, so estimated volumes are billed once and the next actual reading settles the rest.
 */
export function registerAfter(
  r: { kind: string; indexValue: string | null; previousIndex: string; consumptionM3: string | null },
  dialDigits: number,
): string {
  if (r.kind === 'actual' && r.indexValue !== null) return fromMilli(toMilli(r.indexValue));
  return fromMilli((toMilli(r.previousIndex) + toMilli(r.consumptionM3 ?? '0')) % registerTop(dialDigits));
}

// ------------------------------------------------------------------ a meter's history

/** One accepted reading of a meter, newest first in MeterHistory.readings. */
export interface PastReading {
  readingId: number;
  readAt: Date;
  kind: 'actual' | 'estimated';
  indexValue: string | null;
  previousIndex: string;
  consumptionM3: string | null;
  /** The reading before it (any age), for the length of its period. */
  previousReadAt: Date | null;
  /** The China day of readAt and the days since the reading before, when the query worked them out. */
  day?: string;
  days?: number | null;
}

export interface MeterHistory {
  dialDigits: number;
  initialIndex: string;
  /** Accepted readings, newest first (possibly pruned to what the rules need; see repository). */
  readings: PastReading[];
  /** Estimates since the last actual reading. */
  estimatesInARow: number;
}

const dayOf = (r: PastReading) => r.day ?? chinaDate(r.readAt);

/** The estimator's view of the history: one period per accepted reading whose start is known. */
export function pastPeriods(readings: PastReading[]): PastPeriod[] {
  const out: PastPeriod[] = [];
  for (const r of readings) {
    if (r.consumptionM3 === null) continue;
    const days =
      r.days !== undefined
        ? r.days
        : r.previousReadAt === null
          ? null
          : daysBetween(chinaDate(r.previousReadAt), chinaDate(r.readAt));
    if (days === null || days <= 0) continue;
    out.push({
      periodEnd: dayOf(r),
      days,
      consumptionM3: r.consumptionM3,
      estimated: r.kind === 'estimated',
    });
  }
  return out;
}

export interface MeterState {
  /** Where the register stood at the last accepted reading (or the meter's initial index). */
  previousIndex: string;
  lastReadAt: Date | null;
  /** estimateConsumption for a period ending at `at`, or null without usable history. */
  expected: Estimate | null;
  estimatesInARow: number;
  visitForced: boolean;
}

/** The meter as a reading taken at `at` finds it. */
export function meterStateAt(history: MeterHistory, at: Date, rules: ReadingRules): MeterState {
  const last = history.readings[0] ?? null;
  const previousIndex = last
    ? registerAfter(last, history.dialDigits)
    : fromMilli(toMilli(history.initialIndex));
  let expected: Estimate | null = null;
  if (last) {
    const days = Math.max(1, daysBetween(dayOf(last), chinaDate(at)));
    const estimate = estimateConsumption(pastPeriods(history.readings), chinaDate(at), days);
    if (estimate.basis !== 'no_history') expected = estimate;
  }
  return {
    previousIndex,
    lastReadAt: last?.readAt ?? null,
    expected,
    estimatesInARow: history.estimatesInARow,
    visitForced: visitForced(history.estimatesInARow, rules.maxConsecutiveEstimates),
  };
}

/** After a reading is accepted, the history the next reading of the same meter sees. */
export function withAccepted(history: MeterHistory, reading: PastReading): MeterHistory {
  const before = history.readings[0];
  const day = chinaDate(reading.readAt);
  return {
    ...history,
    readings: [
      {
        ...reading,
        previousReadAt: before?.readAt ?? null,
        day,
        days: before ? daysBetween(dayOf(before), day) : null,
      },
      ...history.readings,
    ],
    estimatesInARow: reading.kind === 'estimated' ? history.estimatesInARow + 1 : 0,
  };
}

// ------------------------------------------------------------------ deciding one reading

export interface AnomalyInfo {
  code: string;
  nameZh: string;
  nameEn: string;
  department: string;
  preventsReading: boolean;
  meterFault: boolean;
}

export interface IncomingReading {
  /** null: no index could be read (an anomaly that prevents reading must say why). */
  index: string | null;
  readAt: Date;
  anomalyCodes: string[];
}

export type Decision =
  | {
      ok: true;
      status: 'accepted' | 'review';
      kind: 'actual' | 'estimated';
      previousIndex: string;
      indexValue: string | null;
      consumptionM3: string | null;
      flags: string[];
    }
  | { ok: false; code: 'INDEX_REQUIRED' | 'INDEX_TOO_LARGE'; data: Record<string, unknown> };

/**
 * The fate of one reading against its meter's state: an index is checked (checkReading) and goes
 * to review when a flag says so (kept as entered); no index with an anomaly that prevents reading
 * becomes an estimate (estimateConsumption), unless too many estimates in a row force a visit, in
 * which case it waits in review.
 */
export function decideReading(
  reading: IncomingReading,
  history: MeterHistory,
  anomalies: ReadonlyMap<string, AnomalyInfo>,
  rules: ReadingRules,
): Decision {
  const state = meterStateAt(history, reading.readAt, rules);
  if (reading.index === null) {
    const noAccess = reading.anomalyCodes.some((c) => anomalies.get(c)?.preventsReading);
    if (!noAccess) return { ok: false, code: 'INDEX_REQUIRED', data: {} };
    const consumption = state.expected?.consumptionM3 ?? '0.000';
    return {
      ok: true,
      status: state.visitForced ? 'review' : 'accepted',
      kind: 'estimated',
      previousIndex: state.previousIndex,
      indexValue: null,
      consumptionM3: consumption,
      flags: state.visitForced ? ['VISIT_FORCED'] : [],
    };
  }
  if (toMilli(reading.index) >= registerTop(history.dialDigits)) {
    return { ok: false, code: 'INDEX_TOO_LARGE', data: { dialDigits: history.dialDigits } };
  }
  const check = checkReading(
    {
      previousIndex: state.previousIndex,
      index: reading.index,
      dialDigits: history.dialDigits,
      expectedM3: state.expected?.consumptionM3 ?? null,
    },
    rules.thresholds,
  );
  return {
    ok: true,
    status: check.needsReview ? 'review' : 'accepted',
    kind: 'actual',
    previousIndex: state.previousIndex,
    indexValue: fromMilli(toMilli(reading.index)),
    consumptionM3: check.consumptionM3,
    flags: [...check.flags],
  };
}

/** Whether two readings of the same meter and period say the same thing (a second upload of it). */
export function sameReading(
  a: { kind: string; indexValue: string | null },
  b: { kind: string; indexValue: string | null },
): boolean {
  if (a.indexValue === null || b.indexValue === null)
    return a.indexValue === b.indexValue && a.kind === b.kind;
  return toMilli(a.indexValue) === toMilli(b.indexValue);
}

// ------------------------------------------------------------------ the same decision in thousandths

/**
 * The smart-meter bulk path decides many readings a second: the same decision as decideReading, on
 * whole thousandths of a m³ and day numbers, with checkReadingMilli and estimateConsumptionMilli
 * (which answer exactly as checkReading and estimateConsumption). bulk.test.ts checks the bulk path
 * against ingestReadings on the same files.
 */

/** Reading statuses as small numbers (StoredReadings.status); 0: any other. */
export const STATUS_CODES: Readonly<Record<string, number>> = {
  accepted: 1,
  review: 2,
  conflict: 3,
  rejected: 4,
  superseded: 5,
};
const ACCEPTED = 1;
const REJECTED = 4;
/** LIVE_STATUSES: accepted, review, conflict. */
const isLive = (status: number) => status >= 1 && status <= 3;

/** A YYYY-MM period as a number (months since year 0), so periods compare as numbers. */
export function periodNumber(period: string): number {
  return Number(period.slice(0, 4)) * 12 + Number(period.slice(5, 7)) - 1;
}

export function periodFromNumber(n: number): string {
  const month = (n % 12) + 1;
  return `${Math.floor(n / 12)}-${month < 10 ? '0' : ''}${month}`;
}

/** A typed array twice as long, with the values of `a` first. */
export function doubled<T extends Float64Array | Int32Array | Uint8Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}

/**
 * One meter's stored readings as the bulk path loads them (any status), newest first by read time
 * and id: columns of numbers, refilled meter after meter, so that loading a chunk's readings makes
 * no object per reading. Nulls are NaN.
 */
export class StoredReadings {
  length = 0;
  /** Microseconds since 1970. */
  readAtUs = new Float64Array(16);
  period = new Int32Array(16);
  /** 0 actual, 1 estimated. */
  estimated = new Uint8Array(16);
  status = new Uint8Array(16);
  indexMilli = new Float64Array(16);
  previousMilli = new Float64Array(16);
  consumptionMilli = new Float64Array(16);

  clear(): void {
    this.length = 0;
  }

  push(
    readAtUs: number,
    period: number,
    estimated: boolean,
    status: number,
    indexMilli: number | null,
    previousMilli: number,
    consumptionMilli: number | null,
  ): void {
    if (this.length === this.readAtUs.length) this.grow();
    const i = this.length++;
    this.readAtUs[i] = readAtUs;
    this.period[i] = period;
    this.estimated[i] = estimated ? 1 : 0;
    this.status[i] = status;
    this.indexMilli[i] = indexMilli ?? Number.NaN;
    this.previousMilli[i] = previousMilli;
    this.consumptionMilli[i] = consumptionMilli ?? Number.NaN;
  }

  private grow(): void {
    this.readAtUs = doubled(this.readAtUs);
    this.period = doubled(this.period);
    this.estimated = doubled(this.estimated);
    this.status = doubled(this.status);
    this.indexMilli = doubled(this.indexMilli);
    this.previousMilli = doubled(this.previousMilli);
    this.consumptionMilli = doubled(this.consumptionMilli);
  }

  /** The latest period, from `recentFrom` on, with a rejected reading and none standing (review sent the meter back). */
  revisitPeriod(recentFrom: number): number | null {
    let revisit: number | null = null;
    for (let i = 0; i < this.length; i++) {
      const p = this.period[i]!;
      if (p < recentFrom || this.status[i] !== REJECTED || (revisit !== null && p <= revisit)) continue;
      let standing = false;
      for (let j = 0; j < this.length && !standing; j++)
        standing = this.period[j] === p && isLive(this.status[j]!);
      if (!standing) revisit = p;
    }
    return revisit;
  }

  /** The readings standing for a period (from `recentFrom` on), oldest first, as sameReading compares them. */
  standing(period: number, recentFrom: number): { estimated: boolean; indexMilli: number | null }[] {
    const out: { estimated: boolean; indexMilli: number | null }[] = [];
    if (period < recentFrom) return out;
    for (let i = this.length - 1; i >= 0; i--) {
      if (this.period[i] !== period || !isLive(this.status[i]!)) continue;
      const index = this.indexMilli[i]!;
      out.push({ estimated: this.estimated[i] === 1, indexMilli: Number.isNaN(index) ? null : index });
    }
    return out;
  }
}

/**
 * Accepted readings loaded from before the season window (the rules' look-back): the newest few, which
 * is all historyMilli keeps of them unless the meter has had fewer than three actual readings since
 * (historyComplete tells; such a meter is loaded whole).
 */
export const HISTORY_BEYOND_SEASON = 4;

/**
 * Whether a history loaded with only the newest `beyond` accepted readings before the season window
 * holds all that historyMilli keeps: all of them were there (fewer came), or the three newest actual
 * readings, and an accepted reading after the third (for its days since), are among those loaded.
 * (historyMilli keeps the three newest accepted readings, the estimates before the newest actual, the
 * three newest actuals and the actuals in the season window, each with the days since the next.)
 */
export function historyComplete(stored: StoredReadings, seasonFromUs: number, beyond: number): boolean {
  let older = 0;
  let accepted = 0;
  let actuals = 0;
  let thirdActual = -1;
  for (let i = 0; i < stored.length; i++) {
    if (stored.status[i] !== ACCEPTED) continue;
    if (stored.readAtUs[i]! < seasonFromUs) older++;
    if (stored.estimated[i] === 0 && ++actuals === 3) thirdActual = accepted;
    accepted++;
  }
  if (older < beyond) return true;
  return thirdActual !== -1 && thirdActual < accepted - 1;
}

/** An accepted reading in a HistoryMilli, with its China day number and the days since the one before. */
export interface PastReadingMilli {
  day: number;
  days: number | null;
  kind: 'actual' | 'estimated';
  indexMilli: number | null;
  previousMilli: number;
  consumptionMilli: number | null;
}

/** MeterHistory in thousandths: accepted readings newest first, pruned as loadContexts prunes them. */
export interface HistoryMilli {
  dialDigits: number;
  initialMilli: number;
  readings: PastReadingMilli[];
  estimatesInARow: number;
}

const DAY_US = 86_400_000_000;
const CHINA_OFFSET_US = 8 * 3_600_000_000;

/** The China day of an instant given in microseconds, as a day number (dayNumber). */
export const chinaDayOfUs = (us: number) => Math.floor((us + CHINA_OFFSET_US) / DAY_US);

/** The China day of an instant, as a day number. */
export const chinaDayOf = (at: Date) => Math.floor((at.getTime() + CHINA_OFFSET_MS) / DAY_MS);

/**
 * A meter's history from its stored readings, kept to what loadContexts keeps: the last three
 * accepted readings, the last three actual ones, every estimate since the last actual reading, and
 * actual readings read between `season.fromUs` and `season.toUs` — each with the days since the
 * accepted reading before it.
 */
export function historyMilli(
  stored: StoredReadings,
  meter: { dialDigits: number; initialMilli: number },
  season: { fromUs: number; toUs: number },
): HistoryMilli {
  const readings: PastReadingMilli[] = [];
  let rank = 0;
  let actualRank = 0;
  let trailing = true;
  let estimates = 0;
  for (let i = 0; i < stored.length; i++) {
    if (stored.status[i] !== ACCEPTED) continue;
    const actual = stored.estimated[i] === 0;
    rank++;
    if (actual) {
      actualRank++;
      trailing = false;
    }
    if (trailing) estimates++;
    const readAtUs = stored.readAtUs[i]!;
    const keep =
      rank <= 3 ||
      trailing ||
      (actual && (actualRank <= 3 || (readAtUs >= season.fromUs && readAtUs <= season.toUs)));
    if (!keep) continue;
    const day = chinaDayOfUs(readAtUs);
    // The days since the accepted reading before it (the next accepted one in this list).
    let days: number | null = null;
    for (let j = i + 1; j < stored.length; j++) {
      if (stored.status[j] === ACCEPTED) {
        days = day - chinaDayOfUs(stored.readAtUs[j]!);
        break;
      }
    }
    const index = stored.indexMilli[i]!;
    const consumption = stored.consumptionMilli[i]!;
    readings.push({
      day,
      days,
      kind: actual ? 'actual' : 'estimated',
      indexMilli: Number.isNaN(index) ? null : index,
      previousMilli: stored.previousMilli[i]!,
      consumptionMilli: Number.isNaN(consumption) ? null : consumption,
    });
  }
  return {
    dialDigits: meter.dialDigits,
    initialMilli: meter.initialMilli,
    readings,
    estimatesInARow: estimates,
  };
}

/**
 * The volume the estimator expects over `days` days ending on China day `day`, from the meter's
 * accepted readings (null: no history to go by).
 */
function expectedFromHistory(history: HistoryMilli, day: number, days: number): number | null {
  const periods: PastPeriodMilli[] = [];
  for (const r of history.readings) {
    if (r.consumptionMilli === null || r.days === null || r.days <= 0) continue;
    periods.push({
      endDay: r.day,
      days: r.days,
      consumptionMilli: r.consumptionMilli,
      estimated: r.kind === 'estimated',
    });
  }
  const estimate = estimateConsumptionMilli(periods, day, days);
  return estimate.basis === 'no_history' ? null : estimate.consumptionMilli;
}

/** Days over which a meter's usual daily use is taken from its readings, for its first register read. */
const REGISTER_START_DAYS = 30;

/**
 * Where a meter's register reads start from when it has none yet: its register after its last
 * accepted reading (the installed index without one), and the daily use the estimator expects of
 * the 30 days before `day` (NaN: no history).
 */
export function registerReferenceFromHistory(history: HistoryMilli, day: number): RegisterReference {
  const last = history.readings[0];
  const expected = last ? expectedFromHistory(history, day, REGISTER_START_DAYS) : null;
  return {
    day: last ? last.day : Number.NaN,
    indexMilli: last ? registerAfterMilli(last, history.dialDigits) : history.initialMilli,
    dailyMilli: expected === null ? Number.NaN : Math.round(expected / REGISTER_START_DAYS),
  };
}

/** registerAfter in thousandths. */
function registerAfterMilli(r: PastReadingMilli, dialDigits: number): number {
  if (r.kind === 'actual' && r.indexMilli !== null) return r.indexMilli;
  return (r.previousMilli + (r.consumptionMilli ?? 0)) % 10 ** (dialDigits + 3);
}

export type DecisionMilli =
  | {
      ok: true;
      status: 'accepted' | 'review';
      kind: 'actual' | 'estimated';
      previousMilli: number;
      indexMilli: number | null;
      consumptionMilli: number | null;
      flags: string[];
    }
  | { ok: false; code: 'INDEX_REQUIRED' | 'INDEX_TOO_LARGE'; data: Record<string, unknown> };

/** decideReading in thousandths (meterStateAt, checkReadingMilli, estimateConsumptionMilli, visitForced). */
export function decideReadingMilli(
  reading: { indexMilli: number | null; readAt: Date; anomalyCodes: readonly string[] },
  history: HistoryMilli,
  anomalies: ReadonlyMap<string, AnomalyInfo>,
  rules: ReadingRules,
): DecisionMilli {
  const last = history.readings[0];
  const previousMilli = last ? registerAfterMilli(last, history.dialDigits) : history.initialMilli;
  const day = chinaDayOf(reading.readAt);
  const expectedMilli = last ? expectedFromHistory(history, day, Math.max(1, day - last.day)) : null;
  const forced = visitForced(history.estimatesInARow, rules.maxConsecutiveEstimates);
  if (reading.indexMilli === null) {
    const noAccess = reading.anomalyCodes.some((c) => anomalies.get(c)?.preventsReading);
    if (!noAccess) return { ok: false, code: 'INDEX_REQUIRED', data: {} };
    return {
      ok: true,
      status: forced ? 'review' : 'accepted',
      kind: 'estimated',
      previousMilli,
      indexMilli: null,
      consumptionMilli: expectedMilli ?? 0,
      flags: forced ? ['VISIT_FORCED'] : [],
    };
  }
  if (reading.indexMilli >= 10 ** (history.dialDigits + 3)) {
    return { ok: false, code: 'INDEX_TOO_LARGE', data: { dialDigits: history.dialDigits } };
  }
  const check = checkReadingMilli(
    {
      previousMilli,
      indexMilli: reading.indexMilli,
      dialDigits: history.dialDigits,
      expectedMilli,
    },
    rules.thresholds,
  );
  return {
    ok: true,
    status: check.needsReview ? 'review' : 'accepted',
    kind: 'actual',
    previousMilli,
    indexMilli: reading.indexMilli,
    consumptionMilli: check.consumptionMilli,
    flags: [...check.flags],
  };
}

/** withAccepted in thousandths: the history the next reading of the same meter sees. */
export function withAcceptedMilli(
  history: HistoryMilli,
  reading: {
    readAt: Date;
    kind: 'actual' | 'estimated';
    indexMilli: number | null;
    previousMilli: number;
    consumptionMilli: number | null;
  },
): HistoryMilli {
  const before = history.readings[0];
  const day = chinaDayOf(reading.readAt);
  return {
    ...history,
    readings: [
      {
        day,
        days: before ? day - before.day : null,
        kind: reading.kind,
        indexMilli: reading.indexMilli,
        previousMilli: reading.previousMilli,
        consumptionMilli: reading.consumptionMilli,
      },
      ...history.readings,
    ],
    estimatesInARow: reading.kind === 'estimated' ? history.estimatesInARow + 1 : 0,
  };
}
