import {
  type BillCorrectionDifference,
  billCorrectionDifference,
  billsToRebill,
  type ChainBill,
  type DiffBill,
  DomainError,
} from '@meterline/domain';
import { type RawBuilder, sql } from 'kysely';
import type { BillCorrectionSource, BillCorrectionStatus } from '../db/schemaBillCorrections.ts';
import { lockAccount } from '../payments/ledger.ts';
import { applyCredit, settleCancelledBills } from '../payments/service.ts';
import { audit } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldErrors, notFound } from '../platform/errors.ts';
import type { Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';
import { billAcceptedReadings, type Tx } from './engine.ts';

/**
 * Bill corrections by cancel-and-rebill (DOMAIN.md §3–4, docs/billing.md "Corrections
 * (cancel-and-rebill)"). A clerk with billing.adjust asks for a wrong bill to be cancelled and
 * rebilled, giving a reason; someone else with billing.approve decides. Approved, in one
 * transaction: the bill and the later open bills of the account that count on its block year
 * (billsToRebill) are cancelled, their readings billed again by the bill engine
 * (billAcceptedReadings), each new bill pointing at the one it replaces, and the correction keeps
 * the cancelled and new bills with the difference (billCorrectionDifference). An approved index
 * correction (更改水表指数) does the same at once for the bills its reading change made wrong
 * (rebillAfterReadingCorrection), recorded as an approved bill correction linked to it.
 */

export interface BillCorrectionView {
  accountId: number;
  correctionId: number;
  billId: number;
  billNo: string;
  billPeriodFrom: string;
  billPeriodTo: string;
  billAmountFen: number;
  billStatus: 'open' | 'cancelled';
  customerCode: string;
  customerName: string;
  officeId: number;
  source: BillCorrectionSource;
  readingCorrectionId: number | null;
  reason: string;
  requestedBy: number;
  requestedByName: string | null;
  requestedAt: string;
  status: BillCorrectionStatus;
  decidedBy: number | null;
  decidedByName: string | null;
  decidedAt: string | null;
  decisionNote: string;
  cancelledBillIds: number[];
  newBillIds: number[];
  oldTotalFen: number | null;
  newTotalFen: number | null;
  differenceFen: number | null;
  difference: BillCorrectionDifference | null;
}

// ------------------------------------------------------------------ messages

const billNotCorrectable = (status: string) =>
  fieldErrors(
    [
      {
        path: 'billId',
        code: 'BILL_NOT_CORRECTABLE',
        messages: {
          'zh-CN': '只有未作废的水费（抄表）账单可以作废重开（该账单：{status}）',
          en: 'Only a standing consumption bill can be cancelled and rebilled (this one: {status})',
        },
      },
    ],
    { status },
  );

const correctionPending = () =>
  fieldErrors([
    {
      path: 'billId',
      code: 'BILL_CORRECTION_PENDING',
      messages: {
        'zh-CN': '该账单已有待审批的更正申请',
        en: 'This bill already has a correction waiting for approval',
      },
    },
  ]);

const correctionNotPending = (status: string) =>
  new DomainError(
    'CORRECTION_NOT_PENDING',
    { status },
    {
      'zh-CN': '该账单更正申请已处理（{status}）',
      en: 'This bill correction has been decided already ({status})',
    },
  );

const selfApproval = () =>
  new DomainError(
    'SELF_APPROVAL',
    {},
    {
      'zh-CN': '不能审批自己提交的账单更正申请',
      en: 'You cannot approve a bill correction you requested yourself',
    },
  );

// ------------------------------------------------------------------ views

interface CorrectionRow {
  account_id: number;
  correction_id: number;
  bill_id: number;
  bill_no: string;
  bill_period_from: string;
  bill_period_to: string;
  bill_amount_fen: number;
  bill_status: 'open' | 'cancelled';
  customer_code: string;
  customer_name: string;
  office_id: number;
  source: BillCorrectionSource;
  reading_correction_id: number | null;
  reason: string;
  requested_by: number;
  requested_by_name: string | null;
  requested_at: Date;
  status: BillCorrectionStatus;
  decided_by: number | null;
  decided_by_name: string | null;
  decided_at: Date | null;
  decision_note: string;
  cancelled_bill_ids: (number | string)[];
  new_bill_ids: (number | string)[];
  old_total_fen: number | null;
  new_total_fen: number | null;
  difference_fen: number | null;
  difference: BillCorrectionDifference | null;
}

/** Bill corrections matching `where` (on bill_correction x, customer c), requested ones first. */
async function correctionViews(
  db: Db,
  where: RawBuilder<unknown>,
  opts: { limit?: number; offset?: number } = {},
): Promise<BillCorrectionView[]> {
  const { rows } = await sql<CorrectionRow>`
    select x.*, b.bill_no, b.period_from::text as bill_period_from, b.period_to::text as bill_period_to,
           b.amount_fen as bill_amount_fen, b.status as bill_status,
           c.customer_code, c.name as customer_name, c.office_id,
           rq.full_name as requested_by_name, dc.full_name as decided_by_name
    from bill_correction x
    join customer c on c.account_id = x.account_id
    join bill b on b.account_id = x.account_id and b.bill_id = x.bill_id
    left join staff rq on rq.staff_id = x.requested_by
    left join staff dc on dc.staff_id = x.decided_by
    where ${where}
    order by (x.status = 'requested') desc, x.requested_at desc, x.correction_id desc
    limit ${opts.limit ?? 100} offset ${opts.offset ?? 0}`.execute(db);
  return rows.map((r) => ({
    accountId: r.account_id,
    correctionId: r.correction_id,
    billId: r.bill_id,
    billNo: r.bill_no,
    billPeriodFrom: r.bill_period_from,
    billPeriodTo: r.bill_period_to,
    billAmountFen: r.bill_amount_fen,
    billStatus: r.bill_status,
    customerCode: r.customer_code,
    customerName: r.customer_name,
    officeId: r.office_id,
    source: r.source,
    readingCorrectionId: r.reading_correction_id,
    reason: r.reason,
    requestedBy: r.requested_by,
    requestedByName: r.requested_by_name,
    requestedAt: r.requested_at.toISOString(),
    status: r.status,
    decidedBy: r.decided_by,
    decidedByName: r.decided_by_name,
    decidedAt: r.decided_at ? r.decided_at.toISOString() : null,
    decisionNote: r.decision_note,
    cancelledBillIds: r.cancelled_bill_ids.map(Number),
    newBillIds: r.new_bill_ids.map(Number),
    oldTotalFen: r.old_total_fen,
    newTotalFen: r.new_total_fen,
    differenceFen: r.difference_fen,
    difference: r.difference,
  }));
}

async function oneView(db: Db, accountId: number, correctionId: number): Promise<BillCorrectionView> {
  const [view] = await correctionViews(
    db,
    sql`x.account_id = ${accountId} and x.correction_id = ${correctionId}`,
  );
  if (!view) throw notFound('bill correction', correctionId);
  return view;
}

/** Bill corrections of the caller's offices (or one office), requested ones first. */
export async function billCorrections(
  db: Db,
  caller: Caller,
  q: { officeId?: number; status?: BillCorrectionStatus; page: number; pageSize: number },
) {
  const where = sql`${officeCondition(caller, sql`c.office_id`, q.officeId)}
    and ${q.status ? sql`x.status = ${q.status}` : sql`true`}`;
  const [count, items] = await Promise.all([
    sql<{ n: number }>`select count(*)::int as n from bill_correction x
      join customer c on c.account_id = x.account_id where ${where}`.execute(db),
    correctionViews(db, where, { limit: q.pageSize, offset: (q.page - 1) * q.pageSize }),
  ]);
  return { items, total: count.rows[0]?.n ?? 0, page: q.page, pageSize: q.pageSize };
}

/** A customer's bill corrections, requested ones first. */
export async function customerBillCorrections(db: Db, accountId: number) {
  return { items: await correctionViews(db, sql`x.account_id = ${accountId}`, { limit: 200 }) };
}

// ------------------------------------------------------------------ request and decision

/** A clerk's request to cancel and rebill a bill, with the reason. */
export async function requestBillCorrection(
  trx: Tx,
  ctx: RequestContext,
  accountId: number,
  billId: number,
  body: { reason: string },
): Promise<BillCorrectionView> {
  const caller = requireCaller(ctx);
  const bill = await trx
    .selectFrom('bill')
    .select(['bill_id', 'bill_no', 'kind', 'status', 'amount_fen'])
    .where('account_id', '=', accountId)
    .where('bill_id', '=', billId)
    .forUpdate()
    .executeTakeFirst();
  if (!bill) throw notFound('bill', billId);
  const customer = await trx
    .selectFrom('customer')
    .select('office_id')
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  if (bill.status !== 'open' || bill.kind !== 'consumption')
    throw billNotCorrectable(bill.status === 'open' ? bill.kind : bill.status);
  const pending = await trx
    .selectFrom('bill_correction')
    .select('correction_id')
    .where('account_id', '=', accountId)
    .where('bill_id', '=', billId)
    .where('status', '=', 'requested')
    .executeTakeFirst();
  if (pending) throw correctionPending();
  const row = await trx
    .insertInto('bill_correction')
    .values({
      account_id: accountId,
      bill_id: billId,
      source: 'request',
      reason: body.reason,
      requested_by: caller.staffId,
    })
    .returning('correction_id')
    .executeTakeFirstOrThrow();
  await audit(trx, ctx, {
    entityType: 'bill_correction',
    entityId: `${accountId}/${row.correction_id}`,
    accountId,
    officeId: customer.office_id,
    action: 'request',
    after: { billId, billNo: bill.bill_no, amountFen: bill.amount_fen, reason: body.reason },
  });
  return oneView(trx, accountId, row.correction_id);
}

/**
 * The decision on a requested correction (not one's own). Approved: cancel-and-rebill in the
 * caller's transaction. The correction row is locked first and must still be requested, so a
 * second or retried approval changes nothing and rebills nothing.
 */
export async function decideBillCorrection(
  trx: Tx,
  ctx: RequestContext,
  accountId: number,
  correctionId: number,
  body: { approve: boolean; note: string },
): Promise<BillCorrectionView> {
  const caller = requireCaller(ctx);
  const x = await trx
    .selectFrom('bill_correction')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('correction_id', '=', correctionId)
    .forUpdate()
    .executeTakeFirst();
  if (!x) throw notFound('bill correction', correctionId);
  if (x.status !== 'requested') throw correctionNotPending(x.status);
  if (x.requested_by === caller.staffId) throw selfApproval();
  const customer = await trx
    .selectFrom('customer')
    .select('office_id')
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  const decided = { decided_by: caller.staffId, decided_at: new Date(), decision_note: body.note };
  if (!body.approve) {
    await trx
      .updateTable('bill_correction')
      .set({ ...decided, status: 'rejected' })
      .where('account_id', '=', accountId)
      .where('correction_id', '=', correctionId)
      .execute();
    await audit(trx, ctx, {
      entityType: 'bill_correction',
      entityId: `${accountId}/${correctionId}`,
      accountId,
      officeId: customer.office_id,
      action: 'reject',
      before: { status: 'requested' },
      after: { status: 'rejected', note: body.note },
    });
    return oneView(trx, accountId, correctionId);
  }
  const result = await cancelAndRebill(trx, ctx, {
    accountId,
    officeId: customer.office_id,
    targetBillIds: [x.bill_id],
    reason: x.reason,
    correctionId,
  });
  if (result.cancelledBillIds.length === 0) {
    const bill = await trx
      .selectFrom('bill')
      .select(['status', 'kind'])
      .where('account_id', '=', accountId)
      .where('bill_id', '=', x.bill_id)
      .executeTakeFirstOrThrow();
    throw billNotCorrectable(bill.status === 'open' ? bill.kind : bill.status);
  }
  await trx
    .updateTable('bill_correction')
    .set({ ...decided, status: 'approved', ...outcomeColumns(result) })
    .where('account_id', '=', accountId)
    .where('correction_id', '=', correctionId)
    .execute();
  await audit(trx, ctx, {
    entityType: 'bill_correction',
    entityId: `${accountId}/${correctionId}`,
    accountId,
    officeId: customer.office_id,
    action: 'approve',
    before: { status: 'requested' },
    after: { status: 'approved', note: body.note, ...outcomeAudit(result) },
  });
  return oneView(trx, accountId, correctionId);
}

/**
 * After an approved index correction (readings/service.ts decideCorrection, in its transaction):
 * the open bills of the meter that no longer match their reading — the corrected reading's, and
 * the next reading's whose start index moved — are cancelled and rebilled with their block-year
 * chain, recorded as a bill correction approved by the same decision. Null when no bill was wrong.
 */
export async function rebillAfterReadingCorrection(
  trx: Tx,
  ctx: RequestContext,
  x: { accountId: number; meterId: number; readingCorrectionId: number; reason: string; requestedBy: number },
): Promise<BillCorrectionView | null> {
  const caller = requireCaller(ctx);
  const { rows: stale } = await sql<{ bill_id: number }>`
    select b.bill_id from bill b
    join reading r on r.account_id = b.account_id and r.reading_id = b.reading_id
    where b.account_id = ${x.accountId} and b.meter_id = ${x.meterId}
      and b.status = 'open' and b.kind = 'consumption'
      and (r.status <> 'accepted' or r.consumption_m3 is null
           or b.start_index is distinct from r.previous_index
           or b.consumption_m3 <> r.consumption_m3
           or b.end_index is distinct from (case when r.kind = 'actual' then r.index_value end))
    order by b.period_to, b.bill_id`.execute(trx);
  if (stale.length === 0) return null;
  const customer = await trx
    .selectFrom('customer')
    .select('office_id')
    .where('account_id', '=', x.accountId)
    .executeTakeFirstOrThrow();
  const result = await cancelAndRebill(trx, ctx, {
    accountId: x.accountId,
    officeId: customer.office_id,
    targetBillIds: stale.map((s) => Number(s.bill_id)),
    reason: x.reason,
  });
  const row = await trx
    .insertInto('bill_correction')
    .values({
      account_id: x.accountId,
      bill_id: Number(stale[0]!.bill_id),
      source: 'reading_correction',
      reading_correction_id: x.readingCorrectionId,
      reason: x.reason,
      requested_by: x.requestedBy,
      status: 'approved',
      decided_by: caller.staffId,
      decided_at: new Date(),
      ...outcomeColumns(result),
    })
    .returning('correction_id')
    .executeTakeFirstOrThrow();
  await audit(trx, ctx, {
    entityType: 'bill_correction',
    entityId: `${x.accountId}/${row.correction_id}`,
    accountId: x.accountId,
    officeId: customer.office_id,
    action: 'approve',
    after: { status: 'approved', readingCorrectionId: x.readingCorrectionId, ...outcomeAudit(result) },
  });
  return oneView(trx, x.accountId, row.correction_id);
}

// ------------------------------------------------------------------ cancel-and-rebill

interface RebillResult {
  cancelledBillIds: number[];
  newBillIds: number[];
  difference: BillCorrectionDifference;
}

function outcomeColumns(r: RebillResult) {
  return {
    cancelled_bill_ids: r.cancelledBillIds,
    new_bill_ids: r.newBillIds,
    old_total_fen: r.difference.oldTotalFen,
    new_total_fen: r.difference.newTotalFen,
    difference_fen: r.difference.differenceFen,
    difference: JSON.stringify(r.difference),
  };
}

function outcomeAudit(r: RebillResult) {
  return {
    cancelledBillIds: r.cancelledBillIds,
    newBillIds: r.newBillIds,
    oldTotalFen: r.difference.oldTotalFen,
    newTotalFen: r.difference.newTotalFen,
    differenceFen: r.difference.differenceFen,
  };
}

/** Bills with their lines, as the difference compares them. */
async function diffBills(trx: Tx, accountId: number, billIds: readonly number[]): Promise<DiffBill[]> {
  if (billIds.length === 0) return [];
  const [bills, lines] = await Promise.all([
    trx
      .selectFrom('bill')
      .select(['bill_id', 'bill_no', 'reading_id', 'period_from', 'period_to', 'amount_fen'])
      .where('account_id', '=', accountId)
      .where('bill_id', 'in', [...billIds])
      .orderBy('period_to')
      .orderBy('bill_id')
      .execute(),
    trx
      .selectFrom('bill_line')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('bill_id', 'in', [...billIds])
      .orderBy('bill_id')
      .orderBy('line_no')
      .execute(),
  ]);
  return bills.map((b) => ({
    billId: b.bill_id,
    billNo: b.bill_no,
    readingId: b.reading_id,
    periodFrom: b.period_from,
    periodTo: b.period_to,
    amountFen: b.amount_fen,
    lines: lines
      .filter((l) => l.bill_id === b.bill_id)
      .map((l) => ({
        kind: l.kind,
        code: l.code,
        blockNo: l.block_no,
        tariffVersion: l.tariff_version,
        description: { 'zh-CN': l.description_zh, en: l.description_en },
        volumeM3: l.volume_m3,
        amountFen: l.amount_fen,
      })),
  }));
}

/**
 * Cancels the target bills and their block-year chain (billsToRebill over the account's bills,
 * locked), bills their readings again through the engine, links each new bill to the one it
 * replaces, and gives the difference. A reading no longer billable leaves its bill cancelled.
 */
async function cancelAndRebill(
  trx: Tx,
  ctx: RequestContext,
  p: {
    accountId: number;
    officeId: number;
    targetBillIds: number[];
    reason: string;
    /** The request being approved (left to its caller to close). */
    correctionId?: number;
  },
): Promise<RebillResult> {
  const caller = requireCaller(ctx);
  // The account first, as payments lock it (never bills before the account: no deadlock).
  await lockAccount(trx, p.accountId);
  const accountBills = await trx
    .selectFrom('bill')
    .select(['bill_id', 'kind', 'status', 'period_from', 'period_to', 'block_year', 'reading_id', 'bill_no'])
    .where('account_id', '=', p.accountId)
    .forUpdate()
    .execute();
  const chain: ChainBill[] = accountBills.map((b) => ({
    billId: b.bill_id,
    kind: b.kind,
    status: b.status,
    periodFrom: b.period_from,
    periodTo: b.period_to,
    blockYear: b.block_year,
  }));
  const cancelled = billsToRebill(p.targetBillIds, chain);
  if (cancelled.length === 0)
    return { cancelledBillIds: [], newBillIds: [], difference: billCorrectionDifference([], []) };
  const oldBills = await diffBills(trx, p.accountId, cancelled);
  await trx
    .updateTable('bill')
    .set({
      status: 'cancelled',
      cancelled_at: new Date(),
      cancelled_by: caller.staffId,
      cancel_reason: p.reason,
    })
    .where('account_id', '=', p.accountId)
    .where('bill_id', 'in', cancelled)
    .execute();
  await withdrawPendingOn(trx, ctx, p, cancelled);
  // What was paid of the cancelled bills becomes credit, and settles the new bills below.
  await settleCancelledBills(trx, ctx, p.accountId, cancelled);
  for (const b of oldBills)
    await audit(trx, ctx, {
      entityType: 'bill',
      entityId: `${p.accountId}/${b.billId}`,
      accountId: p.accountId,
      officeId: p.officeId,
      action: 'cancel',
      before: { status: 'open', billNo: b.billNo, amountFen: b.amountFen },
      after: { status: 'cancelled', reason: p.reason },
    });
  const readingKeys = oldBills
    .filter((b) => b.readingId !== null)
    .map((b) => ({ accountId: p.accountId, readingId: b.readingId! }));
  const { billed } = await billAcceptedReadings(trx, ctx, readingKeys);
  const replaced = new Map(oldBills.map((b) => [b.readingId, b.billId]));
  for (const n of billed) {
    const oldId = replaced.get(n.readingId);
    if (oldId === undefined) continue;
    await trx
      .updateTable('bill')
      .set({ replaces_bill_id: oldId })
      .where('account_id', '=', p.accountId)
      .where('bill_id', '=', n.billId)
      .execute();
  }
  const newBillIds = billed.map((n) => n.billId);
  await applyCredit(trx, ctx, p.accountId, p.officeId);
  const newBills = await diffBills(trx, p.accountId, newBillIds);
  return {
    cancelledBillIds: cancelled,
    newBillIds: newBills.map((b) => b.billId),
    difference: billCorrectionDifference(oldBills, newBills),
  };
}

/**
 * Requests still waiting on bills just cancelled — another cancel-and-rebill, a volume adjustment
 * (调量 / 补量) — are closed as rejected with the reason, in the same transaction: they named a bill
 * that no longer stands, and would otherwise wait for someone to reject them by hand. A new
 * request names the replacing bill.
 */
async function withdrawPendingOn(
  trx: Tx,
  ctx: RequestContext,
  p: { accountId: number; officeId: number; correctionId?: number },
  cancelledBillIds: readonly number[],
): Promise<void> {
  const note =
    '账单已作废重开，请按新账单重新申请 / The bill was cancelled and rebilled: request again on the new bill';
  const now = new Date();
  const staffId = ctx.caller?.staffId ?? null;
  const corrections = await trx
    .updateTable('bill_correction')
    .set({ status: 'rejected', decided_by: staffId, decided_at: now, decision_note: note })
    .where('account_id', '=', p.accountId)
    .where('bill_id', 'in', cancelledBillIds)
    .where('status', '=', 'requested')
    .$if(p.correctionId !== undefined, (q) => q.where('correction_id', '<>', p.correctionId!))
    .returning('correction_id')
    .execute();
  const orders = await trx
    .updateTable('volume_adjustment')
    .set({ status: 'rejected', decided_by: staffId, decided_at: now, decision_note: note })
    .where('account_id', '=', p.accountId)
    .where('bill_id', 'in', cancelledBillIds)
    .where('status', 'in', ['requested', 'checked'])
    .returning('adjustment_id')
    .execute();
  for (const [entityType, id] of [
    ...corrections.map((c) => ['bill_correction', c.correction_id] as const),
    ...orders.map((o) => ['volume_adjustment', o.adjustment_id] as const),
  ])
    await audit(trx, ctx, {
      entityType,
      entityId: `${p.accountId}/${id}`,
      accountId: p.accountId,
      officeId: p.officeId,
      action: 'withdraw',
      after: { status: 'rejected', note },
    });
}
