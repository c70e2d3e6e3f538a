import type { ColumnType } from 'kysely';

/** Tables and columns of migration 0016_outbox_delivery.sql (docs/outbox.md). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;

// The sender's columns on the outbox message (the table itself is in schemaBilling.ts).
declare module './schemaBilling.ts' {
  interface OutboxMessageTable {
    /** While 'sending': when a process that died mid-send gives the message up. */
    lease_until: Defaulted<Date | null>;
    /** The SMSC's id of the (first) part, from submit_sm_resp. */
    smsc_message_id: Defaulted<string | null>;
    segments: Defaulted<number>;
    delivered_at: Defaulted<Date | null>;
    /** The last delivery receipt's stat (DELIVRD, UNDELIV, EXPIRED, …). */
    delivery_status: Defaulted<string | null>;
    /** Voice entries: the day's call list they went on. */
    call_list_date: Defaulted<string | null>;
  }
}

export type OutboxAttemptOutcome =
  | 'submitting'
  | 'submitted'
  | 'rejected'
  | 'unknown'
  | 'listed'
  | 'invalid'
  // Stale: not sent (part H, migration 0022).
  | 'expired';

export interface OutboxAttemptTable {
  account_id: number;
  message_id: number;
  attempt_no: number;
  at: Timestamp;
  outcome: OutboxAttemptOutcome;
  error: Defaulted<string>;
  smsc_message_id: string | null;
}

export interface OutboxSegmentTable {
  account_id: number;
  message_id: number;
  segment_no: number;
  smsc_message_id: string;
  receipt_stat: string | null;
  receipt_err: string | null;
  receipt_at: Date | null;
}

export interface OutboxReceiptTable {
  smsc_message_id: string;
  stat: string;
  err: Defaulted<string>;
  done_at: Date | null;
  received_at: Timestamp;
  applied: Defaulted<boolean>;
}

export interface OutboxTables {
  outbox_attempt: OutboxAttemptTable;
  outbox_segment: OutboxSegmentTable;
  outbox_receipt: OutboxReceiptTable;
}
