import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { ServerConfig } from '../../config.ts';
import type { DB } from '../../db/schema.ts';

/**
 * An online payment gateway (docs/payments-gateway.md), in the manner of Medusa's payment providers:
 * the server opens an order with it and later trusts only the callbacks it can verify. One
 * implementation per gateway (sandbox.ts; WeChat Pay and Alipay would sit beside it), chosen by
 * configuration (PAYMENT_GATEWAY), never by the environment the process runs in.
 */

/** The customer an order is for, as far as a gateway needs to know (the checkout page shows it). */
export interface GatewayAccount {
  accountId: number;
  customerCode: string;
  name: string;
}

export interface CreatedGatewayOrder {
  /** Where the customer pays: the gateway's checkout page (or a QR code's content). */
  payUrl: string;
  /** The gateway's own id for the order (WeChat prepay_id, Alipay trade_no before payment). */
  gatewayOrderId: string;
}

/** A verified callback, translated from the gateway's wording into ours. */
export interface GatewayNotice {
  gatewayOrderId: string;
  /** Our order number (out_trade_no), as sent to createOrder. */
  orderNo: string;
  /** 'paid': the money was taken; 'closed': the customer cancelled or the order lapsed unpaid. */
  status: 'paid' | 'closed';
  /** The gateway's transaction id: the payment's external_ref, posted once per transaction. Set when paid. */
  txnId: string | null;
  amountFen: number;
  /** How the customer paid, when the gateway says (a WeChat or Alipay wallet inside an aggregator). */
  channel?: 'online' | 'wechat' | 'alipay';
}

export type CallbackRefusal = 'bad_signature' | 'bad_payload';

/** verifyCallback's answer: the notice, or why the callback cannot be trusted (nothing is posted). */
export type CallbackCheck =
  | { ok: true; notice: GatewayNotice }
  | { ok: false; refusal: CallbackRefusal; detail: string };

export type CallbackHeaders = Record<string, string | string[] | undefined>;

export interface PaymentGateway {
  /** As stored in gateway_order.gateway and gateway_callback.gateway. */
  readonly name: string;
  /** Opens an order for `amountFen` under our order number; returns where the customer pays it. */
  createOrder(account: GatewayAccount, amountFen: number, orderNo: string): Promise<CreatedGatewayOrder>;
  /**
   * Checks a callback's signature over the exact bytes received (rawBody, never re-serialised JSON)
   * and reads it. A refusal means nothing in it may be believed.
   */
  verifyCallback(headers: CallbackHeaders, rawBody: Buffer): Promise<CallbackCheck>;
  /** The headers worth keeping in the callback log (timestamp, nonce, signature, serial). */
  signatureHeaders(headers: CallbackHeaders): Record<string, string>;
  /** Pages the gateway serves itself (the sandbox's checkout page); real gateways serve none. */
  routes?(app: FastifyInstance): Promise<void>;
}

/** Everything a gateway may be built from. */
export interface GatewayDeps {
  db: Kysely<DB>;
  config: ServerConfig;
}

/** The gateway names PAYMENT_GATEWAY accepts. A real gateway adds itself here. */
export const GATEWAY_NAMES = ['sandbox'] as const;

/** The configured gateway (config.paymentGateway, from PAYMENT_GATEWAY; 'sandbox' when unset). */
export async function gatewayFromConfig(deps: GatewayDeps): Promise<PaymentGateway> {
  const name = deps.config.paymentGateway ?? 'sandbox';
  switch (name) {
    case 'sandbox': {
      const { SandboxGateway } = await import('./sandbox.ts');
      return new SandboxGateway(deps);
    }
    default:
      throw new Error(
        `PAYMENT_GATEWAY must be one of ${GATEWAY_NAMES.join(', ')}, got "${name}" (see docs/payments-gateway.md)`,
      );
  }
}

/** One header's value as text (the first, if it came more than once). */
export function headerText(headers: CallbackHeaders, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
