/** Shapes of the meter-reading API replies (docs/reading.md; server: metering/, readings/, calendar/). */

/** A page of a list (`{ items, total, page, pageSize }`); some lists come as a bare array. */
export interface Paged<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

/** The rows of a list reply, whether paged or a bare array. */
export function itemsOf<T>(data: Paged<T> | T[] | undefined): T[] {
  if (!data) return [];
  return Array.isArray(data) ? data : data.items;
}

/** Rows asked for in one page of the reading lists (the server's page size limit). */
export const LIST_PAGE_SIZE = 200;

export type Zone = '0' | 'A' | 'B' | 'C' | 'D' | 'E';
export const ZONES: readonly Zone[] = ['0', 'A', 'B', 'C', 'D', 'E'];
export type AreaType = 'concentrated' | 'dispersed';
export const AREA_TYPES: readonly AreaType[] = ['concentrated', 'dispersed'];

export interface Rotation {
  dueOn: string;
  warnFrom: string;
  status: 'ok' | 'warn' | 'over';
}

/** GET /api/books */
export interface BookRow {
  bookId: number;
  officeId: number;
  officeName?: string;
  zoneClass?: string;
  code: string;
  name: string;
  zone: Zone;
  areaType: AreaType;
  readerId: number | null;
  readerName: string | null;
  readerSince: string | null;
  meterCount: number;
  active: boolean;
  version: number;
  rotation: Rotation | null;
}

export interface RouteMeter {
  accountId: number;
  meterId: number;
  routeSeq: number;
  meterNo: string;
  customerCode: string;
  customerName: string;
  address: string;
  caliberDn: number | null;
  mounting: string;
  /** The class the zone rule gives the meter (0, AB, CDE). */
  zoneClass: string;
  zoneOverride: Zone | null;
  zoneOverrideReason?: string;
  effectiveZoneClass?: string;
  /** false: the meter's class is not the book's (after an override: move it to a book of its class). */
  fitsBook?: boolean;
  /** The customer's state (vacant, suspended… are not read). */
  state: string;
}

/** GET /api/books/:bookId/route */
export interface BookRoute {
  book: BookRow;
  meters: RouteMeter[];
}

/** GET /api/books/:bookId/assignments */
export interface AssignmentRow {
  assignmentId: number;
  readerId: number;
  readerName: string | null;
  fromDate: string;
  toDate: string | null;
  handoverNote: string;
  openItems: string;
  handedOverByName?: string | null;
  recordedByName?: string | null;
  recordedAt: string;
}

/** GET /api/staff (a page of it). */
export interface StaffOption {
  staff_id: number;
  full_name: string;
  username: string;
  role_code: string;
  active: boolean;
}

export type MeterCategory = 'cde_wall' | 'cde_buried' | 'ab_resettlement' | 'ab_dispersed' | 'zone0';
export const METER_CATEGORIES: readonly MeterCategory[] = [
  'cde_wall',
  'cde_buried',
  'ab_resettlement',
  'ab_dispersed',
  'zone0',
];

export interface WorkloadBook {
  bookId: number;
  code: string;
  name: string;
  zone: Zone;
  areaType?: AreaType;
  meters?: number;
  readerSince?: string | null;
  rotation: Rotation | null;
}

export interface WorkloadReader {
  readerId: number;
  readerName: string;
  areaType?: AreaType;
  /** The limit of the reader's area type before the month's working days capped it. */
  areaLimit?: number;
  meterCount?: number;
  booksHeld?: number;
  books: WorkloadBook[];
  meters: Partial<Record<MeterCategory, number>>;
  days: number;
  limit: number;
  over: boolean;
}

/** GET /api/workload */
export interface Workload {
  officeId: number | null;
  month: string;
  workingDays?: number;
  readers: WorkloadReader[];
  /** Books read this month with no reader. */
  unassigned?: WorkloadBook[];
}

/** POST /api/reading-plan/generate */
export interface PlanSummary {
  officeId: number;
  year: number;
  books: number;
  planned: number;
  unchanged: number;
  kept: number;
  removed: number;
  unfit: {
    bookId: number;
    code: string;
    readerId: number | null;
    period: string;
    daysNeeded: number;
    reason: 'NO_WORKING_DAYS' | 'OVER_MONTHLY_DAYS' | 'NO_ROOM' | string;
  }[];
  officialCalendar: boolean;
}

/** GET /api/reading-plan */
export interface PlanRow {
  bookId: number;
  code: string;
  name: string;
  zone: Zone;
  readerId: number | null;
  readerName: string | null;
  period: string;
  plannedOn: string;
  originalOn: string;
}

/** GET /api/reading-plan/changes */
export interface PlanChange {
  changeId: number;
  bookId: number;
  bookCode?: string;
  bookName?: string;
  period: string;
  fromDate: string;
  toDate: string;
  reason: string;
  requestedByName?: string | null;
  requestedAt: string;
  status: 'pending' | 'approved' | 'rejected';
  decidedByName?: string | null;
  decidedAt?: string | null;
  decisionNote?: string;
}

export type DayKind = 'workday' | 'weekend' | 'holiday' | 'adjusted_workday';
export const DAY_KINDS: readonly DayKind[] = ['workday', 'weekend', 'holiday', 'adjusted_workday'];

export interface CalendarDay {
  day: string;
  kind: DayKind;
  name: string;
  source: 'official' | 'rule' | 'admin';
}

/** GET /api/calendar?year= */
export interface CalendarYear {
  year: number;
  official: boolean;
  days: CalendarDay[];
}

export interface PastReading {
  readingId?: number;
  readAt: string;
  period?: string;
  index: string | null;
  consumptionM3: string | null;
  kind: 'actual' | 'estimated';
  status?: string;
}

/** One reading as the review queue and the customer's history show it. */
export interface ReadingRow {
  accountId: number;
  readingId: number;
  meterId: number;
  meterNo?: string;
  customerCode?: string;
  customerName?: string;
  address?: string;
  bookId?: number | null;
  bookCode?: string | null;
  period: string;
  readAt: string;
  previousIndex: string;
  index: string | null;
  consumptionM3: string | null;
  kind: 'actual' | 'estimated';
  source?: string;
  status: 'accepted' | 'review' | 'rejected' | 'superseded' | 'conflict';
  flags: string[];
  anomalyCodes: string[];
  note: string;
  readerId?: number | null;
  readerName?: string | null;
  hasPhoto?: boolean;
  photoUrl?: string | null;
  hasSignature?: boolean;
  signatureUrl?: string | null;
  signerName?: string;
  latitude?: string | null;
  longitude?: string | null;
  accuracyM?: number | null;
  /** An approved index correction changed this reading. */
  corrected?: boolean;
  reviewNote?: string;
  reviewedByName?: string | null;
  reviewedAt?: string | null;
}

/** GET /api/readings/review: a reading with what the analyst needs to decide. */
export interface ReviewItem extends ReadingRow {
  expectedM3: string | null;
  expectedBasis?: 'same_period_last_year' | 'recent_average' | 'no_history' | string;
  estimatesInARow?: number;
  recent: PastReading[];
  /** For a conflict: the other reading(s) of the same meter and period. */
  others?: ReadingRow[];
}

/** GET /api/followups */
export interface FollowupRow {
  accountId: number;
  followupId: number;
  readingId: number | null;
  meterId: number | null;
  meterNo?: string | null;
  customerCode?: string;
  customerName?: string;
  address?: string;
  anomalyCode: string;
  anomalyName?: { 'zh-CN': string; en: string };
  meterFault?: boolean;
  bookCode?: string | null;
  readerName?: string | null;
  closedByName?: string | null;
  days?: number;
  department: string;
  status: 'open' | 'in_progress' | 'closed';
  openedAt: string;
  escalatedAt: string | null;
  closedAt: string | null;
  note: string;
}

/** GET /api/readings/stuck-meters: a follow-up of a stuck, dead or broken meter, open too long. */
export interface StuckMeter extends FollowupRow {
  since: string;
}

/** GET /api/readings/stuck-meters */
export interface StuckMeters extends Paged<StuckMeter> {
  escalationDays?: number;
  escalatedNow?: number;
}

/** GET /api/customers/:accountId/readings */
export interface CustomerReadings {
  items: ReadingRow[];
  followups: FollowupRow[];
  corrections: CorrectionRow[];
}

/** POST /api/readings/estimate */
export interface EstimateResult {
  bookId: number;
  period: string;
  created: number;
  readings: {
    accountId: number;
    readingId: number;
    meterId: number;
    meterNo: string;
    customerName: string;
    consumptionM3: string | null;
    basis: string;
  }[];
  visitForced: {
    accountId: number;
    meterId: number;
    meterNo: string;
    customerName: string;
    estimatesInARow: number;
  }[];
}

/** GET /api/corrections */
export interface CorrectionRow {
  accountId: number;
  correctionId: number;
  readingId: number;
  customerCode?: string;
  customerName?: string;
  meterNo?: string;
  period?: string;
  previousIndex?: string | null;
  oldIndex: string | null;
  newIndex: string;
  oldConsumptionM3?: string | null;
  newConsumptionM3?: string | null;
  reason: string;
  requestedByName?: string | null;
  requestedAt: string;
  status: 'pending' | 'approved' | 'rejected';
  decidedByName?: string | null;
  decidedAt?: string | null;
  decisionNote?: string;
}

/** GET /api/readings/day-monitor: one reader's day. */
export interface MonitorRow {
  readerId: number;
  readerName: string;
  due: number;
  /** Smart meters of the day's books reporting their register: billed from it, not the reader's to read. */
  remote?: number;
  read: number;
  estimated: number;
  skipped: number;
  firstReadAt: string | null;
  lastReadAt: string | null;
  uploadedAt?: string | null;
  downloadedAt?: string | null;
  anomalies: number;
  /** Meters read or estimated that were not on the reader's books planned that day. */
  offRoute: number;
  uploaded?: number;
  /** Readings of the day waiting in the review queue. */
  review?: number;
  officeName?: string;
  books?: { bookId: number; code: string }[];
  /** The server's verdicts against reading.dayStart / reading.uploadBy. */
  startedLate?: boolean;
  uploadedLate?: boolean;
  stuckEscalated?: number;
}

export interface DayMonitor {
  date: string;
  dayStart?: string;
  uploadBy?: string;
  readers: MonitorRow[];
}

export interface StatRow {
  key?: string | number;
  officeId?: number;
  officeName?: string;
  bookId?: number;
  bookCode?: string;
  bookName?: string;
  readerId?: number | null;
  readerName?: string | null;
  toRead: number;
  read: number;
  estimated?: number;
  readings?: number;
  corrected?: number;
  readingRate: number | null;
  accuracy: number | null;
  estimatedShare?: number | null;
}

export interface TrendRow {
  month: string;
  toRead: number;
  read: number;
  readingRate: number | null;
  accuracy: number | null;
}

/** GET /api/readings/stats */
export interface ReadingStats {
  month: string;
  totals?: StatRow;
  byOffice: StatRow[];
  byBook: StatRow[];
  byReader: StatRow[];
  trend: TrendRow[];
}

/** An anomaly code as /api/meta or the handheld route lists them. */
export interface AnomalyCode {
  code: string;
  name_zh?: string;
  name_en?: string;
  nameZh?: string;
  nameEn?: string;
  department?: string;
}
