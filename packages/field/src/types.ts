import type { ReadingFlag, ReadingThresholds } from '@meterline/domain/metering/readingCheck';

/** The API contract of docs/reading.md, "The handheld". */

export interface LastReading {
  readAt: string;
  index: string | null;
  consumptionM3: string | null;
  kind: string;
}

/** One meter of the day's route, as GET /api/field/route sends it. */
export interface RouteMeter {
  accountId: number;
  meterId: number;
  bookId: number | null;
  routeSeq: number | null;
  meterNo: string;
  customerName: string;
  customerCode: string;
  address: string;
  meterLocation: string;
  meterBoxNo: string;
  usageType: string;
  caliberDn: number | null;
  mounting: string | null;
  dialDigits: number;
  previousIndex: string;
  lastReadings: LastReading[];
  expectedM3: string | null;
  estimatesInARow: number;
  visitForced: boolean;
  /** Back on the route because review rejected its last reading: read it again. */
  revisit?: boolean;
  /** A smart meter reporting its register: billed from its register reads, no need to read it. */
  remote?: boolean;
}

export interface RouteBook {
  bookId: number;
  code: string;
  name: string;
  zone?: string;
}

export interface AnomalyCode {
  code: string;
  nameZh: string;
  nameEn: string;
  department?: string;
  /** No index can be read (no access, meter missing, dial unreadable). */
  preventsReading?: boolean;
  meterFault?: boolean;
}

export interface RouteDownload {
  workDate: string;
  books: RouteBook[];
  meters: RouteMeter[];
  anomalyCodes: AnomalyCode[];
  thresholds: Partial<ReadingThresholds> & Record<string, unknown>;
}

export type UploadOutcome = 'accepted' | 'review' | 'duplicate' | 'conflict' | 'rejected';

export interface UploadReading {
  clientId: string;
  accountId: number;
  meterId: number;
  index: string | null;
  readAt: string;
  anomalyCodes: string[];
  note: string;
  latitude: number | null;
  longitude: number | null;
  accuracyM: number | null;
  photo?: string;
  signature?: string;
  signerName?: string;
}

export interface UploadResult {
  clientId: string;
  outcome: UploadOutcome;
  readingId?: number | string;
  flags?: ReadingFlag[] | string[];
  /** How the server holds the reading (accepted, review, conflict), when it says so; a duplicate's is the first's. */
  status?: string;
  error?: string | { code?: string; message?: string };
}
