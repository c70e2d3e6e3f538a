import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import { yuanText } from '../../billing/engine.ts';
import type {
  CallbackCheck,
  CallbackHeaders,
  CreatedGatewayOrder,
  GatewayAccount,
  GatewayDeps,
  PaymentGateway,
} from './gateway.ts';
import { headerText } from './gateway.ts';

/**
 * The local sandbox gateway (docs/payments-gateway.md "The sandbox"): a stand-in for WeChat Pay or
 * Alipay that runs inside the server. It serves a checkout page at /sandbox-gateway/checkout/:id
 * with 确认支付 and 取消; either button sends a signed callback to POST /api/gateway/callback
 * through the server's own HTTP pipeline, exactly as a real gateway's notification would arrive.
 *
 * Signature: HMAC-SHA256 with the sandbox's secret key over
 *   `${timestamp}\n${nonce}\n${rawBody}\n`
 * (the message layout of WeChat Pay API v3), hex-encoded, in the headers below. A callback more
 * than CALLBACK_TOLERANCE_S away from the server's clock is refused.
 */

export const SANDBOX_HEADERS = {
  timestamp: 'x-sandbox-timestamp',
  nonce: 'x-sandbox-nonce',
  signature: 'x-sandbox-signature',
} as const;

/** How far a callback's timestamp may be from now, either way. */
export const CALLBACK_TOLERANCE_S = 300;
/** Setting-table key of the generated signing key (migration 0014). */
export const SANDBOX_SECRET_SETTING = 'gateway.sandbox.secretKey';
const MAX_BODY_BYTES = 16 * 1024;

const noticeBody = z.object({
  event: z.enum(['order.paid', 'order.closed']),
  gatewayOrderId: z.string().min(1).max(64),
  orderNo: z.string().min(1).max(64),
  txnId: z.string().min(1).max(64).nullable(),
  amountFen: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  channel: z.enum(['online', 'wechat', 'alipay']).optional(),
  at: z.string().optional(),
});
export type SandboxNoticeBody = z.infer<typeof noticeBody>;

/** The signature of one callback body (hex HMAC-SHA256 over timestamp, nonce and the raw body). */
export function sandboxSignature(
  secret: string,
  timestampS: string,
  nonce: string,
  rawBody: string | Buffer,
): string {
  return createHmac('sha256', secret)
    .update(`${timestampS}\n${nonce}\n`)
    .update(rawBody)
    .update('\n')
    .digest('hex');
}

/** The headers that sign `rawBody`: what the sandbox sends, and what the tests forge or tamper with. */
export function signSandboxCallback(
  secret: string,
  rawBody: string,
  opts: { timestampS?: number; nonce?: string } = {},
): Record<string, string> {
  const timestamp = String(opts.timestampS ?? Math.floor(Date.now() / 1000));
  const nonce = opts.nonce ?? randomBytes(16).toString('hex');
  return {
    'content-type': 'application/json',
    [SANDBOX_HEADERS.timestamp]: timestamp,
    [SANDBOX_HEADERS.nonce]: nonce,
    [SANDBOX_HEADERS.signature]: sandboxSignature(secret, timestamp, nonce, rawBody),
  };
}

/** The sandbox's signing key: SANDBOX_GATEWAY_SECRET, else the one kept in the setting table. */
export async function sandboxSecret({ db, config }: GatewayDeps): Promise<string> {
  if (config.sandboxGatewaySecret) return config.sandboxGatewaySecret;
  const read = async () =>
    (
      await sql<{ value: unknown }>`select value from setting where key = ${SANDBOX_SECRET_SETTING}
        order by effective_from desc limit 1`.execute(db)
    ).rows[0]?.value;
  let value = await read();
  if (typeof value !== 'string' || value.length < 32) {
    // The migration generates it; this covers a database where someone removed it.
    const fresh = randomBytes(32).toString('hex');
    await sql`insert into setting (key, effective_from, value) values (${SANDBOX_SECRET_SETTING}, date '2000-01-01',
      ${JSON.stringify(fresh)}::jsonb) on conflict (key, effective_from) do update set value = excluded.value
      where length(setting.value #>> '{}') < 32`.execute(db);
    value = await read();
  }
  if (typeof value !== 'string') throw new Error('the sandbox gateway has no signing key');
  return value;
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** Shows a customer name the way gateways do: the family name and stars. */
const maskedName = (name: string) =>
  name.length <= 1 ? name : `${name.slice(0, 1)}${'*'.repeat(Math.min(3, name.length - 1))}`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;background:#f3f5f7;margin:0}
main{max-width:420px;margin:48px auto;background:#fff;border-radius:8px;padding:24px 28px;box-shadow:0 1px 4px #0002}
h1{font-size:18px;margin:0 0 4px}.tag{color:#b45309;font-size:12px}
.amount{font-size:32px;font-weight:600;margin:20px 0}dl{display:grid;grid-template-columns:auto 1fr;gap:6px 16px;color:#444}
dt{color:#888}form{display:inline}button{font-size:16px;padding:10px 24px;border-radius:6px;border:1px solid #ccc;
background:#fff;cursor:pointer;margin:20px 12px 0 0}button.pay{background:#16a34a;border-color:#16a34a;color:#fff}
.ok{color:#16a34a}.bad{color:#dc2626}pre{background:#f6f6f6;padding:8px;font-size:12px;white-space:pre-wrap}
</style></head><body><main>${body}</main></body></html>`;
}

interface SandboxOrderRow {
  account_id: string;
  order_no: string;
  amount_fen: string;
  channel: 'online' | 'wechat' | 'alipay';
  status: string;
  expired: boolean;
  name: string;
}

export class SandboxGateway implements PaymentGateway {
  readonly name = 'sandbox';
  private secret: Promise<string> | null = null;

  constructor(private readonly deps: GatewayDeps) {}

  /** The signing key, read once. */
  key(): Promise<string> {
    this.secret ??= sandboxSecret(this.deps).catch((error) => {
      this.secret = null;
      throw error;
    });
    return this.secret;
  }

  async createOrder(
    _account: GatewayAccount,
    amountFen: number,
    orderNo: string,
  ): Promise<CreatedGatewayOrder> {
    if (!Number.isSafeInteger(amountFen) || amountFen <= 0) throw new Error('amount must be positive fen');
    if (!/^[\w-]{1,32}$/.test(orderNo)) throw new Error('order numbers are 1–32 letters, digits, _ or -');
    const gatewayOrderId = `SBX${randomBytes(12).toString('hex')}`;
    return { gatewayOrderId, payUrl: `/sandbox-gateway/checkout/${gatewayOrderId}` };
  }

  signatureHeaders(headers: CallbackHeaders): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of Object.values(SANDBOX_HEADERS)) {
      const v = headerText(headers, name);
      if (v !== undefined) out[name] = v.slice(0, 200);
    }
    return out;
  }

  async verifyCallback(headers: CallbackHeaders, rawBody: Buffer): Promise<CallbackCheck> {
    const timestamp = headerText(headers, SANDBOX_HEADERS.timestamp) ?? '';
    const nonce = headerText(headers, SANDBOX_HEADERS.nonce) ?? '';
    const signature = headerText(headers, SANDBOX_HEADERS.signature) ?? '';
    if (!/^\d{1,12}$/.test(timestamp) || !/^[\w-]{8,64}$/.test(nonce) || !/^[0-9a-f]{64}$/.test(signature))
      return { ok: false, refusal: 'bad_signature', detail: 'signature headers missing or malformed' };
    if (Math.abs(Date.now() / 1000 - Number(timestamp)) > CALLBACK_TOLERANCE_S)
      return { ok: false, refusal: 'bad_signature', detail: 'timestamp outside the allowed window' };
    const expected = Buffer.from(sandboxSignature(await this.key(), timestamp, nonce, rawBody), 'hex');
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex')))
      return { ok: false, refusal: 'bad_signature', detail: 'signature does not match' };
    if (rawBody.length > MAX_BODY_BYTES)
      return { ok: false, refusal: 'bad_payload', detail: 'body too large' };
    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return { ok: false, refusal: 'bad_payload', detail: 'body is not JSON' };
    }
    const parsed = noticeBody.safeParse(json);
    if (!parsed.success)
      return { ok: false, refusal: 'bad_payload', detail: parsed.error.message.slice(0, 500) };
    const b = parsed.data;
    if (b.event === 'order.paid' && !b.txnId)
      return { ok: false, refusal: 'bad_payload', detail: 'a paid notice needs a txnId' };
    return {
      ok: true,
      notice: {
        gatewayOrderId: b.gatewayOrderId,
        orderNo: b.orderNo,
        status: b.event === 'order.paid' ? 'paid' : 'closed',
        txnId: b.event === 'order.paid' ? b.txnId : null,
        amountFen: b.amountFen,
        channel: b.channel,
      },
    };
  }

  /**
   * The checkout page and its two buttons. The sandbox reads the order from gateway_order (a real
   * gateway keeps its own copy); it may be opened by anyone holding the link, like a real one.
   */
  async routes(app: FastifyInstance): Promise<void> {
    await app.register(async (scope) => {
      // The buttons post plain forms with nothing in them.
      scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, _b, done) =>
        done(null, {}),
      );
      const loadOrder = async (gatewayOrderId: string) =>
        (
          await sql<SandboxOrderRow>`
            select o.account_id::text, o.order_no, o.amount_fen::text, o.channel, o.status,
                   (o.status = 'created' and o.expires_at < now()) as expired, c.name
            from gateway_order o join customer c on c.account_id = o.account_id
            where o.gateway = 'sandbox' and o.gateway_order_id = ${gatewayOrderId}`.execute(this.deps.db)
        ).rows[0];
      const params = z.object({ orderId: z.string().regex(/^SBX[0-9a-f]{24}$/) });
      const notFoundPage = page('订单不存在', '<h1>沙箱收银台</h1><p class="bad">订单不存在或链接有误。</p>');

      scope.get('/sandbox-gateway/checkout/:orderId', { schema: { hide: true } }, async (request, reply) => {
        reply.type('text/html; charset=utf-8');
        const p = params.safeParse(request.params);
        const order = p.success ? await loadOrder(p.data.orderId) : undefined;
        if (!p.success || !order) return reply.status(404).send(notFoundPage);
        const id = p.data.orderId;
        const amount = yuanText(Number(order.amount_fen));
        const state =
          order.status === 'paid'
            ? '<p class="ok">该订单已支付。</p>'
            : order.status === 'failed'
              ? '<p class="bad">该订单已取消。</p>'
              : order.expired || order.status === 'expired'
                ? '<p class="bad">该订单已过期，请回到营业系统重新发起支付。</p>'
                : `<form method="post" action="/sandbox-gateway/checkout/${id}/pay"><button class="pay" type="submit">确认支付</button></form>
<form method="post" action="/sandbox-gateway/checkout/${id}/cancel"><button type="submit">取消</button></form>`;
        return page(
          '沙箱收银台',
          `<h1>沙箱收银台</h1><div class="tag">测试环境：不会真实扣款</div>
<div class="amount">¥ ${escapeHtml(amount)}</div>
<dl><dt>商户订单号</dt><dd>${escapeHtml(order.order_no)}</dd><dt>网关订单号</dt><dd>${escapeHtml(id)}</dd>
<dt>户名</dt><dd>${escapeHtml(maskedName(order.name))}</dd></dl>${state}`,
        );
      });

      const act =
        (event: 'order.paid' | 'order.closed') =>
        async (request: { params: unknown }, reply: import('fastify').FastifyReply) => {
          reply.type('text/html; charset=utf-8');
          const p = params.safeParse(request.params);
          const order = p.success ? await loadOrder(p.data.orderId) : undefined;
          if (!p.success || !order) return reply.status(404).send(notFoundPage);
          const id = p.data.orderId;
          if (
            event === 'order.paid' &&
            (order.expired || order.status === 'expired' || order.status === 'failed')
          )
            return page('无法支付', '<h1>沙箱收银台</h1><p class="bad">该订单已过期或已取消，不能支付。</p>');
          const body = JSON.stringify({
            event,
            gatewayOrderId: id,
            orderNo: order.order_no,
            // One transaction per order: paying twice (a double click) reports the same transaction.
            txnId: event === 'order.paid' ? `SBXT${id.slice(3)}` : null,
            amountFen: Number(order.amount_fen),
            channel: order.channel,
            at: new Date().toISOString(),
          } satisfies SandboxNoticeBody);
          const res = await scope.inject({
            method: 'POST',
            url: '/api/gateway/callback',
            headers: signSandboxCallback(await this.key(), body),
            payload: body,
          });
          const ok = res.statusCode === 200;
          const headline =
            event === 'order.paid'
              ? ok
                ? '<p class="ok">支付成功。请关闭本页，回到营业系统。</p>'
                : '<p class="bad">支付结果未被商户接受。</p>'
              : ok
                ? '<p>已取消支付。请关闭本页。</p>'
                : '<p class="bad">取消通知未被商户接受。</p>';
          return page(
            event === 'order.paid' ? '支付结果' : '已取消',
            `<h1>沙箱收银台</h1>${headline}<p>商户回应（HTTP ${res.statusCode}）：</p><pre>${escapeHtml(res.body)}</pre>`,
          );
        };
      scope.post('/sandbox-gateway/checkout/:orderId/pay', { schema: { hide: true } }, act('order.paid'));
      scope.post(
        '/sandbox-gateway/checkout/:orderId/cancel',
        { schema: { hide: true } },
        act('order.closed'),
      );
    });
  }
}
