import {
  addDays,
  type Bill,
  type BillInput,
  calculateBill,
  DomainError,
  formatMessage,
  prepareTariff,
  type Tariff,
} from '@meterline/domain';
import { type RawBuilder, sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { RequestContext } from '../platform/context.ts';
import { loadSettings } from '../platform/settings.ts';
import type { Db } from '../readings/repository.ts';
import { loadTariffs } from './tariffs.ts';

/**
 * The bill engine (开账, DOMAIN.md §4, docs/billing.md "The bill engine"): approved readings become
 * bills. For each accepted reading with a consumption and no standing bill it builds the domain's
 * BillInput — the indexes and the meter's dial, the period from the day after the meter's previous
 * accepted reading to the reading's day, a master meter's sub-meters of the same period, the
 * customer's low-income reduction, the year's block usage from the account's earlier bills — calls
 * calculateBill, and writes the bill, its lines and one SMS notice for the outbox. A reading that
 * cannot be billed becomes an exception with its reason; nothing of it is written.
 *
 * The same three steps serve a bill on approval (a few readings, inside the approving transaction)
 * and a bill run (thousands per chunk): loadCandidates (one query), priceCandidates (pure, in
 * memory) and writeBills / copyBills (set-based).
 */

/** The first bill of a meter (no earlier accepted reading) covers at most this many days. */
export const FIRST_PERIOD_MAX_DAYS = 365;
/** A mobile number the SMS notice can go to (contact.phone is stored normalised). */
export const MOBILE_PATTERN = '^1[3-9][0-9]{9}$';
export const BILL_NOTICE_TEMPLATE = 'bill_notice';
/** The SMS notice goes out the day after the reading (DOMAIN.md §4, §6), from this time, China. */
export const SMS_NOTICE_TIME = '09:00';

export type Tx = Transaction<DB>;

/** Everything the engine needs of one reading to bill it, from one query (loadCandidates). */
export interface Candidate {
  account_id: number;
  reading_id: number;
  meter_id: number;
  /** The reading's day in China, YYYY-MM-DD: the bill's last day. */
  read_day: string;
  previous_index: string;
  index_value: string | null;
  consumption_m3: string;
  kind: 'actual' | 'estimated';
  /** The day of the meter's accepted reading before this one, if any. */
  previous_day: string | null;
  meter_no: string;
  dial_digits: number;
  role: string;
  install_date: string | null;
  usage_type_code: string;
  utility: string;
  office_id: number;
  customer_state: string;
  customer_name: string;
  customer_code: string;
  connected_on: string | null;
  low_income: boolean;
  low_income_reduction_m3: string;
  low_income_valid_until: string | null;
  mobile: string | null;
  /** The account's last standing bill ending before the reading's day: its block year and usage after. */
  block_year: number | null;
  block_used_m3: string | null;
  block_period_to: string | null;
  /** Master meters: consumption of the sub-meters' accepted readings of the same period. */
  sub_meters_m3: string[] | null;
}

const CANDIDATE_COLUMNS = sql`
  r.account_id, r.reading_id, r.meter_id,
  (r.read_at at time zone 'Asia/Shanghai')::date::text as read_day,
  r.previous_index, r.index_value, r.consumption_m3, r.kind,
  (select (p.read_at at time zone 'Asia/Shanghai')::date::text from reading p
    where p.account_id = r.account_id and p.meter_id = r.meter_id and p.status = 'accepted'
      and (p.read_at, p.reading_id) < (r.read_at, r.reading_id)
    order by p.read_at desc, p.reading_id desc limit 1) as previous_day,
  m.meter_no, m.dial_digits, m.role, m.install_date,
  sp.usage_type_code, m.utility,
  c.office_id, c.state as customer_state, c.name as customer_name, c.customer_code, c.connected_on,
  c.low_income, c.low_income_reduction_m3, c.low_income_valid_until,
  (select ct.phone from contact ct where ct.account_id = r.account_id and ct.phone ~ ${MOBILE_PATTERN}
    order by ct.is_primary desc, ct.contact_id limit 1) as mobile,
  pb.block_year, pb.block_used_after_m3 as block_used_m3, pb.period_to as block_period_to,
  case when m.role = 'master' then array(
    select s.consumption_m3::text from meter sm
    join reading s on s.account_id = sm.account_id and s.meter_id = sm.meter_id
    where sm.master_meter_no = m.meter_no and s.period = r.period and s.status = 'accepted'
      and s.consumption_m3 is not null
    order by s.account_id, s.reading_id) end as sub_meters_m3`;

/**
 * The accepted, unbilled readings matching `where` (on reading r, meter m, customer c,
 * service_point sp, the meter's book bk), ordered by account, meter, day: the order they are billed in.
 * `accounts` (a bill run's chunk: after < account_id ≤ through) bounds every table joined, so each
 * is read by its key over the chunk's accounts alone, whatever the planner thinks of the rest.
 */
export async function loadCandidates(
  db: Db,
  where: RawBuilder<unknown>,
  accounts?: { after: number; through: number },
): Promise<Candidate[]> {
  const range = (alias: string) =>
    accounts
      ? sql`and ${sql.ref(`${alias}.account_id`)} > ${accounts.after} and ${sql.ref(`${alias}.account_id`)} <= ${accounts.through}`
      : sql``;
  const unbilled = sql`r.status = 'accepted' and r.consumption_m3 is not null
      and not exists (select 1 from bill x where x.account_id = r.account_id and x.reading_id = r.reading_id
                        and x.status <> 'cancelled' ${range('x')})`;
  // A chunk of accounts: its unbilled readings first (most of an account's readings are billed
  // already), so the joins and look-ups below run for those alone. OFFSET 0 keeps the planner from
  // folding the subquery back in: it then put the anti-join last and looked up the block usage of
  // every billed reading too (about twice the time a chunk, measured on the bill-run bench).
  const readings = accounts
    ? sql`(select r.* from reading r where ${unbilled} ${range('r')} offset 0) r`
    : sql`reading r`;
  const { rows } = await sql<Candidate>`
    select ${CANDIDATE_COLUMNS}
    from ${readings}
    join meter m on m.account_id = r.account_id and m.meter_id = r.meter_id ${range('m')}
    join customer c on c.account_id = r.account_id ${range('c')}
    join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id ${range('sp')}
    left join book bk on bk.book_id = m.book_id
    left join lateral (
      select b.block_year, b.block_used_after_m3, b.period_to::text as period_to from bill b
      where b.account_id = r.account_id and b.status = 'open' and b.block_year is not null
        and b.period_to < (r.read_at at time zone 'Asia/Shanghai')::date
      order by b.period_to desc, b.bill_id desc limit 1) pb on true
    where ${accounts ? sql`true` : unbilled} and ${where}
    order by r.account_id, r.read_at, r.reading_id`.execute(db);
  return rows;
}

/** Readings named by key (the approval path): those accepted and unbilled among them. */
export function readingKeys(keys: readonly { accountId: number; readingId: number }[]): RawBuilder<unknown> {
  const accounts = keys.map((k) => k.accountId);
  const readings = keys.map((k) => k.readingId);
  return sql`(r.account_id, r.reading_id) in (select a, x from unnest(${accounts}::bigint[], ${readings}::bigint[]) as k(a, x))`;
}

// ------------------------------------------------------------------ pricing (in memory)

export interface PricingContext {
  /** Tariffs by usage type, prepared (validated once: prepareTariff). */
  tariffs: ReadonlyMap<string, Tariff>;
  dueDays: number;
  /** Signs the SMS notice: 【name】 (setting notice.utilityName). */
  utilityName: string;
  runId: number | null;
  createdBy: number | null;
}

export interface BillRow {
  account_id: number;
  bill_id: number;
  bill_no: string;
  meter_id: number;
  reading_id: number;
  run_id: number | null;
  usage_type_code: string;
  period: string;
  period_from: string;
  period_to: string;
  start_index: string;
  end_index: string | null;
  consumption_m3: string;
  sub_meters_m3: string;
  low_income_m3: string;
  payable_m3: string;
  amount_fen: number;
  block_year: number;
  block_used_before_m3: string;
  block_used_after_m3: string;
  due_on: string;
  explanation: string;
  created_by: number | null;
}

export interface LineRow {
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
  from_date: string;
  to_date: string;
  tariff_version: string;
}

export interface SmsRow {
  account_id: number;
  channel: 'sms';
  recipient: string;
  template: string;
  body: string;
  dedupe_key: string;
  not_before: string;
  /** The bill the notice is about; the notice is the dunning policy's day +1 step. */
  bill_id: number;
  /** Not sent to a customer who paid before it went out. */
  stop_if_paid: boolean;
}

export interface PricedBill {
  bill: BillRow;
  lines: LineRow[];
  sms: SmsRow | null;
  officeId: number;
}

export interface BillException {
  account_id: number;
  reading_id: number;
  office_id: number;
  code: string;
  message_zh: string;
  message_en: string;
}

export interface PricedChunk {
  bills: PricedBill[];
  exceptions: BillException[];
}

/** A bill before it has an id and a number (the caller reserves them: numberBills). */
interface Draft {
  candidate: Candidate;
  bill: Bill;
  periodFrom: string;
  blockUsedBefore: string;
  chargeNameZh: string;
}

const closedCustomer = (state: string) =>
  new DomainError(
    'CUSTOMER_CLOSED',
    { state },
    {
      'zh-CN': '用户已销户，不再按抄表开账（销户结算另行处理）',
      en: 'The customer is closed: readings are no longer billed (the final account is settled apart)',
    },
  );

const noTariff = (usageType: string) =>
  new DomainError(
    'NO_TARIFF',
    { usageType },
    {
      'zh-CN': '用水性质 {usageType} 没有水价方案，无法开账',
      en: 'Usage type {usageType} has no tariff: the reading cannot be billed',
    },
  );

/** The reason of a refused bill in both languages, with its field problems spelled out. */
function exceptionOf(c: Candidate, error: DomainError): BillException {
  const detail = (lang: 'zh-CN' | 'en') =>
    error.fields.length
      ? `${error.messageIn(lang)}${lang === 'en' ? ': ' : '：'}${error.fields
          .map((f) => `${f.path} ${formatMessage(f.messages[lang], error.data)}`)
          .join(lang === 'en' ? '; ' : '；')}`
      : error.messageIn(lang);
  return {
    account_id: c.account_id,
    reading_id: c.reading_id,
    office_id: c.office_id,
    code: error.code,
    message_zh: detail('zh-CN'),
    message_en: detail('en'),
  };
}

const maxDate = (a: string, b: string) => (a >= b ? a : b);

/** A small cache of day arithmetic: a run's readings fall on a few hundred days. */
const DAY_CACHE_MAX = 10_000;
const dayCache = new Map<string, string>();

/** addDays, remembered (bills of a run share their reading days). */
export function shiftDay(day: string, days: number): string {
  const key = `${day}${days}`;
  let out = dayCache.get(key);
  if (out === undefined) {
    out = addDays(day, days);
    if (dayCache.size >= DAY_CACHE_MAX) dayCache.clear();
    dayCache.set(key, out);
  }
  return out;
}

/** The first day of the bill: the day after the previous accepted reading, or the connection. */
export function periodStart(c: Candidate): string {
  let from = c.previous_day
    ? shiftDay(c.previous_day, 1)
    : maxDate(
        maxDate(c.connected_on ?? '0000-01-01', c.install_date ?? '0000-01-01'),
        shiftDay(c.read_day, 1 - FIRST_PERIOD_MAX_DAYS),
      );
  // Two accepted readings on one day: the second covers that day alone.
  if (from > c.read_day) from = c.read_day;
  return from;
}

/**
 * Prices candidates (ordered by account and day, as loadCandidates returns them) with the domain's
 * calculateBill. Each account's bills follow one another: a later reading of the same account in
 * the same chunk continues the year's block usage from the earlier one's bill.
 */
export function draftBills(candidates: readonly Candidate[], ctx: Pick<PricingContext, 'tariffs'>) {
  const drafts: Draft[] = [];
  const exceptions: BillException[] = [];
  /** The account's latest bill drafted here: block usage carries over to its next reading. */
  const carried = new Map<number, { year: number; volumeM3: string; periodTo: string }>();
  for (const c of candidates) {
    try {
      if (c.customer_state === 'closed') throw closedCustomer(c.customer_state);
      const tariff = ctx.tariffs.get(c.usage_type_code);
      if (!tariff) throw noTariff(c.usage_type_code);
      const periodFrom = periodStart(c);
      let used: { year: number; volumeM3: string } | null =
        c.block_year !== null && c.block_used_m3 !== null
          ? { year: c.block_year, volumeM3: c.block_used_m3 }
          : null;
      const earlier = carried.get(c.account_id);
      if (earlier && (c.block_period_to === null || earlier.periodTo >= c.block_period_to)) used = earlier;
      // Another meter's bill reaching into a later year than this period starts in (accounts with
      // two meters read on different days): blocks count per year, so it tells nothing here.
      if (used && used.year > Number(periodFrom.slice(0, 4))) used = null;
      const input: BillInput = {
        tariff,
        periodFrom,
        periodTo: c.read_day,
        reading:
          c.kind === 'actual' && c.index_value !== null
            ? {
                kind: 'index',
                startIndex: c.previous_index,
                endIndex: c.index_value,
                dialDigits: c.dial_digits,
              }
            : { kind: 'volume', consumptionM3: c.consumption_m3 },
        subMeterConsumptionsM3: c.sub_meters_m3 ?? [],
        lowIncome:
          c.low_income && Number(c.low_income_reduction_m3) > 0
            ? { reductionM3PerMonth: c.low_income_reduction_m3, validUntil: c.low_income_valid_until }
            : null,
        annualBlockUsed: used,
      };
      const bill = calculateBill(input);
      const after = bill.annualBlockUsedAfter;
      drafts.push({
        candidate: c,
        bill,
        periodFrom,
        blockUsedBefore: used && used.year === after.year ? used.volumeM3 : '0.000',
        chargeNameZh: tariff.chargeName['zh-CN'],
      });
      carried.set(c.account_id, { year: after.year, volumeM3: after.volumeM3, periodTo: c.read_day });
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      exceptions.push(exceptionOf(c, error));
    }
  }
  return { drafts, exceptions };
}

/** "18.000" → "18", "18.500" → "18.5": volumes as a notice prints them. */
export function showVolume(m3: string): string {
  return m3.includes('.') ? m3.replace(/\.?0+$/, '') : m3;
}

export function yuanText(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

const monthDay = (day: string) => `${Number(day.slice(5, 7))}月${Number(day.slice(8, 10))}日`;

/** The SMS bill notice (DOMAIN.md §4: this index, volume, reduction, payable volume, amount). */
export function billNoticeText(d: {
  utilityName: string;
  customerName: string;
  customerCode: string;
  utility: string;
  chargeNameZh: string;
  readDay: string;
  endIndex: string | null;
  payableM3: string;
  lowIncomeM3: string;
  amountFen: number;
  dueOn: string;
  billNo: string;
}): string {
  const use = d.utility === 'gas' ? '用气' : '用水';
  const index = d.endIndex === null ? '（估抄）' : `，表码${showVolume(d.endIndex)}`;
  const reduction = Number(d.lowIncomeM3) > 0 ? `（已减免低保量${showVolume(d.lowIncomeM3)}立方米）` : '';
  const signature = d.utilityName.trim() ? `【${d.utilityName.trim()}】` : '';
  return (
    `${signature}尊敬的${d.customerName}：您的户号${d.customerCode}于${monthDay(d.readDay)}抄表${index}，` +
    `本期${use}${showVolume(d.payableM3)}立方米${reduction}，应缴${d.chargeNameZh}${yuanText(d.amountFen)}元，` +
    `请于${monthDay(d.dueOn)}前缴纳。账单号${d.billNo}。`
  );
}

/** 09:00 China time on the day after `day`, as an ISO instant. */
export function noticeTime(day: string): string {
  const key = `${day}@`;
  let out = dayCache.get(key);
  if (out === undefined) {
    out = new Date(Date.parse(`${addDays(day, 1)}T${SMS_NOTICE_TIME}:00+08:00`)).toISOString();
    if (dayCache.size >= DAY_CACHE_MAX) dayCache.clear();
    dayCache.set(key, out);
  }
  return out;
}

/** The printed bill number: the month and a number in sequence, e.g. 202611-00001234. */
export function billNumber(periodTo: string, seq: number): string {
  return `${periodTo.slice(0, 4)}${periodTo.slice(5, 7)}-${String(seq).padStart(8, '0')}`;
}

/** Drafts with their reserved ids and numbers, as the rows the tables take. */
export function finishBills(
  drafts: readonly Draft[],
  ids: readonly { billId: number; seq: number }[],
  ctx: Pick<PricingContext, 'dueDays' | 'utilityName' | 'runId' | 'createdBy'>,
): PricedBill[] {
  return drafts.map((d, i) => {
    const { candidate: c, bill } = d;
    const { billId, seq } = ids[i]!;
    const billNo = billNumber(c.read_day, seq);
    const dueOn = shiftDay(c.read_day, ctx.dueDays);
    const row: BillRow = {
      account_id: c.account_id,
      bill_id: billId,
      bill_no: billNo,
      meter_id: c.meter_id,
      reading_id: c.reading_id,
      run_id: ctx.runId,
      usage_type_code: c.usage_type_code,
      period: c.read_day.slice(0, 7),
      period_from: d.periodFrom,
      period_to: c.read_day,
      start_index: c.previous_index,
      end_index: c.kind === 'actual' ? c.index_value : null,
      consumption_m3: bill.consumptionM3,
      sub_meters_m3: bill.subMetersM3,
      low_income_m3: bill.lowIncomeReductionM3,
      payable_m3: bill.payableM3,
      amount_fen: bill.totalFen,
      block_year: bill.annualBlockUsedAfter.year,
      block_used_before_m3: d.blockUsedBefore,
      block_used_after_m3: bill.annualBlockUsedAfter.volumeM3,
      due_on: dueOn,
      explanation: JSON.stringify(bill.explanation),
      created_by: ctx.createdBy,
    };
    const lines: LineRow[] = bill.lines.map((l, n) => ({
      account_id: c.account_id,
      bill_id: billId,
      line_no: n + 1,
      kind: l.kind,
      code: l.code,
      block_no: l.blockNo,
      description_zh: l.description['zh-CN'],
      description_en: l.description.en,
      volume_m3: l.volumeM3,
      unit_price_fen: l.unitPriceFen,
      amount_fen: l.amountFen,
      from_date: l.from,
      to_date: l.to,
      tariff_version: l.tariffVersion,
    }));
    const sms: SmsRow | null = c.mobile
      ? {
          account_id: c.account_id,
          channel: 'sms',
          recipient: c.mobile,
          template: BILL_NOTICE_TEMPLATE,
          body: billNoticeText({
            utilityName: ctx.utilityName,
            customerName: c.customer_name,
            customerCode: c.customer_code,
            utility: c.utility,
            chargeNameZh: d.chargeNameZh,
            readDay: c.read_day,
            endIndex: row.end_index,
            payableM3: bill.payableM3,
            lowIncomeM3: bill.lowIncomeReductionM3,
            amountFen: bill.totalFen,
            dueOn,
            billNo,
          }),
          dedupe_key: `bill:${billId}`,
          not_before: noticeTime(c.read_day),
          bill_id: billId,
          stop_if_paid: true,
        }
      : null;
    return { bill: row, lines, sms, officeId: c.office_id };
  });
}

/** Reserves `count` bill ids (the identity) and bill numbers (bill_no_seq), in order. */
export async function reserveBillIds(db: Db, count: number): Promise<{ billId: number; seq: number }[]> {
  if (count === 0) return [];
  const { rows } = await sql<{ bill_id: number; seq: number }>`
    select nextval(pg_get_serial_sequence('bill', 'bill_id')) as bill_id, nextval('bill_no_seq') as seq
    from generate_series(1, ${count}::int)`.execute(db);
  return rows.map((r) => ({ billId: Number(r.bill_id), seq: Number(r.seq) }));
}

/** Tariffs by usage type, each validated once for the many bills it prices. */
export async function loadPreparedTariffs(db: Db): Promise<Map<string, Tariff>> {
  const tariffs = await loadTariffs(db);
  const out = new Map<string, Tariff>();
  for (const [usageType, tariff] of tariffs) {
    if (tariff.versions.length === 0) continue;
    try {
      out.set(usageType, prepareTariff(tariff));
    } catch (error) {
      // A stored tariff that no longer validates prices nothing: its readings become exceptions.
      if (!(error instanceof DomainError)) throw error;
    }
  }
  return out;
}

// ------------------------------------------------------------------ writing (Kysely)

const BILL_INSERT_ROWS = 1_000;

/**
 * Writes priced bills in the caller's transaction with ordinary multi-row inserts: bills first (a
 * reading that got a standing bill meanwhile is skipped: bill_once_per_reading), then the lines and
 * SMS of the bills written. Returns the bills written.
 */
export async function writeBills(trx: Db, priced: readonly PricedBill[]): Promise<PricedBill[]> {
  const written: PricedBill[] = [];
  for (let i = 0; i < priced.length; i += BILL_INSERT_ROWS) {
    const part = priced.slice(i, i + BILL_INSERT_ROWS);
    const inserted = await trx
      .insertInto('bill')
      .values(part.map((p) => p.bill))
      .onConflict((oc) =>
        oc
          .columns(['account_id', 'reading_id'])
          .where('reading_id', 'is not', null)
          .where('status', '<>', 'cancelled')
          .doNothing(),
      )
      .returning(['bill_id'])
      .execute();
    const ids = new Set(inserted.map((r) => r.bill_id));
    written.push(...part.filter((p) => ids.has(p.bill.bill_id)));
  }
  const lines = written.flatMap((p) => p.lines);
  for (let i = 0; i < lines.length; i += BILL_INSERT_ROWS)
    await trx
      .insertInto('bill_line')
      .values(lines.slice(i, i + BILL_INSERT_ROWS))
      .execute();
  const sms = written.flatMap((p) => (p.sms ? [p.sms] : []));
  for (let i = 0; i < sms.length; i += BILL_INSERT_ROWS)
    await trx
      .insertInto('outbox_message')
      .values(sms.slice(i, i + BILL_INSERT_ROWS))
      .onConflict((oc) => oc.columns(['account_id', 'dedupe_key']).doNothing())
      .execute();
  return written;
}

// ------------------------------------------------------------------ billing on approval

export interface BilledSummary {
  accountId: number;
  readingId: number;
  billId: number;
  billNo: string;
  amountFen: number;
}

/**
 * Bills readings just accepted (a handheld upload accepted, a review decision), inside the
 * transaction that accepted them: the bill stands or falls with the acceptance. Readings that
 * cannot be billed stay unbilled (the next bill run lists them as exceptions); the acceptance
 * goes ahead. Each bill is audited on the customer's trail.
 */
export async function billAcceptedReadings(
  trx: Tx,
  ctx: RequestContext,
  keys: readonly { accountId: number; readingId: number }[],
): Promise<{ billed: BilledSummary[]; exceptions: BillException[] }> {
  if (keys.length === 0) return { billed: [], exceptions: [] };
  const candidates = await loadCandidates(trx, readingKeys(keys));
  if (candidates.length === 0) return { billed: [], exceptions: [] };
  const [tariffs, settings] = await Promise.all([loadPreparedTariffs(trx), loadSettings(trx)]);
  const { drafts, exceptions } = draftBills(candidates, { tariffs });
  const ids = await reserveBillIds(trx, drafts.length);
  const priced = finishBills(drafts, ids, {
    dueDays: settings['billing.dueDays'],
    utilityName: settings['notice.utilityName'],
    runId: null,
    createdBy: ctx.caller?.staffId ?? null,
  });
  const written = await writeBills(trx, priced);
  if (written.length) {
    await trx
      .insertInto('audit_log')
      .values(
        written.map((p) => ({
          staff_id: ctx.caller?.staffId ?? null,
          office_id: p.officeId,
          account_id: p.bill.account_id,
          entity_type: 'bill',
          entity_id: `${p.bill.account_id}/${p.bill.bill_id}`,
          action: 'bill_on_approval',
          after: JSON.stringify({
            billNo: p.bill.bill_no,
            readingId: p.bill.reading_id,
            periodFrom: p.bill.period_from,
            periodTo: p.bill.period_to,
            payableM3: p.bill.payable_m3,
            amountFen: p.bill.amount_fen,
            dueOn: p.bill.due_on,
            sms: p.sms !== null,
          }),
          request_id: ctx.requestId,
          ip: ctx.ip,
        })),
      )
      .execute();
    ctx.audited += written.length;
  }
  return {
    billed: written.map((p) => ({
      accountId: p.bill.account_id,
      readingId: p.bill.reading_id,
      billId: p.bill.bill_id,
      billNo: p.bill.bill_no,
      amountFen: p.bill.amount_fen,
    })),
    exceptions,
  };
}
