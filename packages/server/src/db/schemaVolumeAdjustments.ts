import type { ColumnType, Generated } from 'kysely';

/** Tables of migration 0009_volume_adjustments.sql (docs/billing.md "Volume adjustments"). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export type VolumeAdjustmentStatus = 'requested' | 'checked' | 'approved' | 'rejected';
export type VolumeAdjustmentBasis = 'original_record' | 'regulation' | 'meter_test' | 'site_check' | 'other';

export interface VolumeAdjustmentTable {
  account_id: number;
  adjustment_id: Generated<number>;
  order_no: string;
  kind: 'reduce' | 'supplement';
  meter_id: number;
  bill_id: number | null;
  period_from: string;
  period_to: string;
  volume_m3: string;
  billed_m3: string;
  adjusted_m3: string;
  basis: VolumeAdjustmentBasis;
  basis_note: string;
  amount_fen: number;
  status: Defaulted<VolumeAdjustmentStatus>;
  requested_by: number;
  requested_at: Timestamp;
  checked_by: number | null;
  checked_at: Date | null;
  check_note: Defaulted<string>;
  decided_by: number | null;
  decided_at: Date | null;
  decision_note: Defaulted<string>;
  result_bill_id: number | null;
}

export interface VolumeAdjustmentTables {
  volume_adjustment: VolumeAdjustmentTable;
}
