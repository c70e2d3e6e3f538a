import type { ColumnType, Generated } from 'kysely';

/** Tables of migration 0018_field_collection.sql (docs/field-collection.md). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;
type Json = ColumnType<unknown, string | null, string | null>;

export type CollectionTaskKind = 'reading_day' | 'collection_day' | 'repeat';
export type CollectionTaskStatus = 'open' | 'visited' | 'carried' | 'removed';

export interface CollectionTaskTable {
  account_id: number;
  task_id: Generated<number>;
  office_id: number;
  book_id: number | null;
  assignee_id: number;
  task_date: string;
  kind: CollectionTaskKind;
  arrears_cycles: number;
  arrears_fen: number;
  seq: Defaulted<number>;
  status: Defaulted<CollectionTaskStatus>;
  added_by: number | null;
  removed_by: number | null;
  removed_reason: Defaulted<string>;
  reordered_by: number | null;
  from_task_id: number | null;
  created_at: Timestamp;
}

export interface CollectionVisitTable {
  account_id: number;
  visit_id: Generated<number>;
  task_id: number | null;
  office_id: number;
  client_visit_id: string;
  method: string;
  outcome: string;
  reason: Defaulted<string>;
  signer_name: Defaulted<string>;
  promised_on: string | null;
  phone_call: Json;
  site: Json;
  photo_path: string | null;
  signature_path: string | null;
  latitude: number | null;
  longitude: number | null;
  accuracy_m: number | null;
  visited_at: Date;
  visited_on: string;
  device_id: string;
  staff_id: number;
  conflict: Defaulted<boolean>;
  uploaded_at: Timestamp;
}

export interface FieldCollectionTables {
  collection_task: CollectionTaskTable;
  collection_visit: CollectionVisitTable;
}
