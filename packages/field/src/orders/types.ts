/** The work orders and re-checks as GET /api/field/orders sends them (docs/escalation.md "On the handheld"). */

export interface OrderBill {
  billId: number;
  billNo: string;
  period: string;
  dueOn: string;
  countableFen: number;
}

export interface FieldOrder {
  accountId: number;
  orderId: number;
  kind: 'shutoff' | 'restore';
  orderNo: string;
  officeId: number;
  customerCode: string;
  customerName: string;
  utility: string;
  address: string;
  /** The meter number to check on site before shutting off. */
  meterNo: string;
  bills: OrderBill[];
  arrearsFen: number;
  status: string;
  /** restore: the shut-off removed the meter (2 working days). */
  meterRemoved: boolean;
  dispatchedAt: string;
  /** restore: the deadline; shut-off: none. */
  dueAt: string | null;
  mine: boolean;
  bookCode: string | null;
}

export interface FieldRecheck {
  accountId: number;
  orderId: number;
  orderNo: string;
  officeId: number;
  customerCode: string;
  customerName: string;
  address: string;
  meterNo: string;
  bookCode: string | null;
  shutOffOn: string;
  lastCheckOn: string | null;
  lastOutcome: string | null;
  dueOn: string;
  due: boolean;
}

export interface FieldOrdersDownload {
  today: string;
  downloadedAt: string;
  orders: FieldOrder[];
  rechecks: FieldRecheck[];
}

export interface OrderUploadResult {
  clientResultId: string;
  result: 'accepted' | 'duplicate' | 'conflict' | 'rejected';
  resultId?: number;
  conflict?: boolean;
  orderStatus?: string;
  error?: { code: string; message: string; fields?: { path: string; code: string; message: string }[] };
}
