import type { ColumnType, Generated } from 'kysely';

/** Tables of migration 0017_dunning.sql (docs/dunning.md). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;
/** jsonb: read as parsed JSON, written as a JSON string. */
type Json<T> = ColumnType<T, string, string>;

export interface DunningPolicyTable {
  policy_id: Generated<number>;
  effective_from: string;
  /** The domain's DunningStep[]. */
  steps: Json<unknown>;
  note: Defaulted<string>;
  created_by: number | null;
  created_at: Timestamp;
}

export interface MessageTemplateTable {
  code: string;
  version: number;
  channel: 'sms' | 'voice' | 'letter';
  name: string;
  body: string;
  created_by: number | null;
  created_at: Timestamp;
}

export type DunningRunStatus = 'running' | 'done' | 'failed';

/** Per step code: messages queued, steps found already queued, exceptions. */
export type DunningStepCounts = Record<string, { queued: number; already: number; exceptions: number }>;

export interface DunningRunTable {
  run_id: Generated<number>;
  run_date: string;
  window_from: string;
  policy_from: string | null;
  status: Defaulted<DunningRunStatus>;
  bills_total: Defaulted<number>;
  bills_examined: Defaulted<number>;
  messages_queued: Defaulted<number>;
  already_queued: Defaulted<number>;
  exceptions: Defaulted<number>;
  counts: ColumnType<DunningStepCounts, string | undefined, string>;
  cursor_account_id: Defaulted<number>;
  cursor_bill_id: Defaulted<number>;
  chunks: Defaulted<number>;
  error: Defaulted<string>;
  via: Defaulted<'server' | 'cli' | 'ui'>;
  requested_by: number | null;
  started_at: Timestamp;
  heartbeat_at: Timestamp;
  finished_at: Date | null;
}

export interface DunningExceptionTable {
  account_id: number;
  bill_id: number;
  step_code: string;
  run_id: number;
  code: string;
  message_zh: string;
  message_en: string;
  created_at: Timestamp;
}

export interface DunningTables {
  dunning_policy: DunningPolicyTable;
  message_template: MessageTemplateTable;
  dunning_run: DunningRunTable;
  dunning_exception: DunningExceptionTable;
}
