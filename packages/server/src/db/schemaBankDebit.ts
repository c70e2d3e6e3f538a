import type { ColumnType, Generated } from 'kysely';

/** Tables of migration 0013_bank_debit.sql (docs/bank-files.md). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;
type Json = ColumnType<unknown, string, string>;

export type BankFileOutcome = 'posted' | 'rejected' | 'unmatched' | 'duplicate' | 'error';

export interface BankTable {
  bank_code: string;
  name_zh: string;
  name_en: string;
  /** BankFileFormat (packages/domain/src/payments/bankFiles.ts). */
  format: Json;
  active: Defaulted<boolean>;
  updated_at: Timestamp;
}

export interface DebitMandateTable {
  account_id: number;
  mandate_id: Generated<number>;
  bank_code: string;
  bank_account_no: string;
  holder_name: string;
  signed_on: string;
  status: Defaulted<'active' | 'cancelled'>;
  cancelled_on: string | null;
  created_at: Timestamp;
}

export interface BankFileTable {
  file_id: Generated<number>;
  direction: 'export' | 'import';
  bank_code: string;
  office_id: number | null;
  file_name: string;
  sha256: string;
  size_bytes: number;
  content: Buffer;
  rows: Defaulted<number>;
  total_fen: Defaulted<number>;
  status: Defaulted<'processing' | 'done' | 'failed'>;
  report: Json | null;
  created_by: number | null;
  created_at: Timestamp;
  finished_at: Date | string | null;
}

export interface BankFileRowTable {
  file_id: number;
  line_no: number;
  account_ref: string;
  account_id: number | null;
  amount_fen: number;
  bank_txn_ref: string;
  result_code: string;
  debited: boolean;
  outcome: BankFileOutcome | null;
  reason: Defaulted<string>;
  payment_id: number | null;
  duplicate_of_line: number | null;
  processed_at: Date | string | null;
}

export interface BankDebitTables {
  bank: BankTable;
  debit_mandate: DebitMandateTable;
  bank_file: BankFileTable;
  bank_file_row: BankFileRowTable;
}
