/** Shapes of the payments API (packages/server/src/payments); kept in step by hand. */

export interface OpenBill {
  billId: string;
  billNo: string;
  period: string;
  dueOn: string;
  unpaidFen: number;
  lateFeeFen: number;
}

export interface AccountPosition {
  accountId: number;
  customerCode: string;
  name: string;
  officeId: number;
  principalFen: number;
  lateFeeFen: number;
  creditFen: number;
  depositFen: number;
  dueFen: number;
  openBills: OpenBill[];
  deposits: { depositId: number; kind: string; amountFen: number; status: string; createdAt: string }[];
}

export interface ReceiptRef {
  receiptId: number;
  kind: string;
  receiptNo: string;
  status: 'issued' | 'taken_back' | 'voided';
  replacesReceiptId: number | null;
}

export interface Payment {
  accountId: number;
  paymentId: number;
  paymentNo: string;
  channel: string;
  source: 'counter' | 'bank_file' | 'gateway';
  purpose: 'bills' | 'deposit' | 'prepayment';
  amountFen: number;
  businessDay: string;
  status: 'posted' | 'reversed';
  receivedBy: string | null;
  confirmedBy: string | null;
  note: string;
  createdAt: string;
  allocations: { billId: number; billNo: string; period: string; principalFen: number; lateFeeFen: number }[];
  creditFen: number;
  creditAppliedFen: number;
  receipts: ReceiptRef[];
  pendingRequest: { requestId: number; kind: string } | null;
}

export interface PaymentRequest {
  accountId: number;
  requestId: number;
  kind: 'reversal' | 'refund' | 'deposit_refund' | 'deposit_apply';
  paymentId: number | null;
  paymentNo: string | null;
  depositId: number | null;
  amountFen: number;
  channel: string | null;
  reason: string;
  status: 'pending' | 'approved' | 'rejected';
  customerCode: string;
  customerName: string;
  requestedBy: string;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string;
}

/** Channels a counter takes (the bank-file and gateway channels come by their own routes). */
export const COUNTER_CHANNELS = ['cash', 'bank_card', 'bank_transfer', 'wechat', 'alipay'] as const;

/** A fresh Idempotency-Key (crypto.randomUUID needs a secure context; plain HTTP may not have it). */
export function newKey(prefix: string): string {
  const random =
    typeof crypto !== 'undefined' && 'randomUUID' in crypto
      ? crypto.randomUUID()
      : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return `${prefix}-${random}`;
}
