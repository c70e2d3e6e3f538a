import type { ColumnType, Generated } from 'kysely';

/** Tables of migration 0010_late_fees_charges.sql (docs/billing.md "Late fees and other charges"). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface LateFeeTable {
  account_id: number;
  bill_id: number;
  principal_fen: number;
  due_on: string;
  rate_per_day: string;
  grace_days: number;
  cap_ratio: string | null;
  days: Defaulted<number>;
  accrued_fen: Defaulted<number>;
  accrued_through: string;
  waived_fen: Defaulted<number>;
  paid_fen: Defaulted<number>;
  accrual_stopped: Defaulted<boolean>;
  run_id: number | null;
  updated_at: Timestamp;
}

export interface LateFeeWaiverTable {
  account_id: number;
  waiver_id: Generated<number>;
  bill_id: number;
  amount_fen: number;
  reason: string;
  stop_accrual: Defaulted<boolean>;
  accrued_fen: number;
  waived_by: number;
  waived_at: Timestamp;
}

export type LateFeeRunStatus = 'running' | 'done' | 'failed';

export interface LateFeeRunTable {
  run_id: Generated<number>;
  run_date: string;
  status: Defaulted<LateFeeRunStatus>;
  rate_per_day: string;
  grace_days: number;
  cap_ratio: string | null;
  bills_examined: Defaulted<number>;
  bills_charged: Defaulted<number>;
  accrued_fen: Defaulted<number>;
  accrued_delta_fen: Defaulted<number>;
  cursor_account_id: Defaulted<number>;
  cursor_bill_id: Defaulted<number>;
  error: Defaulted<string>;
  via: Defaulted<'server' | 'cli' | 'ui'>;
  requested_by: number | null;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
  finished_at: Date | null;
}

export interface FeeCatalogueTable {
  code: string;
  name_zh: string;
  name_en: string;
  kind: string;
  default_amount_fen: number | null;
  taxable: Defaulted<boolean>;
  active: Defaulted<boolean>;
  sort_order: Defaulted<number>;
  revision: Defaulted<number>;
  updated_by: number | null;
  updated_at: Timestamp;
}

export interface LateFeeTables {
  late_fee: LateFeeTable;
  late_fee_waiver: LateFeeWaiverTable;
  late_fee_run: LateFeeRunTable;
  fee_catalogue: FeeCatalogueTable;
}
