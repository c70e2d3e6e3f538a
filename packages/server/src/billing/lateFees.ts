import {
  type Bilingual,
  DomainError,
  LATE_FEE_AGEING_DAYS,
  LATE_FEE_MESSAGES,
  lateFeeAgeingBucket,
  lateFeeFen,
  todayInChina,
  validateLateFeeWaiver,
} from '@meterline/domain';
import { type Kysely, type Selectable, sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { LateFeeRunTable } from '../db/schemaLateFees.ts';
import { audit } from '../platform/audit.ts';
import type { Caller, RequestContext } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { fieldErrors, notFound } from '../platform/errors.ts';
import { PeriodicJob, underSessionLock } from '../platform/periodicJob.ts';
import { loadSettings } from '../platform/settings.ts';
import { officeCondition } from '../readings/service.ts';

/**
 * Late fees (滞纳金, DOMAIN.md §4, docs/billing.md "Late fees and other charges"): a daily run
 * computes, for every open consumption bill past its due date with something unpaid, the fee as of
 * the day (the domain's lateFeeFen, from dates: never incremented), and stores it in `late_fee`.
 * Running a day twice changes nothing; a run after skipped days catches up. Waivers (减免) by
 * billing.approve holders reduce what is owed and may stop the accrual.
 */

type Db = Kysely<DB> | Transaction<DB>;
export type LateFeeRun = Selectable<LateFeeRunTable>;

/** Bills per chunk (one transaction). */
export const LATE_FEE_CHUNK_BILLS = 5_000;
/** How often the server checks whether today's run is done. */
export const LATE_FEE_CHECK_EVERY_MS = 10 * 60_000;
/** A run left `running` with a heartbeat older than this belongs to a process that died. */
export const LATE_FEE_STALE_MS = 60_000;
/** Most daily runs the late-fee page lists and charts. */
export const LATE_FEE_RUNS_SHOWN = 60;
/** Only one process runs late fees at a time (session advisory lock). */
const LATE_FEE_LOCK = 7_245_010;

interface CandidateRow {
  account_id: number;
  bill_id: number;
  unpaid_fen: number;
  due_on: string;
  lf_rate: string | null;
  lf_grace: number | null;
  lf_cap: string | null;
  lf_exists: boolean;
  lf_accrued: number | null;
}

export interface AccrueOptions {
  via?: 'server' | 'cli' | 'ui';
  requestedBy?: number | null;
  chunkBills?: number;
  /** After each committed chunk (tests: throw to stop a run part-way as a crash would). */
  afterChunk?: (chunkNo: number) => void | Promise<void>;
}

export interface AccrueResult {
  run: LateFeeRun;
  /** Whether this call did the work, or found the day's run done (or running elsewhere). */
  ran: boolean;
}

const activeElsewhere = () =>
  new DomainError(
    'LATE_FEE_RUN_ACTIVE',
    {},
    { 'zh-CN': '滞纳金计算正在进行中，请稍后再试', en: 'Late fees are being computed; try again shortly' },
  );

/**
 * The late-fee run of `asOf`: every open consumption bill with something unpaid and past its due
 * date gets its fee as of `asOf`, chunk by chunk, resumable from the run's cursor. A day whose run
 * is done is not run again (the fees it stored are what a second run would store).
 */
export async function accrueLateFees(
  db: Kysely<DB>,
  asOf: string,
  opts: AccrueOptions = {},
): Promise<AccrueResult> {
  const chunk = opts.chunkBills ?? LATE_FEE_CHUNK_BILLS;
  return underSessionLock(
    db,
    LATE_FEE_LOCK,
    (conn) => runLocked(conn, asOf, chunk, opts),
    async (conn) => {
      const run = await conn
        .selectFrom('late_fee_run')
        .selectAll()
        .where('run_date', '=', asOf)
        .executeTakeFirst();
      if (run) return { run, ran: false };
      throw activeElsewhere();
    },
  );
}

async function runLocked(
  db: Kysely<DB>,
  asOf: string,
  chunk: number,
  opts: AccrueOptions,
): Promise<AccrueResult> {
  const settings = await loadSettings(db, asOf);
  const rate = String(settings['lateFee.ratePerDay']);
  const grace = Math.floor(Number(settings['lateFee.graceDays']));
  const cap = String(settings['lateFee.capRatio']);
  let run = await db.selectFrom('late_fee_run').selectAll().where('run_date', '=', asOf).executeTakeFirst();
  if (run?.status === 'done') return { run, ran: false };
  if (!run) {
    run = await db.transaction().execute(async (trx) => {
      const created = await trx
        .insertInto('late_fee_run')
        .values({
          run_date: asOf,
          rate_per_day: rate,
          grace_days: grace,
          cap_ratio: cap,
          via: opts.via ?? 'server',
          requested_by: opts.requestedBy ?? null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('audit_log')
        .values({
          staff_id: opts.requestedBy ?? null,
          office_id: null,
          entity_type: 'late_fee_run',
          entity_id: String(created.run_id),
          action: 'late_fee_run_start',
          after: JSON.stringify({
            runDate: asOf,
            ratePerDay: rate,
            graceDays: grace,
            capRatio: cap,
            via: created.via,
          }),
          request_id: opts.via ?? 'server',
        })
        .execute();
      return created;
    });
  } else {
    run = await db
      .updateTable('late_fee_run')
      .set({ status: 'running', error: '', heartbeat_at: new Date() })
      .where('run_id', '=', run.run_id)
      .returningAll()
      .executeTakeFirstOrThrow();
  }
  const runId = run.run_id;
  let cursor = { account: run.cursor_account_id, bill: run.cursor_bill_id };
  try {
    for (let chunkNo = 1; ; chunkNo++) {
      const { rows } = await sql<CandidateRow>`
        select b.account_id, b.bill_id, (b.amount_fen - b.paid_fen)::int8 as unpaid_fen, b.due_on,
               lf.rate_per_day as lf_rate, lf.grace_days as lf_grace, lf.cap_ratio as lf_cap,
               lf.account_id is not null as lf_exists, lf.accrued_fen as lf_accrued
        from bill b
        left join late_fee lf on lf.account_id = b.account_id and lf.bill_id = b.bill_id
        where (b.account_id, b.bill_id) > (${cursor.account}::int8, ${cursor.bill}::int8)
          and b.kind = 'consumption' and b.status = 'open' and b.amount_fen > b.paid_fen
          and b.due_on + coalesce(lf.grace_days, ${grace}::int) < ${asOf}::date
          and not coalesce(lf.accrual_stopped, false)
        order by b.account_id, b.bill_id
        limit ${chunk}`.execute(db);
      if (rows.length === 0) break;
      const last = rows[rows.length - 1]!;
      const next = { account: Number(last.account_id), bill: Number(last.bill_id) };
      const upserts = {
        account: [] as number[],
        bill: [] as number[],
        principal: [] as number[],
        due: [] as string[],
        rate: [] as string[],
        grace: [] as number[],
        cap: [] as (string | null)[],
        days: [] as number[],
        accrued: [] as number[],
      };
      let charged = 0;
      let accruedTotal = 0;
      let delta = 0;
      for (const r of rows) {
        const ratePerDay = r.lf_exists ? (r.lf_rate ?? rate) : rate;
        const graceDays = r.lf_exists ? (r.lf_grace ?? grace) : grace;
        const capRatio = r.lf_exists ? r.lf_cap : cap;
        const fee = lateFeeFen({
          unpaidFen: Number(r.unpaid_fen),
          dueOn: r.due_on,
          asOf,
          ratePerDay,
          graceDays,
          capRatio,
        });
        const before = r.lf_accrued === null ? 0 : Number(r.lf_accrued);
        // A fee never goes down by a run: a partial payment stops the growth, not what accrued before.
        const accrued = Math.max(before, fee.feeFen);
        if (accrued > 0) charged++;
        accruedTotal += accrued;
        delta += accrued - before;
        if (!r.lf_exists && accrued === 0) continue;
        upserts.account.push(Number(r.account_id));
        upserts.bill.push(Number(r.bill_id));
        upserts.principal.push(Number(r.unpaid_fen));
        upserts.due.push(r.due_on);
        upserts.rate.push(ratePerDay);
        upserts.grace.push(graceDays);
        upserts.cap.push(capRatio);
        upserts.days.push(fee.days);
        upserts.accrued.push(accrued);
      }
      await db.transaction().execute(async (trx) => {
        if (upserts.account.length > 0)
          await sql`
            insert into late_fee as lf (account_id, bill_id, principal_fen, due_on, rate_per_day, grace_days,
                                        cap_ratio, days, accrued_fen, accrued_through, run_id, updated_at)
            select u.account_id, u.bill_id, u.principal_fen, u.due_on, u.rate_per_day, u.grace_days, u.cap_ratio,
                   u.days, u.accrued_fen, ${asOf}::date, ${runId}::int8, now()
            from unnest(${upserts.account}::int8[], ${upserts.bill}::int8[], ${upserts.principal}::int8[],
                        ${upserts.due}::date[], ${upserts.rate}::numeric[], ${upserts.grace}::int[],
                        ${upserts.cap}::numeric[], ${upserts.days}::int[], ${upserts.accrued}::int8[])
              as u(account_id, bill_id, principal_fen, due_on, rate_per_day, grace_days, cap_ratio, days, accrued_fen)
            on conflict (account_id, bill_id) do update set
              principal_fen = case when excluded.accrued_through >= lf.accrued_through
                                   then excluded.principal_fen else lf.principal_fen end,
              days = case when excluded.accrued_through >= lf.accrued_through then excluded.days else lf.days end,
              accrued_fen = greatest(lf.accrued_fen, excluded.accrued_fen),
              accrued_through = greatest(lf.accrued_through, excluded.accrued_through),
              run_id = excluded.run_id, updated_at = now()
            where not lf.accrual_stopped`.execute(trx);
        const moved = await trx
          .updateTable('late_fee_run')
          .set((eb) => ({
            bills_examined: eb('bills_examined', '+', rows.length),
            bills_charged: eb('bills_charged', '+', charged),
            accrued_fen: eb('accrued_fen', '+', accruedTotal),
            accrued_delta_fen: eb('accrued_delta_fen', '+', delta),
            cursor_account_id: next.account,
            cursor_bill_id: next.bill,
            heartbeat_at: new Date(),
          }))
          .where('run_id', '=', runId)
          .where('cursor_account_id', '=', cursor.account)
          .where('cursor_bill_id', '=', cursor.bill)
          .executeTakeFirst();
        if (Number(moved.numUpdatedRows) !== 1)
          throw new Error(`late-fee run ${runId}: cursor moved elsewhere`);
      });
      cursor = next;
      await opts.afterChunk?.(chunkNo);
      if (rows.length < chunk) break;
    }
    return await db.transaction().execute(async (trx) => {
      const done = await trx
        .updateTable('late_fee_run')
        .set({ status: 'done', finished_at: new Date(), heartbeat_at: new Date() })
        .where('run_id', '=', runId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('audit_log')
        .values({
          staff_id: opts.requestedBy ?? null,
          office_id: null,
          entity_type: 'late_fee_run',
          entity_id: String(runId),
          action: 'late_fee_run_done',
          after: JSON.stringify({
            runDate: asOf,
            billsExamined: done.bills_examined,
            billsCharged: done.bills_charged,
            accruedFen: done.accrued_fen,
            accruedDeltaFen: done.accrued_delta_fen,
          }),
          request_id: opts.via ?? 'server',
        })
        .execute();
      return { run: done, ran: true };
    });
  } catch (error) {
    await db
      .updateTable('late_fee_run')
      .set({ status: 'failed', error: error instanceof Error ? error.message : String(error) })
      .where('run_id', '=', runId)
      .execute();
    throw error;
  }
}

/**
 * Runs late fees once a day in the server process: every LATE_FEE_CHECK_EVERY_MS it runs (or
 * resumes) today's run unless it is done. Several server processes may run this; the advisory lock
 * lets one work and the others find the day's run.
 */
export class LateFeeScheduler extends PeriodicJob {
  constructor(
    private readonly db: Kysely<DB>,
    log: (msg: string) => void = (msg) => console.log(`[late-fees] ${msg}`),
  ) {
    super(log, 'late-fee run', undefined);
  }

  /** Checks now and then every `everyMs`. */
  start(everyMs = LATE_FEE_CHECK_EVERY_MS): void {
    this.startEvery(everyMs);
  }

  protected async work(): Promise<void> {
    // A day's run that is done answers ran: false under the lock (accrueLateFees reads it there).
    const today = todayInChina();
    const { run: done, ran } = await accrueLateFees(this.db, today, { via: 'server' });
    if (ran)
      this.log(
        `late fees of ${today}: ${done.bills_charged} bills, ${done.accrued_fen} fen accrued (+${done.accrued_delta_fen})`,
      );
  }
}

// ---------------------------------------------------------------- reading

export interface LateFeeRunView {
  runId: number;
  runDate: string;
  status: LateFeeRun['status'];
  ratePerDay: string;
  graceDays: number;
  capRatio: string | null;
  billsExamined: number;
  billsCharged: number;
  accruedFen: number;
  accruedDeltaFen: number;
  via: string;
  error: string;
  startedAt: string;
  finishedAt: string | null;
}

export function runView(r: LateFeeRun): LateFeeRunView {
  return {
    runId: r.run_id,
    runDate: r.run_date,
    status: r.status,
    ratePerDay: r.rate_per_day,
    graceDays: r.grace_days,
    capRatio: r.cap_ratio,
    billsExamined: r.bills_examined,
    billsCharged: r.bills_charged,
    accruedFen: Number(r.accrued_fen),
    accruedDeltaFen: Number(r.accrued_delta_fen),
    via: r.via,
    error: r.error,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at ? r.finished_at.toISOString() : null,
  };
}

export interface LateFeeView {
  accountId: number;
  billId: number;
  billNo: string;
  customerCode: string;
  customerName: string;
  officeId: number;
  period: string;
  amountFen: number;
  unpaidFen: number;
  dueOn: string;
  days: number;
  ratePerDay: string;
  accruedFen: number;
  waivedFen: number;
  /** Paid by payments (settled before or after the principal, setting payment.lateFeesFirst). */
  paidFen: number;
  owedFen: number;
  accruedThrough: string;
  accrualStopped: boolean;
}

interface LateFeeRow {
  account_id: number;
  bill_id: number;
  bill_no: string;
  customer_code: string;
  customer_name: string;
  office_id: number;
  period: string;
  amount_fen: number;
  unpaid_fen: number;
  due_on: string;
  days: number;
  rate_per_day: string;
  accrued_fen: number;
  waived_fen: number;
  paid_fen: number;
  accrued_through: string;
  accrual_stopped: boolean;
}

function feeView(r: LateFeeRow): LateFeeView {
  return {
    accountId: Number(r.account_id),
    billId: Number(r.bill_id),
    billNo: r.bill_no,
    customerCode: r.customer_code,
    customerName: r.customer_name,
    officeId: Number(r.office_id),
    period: r.period,
    amountFen: Number(r.amount_fen),
    unpaidFen: Number(r.unpaid_fen),
    dueOn: r.due_on,
    days: r.days,
    ratePerDay: r.rate_per_day,
    accruedFen: Number(r.accrued_fen),
    waivedFen: Number(r.waived_fen),
    paidFen: Number(r.paid_fen),
    owedFen: Number(r.accrued_fen) - Number(r.waived_fen) - Number(r.paid_fen),
    accruedThrough: r.accrued_through,
    accrualStopped: r.accrual_stopped,
  };
}

/** Late fees of standing bills (cancelled bills' fees are void) in the caller's offices. */
const FEES_FROM = sql`
  from late_fee lf
  join bill b on b.account_id = lf.account_id and b.bill_id = lf.bill_id and b.status = 'open'
  join customer c on c.account_id = lf.account_id`;

/** Bills with a late fee, the largest owed first. */
export async function listLateFees(
  db: Db,
  caller: Caller,
  q: { officeId?: number | undefined; accountId?: number | undefined; page: number; pageSize: number },
) {
  const where = sql`${officeCondition(caller, sql`c.office_id`, q.officeId)}
    ${q.accountId === undefined ? sql`` : sql`and lf.account_id = ${q.accountId}`} and lf.accrued_fen > 0`;
  const [{ rows }, count] = await Promise.all([
    sql<LateFeeRow>`
      select lf.account_id, lf.bill_id, b.bill_no, c.customer_code, c.name as customer_name, c.office_id, b.period,
             b.amount_fen, (b.amount_fen - b.paid_fen)::int8 as unpaid_fen, b.due_on, lf.days, lf.rate_per_day,
             lf.accrued_fen, lf.waived_fen, lf.paid_fen, lf.accrued_through, lf.accrual_stopped
      ${FEES_FROM}
      where ${where}
      order by lf.accrued_fen - lf.waived_fen desc, lf.account_id, lf.bill_id
      limit ${q.pageSize} offset ${(q.page - 1) * q.pageSize}`.execute(db),
    sql<{ n: number }>`select count(*)::int8 as n ${FEES_FROM} where ${where}`.execute(db),
  ]);
  return {
    items: rows.map(feeView),
    total: Number(count.rows[0]?.n ?? 0),
    page: q.page,
    pageSize: q.pageSize,
  };
}

export interface LateFeeSummary {
  officeId: number | null;
  totals: { bills: number; accruedFen: number; waivedFen: number; owedFen: number };
  /** Owed late fees by days charged: 1–30, 31–90, 91–180, 181–365, over 365. */
  ageing: { fromDays: number; toDays: number | null; bills: number; owedFen: number }[];
  /** The daily runs (organisation-wide), newest first. */
  runs: LateFeeRunView[];
  settings: { ratePerDay: number; graceDays: number; capRatio: number };
}

export async function lateFeeSummary(
  db: Kysely<DB>,
  caller: Caller,
  q: { officeId?: number | undefined },
): Promise<LateFeeSummary> {
  const scope = officeCondition(caller, sql`c.office_id`, q.officeId);
  const [byDays, runs, settings] = await Promise.all([
    sql<{ days: number; bills: number; accrued_fen: number; waived_fen: number; paid_fen: number }>`
      select lf.days, count(*)::int8 as bills, sum(lf.accrued_fen)::int8 as accrued_fen,
             sum(lf.waived_fen)::int8 as waived_fen, sum(lf.paid_fen)::int8 as paid_fen
      ${FEES_FROM}
      where ${scope} and lf.accrued_fen > 0
      group by lf.days`.execute(db),
    db
      .selectFrom('late_fee_run')
      .selectAll()
      .orderBy('run_date', 'desc')
      .limit(LATE_FEE_RUNS_SHOWN)
      .execute(),
    loadSettings(db),
  ]);
  const bounds = [0, ...LATE_FEE_AGEING_DAYS];
  const ageing = bounds.map((from, i) => ({
    fromDays: from + 1,
    toDays: LATE_FEE_AGEING_DAYS[i] ?? null,
    bills: 0,
    owedFen: 0,
  }));
  const totals = { bills: 0, accruedFen: 0, waivedFen: 0, owedFen: 0 };
  for (const r of byDays.rows) {
    const owed = Number(r.accrued_fen) - Number(r.waived_fen) - Number(r.paid_fen);
    const bucket = ageing[lateFeeAgeingBucket(Math.max(1, r.days))]!;
    bucket.bills += Number(r.bills);
    bucket.owedFen += owed;
    totals.bills += Number(r.bills);
    totals.accruedFen += Number(r.accrued_fen);
    totals.waivedFen += Number(r.waived_fen);
    totals.owedFen += owed;
  }
  return {
    officeId: q.officeId ?? null,
    totals,
    ageing,
    runs: runs.map(runView),
    settings: {
      ratePerDay: Number(settings['lateFee.ratePerDay']),
      graceDays: Number(settings['lateFee.graceDays']),
      capRatio: Number(settings['lateFee.capRatio']),
    },
  };
}

// ---------------------------------------------------------------- waivers

export interface WaiverInput {
  /** Fen to waive; absent: all that is owed. */
  amountFen?: number | undefined;
  reason: string;
  stopAccrual: boolean;
}

const problemsToError = (
  problems: { path: string; code: keyof typeof LATE_FEE_MESSAGES; data: Record<string, unknown> }[],
) =>
  fieldErrors(
    problems.map((p) => ({
      path: p.path,
      code: p.code,
      messages: {
        'zh-CN': LATE_FEE_MESSAGES[p.code]['zh-CN'].replace(/\{(\w+)\}/g, (_, k) => String(p.data[k] ?? '')),
        en: LATE_FEE_MESSAGES[p.code].en.replace(/\{(\w+)\}/g, (_, k) => String(p.data[k] ?? '')),
      } satisfies Bilingual,
    })),
  );

/** Waives part or all of a bill's late fee, with a reason; audited; `stopAccrual` freezes the fee. */
export async function waiveLateFee(
  trx: Transaction<DB>,
  ctx: RequestContext,
  accountId: number,
  billId: number,
  input: WaiverInput,
): Promise<LateFeeView> {
  const caller = requireCaller(ctx);
  const fee = await trx
    .selectFrom('late_fee')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('bill_id', '=', billId)
    .forUpdate()
    .executeTakeFirst();
  if (!fee) {
    const bill = await trx
      .selectFrom('bill')
      .select('bill_id')
      .where('account_id', '=', accountId)
      .where('bill_id', '=', billId)
      .executeTakeFirst();
    if (!bill) throw notFound('bill', billId);
  }
  const accrued = Number(fee?.accrued_fen ?? 0);
  const waived = Number(fee?.waived_fen ?? 0);
  // What has been paid of the fee cannot be waived any more (refund it instead).
  const paid = Number(fee?.paid_fen ?? 0);
  const amountFen = input.amountFen ?? accrued - waived - paid;
  const problems = validateLateFeeWaiver({
    accruedFen: accrued,
    waivedFen: waived + paid,
    amountFen,
    reason: input.reason,
  });
  if (problems.length > 0 || !fee) throw problemsToError(problems);
  const after = await trx
    .updateTable('late_fee')
    .set({
      waived_fen: waived + amountFen,
      accrual_stopped: fee.accrual_stopped || input.stopAccrual,
      updated_at: new Date(),
    })
    .where('account_id', '=', accountId)
    .where('bill_id', '=', billId)
    .returningAll()
    .executeTakeFirstOrThrow();
  await trx
    .insertInto('late_fee_waiver')
    .values({
      account_id: accountId,
      bill_id: billId,
      amount_fen: amountFen,
      reason: input.reason.trim(),
      stop_accrual: input.stopAccrual,
      accrued_fen: accrued,
      waived_by: caller.staffId,
    })
    .execute();
  const customer = await trx
    .selectFrom('customer')
    .select('office_id')
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  await audit(trx, ctx, {
    entityType: 'late_fee',
    entityId: `${accountId}/${billId}`,
    action: 'late_fee_waive',
    accountId,
    officeId: customer.office_id,
    before: { accrued_fen: accrued, waived_fen: waived, accrual_stopped: fee.accrual_stopped },
    after: {
      accrued_fen: Number(after.accrued_fen),
      waived_fen: Number(after.waived_fen),
      accrual_stopped: after.accrual_stopped,
      amount_fen: amountFen,
      reason: input.reason.trim(),
    },
  });
  const { items } = await listLateFees(
    trx,
    { ...caller, officeIds: null },
    { accountId, page: 1, pageSize: 1_000 },
  );
  const view = items.find((i) => i.billId === billId);
  if (!view) throw notFound('late_fee', billId);
  return view;
}

/** Today's late-fee run for the back office's "run today" button. */
export function todayForRun(): string {
  return todayInChina();
}

// ---------------------------------------------------------------- command line

/**
 * `meterline late-fees [--as-of YYYY-MM-DD]`: the day's late-fee run in this process (default
 * today, China). Prints what it did; exit code 0 when the run is done, 1 otherwise, 2 on bad usage.
 */
export async function lateFeesCommand(
  db: Kysely<DB>,
  opts: { asOf?: string | undefined },
  out: { write(text: string): void },
): Promise<number> {
  const asOf = opts.asOf ?? todayInChina();
  if (!/^\d{4}-\d{2}-\d{2}$/.test(asOf) || Number.isNaN(Date.parse(asOf))) {
    out.write('--as-of must be a date, YYYY-MM-DD\n');
    return 2;
  }
  if (asOf > todayInChina()) {
    out.write('--as-of cannot be after today\n');
    return 2;
  }
  const started = Date.now();
  const { run, ran } = await accrueLateFees(db, asOf, {
    via: 'cli',
    afterChunk: async () => {
      const now = await db
        .selectFrom('late_fee_run')
        .select(['bills_examined', 'bills_charged'])
        .where('run_date', '=', asOf)
        .executeTakeFirst();
      if (now) out.write(`  ${now.bills_examined} bills examined, ${now.bills_charged} with a late fee\n`);
    },
  });
  const yuan = (fen: number) => (Number(fen) / 100).toFixed(2);
  out.write(
    `${ran ? 'late-fee run' : 'late-fee run already done'} ${run.run_id} for ${run.run_date}: status ${run.status}, ` +
      `${run.bills_examined} bills examined, ${run.bills_charged} with a late fee, ${yuan(run.accrued_fen)} yuan accrued ` +
      `(+${yuan(run.accrued_delta_fen)} yuan this run) at ${run.rate_per_day}/day after ${run.grace_days} days' grace, ` +
      `${((Date.now() - started) / 1000).toFixed(1)} s\n`,
  );
  return run.status === 'done' ? 0 : 1;
}
