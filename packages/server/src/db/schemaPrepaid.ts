import type { ColumnType, Generated } from 'kysely';

/** Tables of migration 0011_prepaid.sql (docs/billing.md "Prepaid IC-card accounts"). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface PrepaidEntryTable {
  account_id: number;
  entry_id: Generated<number>;
  kind: 'load' | 'deduction' | 'reversal';
  /** Signed integer fen: loads and reversals above zero, deductions below. */
  amount_fen: number;
  bill_id: number | null;
  reverses_entry_id: number | null;
  card_no: Defaulted<string>;
  channel: Defaulted<string>;
  idempotency_key: string | null;
  note: Defaulted<string>;
  created_by: number | null;
  created_at: Timestamp;
}

export interface PrepaidTables {
  prepaid_entry: PrepaidEntryTable;
}
