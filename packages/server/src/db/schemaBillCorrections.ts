import type { ColumnType, Generated } from 'kysely';

/** Tables of migration 0008_bill_corrections.sql (docs/billing.md "Corrections (cancel-and-rebill)"). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export type BillCorrectionStatus = 'requested' | 'approved' | 'rejected';
export type BillCorrectionSource = 'request' | 'reading_correction';

export interface BillCorrectionTable {
  account_id: number;
  correction_id: Generated<number>;
  bill_id: number;
  source: Defaulted<BillCorrectionSource>;
  reading_correction_id: number | null;
  reason: string;
  requested_by: number;
  requested_at: Timestamp;
  status: Defaulted<BillCorrectionStatus>;
  decided_by: number | null;
  decided_at: Date | null;
  decision_note: Defaulted<string>;
  cancelled_bill_ids: Defaulted<number[]>;
  new_bill_ids: Defaulted<number[]>;
  old_total_fen: number | null;
  new_total_fen: number | null;
  difference_fen: number | null;
  /** The domain's BillCorrectionDifference. */
  difference: unknown;
}

export interface BillCorrectionTables {
  bill_correction: BillCorrectionTable;
}
