/** Field collection as the API sends it (docs/field-collection.md). */

export interface CollectionTask {
  accountId: number;
  taskId: number;
  officeId: number;
  bookId: number | null;
  bookCode: string | null;
  assigneeId: number;
  assigneeName: string;
  taskDate: string;
  kind: 'reading_day' | 'collection_day' | 'repeat';
  arrearsCycles: number;
  arrearsFen: number;
  seq: number;
  status: 'open' | 'visited' | 'carried' | 'removed';
  manual: { added: boolean; removed: boolean; reordered: boolean };
  removedReason: string;
  customerCode: string;
  customerName: string;
  address: string;
  visits: number;
  lastOutcome: string | null;
}

export interface CollectorList {
  assigneeId: number;
  assigneeName: string;
  officeId: number;
  total: number;
  visited: number;
}

export interface TaskDay {
  date: string;
  lists: CollectorList[];
  items: CollectionTask[];
  assignees: { staffId: number; fullName: string; roleCode: string }[];
}

export interface CollectionVisit {
  accountId: number;
  visitId: number;
  taskId: number | null;
  officeId: number;
  clientVisitId: string;
  method: string;
  outcome: 'signed' | 'refused' | 'nobody_found';
  reason: string;
  signerName: string;
  promisedOn: string | null;
  phoneCall: { phone: string; result: string; note: string } | null;
  site: Record<string, unknown> | null;
  hasPhoto: boolean;
  hasSignature: boolean;
  latitude: number | null;
  longitude: number | null;
  visitedAt: string;
  deviceId: string;
  staffId: number;
  staffName: string;
  conflict: boolean;
  customerCode: string;
  customerName: string;
}
