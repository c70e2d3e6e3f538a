/** Shapes of the customer API replies (server: customers/service.ts get(), repository.ts search). */

export interface CustomerHit {
  accountId: number;
  customerCode: string;
  name: string;
  kind: string;
  state: string;
  utility: string;
  officeId: number;
  officeName: string;
  address: string;
  phone: string;
  meterNos: string[];
  blacklisted: boolean;
  lowIncome: boolean;
  exact: boolean;
}

export interface SearchResult {
  items: CustomerHit[];
  total: number;
  more: boolean;
  page: number;
  pageSize: number;
}

export interface CustomerRow {
  account_id: number;
  office_id: number;
  customer_code: string;
  kind: 'person' | 'organisation';
  name: string;
  id_card_no: string | null;
  credit_code: string | null;
  bank_name: string;
  bank_account: string;
  utility: string;
  state: string;
  state_changed_at: string;
  connected_on: string | null;
  low_income: boolean;
  low_income_reduction_m3: string;
  low_income_cert_no: string;
  low_income_valid_until: string | null;
  large_user: boolean;
  blacklisted: boolean;
  notice_delivery: 'paper' | 'sms' | 'both';
  remarks: string;
  version: number;
  created_at: string;
  updated_at: string;
  office_name: string;
  office_code: string;
}

export interface ContactRow {
  contact_id: number;
  name: string;
  relation: string;
  phone: string;
  is_primary: boolean;
  remarks: string;
}

export interface AddressRow {
  address_id: number;
  kind: 'supply' | 'mailing';
  district: string;
  community: string;
  building: string;
  unit: string;
  door: string;
  detail: string;
  floor: number | null;
}

export interface ServicePointRow {
  service_point_id: number;
  address_id: number;
  usage_type_code: string;
  description: string;
  meter_location: string;
  meter_box_no: string;
  resettlement: boolean;
  active: boolean;
  created_at: string;
  usage_name_zh: string;
  usage_name_en: string;
}

export interface MeterRow {
  meter_id: number;
  service_point_id: number;
  meter_no: string;
  utility: string;
  caliber_dn: number | null;
  flow_rating_m3h: string | null;
  make: string;
  model: string;
  install_date: string | null;
  seal_no: string;
  direction: string;
  regulator_box: string;
  mounting: string;
  role: string;
  master_meter_no: string | null;
  ic_card: boolean;
  ic_card_no: string;
  dial_digits: number;
  initial_index: string;
  state: 'in_service' | 'removed';
  removed_on: string | null;
  created_at: string;
  book_id: number | null;
  route_seq: number | null;
  book_code: string | null;
  book_name: string | null;
}

export interface SubMeterRow {
  meter_no: string;
  master_meter_no: string;
  account_id: number;
  name: string;
  customer_code: string;
}

export interface StateChangeRow {
  change_id: number;
  from_state: string;
  to_state: string;
  reason: string;
  changed_at: string;
  changed_by_name: string | null;
}

export interface BlacklistEventRow {
  event_id: number;
  entry_id: number;
  kind: 'violation' | 'action' | 'inspection';
  occurred_on: string;
  description: string;
  recorded_at: string;
}

export interface BlacklistEntryRow {
  entry_id: number;
  category: string;
  violation: string;
  action_taken: string;
  listed_on: string;
  lifted_on: string | null;
  lift_reason: string | null;
  events: BlacklistEventRow[];
}

export interface DocumentRow {
  document_id: number;
  doc_type: string;
  file_name: string;
  mime_type: string;
  size_bytes: number;
  uploaded_at: string;
  uploaded_by_name: string | null;
}

export interface CustomerDetail {
  customer: CustomerRow;
  contacts: ContactRow[];
  addresses: AddressRow[];
  servicePoints: ServicePointRow[];
  meters: MeterRow[];
  subMeters: SubMeterRow[];
  stateChanges: StateChangeRow[];
  transitions: { to: string; allowed: boolean }[];
  blacklist: BlacklistEntryRow[];
  documents: DocumentRow[];
}

export interface AuditRow {
  audit_id: number;
  at: string;
  staff_id: number | null;
  username: string | null;
  full_name: string | null;
  office_id: number | null;
  office_name: string | null;
  account_id: number | null;
  entity_type: string;
  entity_id: string;
  action: string;
  before: unknown;
  after: unknown;
  request_id: string;
  ip: string;
}

export interface Page<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
}

export const DOCUMENT_TYPES = [
  'id_card',
  'property_certificate',
  'planning_map',
  'application',
  'business_licence',
  'bank_account',
  'contract',
  'low_income_certificate',
  'meter_photo',
  'other',
] as const;

export const CONTACT_RELATIONS = ['self', 'family', 'property', 'agent', 'tenant', 'other'] as const;
export const BLACKLIST_CATEGORIES = [
  'theft',
  'illegal_connection',
  'bypass',
  'meter_tampering',
  'other',
] as const;
export const BLACKLIST_EVENT_KINDS = ['violation', 'action', 'inspection'] as const;
export const NOTICE_DELIVERY = ['paper', 'sms', 'both'] as const;
