import { DomainError } from '@meterline/domain';
import { sql } from 'kysely';
import { audit } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import type { Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';
import { issueReceipt } from './receipts.ts';

/**
 * VAT invoice requests (增值税发票申请, DOMAIN.md §5): a business customer asks at the counter for a
 * VAT invoice for a payment, giving the buyer's name, unified social credit code, address and
 * phone, bank and account; finance issues it (a receipt of kind vat_invoice, numbered ZP…) or
 * rejects it with a reason. The VAT invoice replaces the payment's slip, which is taken back — so a
 * payment never has both a VAT invoice and an ordinary invoice.
 */

export interface Buyer {
  name: string;
  taxNo: string;
  address: string;
  phone: string;
  bank: string;
  bankAccount: string;
}

export interface VatRequestView {
  accountId: number;
  requestId: number;
  paymentId: number;
  paymentNo: string;
  amountFen: number;
  customerCode: string;
  customerName: string;
  officeId: number;
  buyer: Buyer;
  status: 'requested' | 'issued' | 'rejected';
  receiptNo: string | null;
  requestedBy: string | null;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  note: string;
}

const err = (code: string, zh: string, en: string) => new DomainError(code, {}, { 'zh-CN': zh, en });

/** The payment's slip that a VAT invoice would replace, or why there can be none. */
async function slipToReplace(trx: Db, accountId: number, paymentId: number) {
  const payment = await trx
    .selectFrom('payment')
    .select(['status', 'office_id', 'amount_fen'])
    .where('account_id', '=', accountId)
    .where('payment_id', '=', paymentId)
    .executeTakeFirst();
  if (!payment) throw notFound('payment', paymentId);
  if (payment.status === 'reversed')
    throw err(
      'VAT_NOT_ALLOWED',
      '该笔收费已冲正，不能开具增值税发票',
      'The payment was reversed: no VAT invoice',
    );
  const invoice = await trx
    .selectFrom('receipt')
    .select('receipt_no')
    .where('account_id', '=', accountId)
    .where('payment_id', '=', paymentId)
    .where('kind', 'in', ['invoice', 'installation_invoice', 'vat_invoice'])
    .where('status', '=', 'issued')
    .executeTakeFirst();
  if (invoice)
    throw err(
      'VAT_NOT_ALLOWED',
      `该笔收费已开具发票 ${invoice.receipt_no}，不能再开增值税发票`,
      `Invoice ${invoice.receipt_no} was issued for this payment already; no VAT invoice as well`,
    );
  const slip = await trx
    .selectFrom('receipt')
    .select(['receipt_id'])
    .where('account_id', '=', accountId)
    .where('payment_id', '=', paymentId)
    .where('kind', 'in', ['slip', 'prepayment_receipt'])
    .where('status', '=', 'issued')
    .executeTakeFirst();
  return { payment, slipId: slip ? Number(slip.receipt_id) : null };
}

export async function requestVatInvoice(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  input: { paymentId: number; buyer: Buyer },
): Promise<VatRequestView> {
  const caller = requireCaller(ctx);
  const { payment } = await slipToReplace(trx, accountId, input.paymentId);
  const row = await trx
    .insertInto('vat_invoice_request')
    .values({
      account_id: accountId,
      payment_id: input.paymentId,
      buyer: JSON.stringify(input.buyer),
      requested_by: caller.staffId,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('request_id')
    .executeTakeFirst();
  if (!row)
    throw err(
      'VAT_REQUEST_EXISTS',
      '该笔收费已有增值税发票申请',
      'A VAT invoice was already requested for this payment',
    );
  await audit(trx, ctx, {
    entityType: 'vat_invoice_request',
    entityId: `${accountId}/${row.request_id}`,
    action: 'vat_request',
    accountId,
    officeId: payment.office_id,
    after: { paymentId: input.paymentId, buyer: input.buyer },
  });
  return (await listVatRequests(trx, null, { accountId, requestId: Number(row.request_id) }))[0]!;
}

export async function decideVatInvoice(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  requestId: number,
  decision: { issue: boolean; note?: string },
): Promise<VatRequestView> {
  const caller = requireCaller(ctx);
  const r = await trx
    .selectFrom('vat_invoice_request')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('request_id', '=', requestId)
    .forUpdate()
    .executeTakeFirst();
  if (!r) throw notFound('vat_invoice_request', requestId);
  if (r.status !== 'requested')
    throw err('REQUEST_NOT_PENDING', '该申请已处理', 'This request has been decided already');
  let receiptId: number | null = null;
  if (decision.issue) {
    const { payment, slipId } = await slipToReplace(trx, accountId, r.payment_id);
    const now = new Date();
    if (slipId !== null)
      await trx
        .updateTable('receipt')
        .set({ status: 'taken_back', taken_back_by: caller.staffId, taken_back_at: now })
        .where('account_id', '=', accountId)
        .where('receipt_id', '=', slipId)
        .execute();
    ({ receiptId } = await issueReceipt(trx, {
      accountId,
      kind: 'vat_invoice',
      paymentId: r.payment_id,
      amountFen: Number(payment.amount_fen),
      issuedBy: caller.staffId,
      ...(slipId !== null ? { replacesReceiptId: slipId } : {}),
      buyer: r.buyer,
    }));
  }
  await trx
    .updateTable('vat_invoice_request')
    .set({
      status: decision.issue ? 'issued' : 'rejected',
      receipt_id: receiptId,
      decided_by: caller.staffId,
      decided_at: new Date(),
      note: decision.note?.trim() ?? '',
    })
    .where('account_id', '=', accountId)
    .where('request_id', '=', requestId)
    .execute();
  await audit(trx, ctx, {
    entityType: 'vat_invoice_request',
    entityId: `${accountId}/${requestId}`,
    action: decision.issue ? 'vat_issue' : 'vat_reject',
    accountId,
    before: { status: 'requested' },
    after: { status: decision.issue ? 'issued' : 'rejected', receiptId, note: decision.note ?? '' },
  });
  return (await listVatRequests(trx, null, { accountId, requestId }))[0]!;
}

export async function listVatRequests(
  db: Db,
  caller: Caller | null,
  q: { status?: 'requested' | 'issued' | 'rejected'; accountId?: number; requestId?: number },
): Promise<VatRequestView[]> {
  const parts = [caller ? officeCondition(caller, sql`c.office_id`) : sql`true`];
  if (q.status) parts.push(sql`v.status = ${q.status}`);
  if (q.accountId !== undefined) parts.push(sql`v.account_id = ${q.accountId}`);
  if (q.requestId !== undefined) parts.push(sql`v.request_id = ${q.requestId}`);
  const { rows } = await sql<{
    account_id: string;
    request_id: string;
    payment_id: string;
    payment_no: string;
    amount_fen: string;
    customer_code: string;
    customer_name: string;
    office_id: string;
    buyer: Buyer;
    status: VatRequestView['status'];
    receipt_no: string | null;
    requested_by: string | null;
    requested_at: Date;
    decided_by: string | null;
    decided_at: Date | null;
    note: string;
  }>`
    select v.account_id::text, v.request_id::text, v.payment_id::text, p.payment_no, p.amount_fen::text,
           c.customer_code, c.name as customer_name, c.office_id::text, v.buyer, v.status, r.receipt_no,
           rs.full_name as requested_by, v.requested_at, ds.full_name as decided_by, v.decided_at, v.note
    from vat_invoice_request v
    join customer c on c.account_id = v.account_id
    join payment p on p.account_id = v.account_id and p.payment_id = v.payment_id
    left join receipt r on r.account_id = v.account_id and r.receipt_id = v.receipt_id
    left join staff rs on rs.staff_id = v.requested_by
    left join staff ds on ds.staff_id = v.decided_by
    where ${sql.join(parts, sql` and `)}
    order by v.requested_at desc limit 500`.execute(db);
  return rows.map((r) => ({
    accountId: Number(r.account_id),
    requestId: Number(r.request_id),
    paymentId: Number(r.payment_id),
    paymentNo: r.payment_no,
    amountFen: Number(r.amount_fen),
    customerCode: r.customer_code,
    customerName: r.customer_name,
    officeId: Number(r.office_id),
    buyer: r.buyer,
    status: r.status,
    receiptNo: r.receipt_no,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at.toISOString(),
    decidedBy: r.decided_by,
    decidedAt: r.decided_at?.toISOString() ?? null,
    note: r.note,
  }));
}
