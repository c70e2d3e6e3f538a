import {
  allocatePayment,
  type DepositKind,
  DomainError,
  depositRefundRefusal,
  type PaymentChannel,
  todayInChina,
} from '@meterline/domain';
import { sql } from 'kysely';
import { yuanText } from '../billing/engine.ts';
import type { PaymentRequestKind } from '../db/schemaPayments.ts';
import { audit } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldError, fieldErrors, notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import type { Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';
import { allocationsOf, assertAccountLedger, creditFen, loadPosting, lockAccount, post } from './ledger.ts';
import { openItems } from './service.ts';

/**
 * Reversals (冲正), refunds of credit (退款) and deposit refunds or applications: nothing is deleted,
 * each is a new posting, and each needs a reason from one person and the approval of another who
 * holds payment.approve (DOMAIN.md §5, docs/payments.md "Reversals and refunds").
 */

const err = (code: string, zh: string, en: string, data: Record<string, unknown> = {}) =>
  new DomainError(code, data, { 'zh-CN': zh, en });

export interface RequestInput {
  kind: PaymentRequestKind;
  paymentId?: number;
  depositId?: number;
  /** Refunds: the amount (defaults to all the credit / the deposit). */
  amountFen?: number;
  /** Refunds: how the money goes back (cash, bank_transfer, …). */
  channel?: PaymentChannel;
  reason: string;
}

export interface PaymentRequestView {
  accountId: number;
  requestId: number;
  kind: PaymentRequestKind;
  paymentId: number | null;
  paymentNo: string | null;
  depositId: number | null;
  amountFen: number;
  channel: string | null;
  reason: string;
  status: 'pending' | 'approved' | 'rejected';
  officeId: number;
  customerCode: string;
  customerName: string;
  requestedBy: string;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string;
  postingId: number | null;
}

/** Why a payment cannot be reversed now, or null. */
async function reversalRefusal(trx: Db, accountId: number, paymentId: number): Promise<DomainError | null> {
  const p = await trx
    .selectFrom('payment')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('payment_id', '=', paymentId)
    .executeTakeFirst();
  if (!p) return notFound('payment', paymentId);
  if (p.status === 'reversed')
    return err('PAYMENT_ALREADY_REVERSED', '该笔收费已冲正', 'This payment has been reversed already');
  const posting = await loadPosting(trx, accountId, Number(p.posting_id));
  if (!posting) return notFound('posting', Number(p.posting_id));
  const billIds = allocationsOf(posting).map((a) => Number(a.billId));
  if (billIds.length) {
    const cancelled = await trx
      .selectFrom('bill')
      .select('bill_no')
      .where('account_id', '=', accountId)
      .where('bill_id', 'in', billIds)
      .where('status', '=', 'cancelled')
      .execute();
    if (cancelled.length)
      return err(
        'PAYMENT_BILL_CANCELLED',
        '该笔收费所销账单 {bills} 已作废重开，所收金额已转入预存；请改为退预存款',
        'Bills {bills} this payment settled were cancelled and rebilled and the money moved to credit: refund the credit instead',
        { bills: cancelled.map((c) => c.bill_no).join('、') },
      );
  }
  // The credit this payment created (or the prepayment it loaded) must still be there to take back.
  const madeCredit = posting.lines
    .filter((l) => l.ledgerAccount === 'prepayment')
    .reduce((s, l) => s + l.creditFen - l.debitFen, 0);
  if (madeCredit > 0 && (await creditFen(trx, accountId)) < madeCredit)
    return err(
      'PAYMENT_CREDIT_USED',
      '该笔收费转入的预存款 {yuan} 元已被使用或退还，不能冲正',
      'The {yuan} yuan of credit this payment created has been used or refunded since; it cannot be reversed',
      { yuan: yuanText(madeCredit) },
    );
  if (p.purpose === 'deposit') {
    const d = await trx
      .selectFrom('deposit')
      .select('status')
      .where('account_id', '=', accountId)
      .where('payment_id', '=', paymentId)
      .executeTakeFirst();
    if (d && d.status !== 'held')
      return err(
        'DEPOSIT_NOT_HELD',
        '押金已退还或抵扣，不能冲正',
        'The deposit has been refunded or applied; it cannot be reversed',
      );
  }
  return null;
}

export async function createRequest(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  input: RequestInput,
): Promise<PaymentRequestView> {
  const caller = requireCaller(ctx);
  const reason = input.reason.trim();
  if (!reason) throw fieldError('reason', 'REQUIRED');
  const account = await lockAccount(trx, accountId);
  if (!account) throw notFound('customer', accountId);
  let amountFen: number;
  let paymentId: number | null = null;
  let depositId: number | null = null;
  let channel: string | null = null;
  if (input.kind === 'reversal') {
    if (input.paymentId === undefined) throw fieldError('paymentId', 'REQUIRED');
    const refusal = await reversalRefusal(trx, accountId, input.paymentId);
    if (refusal) throw refusal;
    const p = await trx
      .selectFrom('payment')
      .select('amount_fen')
      .where('account_id', '=', accountId)
      .where('payment_id', '=', input.paymentId)
      .executeTakeFirstOrThrow();
    paymentId = input.paymentId;
    amountFen = Number(p.amount_fen);
  } else if (input.kind === 'refund') {
    const credit = await creditFen(trx, accountId);
    amountFen = input.amountFen ?? credit;
    if (!Number.isSafeInteger(amountFen) || amountFen <= 0)
      throw credit <= 0
        ? err('NO_CREDIT', '该用户没有可退的预存款', 'This customer has no credit to refund')
        : fieldError('amountFen', 'POSITIVE');
    if (amountFen > credit)
      throw fieldErrorWith(
        'amountFen',
        'ABOVE_CREDIT',
        '退款不能超过预存余额 {yuan} 元',
        'A refund cannot exceed the credit of {yuan} yuan',
        {
          yuan: yuanText(credit),
        },
      );
    channel = input.channel ?? 'cash';
  } else {
    if (input.depositId === undefined) throw fieldError('depositId', 'REQUIRED');
    const d = await trx
      .selectFrom('deposit')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('deposit_id', '=', input.depositId)
      .executeTakeFirst();
    if (!d) throw notFound('deposit', input.depositId);
    if (d.status !== 'held')
      throw err('DEPOSIT_NOT_HELD', '押金已退还或抵扣', 'The deposit has been refunded or applied already');
    depositId = input.depositId;
    amountFen = Number(d.amount_fen);
    if (input.kind === 'deposit_refund') {
      const refusal = await depositRefusal(trx, accountId, d);
      if (refusal) throw refusal;
      channel = input.channel ?? 'cash';
    }
  }
  const row = await trx
    .insertInto('payment_request')
    .values({
      account_id: accountId,
      kind: input.kind,
      payment_id: paymentId,
      deposit_id: depositId,
      amount_fen: amountFen,
      channel,
      reason,
      office_id: account.officeId,
      requested_by: caller.staffId,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('request_id')
    .executeTakeFirst();
  if (!row)
    throw err(
      'REQUEST_PENDING',
      '已有一条同样的申请在等待审批',
      'The same request is already waiting for approval',
    );
  await audit(trx, ctx, {
    entityType: 'payment_request',
    entityId: `${accountId}/${row.request_id}`,
    action: `request_${input.kind}`,
    accountId,
    officeId: account.officeId,
    after: { kind: input.kind, paymentId, depositId, amountFen, channel, reason },
  });
  return requestView(trx, accountId, Number(row.request_id));
}

/** A field error whose message quotes data: `{yuan}` in both languages. */
function fieldErrorWith(path: string, code: string, zh: string, en: string, data: Record<string, unknown>) {
  const fill = (text: string) => text.replace(/\{(\w+)\}/g, (_, k) => String(data[k] ?? ''));
  return fieldErrors([{ path, code, messages: { 'zh-CN': fill(zh), en: fill(en) } }], data);
}

async function depositRefusal(
  trx: Db,
  accountId: number,
  d: { kind: DepositKind; status: 'held' | 'applied' | 'refunded'; created_at: Date },
): Promise<DomainError | null> {
  const { rows } = await sql<{ billed: boolean; arrears: string; late_due: string | null }>`
    select exists (select 1 from bill where account_id = ${accountId} and status = 'open') as billed,
           (select coalesce(sum(amount_fen - paid_fen), 0) from bill where account_id = ${accountId} and status = 'open')::text as arrears,
           (select max(f.due_on)::text from late_fee f where f.account_id = ${accountId} and f.accrued_fen > 0) as late_due`.execute(
    trx,
  );
  const r = rows[0]!;
  const today = todayInChina();
  const refusal = depositRefundRefusal(
    { kind: d.kind, status: d.status, heldSince: todayInChina(d.created_at) },
    { today, billed: r.billed, arrearsFen: Number(r.arrears), lateFeeDueSince: r.late_due },
  );
  if (!refusal) return null;
  const messages = {
    NOT_HELD: ['押金已退还或抵扣', 'The deposit is no longer held'],
    NOT_YET_A_YEAR: [
      '大用户押金须正常缴费满一年后退还',
      'A large user’s deposit is refunded after a year of normal payment',
    ],
    LATE_PAYMENT_IN_YEAR: [
      '近一年内有逾期缴费，押金暂不退还',
      'A bill was paid late within the year: the deposit is not refunded yet',
    ],
    NO_SUPPLY_YET: [
      '尚未通水开账，押金暂不退还',
      'Supply has not started (no bill yet): the deposit is not refunded yet',
    ],
    ARREARS: [
      '用户尚有欠费，押金可抵扣欠费，不能退还',
      'The account owes money: apply the deposit to the arrears instead',
    ],
  } as const;
  const [zh, en] = messages[refusal];
  return err('DEPOSIT_NOT_REFUNDABLE', zh, en, { reason: refusal });
}

export async function requestView(db: Db, accountId: number, requestId: number): Promise<PaymentRequestView> {
  const rows = await listRequestRows(db, sql`r.account_id = ${accountId} and r.request_id = ${requestId}`, 1);
  const r = rows[0];
  if (!r) throw notFound('payment_request', requestId);
  return r;
}

async function listRequestRows(
  db: Db,
  where: ReturnType<typeof sql>,
  limit: number,
): Promise<PaymentRequestView[]> {
  const { rows } = await sql<{
    account_id: string;
    request_id: string;
    kind: PaymentRequestKind;
    payment_id: string | null;
    payment_no: string | null;
    deposit_id: string | null;
    amount_fen: string;
    channel: string | null;
    reason: string;
    status: 'pending' | 'approved' | 'rejected';
    office_id: string;
    customer_code: string;
    customer_name: string;
    requested_by: string;
    requested_at: Date;
    decided_by: string | null;
    decided_at: Date | null;
    decision_note: string;
    posting_id: string | null;
  }>`
    select r.account_id::text, r.request_id::text, r.kind, r.payment_id::text, p.payment_no, r.deposit_id::text,
           r.amount_fen::text, r.channel, r.reason, r.status, r.office_id::text, c.customer_code, c.name as customer_name,
           rs.full_name as requested_by, r.requested_at, ds.full_name as decided_by, r.decided_at, r.decision_note,
           r.posting_id::text
    from payment_request r
    join customer c on c.account_id = r.account_id
    join staff rs on rs.staff_id = r.requested_by
    left join staff ds on ds.staff_id = r.decided_by
    left join payment p on p.account_id = r.account_id and p.payment_id = r.payment_id
    where ${where}
    order by r.requested_at desc, r.request_id desc
    limit ${limit}`.execute(db);
  return rows.map((r) => ({
    accountId: Number(r.account_id),
    requestId: Number(r.request_id),
    kind: r.kind,
    paymentId: r.payment_id === null ? null : Number(r.payment_id),
    paymentNo: r.payment_no,
    depositId: r.deposit_id === null ? null : Number(r.deposit_id),
    amountFen: Number(r.amount_fen),
    channel: r.channel,
    reason: r.reason,
    status: r.status,
    officeId: Number(r.office_id),
    customerCode: r.customer_code,
    customerName: r.customer_name,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at.toISOString(),
    decidedBy: r.decided_by,
    decidedAt: r.decided_at?.toISOString() ?? null,
    decisionNote: r.decision_note,
    postingId: r.posting_id === null ? null : Number(r.posting_id),
  }));
}

/** Requests in the caller's offices: pending first, then the latest decided. */
export async function listRequests(
  db: Db,
  caller: Caller,
  q: { status?: 'pending' | 'approved' | 'rejected'; accountId?: number; limit?: number },
): Promise<PaymentRequestView[]> {
  const parts = [officeCondition(caller, sql`r.office_id`)];
  if (q.status) parts.push(sql`r.status = ${q.status}`);
  if (q.accountId !== undefined) parts.push(sql`r.account_id = ${q.accountId}`);
  return listRequestRows(db, sql.join(parts, sql` and `), Math.min(q.limit ?? 200, 1_000));
}

/**
 * Approves or rejects a request. Approval posts, in the same transaction: the reversal (the
 * payment's mirror; its receipts voided), the refund (debit credit, credit the channel), the deposit
 * refund or application. The person who asked cannot decide (SELF_APPROVAL).
 */
export async function decideRequest(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  requestId: number,
  decision: { approve: boolean; note?: string },
): Promise<PaymentRequestView> {
  const caller = requireCaller(ctx);
  const account = await lockAccount(trx, accountId);
  if (!account) throw notFound('customer', accountId);
  const r = await trx
    .selectFrom('payment_request')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('request_id', '=', requestId)
    .forUpdate()
    .executeTakeFirst();
  if (!r) throw notFound('payment_request', requestId);
  if (r.status !== 'pending')
    throw err('REQUEST_NOT_PENDING', '该申请已处理', 'This request has been decided already');
  if (r.requested_by === caller.staffId)
    throw err('SELF_APPROVAL', '不能审批自己提交的申请', 'You cannot approve your own request');
  let postingId: number | null = null;
  const note = decision.note?.trim() ?? '';
  if (decision.approve) {
    const reason = `${r.reason}`;
    const meta = { createdBy: r.requested_by, approvedBy: caller.staffId, reason };
    if (r.kind === 'reversal') {
      const refusal = await reversalRefusal(trx, accountId, Number(r.payment_id));
      if (refusal) throw refusal;
      const p = await trx
        .selectFrom('payment')
        .select(['posting_id'])
        .where('account_id', '=', accountId)
        .where('payment_id', '=', Number(r.payment_id))
        .executeTakeFirstOrThrow();
      // Credit the payment's money settled through applyCredit afterwards goes back with it.
      const followers = await trx
        .selectFrom('ledger_posting')
        .select('posting_id')
        .where('account_id', '=', accountId)
        .where('payment_id', '=', Number(r.payment_id))
        .where('kind', '=', 'prepayment_deduction')
        .execute();
      for (const f of followers) {
        const fp = await loadPosting(trx, accountId, Number(f.posting_id));
        const reversed = await trx
          .selectFrom('ledger_posting')
          .select('posting_id')
          .where('account_id', '=', accountId)
          .where('reverses_posting_id', '=', Number(f.posting_id))
          .executeTakeFirst();
        if (fp && !reversed)
          await post(
            trx,
            accountId,
            { kind: 'reversal', reverses: fp },
            { ...meta, paymentId: Number(r.payment_id) },
          );
      }
      const target = await loadPosting(trx, accountId, Number(p.posting_id));
      if (!target) throw notFound('posting', Number(p.posting_id));
      ({ postingId } = await post(
        trx,
        accountId,
        { kind: 'reversal', reverses: target },
        { ...meta, paymentId: Number(r.payment_id) },
      ));
      await trx
        .updateTable('payment')
        .set({ status: 'reversed' })
        .where('account_id', '=', accountId)
        .where('payment_id', '=', Number(r.payment_id))
        .execute();
      await trx
        .updateTable('receipt')
        .set({ status: 'voided', taken_back_by: caller.staffId, taken_back_at: new Date() })
        .where('account_id', '=', accountId)
        .where('payment_id', '=', Number(r.payment_id))
        .where('status', '=', 'issued')
        .execute();
      await trx
        .updateTable('deposit')
        .set({ status: 'refunded', settled_posting_id: postingId })
        .where('account_id', '=', accountId)
        .where('payment_id', '=', Number(r.payment_id))
        .where('status', '=', 'held')
        .execute();
    } else if (r.kind === 'refund') {
      const credit = await creditFen(trx, accountId);
      if (Number(r.amount_fen) > credit)
        throw err(
          'NO_CREDIT',
          '预存余额已不足 {yuan} 元，不能退款',
          'The credit is below {yuan} yuan now; the refund cannot be made',
          {
            yuan: yuanText(Number(r.amount_fen)),
          },
        );
      ({ postingId } = await post(
        trx,
        accountId,
        { kind: 'refund', channel: (r.channel ?? 'cash') as PaymentChannel, amountFen: Number(r.amount_fen) },
        meta,
      ));
    } else {
      const d = await trx
        .selectFrom('deposit')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('deposit_id', '=', Number(r.deposit_id))
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (d.status !== 'held')
        throw err('DEPOSIT_NOT_HELD', '押金已退还或抵扣', 'The deposit has been refunded or applied already');
      if (r.kind === 'deposit_refund') {
        const refusal = await depositRefusal(trx, accountId, d);
        if (refusal) throw refusal;
        ({ postingId } = await post(
          trx,
          accountId,
          {
            kind: 'deposit_refunded',
            channel: (r.channel ?? 'cash') as PaymentChannel,
            amountFen: Number(d.amount_fen),
          },
          meta,
        ));
      } else {
        const settings = await loadSettings(trx as never);
        const split = allocatePayment({
          amountFen: Number(d.amount_fen),
          items: await openItems(trx, accountId),
          lateFeesFirst: settings['payment.lateFeesFirst'] === 1,
        });
        ({ postingId } = await post(
          trx,
          accountId,
          { kind: 'deposit_applied', amountFen: Number(d.amount_fen), split },
          meta,
        ));
      }
      await trx
        .updateTable('deposit')
        .set({ status: r.kind === 'deposit_refund' ? 'refunded' : 'applied', settled_posting_id: postingId })
        .where('account_id', '=', accountId)
        .where('deposit_id', '=', Number(r.deposit_id))
        .execute();
    }
  }
  await trx
    .updateTable('payment_request')
    .set({
      status: decision.approve ? 'approved' : 'rejected',
      decided_by: caller.staffId,
      decided_at: new Date(),
      decision_note: note,
      posting_id: postingId,
    })
    .where('account_id', '=', accountId)
    .where('request_id', '=', requestId)
    .execute();
  await audit(trx, ctx, {
    entityType: 'payment_request',
    entityId: `${accountId}/${requestId}`,
    action: decision.approve ? `approve_${r.kind}` : `reject_${r.kind}`,
    accountId,
    officeId: account.officeId,
    before: { status: 'pending' },
    after: { status: decision.approve ? 'approved' : 'rejected', note, postingId },
  });
  await assertAccountLedger(trx, accountId);
  return requestView(trx, accountId, requestId);
}
