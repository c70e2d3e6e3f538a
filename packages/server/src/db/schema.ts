import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { BankDebitTables } from './schemaBankDebit.ts';
import type { BillCorrectionTables } from './schemaBillCorrections.ts';
import type { BillingTables } from './schemaBilling.ts';
import type { CollectionHoldTables } from './schemaCollectionHolds.ts';
import type { CoverageTables } from './schemaCoverage.ts';
import type { DunningTables } from './schemaDunning.ts';
import type { EscalationTables } from './schemaEscalation.ts';
import type { FieldCollectionTables } from './schemaFieldCollection.ts';
import type { FieldOrderTables } from './schemaFieldOrders.ts';
import type { GatewayTables } from './schemaGateway.ts';
import type { LateFeeTables } from './schemaLateFees.ts';
import type { OutboxTables } from './schemaOutbox.ts';
import type { PaymentTables } from './schemaPayments.ts';
import type { PrepaidTables } from './schemaPrepaid.ts';
import type { VolumeAdjustmentTables } from './schemaVolumeAdjustments.ts';

/** timestamptz: read as Date, written as Date or ISO string. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Defaulted<T> = ColumnType<T, T | undefined, T>;

export interface SettingTable {
  key: string;
  effective_from: string;
  value: unknown;
  updated_by: number | null;
  updated_at: Timestamp;
}

export interface BranchTable {
  branch_id: Generated<number>;
  code: string;
  name: string;
  active: Defaulted<boolean>;
}

export interface OfficeTable {
  office_id: Generated<number>;
  branch_id: number;
  code: string;
  name: string;
  address: Defaulted<string>;
  phone: Defaulted<string>;
  active: Defaulted<boolean>;
}

export interface RoleTable {
  role_code: string;
  name_zh: string;
  name_en: string;
  org_wide: Defaulted<boolean>;
  builtin: Defaulted<boolean>;
}

export interface RolePermissionTable {
  role_code: string;
  permission: string;
}

export interface StaffTable {
  staff_id: Generated<number>;
  username: string;
  full_name: string;
  phone: Defaulted<string>;
  role_code: string;
  home_office_id: number | null;
  password_hash: string;
  must_change_password: Defaulted<boolean>;
  failed_logins: Defaulted<number>;
  locked_until: Date | null;
  active: Defaulted<boolean>;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface StaffOfficeTable {
  staff_id: number;
  office_id: number;
}

export interface SessionTable {
  token_hash: string;
  staff_id: number;
  created_at: Timestamp;
  last_seen_at: Timestamp;
  expires_at: Date;
  ip: Defaulted<string>;
  user_agent: Defaulted<string>;
}

export interface UsageTypeTable {
  code: string;
  utility: string;
  name_zh: string;
  name_en: string;
  price_class: string;
  active: Defaulted<boolean>;
  sort_order: Defaulted<number>;
}

export interface CustomerTable {
  account_id: number;
  office_id: number;
  customer_code: string;
  kind: 'person' | 'organisation';
  name: string;
  id_card_no: string | null;
  credit_code: string | null;
  bank_name: Defaulted<string>;
  bank_account: Defaulted<string>;
  utility: Defaulted<string>;
  state: Defaulted<string>;
  state_changed_at: Timestamp;
  connected_on: string | null;
  low_income: Defaulted<boolean>;
  low_income_reduction_m3: Defaulted<string>;
  low_income_cert_no: Defaulted<string>;
  low_income_valid_until: string | null;
  large_user: Defaulted<boolean>;
  blacklisted: Defaulted<boolean>;
  notice_delivery: Defaulted<string>;
  remarks: Defaulted<string>;
  search_key: Defaulted<string>;
  version: Defaulted<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
  created_by: number | null;
  updated_by: number | null;
}

export interface CustomerCodeRegistryTable {
  customer_code: string;
  account_id: number;
}

export interface ContactTable {
  account_id: number;
  contact_id: Generated<number>;
  name: Defaulted<string>;
  relation: Defaulted<string>;
  phone: string;
  is_primary: Defaulted<boolean>;
  remarks: Defaulted<string>;
}

export interface AddressTable {
  account_id: number;
  address_id: Generated<number>;
  kind: Defaulted<string>;
  district: Defaulted<string>;
  community: Defaulted<string>;
  building: Defaulted<string>;
  unit: Defaulted<string>;
  door: Defaulted<string>;
  detail: Defaulted<string>;
  floor: number | null;
}

export interface ServicePointTable {
  account_id: number;
  service_point_id: Generated<number>;
  address_id: number;
  usage_type_code: string;
  description: Defaulted<string>;
  meter_location: Defaulted<string>;
  meter_box_no: Defaulted<string>;
  resettlement: Defaulted<boolean>;
  active: Defaulted<boolean>;
  created_at: Timestamp;
}

export interface MeterTable {
  account_id: number;
  meter_id: Generated<number>;
  service_point_id: number;
  meter_no: string;
  utility: string;
  caliber_dn: number | null;
  flow_rating_m3h: string | null;
  make: Defaulted<string>;
  model: Defaulted<string>;
  install_date: string | null;
  seal_no: Defaulted<string>;
  direction: Defaulted<string>;
  regulator_box: Defaulted<string>;
  mounting: Defaulted<string>;
  role: Defaulted<string>;
  master_meter_no: string | null;
  ic_card: Defaulted<boolean>;
  ic_card_no: Defaulted<string>;
  dial_digits: Defaulted<number>;
  initial_index: Defaulted<string>;
  state: Defaulted<string>;
  removed_on: string | null;
  created_at: Timestamp;
  book_id: number | null;
  route_seq: number | null;
  zone_override: string | null;
  zone_override_reason: Defaulted<string>;
}

export interface MeterRegistryTable {
  meter_no: string;
  account_id: number;
  meter_id: number;
}

export interface CustomerStateChangeTable {
  account_id: number;
  change_id: Generated<number>;
  from_state: string;
  to_state: string;
  reason: string;
  changed_at: Timestamp;
  changed_by: number;
}

export interface BlacklistEntryTable {
  account_id: number;
  entry_id: Generated<number>;
  category: string;
  violation: string;
  action_taken: Defaulted<string>;
  listed_on: string;
  listed_by: number;
  lifted_on: string | null;
  lifted_by: number | null;
  lift_reason: string | null;
}

export interface BlacklistEventTable {
  account_id: number;
  event_id: Generated<number>;
  entry_id: number;
  kind: string;
  occurred_on: string;
  description: string;
  recorded_by: number;
  recorded_at: Timestamp;
}

export interface DocumentTable {
  account_id: number;
  document_id: Generated<number>;
  doc_type: string;
  file_name: string;
  mime_type: string;
  size_bytes: number;
  sha256: string;
  storage_path: string;
  uploaded_by: number;
  uploaded_at: Timestamp;
  removed_at: Date | null;
  removed_by: number | null;
}

export interface AuditLogTable {
  audit_id: Generated<number>;
  at: Timestamp;
  staff_id: number | null;
  office_id: number | null;
  account_id: number | null;
  entity_type: string;
  entity_id: string;
  action: string;
  before: unknown;
  after: unknown;
  request_id: Defaulted<string>;
  ip: Defaulted<string>;
}

export interface IdempotencyKeyTable {
  key: string;
  staff_id: number;
  route: string;
  request_hash: string;
  status_code: number;
  response: unknown;
  created_at: Timestamp;
}

export interface ImportBatchTable {
  import_id: Generated<number>;
  office_id: number;
  file_name: string;
  sha256: string;
  format: string;
  encoding: Defaulted<string>;
  status: Defaulted<string>;
  total_rows: Defaulted<number>;
  processed_rows: Defaulted<number>;
  imported_rows: Defaulted<number>;
  unchanged_rows: Defaulted<number>;
  error_rows: Defaulted<number>;
  file_error: unknown;
  storage_path: string;
  created_by: number;
  created_at: Timestamp;
  started_at: Date | null;
  finished_at: Date | null;
  /** 0002_imports */
  size_bytes: Defaulted<number>;
  next_row: Defaulted<number>;
  columns: unknown;
  updated_at: Timestamp;
}

export interface ImportRowErrorTable {
  import_id: number;
  row_no: number;
  seq: number;
  column_name: Defaulted<string>;
  code: string;
  message_zh: string;
  message_en: string;
  raw: unknown;
}

export interface ImportRowKeyTable {
  import_id: number;
  key: string;
  row_no: number;
}

export interface CalendarDayTable {
  day: string;
  kind: 'workday' | 'weekend' | 'holiday' | 'adjusted_workday';
  name: Defaulted<string>;
  source: Defaulted<string>;
  updated_by: number | null;
  updated_at: Timestamp;
}

export interface CalendarYearTable {
  year: number;
  official: boolean;
  source: Defaulted<string>;
  loaded_at: Timestamp;
}

export interface AnomalyCodeTable {
  code: string;
  name_zh: string;
  name_en: string;
  department: string;
  prevents_reading: Defaulted<boolean>;
  meter_fault: Defaulted<boolean>;
  active: Defaulted<boolean>;
  sort_order: Defaulted<number>;
}

export interface BookTable {
  book_id: Generated<number>;
  office_id: number;
  code: string;
  name: string;
  zone: string;
  area_type: Defaulted<string>;
  reader_id: number | null;
  reader_since: string | null;
  /** A dedicated collector of the book's arrears (0018_field_collection.sql). */
  collector_id: ColumnType<number | null, number | null | undefined, number | null>;
  active: Defaulted<boolean>;
  version: Defaulted<number>;
  created_at: Timestamp;
}

export interface BookAssignmentTable {
  assignment_id: Generated<number>;
  book_id: number;
  reader_id: number;
  from_date: string;
  to_date: string | null;
  handover_note: Defaulted<string>;
  open_items: Defaulted<string>;
  handed_over_by: number | null;
  recorded_by: number;
  recorded_at: Timestamp;
}

export interface OfficeWorkloadTable {
  office_id: number;
  config: unknown;
  updated_by: number | null;
  updated_at: Timestamp;
}

export interface ReadingPlanTable {
  book_id: number;
  period: string;
  planned_on: string;
  original_on: string;
}

export interface ReadingPlanChangeTable {
  change_id: Generated<number>;
  book_id: number;
  period: string;
  from_date: string;
  to_date: string;
  reason: string;
  requested_by: number;
  requested_at: Timestamp;
  status: Defaulted<string>;
  decided_by: number | null;
  decided_at: Date | null;
  decision_note: Defaulted<string>;
}

/** An uploaded file of smart meters' register reads (0026_register_reads.sql). */
export interface RegisterFileTable {
  file_id: Generated<number>;
  office_id: number;
  file_name: string;
  staff_id: number | null;
  request_id: string;
  started_at: Generated<Date>;
  finished_at: Date | null;
  chunks: Generated<number>;
  rows: Generated<number>;
  stored: Generated<number>;
  flagged: Generated<number>;
  duplicate: Generated<number>;
  conflict: Generated<number>;
  rejected: Generated<number>;
}

/** A smart meter's register read, in thousandths of a m³, with the meter's state after it. */
export interface RegisterReadTable {
  account_id: number;
  meter_id: number;
  read_at: Date | string;
  index_milli: number;
  flags: number;
  consumption_milli: number | null;
  days: number | null;
  expected_milli: number | null;
  daily_milli: number | null;
  ref_at: Date | string | null;
  ref_milli: number | null;
  anomaly_codes: string[] | null;
  file_id: number;
}

/** Another index sent for a register read already stored. */
export interface RegisterConflictTable {
  account_id: number;
  meter_id: number;
  read_at: Date | string;
  index_milli: number;
  stored_milli: number;
  anomaly_codes: string[] | null;
  file_id: number;
  created_at: Generated<Date>;
}

/** Billing readings taken from register reads for an office's planned reading day (0030_register_billing.sql). */
export interface RegisterBillingTable {
  office_id: number;
  day: string;
  started_by: number | null;
  started_at: Generated<Date>;
  finished_at: Date | null;
  runs: Generated<number>;
  books: Generated<number>;
  meters: Generated<number>;
  accepted: Generated<number>;
  review: Generated<number>;
  conflict: Generated<number>;
  rejected: Generated<number>;
  otherwise: Generated<number>;
  missing: Generated<number>;
}

/** A smart meter a billing run found no usable register read for. */
export interface RegisterBillingMissingTable {
  office_id: number;
  day: string;
  account_id: number;
  meter_id: number;
  book_id: number;
  reason: 'stale' | 'backwards' | 'conflict' | 'rejected';
  detail: Generated<string>;
  last_read_at: Date | null;
  last_milli: number | null;
}

export interface ReadingTable {
  account_id: number;
  reading_id: Generated<number>;
  meter_id: number;
  book_id: number | null;
  period: string;
  read_at: Date | string;
  previous_index: string;
  index_value: string | null;
  consumption_m3: string | null;
  kind: 'actual' | 'estimated';
  source: 'handheld' | 'office' | 'bulk' | 'estimate';
  anomaly_codes: Defaulted<string[]>;
  flags: Defaulted<string[]>;
  note: Defaulted<string>;
  photo_path: string | null;
  signature_path: string | null;
  signer_name: Defaulted<string>;
  latitude: string | null;
  longitude: string | null;
  accuracy_m: number | null;
  reader_id: number | null;
  device_id: Defaulted<string>;
  client_id: string | null;
  status: 'accepted' | 'review' | 'rejected' | 'superseded' | 'conflict';
  reviewed_by: number | null;
  reviewed_at: Date | null;
  review_note: Defaulted<string>;
  created_at: Timestamp;
}

export interface ReadingCorrectionTable {
  account_id: number;
  correction_id: Generated<number>;
  reading_id: number;
  old_index: string | null;
  new_index: string;
  reason: string;
  requested_by: number;
  requested_at: Timestamp;
  status: Defaulted<string>;
  decided_by: number | null;
  decided_at: Date | null;
  decision_note: Defaulted<string>;
}

export interface FollowupTable {
  account_id: number;
  followup_id: Generated<number>;
  reading_id: number | null;
  meter_id: number | null;
  anomaly_code: string;
  department: string;
  status: Defaulted<string>;
  opened_at: Timestamp;
  escalated_at: Date | null;
  closed_at: Date | null;
  closed_by: number | null;
  note: Defaulted<string>;
}

export interface RoleDefaultGrantTable {
  role_code: string;
  permission: string;
  granted_at: Timestamp;
}

export interface RouteDownloadTable {
  staff_id: number;
  work_date: string;
  device_id: string;
  book_ids: number[];
  downloaded_at: Timestamp;
}

export interface DB
  extends BillingTables,
    BankDebitTables,
    BillCorrectionTables,
    VolumeAdjustmentTables,
    PrepaidTables,
    LateFeeTables,
    PaymentTables,
    GatewayTables,
    OutboxTables,
    CollectionHoldTables,
    CoverageTables,
    EscalationTables,
    FieldOrderTables,
    FieldCollectionTables,
    DunningTables {
  setting: SettingTable;
  branch: BranchTable;
  office: OfficeTable;
  role: RoleTable;
  role_permission: RolePermissionTable;
  staff: StaffTable;
  staff_office: StaffOfficeTable;
  session: SessionTable;
  usage_type: UsageTypeTable;
  customer: CustomerTable;
  customer_code_registry: CustomerCodeRegistryTable;
  contact: ContactTable;
  address: AddressTable;
  service_point: ServicePointTable;
  meter: MeterTable;
  meter_registry: MeterRegistryTable;
  customer_state_change: CustomerStateChangeTable;
  blacklist_entry: BlacklistEntryTable;
  blacklist_event: BlacklistEventTable;
  document: DocumentTable;
  audit_log: AuditLogTable;
  idempotency_key: IdempotencyKeyTable;
  import_batch: ImportBatchTable;
  import_row_error: ImportRowErrorTable;
  import_row_key: ImportRowKeyTable;
  calendar_day: CalendarDayTable;
  calendar_year: CalendarYearTable;
  anomaly_code: AnomalyCodeTable;
  book: BookTable;
  book_assignment: BookAssignmentTable;
  office_workload: OfficeWorkloadTable;
  reading_plan: ReadingPlanTable;
  reading_plan_change: ReadingPlanChangeTable;
  reading: ReadingTable;
  reading_correction: ReadingCorrectionTable;
  followup: FollowupTable;
  route_download: RouteDownloadTable;
  register_file: RegisterFileTable;
  register_read: RegisterReadTable;
  register_conflict: RegisterConflictTable;
  register_billing: RegisterBillingTable;
  register_billing_missing: RegisterBillingMissingTable;
  role_default_grant: RoleDefaultGrantTable;
}

export type Customer = Selectable<CustomerTable>;
export type NewCustomer = Insertable<CustomerTable>;
export type CustomerUpdate = Updateable<CustomerTable>;
export type Meter = Selectable<MeterTable>;
export type Address = Selectable<AddressTable>;
export type ServicePoint = Selectable<ServicePointTable>;
export type Contact = Selectable<ContactTable>;
export type Staff = Selectable<StaffTable>;
