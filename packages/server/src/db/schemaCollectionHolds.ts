import type { ColumnType, Generated } from 'kysely';

/** Tables of migration 0019_disputes_installments.sql (docs/arrears.md). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export type DisputeStatus = 'open' | 'passed_on' | 'upheld' | 'rejected';
export type InstallmentStatus = 'requested' | 'approved' | 'signed' | 'completed' | 'defaulted' | 'rejected';

export interface DisputeCategoryTable {
  code: string;
  name_zh: string;
  name_en: string;
  sort: Defaulted<number>;
}

export interface DisputeTable {
  account_id: number;
  dispute_id: Generated<number>;
  office_id: number;
  category: string;
  description: string;
  claim: string;
  disputed_fen: number;
  status: Defaulted<DisputeStatus>;
  passed_to: Defaulted<string>;
  recorded_by: number;
  recorded_at: Timestamp;
  reviewed_by: number | null;
  reviewed_at: Date | null;
  decided_by: number | null;
  decided_at: Date | null;
  review_note: Defaulted<string>;
  idempotency_key: string | null;
}

export interface DisputeBillTable {
  account_id: number;
  dispute_id: number;
  bill_id: number;
  disputed_fen: number;
}

export interface InstallmentAgreementTable {
  account_id: number;
  agreement_id: Generated<number>;
  agreement_no: string;
  office_id: number;
  status: Defaulted<InstallmentStatus>;
  debt_fen: number;
  paid_before_fen: Defaulted<number>;
  installments: number;
  reason: Defaulted<string>;
  requested_by: number;
  requested_at: Timestamp;
  decided_by: number | null;
  decided_at: Date | null;
  decision_note: Defaulted<string>;
  signed_by: number | null;
  signed_at: Date | null;
  completed_at: Date | null;
  defaulted_at: Date | null;
  defaulted_seq: number | null;
  idempotency_key: string | null;
}

export interface InstallmentBillTable {
  account_id: number;
  agreement_id: number;
  bill_id: number;
  owed_fen: number;
}

export interface InstallmentItemTable {
  account_id: number;
  agreement_id: number;
  seq: number;
  due_on: string;
  amount_fen: number;
}

/** View: what is held out of escalation (disputes undecided, installment agreements signed). */
export interface CollectionHoldView {
  account_id: number;
  bill_id: number | null;
  held_fen: number;
  kind: 'dispute' | 'installment';
  ref_id: number;
}

export interface ArrearsSnapshotTable {
  office_id: number;
  snapshot_on: string;
  basis: 'cycles' | 'days';
  bucket: string;
  meters: number;
  accounts: number;
  amount_fen: number;
  derived: Defaulted<boolean>;
  taken_at: Timestamp;
}

export interface CollectionHoldTables {
  dispute_category: DisputeCategoryTable;
  dispute: DisputeTable;
  dispute_bill: DisputeBillTable;
  installment_agreement: InstallmentAgreementTable;
  installment_bill: InstallmentBillTable;
  installment_item: InstallmentItemTable;
  collection_hold: CollectionHoldView;
  arrears_snapshot: ArrearsSnapshotTable;
}
