import type { ReadingRow } from '../reading/types';

/** Text in both languages, as the server stores bill lines and explanations. */
export interface Bilingual {
  'zh-CN': string;
  en: string;
}

/** A line of a bill: a block, a flat charge, a surcharge or a minimum-charge top-up. */
export interface BillLineRow {
  lineNo: number;
  kind: string;
  code: string;
  blockNo: number | null;
  description: Bilingual;
  volumeM3: string;
  /** Fen per m³ (decimal string); null for a minimum-charge top-up. */
  unitPriceFen: string | null;
  amountFen: number;
  from: string | null;
  to: string | null;
  tariffVersion: string | null;
}

/** GET /api/customers/:accountId/bills (items) */
export interface BillRow {
  accountId: number;
  billId: number;
  billNo: string;
  kind: 'consumption' | 'other' | 'adjustment';
  meterId: number | null;
  meterNo: string | null;
  readingId: number | null;
  usageType: string | null;
  usageTypeName: Bilingual | null;
  period: string;
  periodFrom: string;
  periodTo: string;
  startIndex: string | null;
  endIndex: string | null;
  consumptionM3: string;
  subMetersM3: string;
  lowIncomeM3: string;
  payableM3: string;
  amountFen: number;
  blockYear: number | null;
  blockUsedBeforeM3: string | null;
  blockUsedAfterM3: string | null;
  dueOn: string;
  status: 'open' | 'cancelled';
  cancelReason: string;
  createdAt: string;
  noticeUrl: string;
  lines: BillLineRow[];
}

export interface BillPage {
  items: BillRow[];
  total: number;
  page: number;
  pageSize: number;
}

/** GET /api/customers/:accountId/bills/:billId */
export interface BillDetail extends BillRow {
  explanation: Bilingual[];
  reading: ReadingRow | null;
}

export interface SummaryFigures {
  bills: number;
  consumptionM3: string;
  payableM3: string;
  amountFen: number;
}

/** GET /api/billing/summary */
export interface BillingSummary {
  month: string;
  officeId: number | null;
  totals: SummaryFigures;
  byUsageType: (SummaryFigures & { usageType: string | null; name: Bilingual | null })[];
  byOffice: (SummaryFigures & { officeId: number; officeName: string })[];
  trend: (SummaryFigures & { month: string })[];
}
