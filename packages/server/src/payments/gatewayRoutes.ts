import { DomainError } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import type { GatewayCallbackOutcome, GatewayChannel } from '../db/schemaGateway.ts';
import { audit } from '../platform/audit.ts';
import type { AppDeps, RequestContext } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import { idempotencyKeyRequired, idempotent } from '../platform/idempotency.ts';
import { id } from '../platform/zod.ts';
import type { Db } from '../readings/repository.ts';
import { type CallbackHeaders, gatewayFromConfig, type PaymentGateway } from './gateways/gateway.ts';
import { accountPosition, takePayment } from './service.ts';

/**
 * Online payment through a gateway (docs/payments-gateway.md): the clerk (or, later, the customer
 * portal) opens an order for what is owed and gets a pay URL; the gateway's signed callback posts
 * the payment through takePayment — once per gateway transaction, however often it is repeated.
 */

const tags = ['payments'];
/** What one online order may be for, at most: 1,000,000 yuan. */
const MAX_ORDER_FEN = 100_000_000;
/** The callback body kept in the log, at most. */
const MAX_LOGGED_BODY_CHARS = 16_000;
/** The callback body accepted, at most (gateway notifications are a few hundred bytes). */
const MAX_CALLBACK_BYTES = 64 * 1024;
const GATEWAY_CHANNELS = ['online', 'wechat', 'alipay'] as const;

const keyRequired = () =>
  idempotencyKeyRequired({
    'zh-CN': '发起网上支付须带 Idempotency-Key，以免重试时重复下单',
    en: 'An online payment order needs an Idempotency-Key, so that a retry cannot open it twice',
  });

const nothingOwed = () =>
  new DomainError(
    'GATEWAY_NOTHING_OWED',
    {},
    {
      'zh-CN': '该用户目前没有欠费，请输入要支付的金额',
      en: 'The customer owes nothing now; enter the amount to pay',
    },
  );

/** Our order number: the account travels in it, so a callback is routed to its account. */
export const gatewayOrderNo = (accountId: number, orderId: number) => `GW${accountId}-${orderId}`;

export function parseGatewayOrderNo(orderNo: string): { accountId: number; orderId: number } | null {
  const m = /^GW(\d{1,18})-(\d{1,18})$/.exec(orderNo);
  if (!m) return null;
  const accountId = Number(m[1]);
  const orderId = Number(m[2]);
  return Number.isSafeInteger(accountId) && Number.isSafeInteger(orderId) ? { accountId, orderId } : null;
}

export interface GatewayOrderView {
  accountId: number;
  orderId: number;
  orderNo: string;
  gateway: string;
  channel: GatewayChannel;
  amountFen: number;
  /** 'expired': opened and not paid in time (shown so even before anything marks it). */
  status: 'created' | 'paid' | 'failed' | 'expired';
  payUrl: string | null;
  gatewayOrderId: string | null;
  gatewayTxnId: string | null;
  paymentId: number | null;
  paymentNo: string | null;
  expiresAt: string;
  paidAt: string | null;
  createdAt: string;
}

export async function gatewayOrderView(
  db: Db,
  accountId: number,
  orderId: number,
): Promise<GatewayOrderView> {
  const o = await db
    .selectFrom('gateway_order as o')
    .leftJoin('payment as p', (j) =>
      j.onRef('p.account_id', '=', 'o.account_id').onRef('p.payment_id', '=', 'o.payment_id'),
    )
    .selectAll('o')
    .select(['p.payment_no', sql<boolean>`o.status = 'created' and o.expires_at < now()`.as('lapsed')])
    .where('o.account_id', '=', accountId)
    .where('o.order_id', '=', orderId)
    .executeTakeFirst();
  if (!o) throw notFound('gateway_order', orderId);
  return {
    accountId,
    orderId: Number(o.order_id),
    orderNo: o.order_no,
    gateway: o.gateway,
    channel: o.channel,
    amountFen: Number(o.amount_fen),
    status: o.lapsed ? 'expired' : o.status,
    payUrl: o.pay_url,
    gatewayOrderId: o.gateway_order_id,
    gatewayTxnId: o.gateway_txn_id,
    paymentId: o.payment_id === null ? null : Number(o.payment_id),
    paymentNo: o.payment_no ?? null,
    expiresAt: o.expires_at.toISOString(),
    paidAt: o.paid_at ? o.paid_at.toISOString() : null,
    createdAt: o.created_at.toISOString(),
  };
}

/** Opens an order with the gateway for `amountFen` (default: what the customer owes now). */
export async function createGatewayOrder(
  trx: Transaction<DB>,
  ctx: RequestContext,
  gateway: PaymentGateway,
  accountId: number,
  input: { amountFen?: number; channel: GatewayChannel; idempotencyKey?: string },
): Promise<GatewayOrderView> {
  const position = await accountPosition(trx, accountId);
  const amountFen = input.amountFen ?? position.dueFen;
  if (amountFen <= 0) throw nothingOwed();
  // Orders opened earlier and never paid in time are marked so in the same write.
  const lapsed = await trx
    .updateTable('gateway_order')
    .set({ status: 'expired' })
    .where('account_id', '=', accountId)
    .where('status', '=', 'created')
    .where('expires_at', '<', new Date())
    .returning('order_id')
    .execute();
  const { rows } = await sql<{ id: string }>`
    select nextval(pg_get_serial_sequence('gateway_order', 'order_id'))::text as id`.execute(trx);
  const orderId = Number(rows[0]!.id);
  const orderNo = gatewayOrderNo(accountId, orderId);
  const created = await gateway.createOrder(
    { accountId, customerCode: position.customerCode, name: position.name },
    amountFen,
    orderNo,
  );
  await trx
    .insertInto('gateway_order')
    .values({
      account_id: accountId,
      order_id: orderId,
      order_no: orderNo,
      gateway: gateway.name,
      channel: input.channel,
      amount_fen: amountFen,
      gateway_order_id: created.gatewayOrderId,
      pay_url: created.payUrl,
      idempotency_key: input.idempotencyKey ?? null,
      created_by: ctx.caller?.staffId ?? null,
    })
    .execute();
  await audit(trx, ctx, {
    entityType: 'gateway_order',
    entityId: `${accountId}/${orderId}`,
    action: 'gateway_order_create',
    accountId,
    officeId: position.officeId,
    after: {
      orderNo,
      gateway: gateway.name,
      channel: input.channel,
      amountFen,
      owedFen: position.dueFen,
      gatewayOrderId: created.gatewayOrderId,
      expiredOrderIds: lapsed.map((l) => Number(l.order_id)),
    },
  });
  return gatewayOrderView(trx, accountId, orderId);
}

export interface CallbackResult {
  httpStatus: number;
  /** What the gateway is told; stored, so a repeated callback is told the same. */
  response: Record<string, unknown>;
  outcome: GatewayCallbackOutcome;
  /** Nothing changed (a repeated callback): no audit entry is due. */
  replay: boolean;
}

const fail = (reason: string, message: string) => ({ code: 'FAIL', reason, message });

/**
 * One callback from the gateway: verified over the raw bytes, logged whatever happens, and — for a
 * paid order — posted through takePayment in the same transaction that marks the order paid. The
 * order row is locked first, so concurrent deliveries of one notification queue behind each other
 * and all but the first answer with the stored response.
 */
export async function handleGatewayCallback(
  db: Db,
  gateway: PaymentGateway,
  ctx: RequestContext,
  headers: CallbackHeaders,
  rawBody: Buffer,
): Promise<CallbackResult> {
  const logBase = {
    gateway: gateway.name,
    headers: JSON.stringify(gateway.signatureHeaders(headers)),
    raw_body: rawBody.toString('utf8').slice(0, MAX_LOGGED_BODY_CHARS),
  };
  const check = await gateway.verifyCallback(headers, rawBody);
  const inTrx = <T>(fn: (trx: Transaction<DB>) => Promise<T>) =>
    db.isTransaction
      ? fn(db as Transaction<DB>)
      : (db as Exclude<Db, Transaction<DB>>).transaction().execute(fn);

  if (!check.ok) {
    const result: CallbackResult = {
      httpStatus: check.refusal === 'bad_signature' ? 401 : 400,
      response: fail(
        check.refusal,
        check.refusal === 'bad_signature'
          ? '签名验证失败 (signature verification failed)'
          : '通知内容有误 (malformed notification)',
      ),
      outcome: check.refusal,
      replay: false,
    };
    await inTrx(async (trx) => {
      const row = await trx
        .insertInto('gateway_callback')
        .values({
          ...logBase,
          signature_ok: check.refusal !== 'bad_signature',
          outcome: result.outcome,
          http_status: result.httpStatus,
          response: JSON.stringify(result.response),
        })
        .returning('callback_id')
        .executeTakeFirstOrThrow();
      await audit(trx, ctx, {
        entityType: 'gateway_callback',
        entityId: row.callback_id,
        action: 'gateway_callback_refused',
        officeId: null,
        after: { gateway: gateway.name, refusal: check.refusal, detail: check.detail },
      });
    });
    return result;
  }

  const notice = check.notice;
  const ref = parseGatewayOrderNo(notice.orderNo);
  return inTrx(async (trx) => {
    const order = ref
      ? await trx
          .selectFrom('gateway_order as o')
          .innerJoin('customer as c', 'c.account_id', 'o.account_id')
          .selectAll('o')
          .select('c.office_id')
          .where('o.account_id', '=', ref.accountId)
          .where('o.order_no', '=', notice.orderNo)
          .where('o.gateway', '=', gateway.name)
          .forUpdate('o')
          .executeTakeFirst()
      : undefined;
    const finish = async (
      result: CallbackResult,
      auditAction: string | null,
      after: Record<string, unknown> = {},
    ): Promise<CallbackResult> => {
      const row = await trx
        .insertInto('gateway_callback')
        .values({
          ...logBase,
          account_id: order ? Number(order.account_id) : null,
          order_id: order ? Number(order.order_id) : null,
          signature_ok: true,
          outcome: result.outcome,
          http_status: result.httpStatus,
          response: JSON.stringify(result.response),
        })
        .returning('callback_id')
        .executeTakeFirstOrThrow();
      if (auditAction)
        await audit(trx, ctx, {
          entityType: order ? 'gateway_order' : 'gateway_callback',
          entityId: order ? `${order.account_id}/${order.order_id}` : row.callback_id,
          action: auditAction,
          accountId: order ? Number(order.account_id) : null,
          officeId: order ? Number(order.office_id) : null,
          after: { callbackId: Number(row.callback_id), notice, ...after },
        });
      return result;
    };

    if (!order || order.gateway_order_id !== notice.gatewayOrderId)
      return finish(
        {
          httpStatus: 404,
          response: fail('unknown_order', '订单不存在 (no such order)'),
          outcome: 'unknown_order',
          replay: false,
        },
        'gateway_callback_refused',
      );
    const accountId = Number(order.account_id);
    const orderFen = Number(order.amount_fen);
    if (notice.amountFen !== orderFen)
      return finish(
        {
          httpStatus: 400,
          response: fail('amount_mismatch', '金额与订单不符 (amount differs from the order)'),
          outcome: 'amount_mismatch',
          replay: false,
        },
        'gateway_callback_refused',
        { orderFen },
      );

    const stored = order.response as Record<string, unknown> | null;
    if (order.status === 'paid') {
      if (notice.status === 'paid' && notice.txnId !== order.gateway_txn_id)
        // The customer paid one order twice: the second transaction is not posted; finance refunds it.
        return finish(
          {
            httpStatus: 409,
            response: fail(
              'conflict',
              '订单已由另一笔交易支付，请人工退款 (order already paid by another transaction)',
            ),
            outcome: 'conflict',
            replay: false,
          },
          'gateway_callback_conflict',
          { paidTxnId: order.gateway_txn_id },
        );
      // The same transaction again, or a late "closed" for an order that was paid: the first answer.
      ctx.replay = true;
      return finish({ httpStatus: 200, response: stored ?? {}, outcome: 'replay', replay: true }, null);
    }
    if (notice.status === 'closed') {
      if (order.status === 'failed' && stored) {
        ctx.replay = true;
        return finish({ httpStatus: 200, response: stored, outcome: 'replay', replay: true }, null);
      }
      const response = { code: 'SUCCESS', message: 'OK', orderNo: order.order_no, status: 'failed' };
      // Answered as stored (jsonb orders keys its own way), so every repeat reads byte for byte the same.
      const saved = await trx
        .updateTable('gateway_order')
        .set({ status: 'failed', response: JSON.stringify(response) })
        .where('account_id', '=', accountId)
        .where('order_id', '=', order.order_id)
        .returning('response')
        .executeTakeFirstOrThrow();
      const answer = saved.response as Record<string, unknown>;
      return finish(
        { httpStatus: 200, response: answer, outcome: 'failed', replay: false },
        'gateway_order_closed',
        {
          before: order.status,
        },
      );
    }

    // Paid. Money the gateway took is posted even for an order we had marked expired or closed.
    const { payment, replay } = await takePayment(trx, ctx, accountId, {
      amountFen: orderFen,
      channel: order.channel,
      source: 'gateway',
      externalRef: notice.txnId!,
      note: `网上支付 ${order.order_no}`,
    });
    const response = {
      code: 'SUCCESS',
      message: 'OK',
      orderNo: order.order_no,
      status: 'paid',
      paymentId: payment.paymentId,
      paymentNo: payment.paymentNo,
    };
    const saved = await trx
      .updateTable('gateway_order')
      .set({
        status: 'paid',
        gateway_txn_id: notice.txnId,
        payment_id: payment.paymentId,
        paid_at: new Date(),
        response: JSON.stringify(response),
      })
      .where('account_id', '=', accountId)
      .where('order_id', '=', order.order_id)
      .returning('response')
      .executeTakeFirstOrThrow();
    const answer = saved.response as Record<string, unknown>;
    return finish(
      { httpStatus: 200, response: answer, outcome: 'paid', replay: false },
      'gateway_order_paid',
      {
        before: order.status,
        paymentId: payment.paymentId,
        paymentReplay: replay,
      },
    );
  });
}

/** Online payment orders, the gateway's callback, and whatever pages the gateway serves itself. */
export async function gatewayRoutes(app: FastifyInstance, { db, config }: AppDeps): Promise<void> {
  const gateway = await gatewayFromConfig({ db, config });
  const r = app.withTypeProvider<ZodTypeProvider>();
  const accountParams = z.object({ accountId: id });

  r.post(
    '/api/customers/:accountId/gateway-orders',
    {
      config: { permission: 'payment.take' },
      schema: {
        tags,
        summary: 'Open an online payment order (网上支付) with the configured gateway; returns the pay URL',
        description:
          'Needs an Idempotency-Key header. `amountFen` defaults to what the customer owes now (409 ' +
          'GATEWAY_NOTHING_OWED when that is nothing). The customer pays at `payUrl`; the gateway’s callback ' +
          'posts the payment. Poll GET …/gateway-orders/{orderId} for the status.',
        params: accountParams,
        body: z
          .object({
            amountFen: z.number().int().positive().max(MAX_ORDER_FEN).optional(),
            channel: z.enum(GATEWAY_CHANNELS).default('online'),
          })
          .default({ channel: 'online' }),
      },
    },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      if (key === undefined) throw keyRequired();
      const body = request.body ?? { channel: 'online' as const };
      return idempotent(db, request, reply, async (trx) => {
        const run = (t: Transaction<DB>) =>
          createGatewayOrder(t, request.ctx, gateway, request.params.accountId, {
            ...body,
            idempotencyKey: String(key),
          });
        const view = await (trx ? run(trx) : db.transaction().execute(run));
        return { status: 201, body: view };
      });
    },
  );

  r.get(
    '/api/customers/:accountId/gateway-orders',
    {
      config: { permission: 'customer.read' },
      schema: { tags, summary: 'The customer’s online payment orders, newest first', params: accountParams },
    },
    async (request) => {
      const ids = await db
        .selectFrom('gateway_order')
        .select('order_id')
        .where('account_id', '=', request.params.accountId)
        .orderBy('order_id', 'desc')
        .limit(100)
        .execute();
      const items: GatewayOrderView[] = [];
      for (const o of ids)
        items.push(await gatewayOrderView(db, request.params.accountId, Number(o.order_id)));
      return { items };
    },
  );

  r.get(
    '/api/customers/:accountId/gateway-orders/:orderId',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary:
          'One online payment order: its status (created, paid, failed, expired) and the payment it posted',
        params: z.object({ accountId: id, orderId: id }),
      },
    },
    async (request) => gatewayOrderView(db, request.params.accountId, request.params.orderId),
  );

  // The callback reads its body as raw bytes: the signature covers them, not a re-serialised copy.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: MAX_CALLBACK_BYTES },
      (_req, body, done) => done(null, body),
    );
    scope.post(
      '/api/gateway/callback',
      {
        config: { public: true },
        schema: {
          tags,
          summary: 'The payment gateway’s notification (public; trusted only when its signature verifies)',
          description:
            'Answers 200 {code: "SUCCESS"} once the notification is handled, and the same answer to every repeat; ' +
            '401 for a bad signature, 400 for an amount that differs from the order, 404 for an unknown order, 409 ' +
            'for a second transaction on a paid order. Every call is logged in gateway_callback. See ' +
            'docs/payments-gateway.md for the sandbox’s signature headers.',
        },
      },
      async (request, reply) => {
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const out = await handleGatewayCallback(db, gateway, request.ctx, request.headers, raw);
        return reply.status(out.httpStatus).send(out.response);
      },
    );
  });

  if (gateway.routes) await gateway.routes(app);
}
