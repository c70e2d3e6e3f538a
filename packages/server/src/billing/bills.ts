import { type Bilingual, DomainError } from '@meterline/domain';
import { type RawBuilder, sql } from 'kysely';
import type { Caller } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import { addressLine, type Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';
import { type ReadingView, readingViews } from '../readings/views.ts';
import type { NoticeData } from './notice.ts';

/**
 * Bills as the back office reads them (DOMAIN.md §4): a customer's bills with their lines, one bill
 * with its explanation and the reading it came from, the data of the bill notices (水费通知单) and
 * the office's billing summary. Bills are written by the bill engine; nothing here changes them.
 */

/** Most notices in one printed batch (a book is a few hundred meters). */
export const MAX_NOTICES_PER_BATCH = 3_000;
/** Months the summary's trend covers, ending with the month asked for. */
export const SUMMARY_TREND_MONTHS = 12;

export interface BillLineView {
  lineNo: number;
  kind: string;
  code: string;
  blockNo: number | null;
  description: Bilingual;
  volumeM3: string;
  /** Fen per m³ as a decimal string; null for a minimum-charge top-up. */
  unitPriceFen: string | null;
  amountFen: number;
  from: string | null;
  to: string | null;
  tariffVersion: string | null;
}

export interface BillView {
  accountId: number;
  billId: number;
  billNo: string;
  kind: 'consumption' | 'other' | 'adjustment';
  meterId: number | null;
  meterNo: string | null;
  readingId: number | null;
  runId: number | null;
  usageType: string | null;
  usageTypeName: Bilingual | null;
  period: string;
  periodFrom: string;
  periodTo: string;
  startIndex: string | null;
  endIndex: string | null;
  consumptionM3: string;
  subMetersM3: string;
  lowIncomeM3: string;
  payableM3: string;
  amountFen: number;
  blockYear: number | null;
  blockUsedBeforeM3: string | null;
  blockUsedAfterM3: string | null;
  dueOn: string;
  status: 'open' | 'cancelled';
  replacesBillId: number | null;
  cancelledAt: string | null;
  cancelReason: string;
  createdAt: string;
  noticeUrl: string;
  lines: BillLineView[];
  /** Paid of the bill (kept by the payments module; 0 until then) and what remains, fen. */
  paidFen: number;
  unpaidFen: number;
  /** Late fee owed on the bill (accrued − waived, fen; 0 for none) and the days charged (lateFees.ts). */
  lateFeeFen: number;
  lateFeeDays: number;
}

export interface BillDetail extends BillView {
  explanation: Bilingual[];
  reading: ReadingView | null;
}

interface BillRow {
  account_id: number;
  bill_id: number;
  bill_no: string;
  kind: 'consumption' | 'other' | 'adjustment';
  meter_id: number | null;
  meter_no: string | null;
  reading_id: number | null;
  run_id: number | null;
  usage_type_code: string | null;
  usage_name_zh: string | null;
  usage_name_en: string | null;
  period: string;
  period_from: string;
  period_to: string;
  start_index: string | null;
  end_index: string | null;
  consumption_m3: string;
  sub_meters_m3: string;
  low_income_m3: string;
  payable_m3: string;
  amount_fen: number;
  block_year: number | null;
  block_used_before_m3: string | null;
  block_used_after_m3: string | null;
  due_on: string;
  status: 'open' | 'cancelled';
  replaces_bill_id: number | null;
  cancelled_at: Date | null;
  cancel_reason: string;
  explanation: unknown;
  created_at: Date;
  paid_fen: number;
  late_fee_fen: number;
  late_fee_days: number;
}

interface LineRow {
  account_id: number;
  bill_id: number;
  line_no: number;
  kind: string;
  code: string;
  block_no: number | null;
  description_zh: string;
  description_en: string;
  volume_m3: string;
  unit_price_fen: string | null;
  amount_fen: number;
  from_date: string | null;
  to_date: string | null;
  tariff_version: string | null;
}

const BILL_COLUMNS = sql`
  b.account_id, b.bill_id, b.bill_no, b.kind, b.meter_id, m.meter_no, b.reading_id, b.run_id,
  b.usage_type_code, ut.name_zh as usage_name_zh, ut.name_en as usage_name_en, b.period, b.period_from,
  b.period_to, b.start_index, b.end_index, b.consumption_m3, b.sub_meters_m3, b.low_income_m3, b.payable_m3,
  b.amount_fen, b.block_year, b.block_used_before_m3, b.block_used_after_m3, b.due_on, b.status,
  b.replaces_bill_id, b.cancelled_at, b.cancel_reason, b.explanation, b.created_at,
  b.paid_fen, coalesce(lf.accrued_fen - lf.waived_fen - lf.paid_fen, 0)::int8 as late_fee_fen, coalesce(lf.days, 0) as late_fee_days`;

const BILL_JOINS = sql`
  left join meter m on m.account_id = b.account_id and m.meter_id = b.meter_id
  left join usage_type ut on ut.code = b.usage_type_code
  left join late_fee lf on lf.account_id = b.account_id and lf.bill_id = b.bill_id`;

/** The lines of some bills, by bill (keyed `accountId/billId`), in line order. */
async function linesOf(db: Db, bills: { account_id: number; bill_id: number }[]) {
  const out = new Map<string, BillLineView[]>();
  if (bills.length === 0) return out;
  const { rows } = await sql<LineRow>`
    select l.* from bill_line l
    join unnest(${bills.map((b) => b.account_id)}::bigint[], ${bills.map((b) => b.bill_id)}::bigint[])
      as k(account_id, bill_id) on l.account_id = k.account_id and l.bill_id = k.bill_id
    order by l.account_id, l.bill_id, l.line_no`.execute(db);
  for (const l of rows) {
    const key = `${l.account_id}/${l.bill_id}`;
    const list = out.get(key) ?? [];
    list.push({
      lineNo: l.line_no,
      kind: l.kind,
      code: l.code,
      blockNo: l.block_no,
      description: { 'zh-CN': l.description_zh, en: l.description_en },
      volumeM3: l.volume_m3,
      unitPriceFen: l.unit_price_fen,
      amountFen: l.amount_fen,
      from: l.from_date,
      to: l.to_date,
      tariffVersion: l.tariff_version,
    });
    out.set(key, list);
  }
  return out;
}

function toView(r: BillRow, lines: BillLineView[]): BillView {
  return {
    accountId: r.account_id,
    billId: r.bill_id,
    billNo: r.bill_no,
    kind: r.kind,
    meterId: r.meter_id,
    meterNo: r.meter_no,
    readingId: r.reading_id,
    runId: r.run_id,
    usageType: r.usage_type_code,
    usageTypeName:
      r.usage_name_zh === null ? null : { 'zh-CN': r.usage_name_zh, en: r.usage_name_en ?? r.usage_name_zh },
    period: r.period,
    periodFrom: r.period_from,
    periodTo: r.period_to,
    startIndex: r.start_index,
    endIndex: r.end_index,
    consumptionM3: r.consumption_m3,
    subMetersM3: r.sub_meters_m3,
    lowIncomeM3: r.low_income_m3,
    payableM3: r.payable_m3,
    amountFen: r.amount_fen,
    blockYear: r.block_year,
    blockUsedBeforeM3: r.block_used_before_m3,
    blockUsedAfterM3: r.block_used_after_m3,
    dueOn: r.due_on,
    status: r.status,
    replacesBillId: r.replaces_bill_id,
    cancelledAt: r.cancelled_at ? r.cancelled_at.toISOString() : null,
    cancelReason: r.cancel_reason,
    createdAt: r.created_at.toISOString(),
    noticeUrl: `/api/customers/${r.account_id}/bills/${r.bill_id}/notice.pdf`,
    lines,
    paidFen: Number(r.paid_fen),
    unpaidFen: r.amount_fen - Number(r.paid_fen),
    lateFeeFen: r.status === 'cancelled' ? 0 : Number(r.late_fee_fen),
    lateFeeDays: r.late_fee_days,
  };
}

function explanationOf(value: unknown): Bilingual[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (e): e is Bilingual =>
      typeof e === 'object' && e !== null && typeof (e as Bilingual)['zh-CN'] === 'string',
  );
}

/** A customer's bills, newest first, each with its lines. */
export async function customerBills(
  db: Db,
  accountId: number,
  q: { page: number; pageSize: number; status?: 'open' | 'cancelled' },
) {
  const where = sql`b.account_id = ${accountId} ${q.status ? sql`and b.status = ${q.status}` : sql``}`;
  const [{ rows }, count] = await Promise.all([
    sql<BillRow>`
      select ${BILL_COLUMNS} from bill b ${BILL_JOINS}
      where ${where}
      order by b.period_to desc, b.bill_id desc
      limit ${q.pageSize} offset ${(q.page - 1) * q.pageSize}`.execute(db),
    sql<{ n: number }>`select count(*)::int8 as n from bill b where ${where}`.execute(db),
  ]);
  const lines = await linesOf(db, rows);
  return {
    items: rows.map((r) => toView(r, lines.get(`${r.account_id}/${r.bill_id}`) ?? [])),
    total: count.rows[0]?.n ?? 0,
    page: q.page,
    pageSize: q.pageSize,
  };
}

/** One bill with its lines, the explanation of its calculation and the reading it was made from. */
export async function billDetail(db: Db, accountId: number, billId: number): Promise<BillDetail> {
  const { rows } = await sql<BillRow>`
    select ${BILL_COLUMNS} from bill b ${BILL_JOINS}
    where b.account_id = ${accountId} and b.bill_id = ${billId}`.execute(db);
  const row = rows[0];
  if (!row) throw notFound('bill', billId);
  const [lines, readings] = await Promise.all([
    linesOf(db, [row]),
    row.reading_id === null
      ? Promise.resolve([])
      : readingViews(db, sql`r.account_id = ${accountId} and r.reading_id = ${row.reading_id}`, { limit: 1 }),
  ]);
  return {
    ...toView(row, lines.get(`${accountId}/${billId}`) ?? []),
    explanation: explanationOf(row.explanation),
    reading: readings[0] ?? null,
  };
}

// ---------------------------------------------------------------- notices

interface NoticeRow extends BillRow {
  customer_code: string;
  customer_name: string;
  utility: string;
  office_name: string;
  office_address: string;
  office_phone: string;
  address: Record<string, string | null> | null;
  book_code: string | null;
  route_seq: number | null;
  arrears_fen: number;
  late_fees_fen: number;
}

async function noticeRows(db: Db, where: RawBuilder<unknown>, limit: number): Promise<NoticeRow[]> {
  const { rows } = await sql<NoticeRow>`
    select ${BILL_COLUMNS}, c.customer_code, c.name as customer_name, c.utility,
           o.name as office_name, o.address as office_address, o.phone as office_phone,
           to_jsonb(a) as address, bk.code as book_code, m.route_seq,
           -- What the account still owes on its earlier standing bills, and their late fees.
           (select coalesce(sum(o.amount_fen - o.paid_fen), 0) from bill o
             where o.account_id = b.account_id and o.status = 'open' and o.bill_id < b.bill_id)::int8 as arrears_fen,
           (select coalesce(sum(f.accrued_fen - f.waived_fen - f.paid_fen), 0) from late_fee f
             join bill o on o.account_id = f.account_id and o.bill_id = f.bill_id and o.status = 'open'
             where f.account_id = b.account_id and o.bill_id <= b.bill_id)::int8 as late_fees_fen
    from bill b
    join customer c on c.account_id = b.account_id
    join office o on o.office_id = c.office_id
    ${BILL_JOINS}
    left join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
    left join address a on a.account_id = sp.account_id and a.address_id = sp.address_id
    left join book bk on bk.book_id = m.book_id
    where ${where}
    order by m.route_seq nulls last, b.bill_no
    limit ${limit}`.execute(db);
  return rows;
}

async function toNotices(db: Db, rows: NoticeRow[], printedOn: string): Promise<NoticeData[]> {
  const settings = await loadSettings(db);
  const lines = await linesOf(db, rows);
  return rows.map((r) => ({
    billNo: r.bill_no,
    status: r.status,
    utility: r.utility,
    utilityName: settings['notice.utilityName'],
    paymentNote: settings['notice.paymentNote'],
    officeName: r.office_name,
    officeAddress: r.office_address,
    officePhone: r.office_phone,
    customerCode: r.customer_code,
    customerName: r.customer_name,
    address: addressLine(r.address),
    meterNo: r.meter_no,
    usageTypeName: r.usage_name_zh,
    bookCode: r.book_code,
    routeSeq: r.route_seq,
    period: r.period,
    periodFrom: r.period_from,
    periodTo: r.period_to,
    startIndex: r.start_index,
    endIndex: r.end_index,
    consumptionM3: r.consumption_m3,
    subMetersM3: r.sub_meters_m3,
    paidFen: Number(r.paid_fen),
    arrearsFen: Math.max(0, Number(r.arrears_fen)),
    lateFeesFen: Math.max(0, Number(r.late_fees_fen)),
    lowIncomeM3: r.low_income_m3,
    payableM3: r.payable_m3,
    lines: (lines.get(`${r.account_id}/${r.bill_id}`) ?? []).map((l) => ({
      description: l.description['zh-CN'],
      volumeM3: l.volumeM3,
      unitPriceFen: l.unitPriceFen,
      amountFen: l.amountFen,
    })),
    amountFen: r.amount_fen,
    dueOn: r.due_on,
    printedOn,
  }));
}

/** The notice of one bill (a cancelled bill's notice is printed marked as cancelled). */
export async function billNotice(
  db: Db,
  accountId: number,
  billId: number,
  printedOn: string,
): Promise<NoticeData> {
  const rows = await noticeRows(db, sql`b.account_id = ${accountId} and b.bill_id = ${billId}`, 1);
  if (!rows[0]) throw notFound('bill', billId);
  const [notice] = await toNotices(db, rows, printedOn);
  return notice!;
}

const tooManyNotices = (count: number) =>
  new DomainError(
    'TOO_MANY_NOTICES',
    { max: MAX_NOTICES_PER_BATCH, count },
    {
      'zh-CN': '一次最多打印 {max} 张通知单，该册本超过此数',
      en: 'At most {max} notices can be printed at once; this book has more',
    },
  );

/**
 * The notices of a book's standing consumption bills for a period, in the order the reader walks
 * the route (meter.route_seq), for the reader to deliver.
 */
export async function bookNotices(
  db: Db,
  bookId: number,
  period: string,
  printedOn: string,
): Promise<NoticeData[]> {
  const book = await db.selectFrom('book').select('book_id').where('book_id', '=', bookId).executeTakeFirst();
  if (!book) throw notFound('book', bookId);
  const rows = await noticeRows(
    db,
    sql`m.book_id = ${bookId} and b.period = ${period} and b.status = 'open' and b.kind = 'consumption'`,
    MAX_NOTICES_PER_BATCH + 1,
  );
  if (rows.length > MAX_NOTICES_PER_BATCH) throw tooManyNotices(rows.length);
  if (rows.length === 0) throw notFound('notices', `${bookId} ${period}`);
  return toNotices(db, rows, printedOn);
}

// ---------------------------------------------------------------- summary

export interface SummaryFigures {
  bills: number;
  consumptionM3: string;
  payableM3: string;
  amountFen: number;
}

export interface BillingSummary {
  month: string;
  officeId: number | null;
  totals: SummaryFigures;
  byUsageType: (SummaryFigures & { usageType: string | null; name: Bilingual | null })[];
  byOffice: (SummaryFigures & { officeId: number; officeName: string })[];
  /** The months up to and including `month`, oldest first; a month without bills shows zeros. */
  trend: (SummaryFigures & { month: string })[];
}

interface FigureRow {
  bills: number;
  consumption_m3: string;
  payable_m3: string;
  amount_fen: number;
}

const FIGURES = sql`count(*)::int8 as bills,
  coalesce(sum(b.consumption_m3), 0)::numeric(16, 3) as consumption_m3,
  coalesce(sum(b.payable_m3), 0)::numeric(16, 3) as payable_m3,
  coalesce(sum(b.amount_fen), 0)::int8 as amount_fen`;

function figures(r: FigureRow | undefined): SummaryFigures {
  return {
    bills: r?.bills ?? 0,
    consumptionM3: r?.consumption_m3 ?? '0.000',
    payableM3: r?.payable_m3 ?? '0.000',
    amountFen: r?.amount_fen ?? 0,
  };
}

/** The month `n` months before `month` (YYYY-MM). */
export function monthBefore(month: string, n: number): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  const index = y * 12 + (m - 1) - n;
  return `${Math.floor(index / 12)}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/**
 * Standing bills (cancelled ones left out) of a month by usage type and by office, with the
 * 12-month trend, for the offices in the caller's scope (or the one office asked for).
 */
export async function billingSummary(
  db: Db,
  caller: Caller,
  q: { officeId?: number; month: string },
): Promise<BillingSummary> {
  const scope = officeCondition(caller, sql`c.office_id`, q.officeId);
  const first = monthBefore(q.month, SUMMARY_TREND_MONTHS - 1);
  const from = sql`from bill b join customer c on c.account_id = b.account_id`;
  const inMonth = sql`b.status = 'open' and b.period = ${q.month} and ${scope}`;
  const [totals, byUsage, byOffice, trend] = await Promise.all([
    sql<FigureRow>`select ${FIGURES} ${from} where ${inMonth}`.execute(db),
    sql<FigureRow & { usage_type_code: string | null; name_zh: string | null; name_en: string | null }>`
      select b.usage_type_code, ut.name_zh, ut.name_en, ${FIGURES}
      ${from} left join usage_type ut on ut.code = b.usage_type_code
      where ${inMonth}
      group by b.usage_type_code, ut.name_zh, ut.name_en, ut.sort_order
      order by ut.sort_order nulls last, b.usage_type_code nulls last`.execute(db),
    sql<FigureRow & { office_id: number; office_name: string }>`
      select c.office_id, o.name as office_name, ${FIGURES}
      ${from} join office o on o.office_id = c.office_id
      where ${inMonth}
      group by c.office_id, o.name, o.code
      order by o.code`.execute(db),
    sql<FigureRow & { period: string }>`
      select b.period, ${FIGURES} ${from}
      where b.status = 'open' and b.period between ${first} and ${q.month} and ${scope}
      group by b.period`.execute(db),
  ]);
  const byMonth = new Map(trend.rows.map((r) => [r.period, r]));
  return {
    month: q.month,
    officeId: q.officeId ?? null,
    totals: figures(totals.rows[0]),
    byUsageType: byUsage.rows.map((r) => ({
      usageType: r.usage_type_code,
      name: r.name_zh === null ? null : { 'zh-CN': r.name_zh, en: r.name_en ?? r.name_zh },
      ...figures(r),
    })),
    byOffice: byOffice.rows.map((r) => ({ officeId: r.office_id, officeName: r.office_name, ...figures(r) })),
    trend: Array.from({ length: SUMMARY_TREND_MONTHS }, (_, i) => {
      const month = monthBefore(q.month, SUMMARY_TREND_MONTHS - 1 - i);
      return { month, ...figures(byMonth.get(month)) };
    }),
  };
}
