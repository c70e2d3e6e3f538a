import type { ColumnType, Generated } from 'kysely';

/** Tables of migration 0012_payments.sql (docs/payments.md). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;
type Json = ColumnType<unknown, string, string>;

export type PaymentSource = 'counter' | 'bank_file' | 'gateway';
export type PaymentPurpose = 'bills' | 'deposit' | 'prepayment';
export type ReceiptKind = 'slip' | 'invoice' | 'installation_invoice' | 'prepayment_receipt' | 'vat_invoice';
export type DepositKind = 'large_user' | 'developer' | 'household';
export type PaymentRequestKind = 'reversal' | 'refund' | 'deposit_refund' | 'deposit_apply';

export interface PaymentTable {
  account_id: number;
  payment_id: Generated<number>;
  payment_no: string;
  channel: string;
  source: Defaulted<PaymentSource>;
  purpose: Defaulted<PaymentPurpose>;
  amount_fen: number;
  office_id: number;
  business_day: string;
  received_by: number | null;
  confirmed_by: number | null;
  status: Defaulted<'posted' | 'reversed'>;
  posting_id: number;
  external_ref: string | null;
  idempotency_key: string | null;
  close_id: number | null;
  note: Defaulted<string>;
  created_at: Timestamp;
}

export interface LedgerPostingTable {
  account_id: number;
  posting_id: Generated<number>;
  kind: string;
  reverses_posting_id: number | null;
  payment_id: number | null;
  reason: Defaulted<string>;
  created_by: number | null;
  approved_by: number | null;
  created_at: Timestamp;
}

export interface LedgerLineTable {
  account_id: number;
  posting_id: number;
  line_no: number;
  ledger_account: string;
  debit_fen: Defaulted<number>;
  credit_fen: Defaulted<number>;
  bill_id: number | null;
  part: 'principal' | 'late_fee' | null;
  code: string | null;
}

export interface ReceiptSequenceTable {
  kind: string;
  year: number;
  last_no: Defaulted<number>;
}

export interface ReceiptTable {
  account_id: number;
  receipt_id: Generated<number>;
  kind: ReceiptKind;
  receipt_no: string;
  payment_id: number | null;
  amount_fen: number;
  status: Defaulted<'issued' | 'taken_back' | 'voided'>;
  replaces_receipt_id: number | null;
  buyer: Json | null;
  issued_by: number | null;
  issued_at: Timestamp;
  taken_back_by: number | null;
  taken_back_at: Date | null;
}

export interface VatInvoiceRequestTable {
  account_id: number;
  request_id: Generated<number>;
  payment_id: number;
  buyer: Json;
  status: Defaulted<'requested' | 'issued' | 'rejected'>;
  receipt_id: number | null;
  requested_by: number | null;
  requested_at: Timestamp;
  decided_by: number | null;
  decided_at: Date | null;
  note: Defaulted<string>;
}

export interface DepositTable {
  account_id: number;
  deposit_id: Generated<number>;
  kind: DepositKind;
  amount_fen: number;
  payment_id: number;
  status: Defaulted<'held' | 'applied' | 'refunded'>;
  settled_posting_id: number | null;
  created_at: Timestamp;
}

export interface PaymentRequestTable {
  account_id: number;
  request_id: Generated<number>;
  kind: PaymentRequestKind;
  payment_id: number | null;
  deposit_id: number | null;
  amount_fen: number;
  channel: string | null;
  reason: string;
  status: Defaulted<'pending' | 'approved' | 'rejected'>;
  office_id: number;
  requested_by: number;
  requested_at: Timestamp;
  decided_by: number | null;
  decided_at: Date | null;
  decision_note: Defaulted<string>;
  posting_id: number | null;
}

export interface CashierCloseTable {
  close_id: Generated<number>;
  office_id: number;
  staff_id: number;
  business_day: string;
  system_by_channel: Json;
  payments: number;
  system_cash_fen: number;
  counted_cash_fen: number;
  difference_fen: number;
  difference_reason: Defaulted<string>;
  bank_voucher_no: Defaulted<string>;
  handed_over_fen: Defaulted<number>;
  note: Defaulted<string>;
  closed_at: Timestamp;
}

export interface PaymentTables {
  payment: PaymentTable;
  ledger_posting: LedgerPostingTable;
  ledger_line: LedgerLineTable;
  receipt_sequence: ReceiptSequenceTable;
  receipt: ReceiptTable;
  vat_invoice_request: VatInvoiceRequestTable;
  deposit: DepositTable;
  payment_request: PaymentRequestTable;
  cashier_close: CashierCloseTable;
}
