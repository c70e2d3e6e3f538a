import type { ColumnType, Generated } from 'kysely';

/** Tables of migration 0021_field_orders.sql (docs/escalation.md, "On the handheld"). */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface FieldOrderResultTable {
  account_id: number;
  result_id: Generated<number>;
  client_result_id: string;
  office_id: number;
  kind: 'order' | 'recheck';
  order_id: number;
  outcome: string;
  action: string | null;
  confirmed_meter_no: Defaulted<string>;
  note: Defaulted<string>;
  status: 'applied' | 'conflict';
  conflict_reason: Defaulted<string>;
  photo_path: string | null;
  latitude: number | null;
  longitude: number | null;
  accuracy_m: number | null;
  recorded_at: Timestamp;
  device_id: string;
  staff_id: number;
  received_at: Timestamp;
}

export interface FieldOrderTables {
  field_order_result: FieldOrderResultTable;
}
