import {
  allocatePayment,
  type DepositKind,
  DomainError,
  type OpenItem,
  type PaymentChannel,
  type PaymentSplit,
  paymentLimitCheck,
  paymentNumber,
  receiptKindForPayment,
  todayInChina,
} from '@meterline/domain';
import { sql } from 'kysely';
import { yuanText } from '../billing/engine.ts';
import { afterAccountPaid } from '../collections/afterPayment.ts';
import type { PaymentPurpose, PaymentSource } from '../db/schemaPayments.ts';
import { audit } from '../platform/audit.ts';
import type { RequestContext } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import type { Db } from '../readings/repository.ts';
import { assertPostingEffects, creditFen, depositHeldFen, lockAccount, post } from './ledger.ts';
import { issueReceipt } from './receipts.ts';

/**
 * Payments (DOMAIN.md §5, docs/payments.md): a payment from any channel — the counter, a bank result
 * file, an online gateway — is allocated to the customer's oldest bills (allocatePayment), posted
 * to the ledger in the same transaction as the payment row, and checked. Overpayment becomes
 * credit, which settles later bills.
 */

/** Open bills one payment may settle, at most (allocatePayment's own bound). */
const MAX_OPEN_BILLS = 1_000;

export interface TakePaymentInput {
  amountFen: number;
  channel: PaymentChannel;
  purpose?: PaymentPurpose;
  depositKind?: DepositKind;
  /** The clerk has confirmed a payment above payment.confirmAboveFen. */
  confirmed?: boolean;
  note?: string;
  source?: PaymentSource;
  /** A bank file row or gateway transaction: the same reference on the account posts once. */
  externalRef?: string;
  idempotencyKey?: string;
  businessDay?: string;
}

export interface AllocationView {
  billId: number;
  billNo: string;
  period: string;
  dueOn: string;
  principalFen: number;
  lateFeeFen: number;
}

export interface PaymentView {
  accountId: number;
  paymentId: number;
  paymentNo: string;
  channel: string;
  source: PaymentSource;
  purpose: PaymentPurpose;
  amountFen: number;
  businessDay: string;
  status: 'posted' | 'reversed';
  officeId: number;
  receivedBy: string | null;
  confirmedBy: string | null;
  externalRef: string | null;
  note: string;
  createdAt: string;
  postingId: number;
  allocations: AllocationView[];
  /** What went to credit (预存) from this payment. */
  creditFen: number;
  /** Existing credit used against bills right after this payment. */
  creditAppliedFen: number;
  receipts: {
    receiptId: number;
    kind: string;
    receiptNo: string;
    status: string;
    replacesReceiptId: number | null;
  }[];
  pendingRequest: { requestId: number; kind: string } | null;
}

const needsConfirmation = (amountFen: number, limitFen: number) =>
  new DomainError(
    'PAYMENT_NEEDS_CONFIRMATION',
    { amountYuan: yuanText(amountFen), limitYuan: yuanText(limitFen) },
    {
      'zh-CN': '收费 {amountYuan} 元超过 {limitYuan} 元，请核对金额后确认收费',
      en: 'A payment of {amountYuan} yuan is above {limitYuan} yuan: check the amount and confirm it',
    },
  );

/** The customer's open bills with what is still unpaid of principal and late fee, oldest first. */
export async function openItems(
  trx: Db,
  accountId: number,
): Promise<(OpenItem & { billNo: string; period: string })[]> {
  const { rows } = await sql<{
    bill_id: string;
    bill_no: string;
    period: string;
    due_on: string;
    unpaid: string;
    fee: string;
  }>`
    select b.bill_id::text, b.bill_no, b.period, b.due_on, (b.amount_fen - b.paid_fen)::text as unpaid,
           coalesce(f.accrued_fen - f.waived_fen - f.paid_fen, 0)::text as fee
    from bill b
    left join late_fee f on f.account_id = b.account_id and f.bill_id = b.bill_id
    where b.account_id = ${accountId} and b.status = 'open'
      and (b.amount_fen > b.paid_fen or coalesce(f.accrued_fen - f.waived_fen - f.paid_fen, 0) > 0)
    order by b.due_on, b.bill_id
    limit ${MAX_OPEN_BILLS}`.execute(trx);
  return rows.map((r) => ({
    billId: r.bill_id,
    billNo: r.bill_no,
    period: r.period,
    dueOn: r.due_on,
    unpaidFen: Math.max(0, Number(r.unpaid)),
    lateFeeFen: Number(r.fee),
  }));
}

/**
 * Uses the customer's credit (预存余额) against open bills, oldest first: one prepayment_deduction
 * posting. Returns the amount used (0 when there is no credit or nothing open).
 */
export async function applyCredit(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  officeId: number,
  paymentId: number | null = null,
  touched?: Set<number>,
): Promise<number> {
  const credit = await creditFen(trx, accountId);
  if (credit <= 0) return 0;
  const items = await openItems(trx, accountId);
  if (items.length === 0) return 0;
  const settings = await loadSettings(trx as never);
  const split = allocatePayment({
    amountFen: credit,
    items,
    lateFeesFirst: settings['payment.lateFeesFirst'] === 1,
  });
  const usedFen = credit - split.creditFen;
  if (usedFen <= 0) return 0;
  const { postingId, billIds } = await post(
    trx,
    accountId,
    { kind: 'prepayment_deduction', amountFen: usedFen, allocations: split.allocations },
    { createdBy: ctx.caller?.staffId ?? null, paymentId },
  );
  for (const id of billIds) touched?.add(id);
  await audit(trx, ctx, {
    entityType: 'ledger_posting',
    entityId: `${accountId}/${postingId}`,
    action: 'credit_apply',
    accountId,
    officeId,
    after: { amountFen: usedFen, allocations: split.allocations },
  });
  return usedFen;
}

/**
 * Takes one payment: limits, lock, allocation, posting, payment row, receipt, audit, check — all in
 * the caller's transaction. A payment with an externalRef already on the account is returned as it
 * was (a bank file imported twice, a gateway callback repeated) and `replay` is set.
 */
export async function takePayment(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  input: TakePaymentInput,
): Promise<{ payment: PaymentView; replay: boolean }> {
  const posted = await postPayment(trx, ctx, accountId, input);
  return { payment: await paymentView(trx, accountId, posted.paymentId), replay: posted.replay };
}

/** takePayment without the view of the payment: for batch posting (bank files), which needs only its number. */
export async function postPayment(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  input: TakePaymentInput,
): Promise<{ paymentId: number; paymentNo: string; replay: boolean }> {
  const settings = await loadSettings(trx as never);
  const source = input.source ?? 'counter';
  const purpose = input.purpose ?? 'bills';
  const check = paymentLimitCheck(input.amountFen, {
    confirmAboveFen: settings['payment.confirmAboveFen'],
    maxFen: source === 'counter' ? settings['payment.maxFen'] : Number.MAX_SAFE_INTEGER,
  });
  if (check === 'needs_confirmation' && source === 'counter' && !input.confirmed)
    throw needsConfirmation(input.amountFen, settings['payment.confirmAboveFen']);
  const account = await lockAccount(trx, accountId);
  if (!account) throw notFound('customer', accountId);
  if (input.externalRef !== undefined) {
    const existing = await trx
      .selectFrom('payment')
      .select(['payment_id', 'payment_no'])
      .where('account_id', '=', accountId)
      .where('source', '=', source)
      .where('external_ref', '=', input.externalRef)
      .executeTakeFirst();
    if (existing)
      return { paymentId: Number(existing.payment_id), paymentNo: existing.payment_no, replay: true };
  }
  const staffId = ctx.caller?.staffId ?? null;
  const businessDay = input.businessDay ?? todayInChina();
  const { rows } = await sql<{
    id: string;
  }>`select nextval(pg_get_serial_sequence('payment', 'payment_id'))::text as id`.execute(trx);
  const paymentId = Number(rows[0]!.id);
  let split: PaymentSplit = { allocations: [], creditFen: input.amountFen };
  let postingId: number;
  const touched = new Set<number>();
  if (purpose === 'bills') {
    const items = await openItems(trx, accountId);
    split = allocatePayment({
      amountFen: input.amountFen,
      items,
      lateFeesFirst: settings['payment.lateFeesFirst'] === 1,
    });
    ({ postingId } = await post(
      trx,
      accountId,
      { kind: 'payment', channel: input.channel, amountFen: input.amountFen, split },
      { paymentId, createdBy: staffId },
    ));
    for (const a of split.allocations) touched.add(Number(a.billId));
  } else if (purpose === 'deposit') {
    ({ postingId } = await post(
      trx,
      accountId,
      { kind: 'deposit_received', channel: input.channel, amountFen: input.amountFen },
      { paymentId, createdBy: staffId },
    ));
    split = { allocations: [], creditFen: 0 };
  } else {
    ({ postingId } = await post(
      trx,
      accountId,
      { kind: 'prepayment_load', channel: input.channel, amountFen: input.amountFen },
      { paymentId, createdBy: staffId },
    ));
  }
  await trx
    .insertInto('payment')
    .values({
      account_id: accountId,
      payment_id: paymentId,
      payment_no: paymentNumber(businessDay, paymentId),
      channel: input.channel,
      source,
      purpose,
      amount_fen: input.amountFen,
      office_id: account.officeId,
      business_day: businessDay,
      received_by: staffId,
      confirmed_by: check === 'needs_confirmation' && input.confirmed ? staffId : null,
      posting_id: postingId,
      external_ref: input.externalRef ?? null,
      idempotency_key: input.idempotencyKey ?? null,
      note: input.note ?? '',
    })
    .execute();
  if (purpose === 'deposit')
    await trx
      .insertInto('deposit')
      .values({
        account_id: accountId,
        kind: input.depositKind ?? 'household',
        amount_fen: input.amountFen,
        payment_id: paymentId,
      })
      .execute();
  const creditApplied =
    purpose === 'deposit' ? 0 : await applyCredit(trx, ctx, accountId, account.officeId, paymentId, touched);
  await audit(trx, ctx, {
    entityType: 'payment',
    entityId: `${accountId}/${paymentId}`,
    action: 'payment_take',
    accountId,
    officeId: account.officeId,
    after: {
      channel: input.channel,
      source,
      purpose,
      amountFen: input.amountFen,
      externalRef: input.externalRef ?? null,
      allocations: split.allocations,
      creditFen: split.creditFen,
      creditAppliedFen: creditApplied,
    },
  });
  await assertPostingEffects(trx, accountId, [...touched]);
  await afterAccountPaid(trx, ctx, accountId, account.officeId, [...touched]);
  // The slip's number last: its sequence row stays locked until the transaction commits, and every
  // counter payment waits for it, so the less that follows it the more payments go through a second.
  if (source === 'counter')
    await issueReceipt(trx, {
      accountId,
      kind: receiptKindForPayment(purpose),
      paymentId,
      amountFen: input.amountFen,
      issuedBy: staffId,
    });
  return { paymentId, paymentNo: paymentNumber(businessDay, paymentId), replay: false };
}

/** One payment with its allocations, receipts and any request waiting on it. */
export async function paymentView(trx: Db, accountId: number, paymentId: number): Promise<PaymentView> {
  const p = await trx
    .selectFrom('payment as p')
    .leftJoin('staff as r', 'r.staff_id', 'p.received_by')
    .leftJoin('staff as c', 'c.staff_id', 'p.confirmed_by')
    .selectAll('p')
    .select(['r.full_name as received_name', 'c.full_name as confirmed_name'])
    .where('p.account_id', '=', accountId)
    .where('p.payment_id', '=', paymentId)
    .executeTakeFirst();
  if (!p) throw notFound('payment', paymentId);
  const { rows: lines } = await sql<{
    ledger_account: string;
    debit_fen: string;
    credit_fen: string;
    bill_id: string | null;
    part: string | null;
    bill_no: string | null;
    period: string | null;
    due_on: string | null;
  }>`
    select l.ledger_account, l.debit_fen::text, l.credit_fen::text, l.bill_id::text, l.part, b.bill_no, b.period, b.due_on
    from ledger_line l left join bill b on b.account_id = l.account_id and b.bill_id = l.bill_id
    where l.account_id = ${accountId} and l.posting_id = ${p.posting_id}
    order by l.line_no`.execute(trx);
  const allocations = new Map<number, AllocationView>();
  let credit = 0;
  for (const l of lines) {
    if (l.ledger_account === 'prepayment') credit += Number(l.credit_fen) - Number(l.debit_fen);
    if (l.ledger_account !== 'receivable' || l.bill_id === null) continue;
    const id = Number(l.bill_id);
    const a = allocations.get(id) ?? {
      billId: id,
      billNo: l.bill_no ?? '',
      period: l.period ?? '',
      dueOn: l.due_on ?? '',
      principalFen: 0,
      lateFeeFen: 0,
    };
    const fen = Number(l.credit_fen) - Number(l.debit_fen);
    if (l.part === 'late_fee') a.lateFeeFen += fen;
    else a.principalFen += fen;
    allocations.set(id, a);
  }
  // Credit used against bills right after this payment is posted with the payment's id.
  const applied = await sql<{ fen: string | null }>`
    select sum(l.debit_fen)::text as fen from ledger_posting x
    join ledger_line l on l.account_id = x.account_id and l.posting_id = x.posting_id and l.ledger_account = 'prepayment'
    where x.account_id = ${accountId} and x.kind = 'prepayment_deduction' and x.payment_id = ${paymentId}`.execute(
    trx,
  );
  const receipts = await trx
    .selectFrom('receipt')
    .select(['receipt_id', 'kind', 'receipt_no', 'status', 'replaces_receipt_id'])
    .where('account_id', '=', accountId)
    .where('payment_id', '=', paymentId)
    .orderBy('receipt_id')
    .execute();
  const pending = await trx
    .selectFrom('payment_request')
    .select(['request_id', 'kind'])
    .where('account_id', '=', accountId)
    .where('payment_id', '=', paymentId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return {
    accountId,
    paymentId,
    paymentNo: p.payment_no,
    channel: p.channel,
    source: p.source,
    purpose: p.purpose,
    amountFen: Number(p.amount_fen),
    businessDay: p.business_day,
    status: p.status,
    officeId: p.office_id,
    receivedBy: p.received_name ?? null,
    confirmedBy: p.confirmed_name ?? null,
    externalRef: p.external_ref,
    note: p.note,
    createdAt: p.created_at.toISOString(),
    postingId: Number(p.posting_id),
    allocations: [...allocations.values()],
    creditFen: credit,
    creditAppliedFen: Number(applied.rows[0]?.fen ?? 0),
    receipts: receipts.map((r) => ({
      receiptId: Number(r.receipt_id),
      kind: r.kind,
      receiptNo: r.receipt_no,
      status: r.status,
      replacesReceiptId: r.replaces_receipt_id === null ? null : Number(r.replaces_receipt_id),
    })),
    pendingRequest: pending ? { requestId: Number(pending.request_id), kind: pending.kind } : null,
  };
}

export interface AccountPosition {
  accountId: number;
  customerCode: string;
  name: string;
  officeId: number;
  /** Unpaid principal of standing bills. */
  principalFen: number;
  lateFeeFen: number;
  creditFen: number;
  depositFen: number;
  /** What the customer should pay now: principal + late fees − credit, never below zero. */
  dueFen: number;
  openBills: (OpenItem & { billNo: string; period: string })[];
  deposits: { depositId: number; kind: string; amountFen: number; status: string; createdAt: string }[];
}

/** What the counter shows for a customer: what is owed, bill by bill, and the credit and deposits held. */
export async function accountPosition(db: Db, accountId: number): Promise<AccountPosition> {
  const c = await db
    .selectFrom('customer')
    .select(['customer_code', 'name', 'office_id'])
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!c) throw notFound('customer', accountId);
  const [openBills, credit, deposit, deposits] = await Promise.all([
    openItems(db, accountId),
    creditFen(db, accountId),
    depositHeldFen(db, accountId),
    db.selectFrom('deposit').selectAll().where('account_id', '=', accountId).orderBy('deposit_id').execute(),
  ]);
  const principalFen = openBills.reduce((s, b) => s + b.unpaidFen, 0);
  const lateFeeFen = openBills.reduce((s, b) => s + b.lateFeeFen, 0);
  return {
    accountId,
    customerCode: c.customer_code,
    name: c.name,
    officeId: c.office_id,
    principalFen,
    lateFeeFen,
    creditFen: credit,
    depositFen: deposit,
    dueFen: Math.max(0, principalFen + lateFeeFen - credit),
    openBills,
    deposits: deposits.map((d) => ({
      depositId: Number(d.deposit_id),
      kind: d.kind,
      amountFen: Number(d.amount_fen),
      status: d.status,
      createdAt: d.created_at.toISOString(),
    })),
  };
}

/** The customer's payments, newest first. */
export async function listPayments(db: Db, accountId: number, limit = 200): Promise<PaymentView[]> {
  const ids = await db
    .selectFrom('payment')
    .select('payment_id')
    .where('account_id', '=', accountId)
    .orderBy('payment_id', 'desc')
    .limit(limit)
    .execute();
  const out: PaymentView[] = [];
  for (const r of ids) out.push(await paymentView(db, accountId, Number(r.payment_id)));
  return out;
}

/**
 * A bill cancelled (cancel-and-rebill) keeps what was paid of it as credit: one credit_transfer
 * posting per bill for the principal the ledger's payments settled; applyCredit then settles the
 * bills that replace it. Prepaid IC-card deductions are given back by the deduction job.
 */
export async function settleCancelledBills(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  billIds: readonly number[],
): Promise<number> {
  if (billIds.length === 0) return 0;
  const { rows } = await sql<{ bill_id: string; paid: string }>`
    select bill_id::text, sum(credit_fen - debit_fen)::text as paid from ledger_line
    where account_id = ${accountId} and ledger_account = 'receivable' and part = 'principal'
      and bill_id = any(${[...billIds]}::bigint[])
    group by bill_id having sum(credit_fen - debit_fen) > 0`.execute(trx);
  let moved = 0;
  for (const r of rows) {
    const { postingId } = await post(
      trx,
      accountId,
      { kind: 'credit_transfer', billId: r.bill_id, amountFen: Number(r.paid) },
      { createdBy: ctx.caller?.staffId ?? null, reason: 'bill cancelled' },
    );
    moved += Number(r.paid);
    await audit(trx, ctx, {
      entityType: 'ledger_posting',
      entityId: `${accountId}/${postingId}`,
      action: 'credit_transfer',
      accountId,
      after: { billId: Number(r.bill_id), amountFen: Number(r.paid) },
    });
  }
  return moved;
}
