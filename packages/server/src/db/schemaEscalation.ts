import type { ColumnType, Generated } from 'kysely';

/** Tables of migration 0020_escalation.sql (docs/escalation.md). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;
type Json = ColumnType<unknown, string, string>;

export type LetterDelivery = 'pending' | 'signed' | 'registered_post' | 'posted';
export type ShutoffRequestStatus = 'pending' | 'approved' | 'rejected' | 'withdrawn';
export type WorkOrderStatus = 'dispatched' | 'done' | 'mismatch' | 'obstructed' | 'cancelled';

export interface CollectionSequenceTable {
  kind: string;
  year: number;
  last_no: number;
}

export interface CollectionLetterTable {
  account_id: number;
  letter_id: Generated<number>;
  kind: 'formal' | 'lawyer' | 'gas_notice';
  letter_no: string;
  office_id: number;
  bills: Json;
  arrears_fen: number;
  issued_on: string;
  deadline_on: string;
  issued_by: number;
  issued_at: Timestamp;
  delivery: Defaulted<LetterDelivery>;
  signed_by_name: Defaulted<string>;
  delivered_on: string | null;
  tracking_no: Defaulted<string>;
  refusal_note: Defaulted<string>;
  delivery_recorded_by: number | null;
  delivery_recorded_at: Date | null;
  message_id: number | null;
  closed: Defaulted<boolean>;
}

export interface ShutoffRequestTable {
  account_id: number;
  request_id: Generated<number>;
  office_id: number;
  reason: Defaulted<string>;
  bills: Json;
  arrears_fen: number;
  arrears_months: number;
  status: Defaulted<ShutoffRequestStatus>;
  requested_by: number;
  requested_at: Timestamp;
  decided_by: number | null;
  decided_at: Date | null;
  decision_note: Defaulted<string>;
}

export interface CollectionWorkOrderTable {
  account_id: number;
  order_id: Generated<number>;
  kind: 'shutoff' | 'restore';
  order_no: string;
  office_id: number;
  request_id: number | null;
  restores_order_id: number | null;
  cause: 'payment' | 'installment' | null;
  meter_id: number | null;
  meter_no: Defaulted<string>;
  bills: ColumnType<unknown, string | undefined, string>;
  arrears_fen: Defaulted<number>;
  status: Defaulted<WorkOrderStatus>;
  action: 'valve_closed' | 'meter_removed' | 'restored' | null;
  confirmed_meter_no: Defaulted<string>;
  dispatched_at: Timestamp;
  dispatched_by: number | null;
  due_at: Date | null;
  completed_at: Date | null;
  completed_by: number | null;
  result_note: Defaulted<string>;
}

export interface InspectionReferralTable {
  account_id: number;
  referral_id: Generated<number>;
  office_id: number;
  order_id: number;
  reason: Defaulted<string>;
  note: Defaulted<string>;
  status: Defaulted<'open' | 'closed'>;
  created_by: number | null;
  created_at: Timestamp;
}

export interface ReconnectionCheckTable {
  account_id: number;
  check_id: Generated<number>;
  order_id: number;
  checked_on: string;
  outcome: 'intact' | 'reconnected';
  note: Defaulted<string>;
  checked_by: number;
  checked_at: Timestamp;
}

export interface EscalationTables {
  collection_sequence: CollectionSequenceTable;
  collection_letter: CollectionLetterTable;
  shutoff_request: ShutoffRequestTable;
  collection_work_order: CollectionWorkOrderTable;
  inspection_referral: InspectionReferralTable;
  reconnection_check: ReconnectionCheckTable;
}
