import { DEPOSIT_KINDS, PAYMENT_CHANNELS } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import { type AppDeps, requireCaller } from '../platform/context.ts';
import { idempotencyKeyRequired, idempotent } from '../platform/idempotency.ts';
import { creditCode, id, isoDate, requiredText, text } from '../platform/zod.ts';
import { closeDay, closePreview, collectionReport, listCloses } from './cashierClose.ts';
import { accountLedgerProblems } from './ledger.ts';
import { exchangeSlip, loadReceiptPrint, renderReceipt } from './receipts.ts';
import { createRequest, decideRequest, listRequests } from './requests.ts';
import { accountPosition, listPayments, paymentView, takePayment } from './service.ts';
import { decideVatInvoice, listVatRequests, requestVatInvoice } from './vatInvoices.ts';

const tags = ['payments'];

const keyRequired = () =>
  idempotencyKeyRequired({
    'zh-CN': '收费须带 Idempotency-Key，以免重试时重复收费',
    en: 'A payment needs an Idempotency-Key, so that a retry cannot charge twice',
  });

/** Payments at the counter, receipts, reversals and refunds, deposits, the cashier's close and the daily report. */
export async function paymentRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const accountParams = z.object({ accountId: id });
  const inTransaction = <T>(trx: Transaction<DB> | undefined, fn: (trx: Transaction<DB>) => Promise<T>) =>
    trx ? fn(trx) : db.transaction().execute(fn);

  r.get(
    '/api/customers/:accountId/account',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary:
          'What the customer owes now: open bills with principal and late fee, credit and deposits held',
        params: accountParams,
      },
    },
    async (request) => accountPosition(db, request.params.accountId),
  );

  r.get(
    '/api/customers/:accountId/payments',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary: 'The customer’s payments, newest first, with allocations and receipts',
        params: accountParams,
      },
    },
    async (request) => ({ items: await listPayments(db, request.params.accountId) }),
  );

  r.post(
    '/api/customers/:accountId/payments',
    {
      config: { permission: 'payment.take' },
      schema: {
        tags,
        summary:
          'Take a payment (收费): allocated to the oldest bills, late fees as configured, overpayment to credit',
        description:
          'Needs an Idempotency-Key header: a retry with the same key returns the first payment; the same key ' +
          'with other parameters is refused (422). A payment above the setting payment.confirmAboveFen is refused ' +
          'with 409 PAYMENT_NEEDS_CONFIRMATION until sent again with `confirmed: true`; above payment.maxFen it is ' +
          'refused. Purpose `deposit` holds the money as a deposit, `prepayment` loads it as credit. A receipt slip ' +
          'is issued; print it from /receipts/{receiptId}/pdf.',
        params: accountParams,
        body: z.object({
          amountFen: z.number(),
          channel: z.enum(PAYMENT_CHANNELS),
          purpose: z.enum(['bills', 'deposit', 'prepayment']).optional(),
          depositKind: z.enum(DEPOSIT_KINDS).optional(),
          confirmed: z.boolean().optional(),
          note: text(200).optional(),
        }),
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      if (key === undefined) throw keyRequired();
      return idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          takePayment(t, request.ctx, request.params.accountId, {
            ...request.body,
            idempotencyKey: String(key),
          }),
        ).then(({ payment }) => ({ status: 201, body: payment })),
      );
    },
  );

  r.get(
    '/api/customers/:accountId/payments/:paymentId',
    {
      config: { permission: 'customer.read' },
      schema: { tags, summary: 'One payment', params: z.object({ accountId: id, paymentId: id }) },
    },
    async (request) => paymentView(db, request.params.accountId, request.params.paymentId),
  );

  r.get(
    '/api/customers/:accountId/receipts/:receiptId/pdf',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary: 'Print a receipt: the slip on 80 mm paper, invoices on A5 (PDF)',
        params: z.object({ accountId: id, receiptId: id }),
      },
    },
    async (request, reply) => {
      const { accountId, receiptId } = request.params;
      const data = await loadReceiptPrint(db, accountId, receiptId, (a, p) => paymentView(db, a, p));
      const pdf = await renderReceipt(data);
      return reply
        .type('application/pdf')
        .header('Content-Disposition', `inline; filename="${data.receipt.receiptNo}.pdf"`)
        .send(pdf);
    },
  );

  r.post(
    '/api/customers/:accountId/receipts/:receiptId/exchange',
    {
      config: { permission: 'payment.take' },
      schema: {
        tags,
        summary:
          'Exchange a slip for an invoice (换开发票): the slip is taken back first; a slip is exchanged once',
        params: z.object({ accountId: id, receiptId: id }),
        body: z.object({ kind: z.enum(['invoice', 'installation_invoice']).default('invoice') }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          exchangeSlip(t, request.ctx, request.params.accountId, request.params.receiptId, request.body.kind),
        ).then((body) => ({ status: 201, body })),
      ),
  );

  r.get(
    '/api/customers/:accountId/ledger',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary:
          'The account’s ledger: every posting line (bills, late fees, payments, credit, deposits) and its balances',
        description:
          'Lines in signed fen by ledger account, oldest first, with the balances by account and the result of the ' +
          'ledger check (empty `problems` when everything balances).',
        params: accountParams,
      },
    },
    async (request) => {
      const accountId = request.params.accountId;
      const { rows } = await sql<{
        posting_ref: string;
        kind: string;
        posted_at: Date | null;
        ledger_account: string;
        debit_fen: string;
        credit_fen: string;
        bill_id: string | null;
        part: string | null;
        code: string | null;
      }>`
        select posting_ref, kind, posted_at, ledger_account, debit_fen::text, credit_fen::text, bill_id::text, part, code
        from account_ledger where account_id = ${accountId}
        order by posted_at nulls first, posting_ref limit 5000`.execute(db);
      const balances: Record<string, number> = {};
      let debitFen = 0;
      let creditFen = 0;
      for (const l of rows) {
        balances[l.ledger_account] =
          (balances[l.ledger_account] ?? 0) + Number(l.debit_fen) - Number(l.credit_fen);
        debitFen += Number(l.debit_fen);
        creditFen += Number(l.credit_fen);
      }
      return {
        lines: rows.map((l) => ({
          postingRef: l.posting_ref,
          kind: l.kind,
          postedAt: l.posted_at?.toISOString() ?? null,
          ledgerAccount: l.ledger_account,
          debitFen: Number(l.debit_fen),
          creditFen: Number(l.credit_fen),
          billId: l.bill_id === null ? null : Number(l.bill_id),
          part: l.part,
          code: l.code,
        })),
        balances,
        totals: { debitFen, creditFen },
        problems: await accountLedgerProblems(db, accountId),
      };
    },
  );

  r.post(
    '/api/customers/:accountId/payment-requests',
    {
      config: { permission: 'payment.take' },
      schema: {
        tags,
        summary:
          'Ask for a reversal (冲正), a refund of credit (退款), or a deposit refund or application, with a reason',
        description: 'Another person holding payment.approve decides it; nothing is posted until then.',
        params: accountParams,
        body: z.object({
          kind: z.enum(['reversal', 'refund', 'deposit_refund', 'deposit_apply']),
          paymentId: id.optional(),
          depositId: id.optional(),
          amountFen: z.number().int().optional(),
          channel: z.enum(PAYMENT_CHANNELS).optional(),
          reason: requiredText(500),
        }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) => createRequest(t, request.ctx, request.params.accountId, request.body)).then(
          (body) => ({ status: 201, body }),
        ),
      ),
  );

  r.get(
    '/api/payment-requests',
    {
      config: { permission: ['payment.take', 'payment.approve'] },
      schema: {
        tags,
        summary: 'Reversal, refund and deposit requests in the caller’s offices',
        querystring: z.object({
          status: z.enum(['pending', 'approved', 'rejected']).optional(),
          accountId: id.optional(),
        }),
      },
    },
    async (request) => ({ items: await listRequests(db, requireCaller(request.ctx), request.query) }),
  );

  r.post(
    '/api/customers/:accountId/payment-requests/:requestId/decision',
    {
      config: { permission: 'payment.approve' },
      schema: {
        tags,
        summary: 'Approve (posts the reversal, refund or deposit entry) or reject a request; not one’s own',
        params: z.object({ accountId: id, requestId: id }),
        body: z.object({ approve: z.boolean(), note: text(500).optional() }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          decideRequest(t, request.ctx, request.params.accountId, request.params.requestId, request.body),
        ).then((body) => ({ status: 200, body })),
      ),
  );

  r.post(
    '/api/customers/:accountId/vat-invoice-requests',
    {
      config: { permission: 'payment.take' },
      schema: {
        tags,
        summary:
          'Ask for a VAT invoice (增值税发票) for a payment, with the buyer’s details; finance issues it',
        params: accountParams,
        body: z.object({
          paymentId: id,
          buyer: z.object({
            name: requiredText(100),
            taxNo: creditCode,
            address: requiredText(200),
            phone: requiredText(40),
            bank: requiredText(100),
            bankAccount: z
              .string()
              .trim()
              .regex(/^\d{8,30}$/),
          }),
        }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          requestVatInvoice(t, request.ctx, request.params.accountId, request.body),
        ).then((body) => ({ status: 201, body })),
      ),
  );

  r.get(
    '/api/vat-invoice-requests',
    {
      config: { permission: ['payment.take', 'payment.finance'] },
      schema: {
        tags,
        summary: 'VAT invoice requests in the caller’s offices',
        querystring: z.object({ status: z.enum(['requested', 'issued', 'rejected']).optional() }),
      },
    },
    async (request) => ({ items: await listVatRequests(db, requireCaller(request.ctx), request.query) }),
  );

  r.post(
    '/api/customers/:accountId/vat-invoice-requests/:requestId/decision',
    {
      config: { permission: 'payment.finance' },
      schema: {
        tags,
        summary: 'Issue the VAT invoice (the payment’s slip is taken back) or reject the request',
        params: z.object({ accountId: id, requestId: id }),
        body: z.object({ issue: z.boolean(), note: text(500).optional() }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) =>
          decideVatInvoice(t, request.ctx, request.params.accountId, request.params.requestId, request.body),
        ).then((body) => ({ status: 200, body })),
      ),
  );

  r.get(
    '/api/cashier/close',
    {
      config: { permission: 'payment.take' },
      schema: {
        tags,
        summary: 'The caller’s payments since their last close, by channel (日结预览)',
        querystring: z.object({ countedCashFen: z.coerce.number().int().min(0).optional() }),
      },
    },
    async (request) => closePreview(db, requireCaller(request.ctx), request.query.countedCashFen ?? 0),
  );

  r.post(
    '/api/cashier/close',
    {
      config: { permission: 'payment.take' },
      schema: {
        tags,
        summary:
          'Close the caller’s day: cash counted against the system, handover to the bank with its voucher',
        description:
          'A difference between the cash counted and the system’s cash needs `differenceReason`; it is recorded, ' +
          'never hidden. A handover needs the bank voucher number.',
        body: z.object({
          countedCashFen: z.number().int().min(0),
          bankVoucherNo: text(60).default(''),
          handedOverFen: z.number().int().min(0).default(0),
          differenceReason: text(500).optional(),
          note: text(500).optional(),
        }),
      },
    },
    async (request, reply) =>
      idempotent(db, request, reply, (trx) =>
        inTransaction(trx, (t) => closeDay(t, request.ctx, request.body)).then((body) => ({
          status: 201,
          body,
        })),
      ),
  );

  r.get(
    '/api/cashier/closes',
    {
      config: { permission: ['payment.take', 'payment.finance', 'payment.approve'] },
      schema: {
        tags,
        summary: 'Cashier closes in the caller’s offices',
        querystring: z.object({ from: isoDate.optional(), to: isoDate.optional(), officeId: id.optional() }),
      },
    },
    async (request) => ({ items: await listCloses(db, requireCaller(request.ctx), request.query) }),
  );

  r.get(
    '/api/payments/report',
    {
      config: { permission: ['payment.take', 'payment.finance', 'payment.approve'] },
      schema: {
        tags,
        summary: 'Daily collection report: payments by business day and channel, with the closes',
        querystring: z.object({ from: isoDate.optional(), to: isoDate.optional(), officeId: id.optional() }),
      },
    },
    async (request) => collectionReport(db, requireCaller(request.ctx), request.query),
  );
}
