import type { ColumnType, Generated } from 'kysely';

/** Tables of migration 0006_billing.sql (docs/billing.md): numeric as strings, int8 as numbers. */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface TariffTable {
  usage_type_code: string;
  charge_name_zh: string;
  charge_name_en: string;
  revision: Defaulted<number>;
  updated_by: number | null;
  updated_at: Timestamp;
}

export interface TariffVersionTable {
  usage_type_code: string;
  version: string;
  effective_from: string;
  effective_to: string | null;
  /** { charge, surcharges, minimumChargeFenPerMonth } of the domain's TariffVersion. */
  body: unknown;
}

export type BillRunScope = 'book' | 'zone' | 'office' | 'all';
export type BillRunStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

export interface BillRunTable {
  run_id: Generated<number>;
  scope: BillRunScope;
  office_id: number | null;
  book_id: number | null;
  zone: string | null;
  up_to: string;
  dry_run: Defaulted<boolean>;
  status: Defaulted<BillRunStatus>;
  candidates: Defaulted<number>;
  processed: Defaulted<number>;
  billed: Defaulted<number>;
  exceptions: Defaulted<number>;
  amount_fen: Defaulted<number>;
  volume_m3: Defaulted<string>;
  cursor_account_id: Defaulted<number>;
  cursor_reading_id: Defaulted<number>;
  error: Defaulted<string>;
  requested_by: number | null;
  /** 0007: the offices the run may bill (the caller's when started); null: every office. */
  office_ids: number[] | null;
  accounts_total: Defaulted<number>;
  accounts_done: Defaulted<number>;
  sms_queued: Defaulted<number>;
  /** By usage type: { [code]: { bills, volumeM3, amountFen } }. */
  totals: Defaulted<unknown>;
  created_at: Timestamp;
  started_at: Date | null;
  heartbeat_at: Date | null;
  finished_at: Date | null;
}

export interface BillRunExceptionTable {
  run_id: number;
  account_id: number;
  reading_id: number;
  code: string;
  message_zh: string;
  message_en: string;
}

export interface BillTable {
  account_id: number;
  bill_id: Generated<number>;
  bill_no: string;
  kind: Defaulted<'consumption' | 'other' | 'adjustment'>;
  meter_id: number | null;
  reading_id: number | null;
  run_id: number | null;
  usage_type_code: string | null;
  period: string;
  period_from: string;
  period_to: string;
  start_index: string | null;
  end_index: string | null;
  consumption_m3: Defaulted<string>;
  sub_meters_m3: Defaulted<string>;
  low_income_m3: Defaulted<string>;
  payable_m3: Defaulted<string>;
  /** Integer fen (int8, read as a checked number: db/pg.ts). */
  amount_fen: number;
  /** 0010: what payments (and prepaid deductions) have settled of it, fen. */
  paid_fen: Defaulted<number>;
  block_year: number | null;
  block_used_before_m3: string | null;
  block_used_after_m3: string | null;
  due_on: string;
  status: Defaulted<'open' | 'cancelled'>;
  replaces_bill_id: number | null;
  cancelled_at: Date | null;
  cancelled_by: number | null;
  cancel_reason: Defaulted<string>;
  explanation: Defaulted<unknown>;
  created_by: number | null;
  created_at: Timestamp;
}

export interface BillLineTable {
  account_id: number;
  bill_id: number;
  line_no: number;
  kind: string;
  code: string;
  block_no: number | null;
  description_zh: string;
  description_en: string;
  volume_m3: Defaulted<string>;
  unit_price_fen: string | null;
  amount_fen: number;
  from_date: string | null;
  to_date: string | null;
  tariff_version: string | null;
}

export type OutboxChannel = 'sms' | 'voice' | 'letter';
export type OutboxStatus = 'pending' | 'sending' | 'sent' | 'delivered' | 'failed' | 'cancelled';

export interface OutboxMessageTable {
  account_id: number;
  message_id: Generated<number>;
  channel: OutboxChannel;
  recipient: string;
  template: string;
  body: string;
  dedupe_key: string;
  not_before: Timestamp;
  status: Defaulted<OutboxStatus>;
  attempts: Defaulted<number>;
  last_error: Defaulted<string>;
  created_at: Timestamp;
  sent_at: Date | null;
  /** The bill a notice or dunning message is about (0015_collections_outbox). */
  bill_id: Defaulted<number | null>;
  /** Cancelled, never sent, once the bill is paid. */
  stop_if_paid: Defaulted<boolean>;
  /** 'notice' (bill notice), 'dunning', 'letter', … */
  purpose: Defaulted<string>;
}

export interface BillingTables {
  tariff: TariffTable;
  tariff_version: TariffVersionTable;
  bill_run: BillRunTable;
  bill_run_exception: BillRunExceptionTable;
  bill: BillTable;
  bill_line: BillLineTable;
  outbox_message: OutboxMessageTable;
}
