/**
 * A customer's collection history (催缴记录, issue 6): every step taken to collect what they owe —
 * the notice and dunning messages, field visits, collection letters, shut-off requests, shut-off and
 * restore work orders, reconnection checks, disputes and installment agreements — as one timeline.
 * The server gathers the entries (GET /api/customers/:accountId/collection-history); the order and
 * what makes an entry "open" (still waiting on someone) are decided here.
 */

export const COLLECTION_HISTORY_KINDS = [
  'message',
  'visit',
  'letter',
  'shutoff_request',
  'work_order',
  'reconnection_check',
  'dispute',
  'agreement',
] as const;
export type CollectionHistoryKind = (typeof COLLECTION_HISTORY_KINDS)[number];

export interface CollectionHistoryEntry {
  kind: CollectionHistoryKind;
  /** The record's id within the account (message id, visit id, letter id, …). */
  id: number;
  /** Refines the kind: the channel of a message, a letter's kind, a work order's kind, a visit's method, a dispute's category. */
  subKind: string;
  /** When it happened (ISO instant): sent (or due) for a message, visited, issued, requested, dispatched, recorded. */
  at: string;
  /** The China date of `at` (YYYY-MM-DD). */
  date: string;
  /**
   * The record's own status: a message's (with 'expired' for one the sender found stale), a visit's
   * outcome, a letter's delivery, a request's, order's, check's, dispute's or agreement's status.
   */
  status: string;
  /** A number the customer or staff would quote: letter no., work order no., agreement no. */
  ref: string;
  /** Free text: the message body, the visit's reason, the dispute's description, a decision note. */
  detail: string;
  /** The amount the record is about, fen (arrears on a letter, disputed, agreement debt), or null. */
  amountFen: number | null;
  /** Who did it (staff name), when known. */
  staffName: string | null;
  /** A later moment of the same record (delivered, decided, completed), ISO, or null. */
  closedAt: string | null;
}

/**
 * Entries still waiting on someone: a message not yet sent, a letter not yet delivered, a shut-off
 * request not yet decided, a work order not yet done, a dispute not yet decided, an agreement
 * requested, approved or signed and running. Shown highlighted on the timeline.
 */
export function isOpenHistoryEntry(e: Pick<CollectionHistoryEntry, 'kind' | 'status'>): boolean {
  switch (e.kind) {
    case 'message':
      return e.status === 'pending' || e.status === 'sending';
    case 'letter':
      return e.status === 'pending';
    case 'shutoff_request':
      return e.status === 'pending';
    case 'work_order':
      return e.status === 'dispatched';
    case 'dispute':
      return e.status === 'open' || e.status === 'passed_on';
    case 'agreement':
      return e.status === 'requested' || e.status === 'approved' || e.status === 'signed';
    default:
      return false;
  }
}

const KIND_RANK: Record<CollectionHistoryKind, number> = Object.fromEntries(
  COLLECTION_HISTORY_KINDS.map((k, i) => [k, i]),
) as Record<CollectionHistoryKind, number>;

/**
 * The timeline's order: newest first by the instant it happened; at the same instant by kind (in
 * COLLECTION_HISTORY_KINDS order), then the higher id (the later record) first. A total order, so
 * the same entries always read the same way. Returns a new array.
 */
export function orderCollectionHistory<T extends Pick<CollectionHistoryEntry, 'kind' | 'id' | 'at'>>(
  entries: readonly T[],
): T[] {
  return entries
    .map((e) => ({ e, t: Date.parse(e.at) }))
    .sort((a, b) => {
      if (a.t !== b.t) return b.t - a.t;
      if (a.e.kind !== b.e.kind) return KIND_RANK[a.e.kind] - KIND_RANK[b.e.kind];
      return b.e.id - a.e.id;
    })
    .map((x) => x.e);
}
