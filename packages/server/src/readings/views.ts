import { type RawBuilder, sql } from 'kysely';
import { showIndex } from './model.ts';
import { addressLine, type Db } from './repository.ts';

/** Readings, follow-ups and corrections as the back office shows them (one shape everywhere). */

export interface ReadingView {
  accountId: number;
  readingId: number;
  meterId: number;
  meterNo: string;
  customerCode: string;
  customerName: string;
  address: string;
  officeId: number;
  bookId: number | null;
  bookCode: string | null;
  period: string;
  readAt: string;
  previousIndex: string;
  index: string | null;
  consumptionM3: string | null;
  kind: 'actual' | 'estimated';
  source: string;
  status: 'accepted' | 'review' | 'rejected' | 'superseded' | 'conflict';
  flags: string[];
  anomalyCodes: string[];
  note: string;
  readerId: number | null;
  readerName: string | null;
  deviceId: string;
  clientId: string | null;
  hasPhoto: boolean;
  photoUrl: string | null;
  hasSignature: boolean;
  signatureUrl: string | null;
  signerName: string;
  latitude: string | null;
  longitude: string | null;
  accuracyM: number | null;
  reviewNote: string;
  reviewedByName: string | null;
  reviewedAt: string | null;
  /** An approved index correction changed this reading. */
  corrected: boolean;
  createdAt: string;
}

interface ReadingViewRow {
  account_id: number;
  reading_id: number;
  meter_id: number;
  meter_no: string;
  customer_code: string;
  customer_name: string;
  address: Record<string, string | null> | null;
  office_id: number;
  book_id: number | null;
  book_code: string | null;
  period: string;
  read_at: Date;
  previous_index: string;
  index_value: string | null;
  consumption_m3: string | null;
  kind: 'actual' | 'estimated';
  source: string;
  status: ReadingView['status'];
  flags: string[];
  anomaly_codes: string[];
  note: string;
  reader_id: number | null;
  reader_name: string | null;
  device_id: string;
  client_id: string | null;
  photo_path: string | null;
  signature_path: string | null;
  signer_name: string;
  latitude: string | null;
  longitude: string | null;
  accuracy_m: number | null;
  review_note: string;
  reviewed_by_name: string | null;
  reviewed_at: Date | null;
  corrected: boolean;
  created_at: Date;
}

/** Readings matching `where` (on reading r, customer c), ordered by `order`. */
export async function readingViews(
  db: Db,
  where: RawBuilder<unknown>,
  opts: { order?: RawBuilder<unknown>; limit?: number; offset?: number } = {},
): Promise<ReadingView[]> {
  const { rows } = await sql<ReadingViewRow>`
    select r.account_id, r.reading_id, r.meter_id, m.meter_no, c.customer_code, c.name as customer_name,
           to_jsonb(a) as address, c.office_id, r.book_id, b.code as book_code, r.period, r.read_at,
           r.previous_index, r.index_value, r.consumption_m3, r.kind, r.source, r.status, r.flags, r.anomaly_codes,
           r.note, r.reader_id, rd.full_name as reader_name, r.device_id, r.client_id, r.photo_path,
           r.signature_path, r.signer_name, r.latitude, r.longitude, r.accuracy_m, r.review_note,
           rv.full_name as reviewed_by_name, r.reviewed_at,
           exists (select 1 from reading_correction x where x.account_id = r.account_id
                     and x.reading_id = r.reading_id and x.status = 'approved') as corrected,
           r.created_at
    from reading r
    join customer c on c.account_id = r.account_id
    join meter m on m.account_id = r.account_id and m.meter_id = r.meter_id
    left join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
    left join address a on a.account_id = sp.account_id and a.address_id = sp.address_id
    left join book b on b.book_id = r.book_id
    left join staff rd on rd.staff_id = r.reader_id
    left join staff rv on rv.staff_id = r.reviewed_by
    where ${where}
    order by ${opts.order ?? sql`r.read_at desc, r.reading_id desc`}
    limit ${opts.limit ?? 200} offset ${opts.offset ?? 0}`.execute(db);
  return rows.map(toReadingView);
}

export function toReadingView(r: ReadingViewRow): ReadingView {
  const base = `/api/customers/${r.account_id}/readings/${r.reading_id}`;
  return {
    accountId: r.account_id,
    readingId: r.reading_id,
    meterId: r.meter_id,
    meterNo: r.meter_no,
    customerCode: r.customer_code,
    customerName: r.customer_name,
    address: addressLine(r.address),
    officeId: r.office_id,
    bookId: r.book_id,
    bookCode: r.book_code,
    period: r.period,
    readAt: r.read_at.toISOString(),
    previousIndex: showIndex(r.previous_index)!,
    index: showIndex(r.index_value),
    consumptionM3: showIndex(r.consumption_m3),
    kind: r.kind,
    source: r.source,
    status: r.status,
    flags: r.flags,
    anomalyCodes: r.anomaly_codes,
    note: r.note,
    readerId: r.reader_id,
    readerName: r.reader_name,
    deviceId: r.device_id,
    clientId: r.client_id,
    hasPhoto: r.photo_path !== null,
    photoUrl: r.photo_path ? `${base}/photo` : null,
    hasSignature: r.signature_path !== null,
    signatureUrl: r.signature_path ? `${base}/signature` : null,
    signerName: r.signer_name,
    latitude: r.latitude,
    longitude: r.longitude,
    accuracyM: r.accuracy_m,
    reviewNote: r.review_note,
    reviewedByName: r.reviewed_by_name,
    reviewedAt: r.reviewed_at?.toISOString() ?? null,
    corrected: r.corrected,
    createdAt: r.created_at.toISOString(),
  };
}

export interface FollowupView {
  accountId: number;
  followupId: number;
  readingId: number | null;
  meterId: number | null;
  meterNo: string | null;
  customerCode: string;
  customerName: string;
  address: string;
  officeId: number;
  anomalyCode: string;
  anomalyName: { 'zh-CN': string; en: string };
  meterFault: boolean;
  department: string;
  status: 'open' | 'in_progress' | 'closed';
  openedAt: string;
  escalatedAt: string | null;
  closedAt: string | null;
  closedByName: string | null;
  note: string;
  bookId: number | null;
  bookCode: string | null;
  readerId: number | null;
  readerName: string | null;
  /** Whole days since it was opened. */
  days: number;
}

export async function followupViews(
  db: Db,
  where: RawBuilder<unknown>,
  opts: { limit?: number; offset?: number; order?: RawBuilder<unknown> } = {},
): Promise<FollowupView[]> {
  const { rows } = await sql<{
    account_id: number;
    followup_id: number;
    reading_id: number | null;
    meter_id: number | null;
    meter_no: string | null;
    customer_code: string;
    customer_name: string;
    address: Record<string, string | null> | null;
    office_id: number;
    anomaly_code: string;
    name_zh: string;
    name_en: string;
    meter_fault: boolean;
    department: string;
    status: FollowupView['status'];
    opened_at: Date;
    escalated_at: Date | null;
    closed_at: Date | null;
    closed_by_name: string | null;
    note: string;
    book_id: number | null;
    book_code: string | null;
    reader_id: number | null;
    reader_name: string | null;
    days: number;
  }>`
    select f.account_id, f.followup_id, f.reading_id, f.meter_id, m.meter_no, c.customer_code,
           c.name as customer_name, to_jsonb(a) as address, c.office_id, f.anomaly_code, ac.name_zh, ac.name_en,
           ac.meter_fault, f.department, f.status, f.opened_at, f.escalated_at, f.closed_at,
           cb.full_name as closed_by_name, f.note, m.book_id, b.code as book_code,
           coalesce(b.reader_id, r.reader_id) as reader_id, coalesce(br.full_name, rr.full_name) as reader_name,
           floor(extract(epoch from (coalesce(f.closed_at, now()) - f.opened_at)) / 86400)::int as days
    from followup f
    join customer c on c.account_id = f.account_id
    join anomaly_code ac on ac.code = f.anomaly_code
    left join meter m on m.account_id = f.account_id and m.meter_id = f.meter_id
    left join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
    left join address a on a.account_id = sp.account_id and a.address_id = sp.address_id
    left join book b on b.book_id = m.book_id
    left join staff br on br.staff_id = b.reader_id
    left join reading r on r.account_id = f.account_id and r.reading_id = f.reading_id
    left join staff rr on rr.staff_id = r.reader_id
    left join staff cb on cb.staff_id = f.closed_by
    where ${where}
    order by ${opts.order ?? sql`f.opened_at desc, f.followup_id desc`}
    limit ${opts.limit ?? 200} offset ${opts.offset ?? 0}`.execute(db);
  return rows.map((r) => ({
    accountId: r.account_id,
    followupId: r.followup_id,
    readingId: r.reading_id,
    meterId: r.meter_id,
    meterNo: r.meter_no,
    customerCode: r.customer_code,
    customerName: r.customer_name,
    address: addressLine(r.address),
    officeId: r.office_id,
    anomalyCode: r.anomaly_code,
    anomalyName: { 'zh-CN': r.name_zh, en: r.name_en },
    meterFault: r.meter_fault,
    department: r.department,
    status: r.status,
    openedAt: r.opened_at.toISOString(),
    escalatedAt: r.escalated_at?.toISOString() ?? null,
    closedAt: r.closed_at?.toISOString() ?? null,
    closedByName: r.closed_by_name,
    note: r.note,
    bookId: r.book_id,
    bookCode: r.book_code,
    readerId: r.reader_id,
    readerName: r.reader_name,
    days: r.days,
  }));
}

export interface CorrectionView {
  accountId: number;
  correctionId: number;
  readingId: number;
  meterId: number;
  meterNo: string;
  customerCode: string;
  customerName: string;
  officeId: number;
  period: string;
  readAt: string;
  previousIndex: string;
  oldIndex: string | null;
  newIndex: string;
  oldConsumptionM3: string | null;
  /** Consumption with the new index (what approval would bill). */
  newConsumptionM3: string | null;
  reason: string;
  requestedBy: number;
  requestedByName: string | null;
  requestedAt: string;
  status: 'pending' | 'approved' | 'rejected';
  decidedByName: string | null;
  decidedAt: string | null;
  decisionNote: string;
}

export async function correctionViews(
  db: Db,
  where: RawBuilder<unknown>,
  consumption: (row: { previousIndex: string; index: string; dialDigits: number }) => string | null,
  opts: { limit?: number; offset?: number } = {},
): Promise<CorrectionView[]> {
  const { rows } = await sql<{
    account_id: number;
    correction_id: number;
    reading_id: number;
    meter_id: number;
    meter_no: string;
    customer_code: string;
    customer_name: string;
    office_id: number;
    period: string;
    read_at: Date;
    previous_index: string;
    dial_digits: number;
    old_index: string | null;
    new_index: string;
    reason: string;
    requested_by: number;
    requested_by_name: string | null;
    requested_at: Date;
    status: CorrectionView['status'];
    decided_by_name: string | null;
    decided_at: Date | null;
    decision_note: string;
  }>`
    select x.account_id, x.correction_id, x.reading_id, r.meter_id, m.meter_no, c.customer_code,
           c.name as customer_name, c.office_id, r.period, r.read_at, r.previous_index,
           m.dial_digits, x.old_index, x.new_index, x.reason, x.requested_by, q.full_name as requested_by_name,
           x.requested_at, x.status, d.full_name as decided_by_name, x.decided_at, x.decision_note
    from reading_correction x
    join reading r on r.account_id = x.account_id and r.reading_id = x.reading_id
    join customer c on c.account_id = x.account_id
    join meter m on m.account_id = r.account_id and m.meter_id = r.meter_id
    left join staff q on q.staff_id = x.requested_by
    left join staff d on d.staff_id = x.decided_by
    where ${where}
    order by x.requested_at desc, x.correction_id desc
    limit ${opts.limit ?? 200} offset ${opts.offset ?? 0}`.execute(db);
  return rows.map((r) => ({
    accountId: r.account_id,
    correctionId: r.correction_id,
    readingId: r.reading_id,
    meterId: r.meter_id,
    meterNo: r.meter_no,
    customerCode: r.customer_code,
    customerName: r.customer_name,
    officeId: r.office_id,
    period: r.period,
    readAt: r.read_at.toISOString(),
    previousIndex: showIndex(r.previous_index)!,
    oldIndex: showIndex(r.old_index),
    newIndex: showIndex(r.new_index)!,
    oldConsumptionM3:
      r.old_index === null
        ? null
        : showIndex(
            consumption({ previousIndex: r.previous_index, index: r.old_index, dialDigits: r.dial_digits }),
          ),
    newConsumptionM3: showIndex(
      consumption({ previousIndex: r.previous_index, index: r.new_index, dialDigits: r.dial_digits }),
    ),
    reason: r.reason,
    requestedBy: r.requested_by,
    requestedByName: r.requested_by_name,
    requestedAt: r.requested_at.toISOString(),
    status: r.status,
    decidedByName: r.decided_by_name,
    decidedAt: r.decided_at?.toISOString() ?? null,
    decisionNote: r.decision_note,
  }));
}
