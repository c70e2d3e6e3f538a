import type { ColumnType, Generated } from 'kysely';

/** Tables of migration 0014_gateway.sql (docs/payments-gateway.md). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;
type Json = ColumnType<unknown, string, string>;

export type GatewayOrderStatus = 'created' | 'paid' | 'failed' | 'expired';
export type GatewayChannel = 'online' | 'wechat' | 'alipay';
export type GatewayCallbackOutcome =
  | 'paid'
  | 'failed'
  | 'replay'
  | 'bad_signature'
  | 'bad_payload'
  | 'unknown_order'
  | 'amount_mismatch'
  | 'conflict';

export interface GatewayOrderTable {
  account_id: number;
  order_id: Generated<number>;
  order_no: string;
  gateway: string;
  channel: Defaulted<GatewayChannel>;
  amount_fen: number;
  status: Defaulted<GatewayOrderStatus>;
  gateway_order_id: string | null;
  pay_url: string | null;
  gateway_txn_id: string | null;
  payment_id: number | null;
  response: ColumnType<unknown, string | null | undefined, string | null>;
  idempotency_key: string | null;
  expires_at: Timestamp;
  paid_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  created_by: number | null;
  created_at: Timestamp;
}

export interface GatewayCallbackTable {
  callback_id: Generated<number>;
  gateway: string;
  account_id: number | null;
  order_id: number | null;
  headers: Json;
  raw_body: string;
  signature_ok: boolean;
  outcome: GatewayCallbackOutcome;
  http_status: number;
  response: Json;
  received_at: Timestamp;
}

export interface GatewayTables {
  gateway_order: GatewayOrderTable;
  gateway_callback: GatewayCallbackTable;
}
