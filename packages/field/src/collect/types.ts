import { formatFenAsYuan } from '@meterline/domain/billing/yuan';

/** The collection list as GET /api/field/collection sends it (docs/field-collection.md). */

export interface CollectBill {
  billId: number;
  billNo: string;
  period: string;
  amountFen: number;
  paidFen: number;
  owedFen: number;
  dueOn: string;
}

export interface CollectCustomer {
  accountId: number;
  taskId: number;
  seq: number;
  kind: string;
  status: string;
  bookCode: string | null;
  customerCode: string;
  customerName: string;
  /** person | organisation: the site form shown (residential or not). */
  customerKind: string;
  utility: string;
  address: string;
  arrearsCycles: number;
  arrearsFen: number;
  meters: { meterNo: string; caliberDn: number | null; location: string; usageType: string }[];
  phones: { name: string; phone: string; relation: string }[];
  bills: CollectBill[];
  lastVisits: { visitedAt: string; outcome: string; method: string; reason: string; staff: string }[];
}

export interface CollectionDownload {
  workDate: string;
  customers: CollectCustomer[];
}

export interface VisitUploadResult {
  clientVisitId: string;
  result: 'accepted' | 'duplicate' | 'conflict' | 'rejected';
  visitId?: number;
  error?: { code: string; message: string; fields?: { path: string; code: string; message: string }[] };
}

/** Yuan from fen, two decimals (the decimal point moved as text: no floating point on money). */
export function yuan(fen: number): string {
  return formatFenAsYuan(fen);
}
