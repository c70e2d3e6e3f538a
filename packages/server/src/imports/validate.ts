import { createHash } from 'node:crypto';
import {
  type Bilingual,
  type CustomerState,
  icCardRequired,
  meterSizeProblem,
  parseAddress,
  type Utility,
} from '@meterline/domain';
import { type CreateCustomerBody, createCustomerBody } from '../customers/schemas.ts';
import { localiseIssues, type ZodIssueLike } from '../platform/i18n.ts';
import {
  ALLOWED_WORDS,
  BOOLEAN_LABELS,
  COLUMN_BY_KEY,
  type ColumnKey,
  type HeaderMap,
  KIND_LABELS,
  MOUNTING_LABELS,
  normaliseHeader,
  ROLE_LABELS,
  STATE_LABELS,
  UTILITY_LABELS,
} from './columns.ts';
import { importMessages } from './messages.ts';

/**
 * Row validation: a row of the file becomes the body of POST /api/customers and is judged by
 * the same schema (createCustomerBody) and the same rules as a customer created by hand; the
 * import adds only what a spreadsheet needs (Chinese labels, Excel dates, a full-address column).
 */

/** A row with more problems than this lists the first ones only. */
export const MAX_ISSUES_PER_ROW = 20;

export interface UsageTypeInfo {
  code: string;
  utility: string;
  active: boolean;
}

/** Usage types by code, Chinese name and English name, compared like headers. */
export function usageTypeIndex(
  rows: { code: string; utility: string; active: boolean; name_zh: string; name_en: string }[],
): Map<string, UsageTypeInfo> {
  const index = new Map<string, UsageTypeInfo>();
  for (const r of rows) {
    const info = { code: r.code, utility: r.utility, active: r.active };
    for (const name of [r.name_en, r.name_zh, r.code]) index.set(normaliseHeader(name), info);
  }
  return index;
}

/** What every row of one batch is checked against. */
export interface RowRules {
  officeId: number;
  header: HeaderMap;
  usageTypes: Map<string, UsageTypeInfo>;
  icCardAboveFloor: number;
}

/** One problem with a row: the column as headed in the file, a stable code, both languages. */
export interface RowIssue {
  column: string;
  code: string;
  messages: Bilingual;
}

export interface ValidRow {
  /** Exactly what POST /api/customers would have received, parsed by its schema. */
  body: CreateCustomerBody;
  /** The customer state; the create API only opens pending or active customers, an import any. */
  state: CustomerState;
}

/** Identities of a row for finding duplicates within a file. */
export interface RowKeys {
  /** The whole row (identical rows). */
  row: string;
  customerCode: string | null;
  meterNo: string | null;
}

export interface CheckedRow {
  rowNo: number;
  /** The cells as written in the file, for the report. */
  cells: string[];
  keys: RowKeys;
  valid: ValidRow | null;
  issues: RowIssue[];
}

const METER_DETAIL_COLUMNS: readonly ColumnKey[] = [
  'caliber_dn',
  'flow_rating_m3h',
  'make',
  'model',
  'install_date',
  'seal_no',
  'mounting',
  'meter_role',
  'master_meter_no',
];

/** Where a field of the create body comes from in the file. */
const PATH_COLUMNS: Record<string, ColumnKey> = {
  customerCode: 'customer_code',
  kind: 'kind',
  name: 'name',
  idCardNo: 'id_card_no',
  creditCode: 'credit_code',
  bankName: 'bank_name',
  bankAccount: 'bank_account',
  utility: 'utility',
  connectedOn: 'connected_on',
  remarks: 'remarks',
  state: 'state',
  contacts: 'phone',
  'contacts.0.phone': 'phone',
  'contacts.0.name': 'contact_name',
  'contacts.1.phone': 'phone2',
  'contacts.1.name': 'contact_name',
  'address.district': 'district',
  'address.community': 'community',
  'address.building': 'building',
  'address.unit': 'unit',
  'address.door': 'door',
  'address.detail': 'address',
  'address.floor': 'floor',
  'servicePoint.usageTypeCode': 'usage_type',
  'servicePoint.meterLocation': 'meter_location',
  'servicePoint.meterBoxNo': 'meter_box_no',
  'meter.meterNo': 'meter_no',
  'meter.caliberDn': 'caliber_dn',
  'meter.flowRatingM3h': 'flow_rating_m3h',
  'meter.make': 'make',
  'meter.model': 'model',
  'meter.installDate': 'install_date',
  'meter.sealNo': 'seal_no',
  'meter.mounting': 'mounting',
  'meter.role': 'meter_role',
  'meter.masterMeterNo': 'master_meter_no',
  'meter.icCard': 'ic_card',
  'meter.initialIndex': 'initial_index',
  'lowIncome.reductionM3': 'low_income_m3',
};

/** The column header as the file writes it (or the template's name when the file lacks it). */
export function columnLabel(header: HeaderMap, key: ColumnKey): string {
  const i = header.index[key];
  return i === undefined ? COLUMN_BY_KEY.get(key)!.zh : header.headers[i]!;
}

/**
 * A date as clerks and Excel write it, made YYYY-MM-DD: 2023-5-6, 2023/5/6, 2023.5.6,
 * 2023年5月6日, 20230506, with or without a time after it. Anything else is returned unchanged
 * for the shared date check to refuse with its own message.
 */
export function normaliseDate(text: string): string {
  const t = text.normalize('NFKC').trim();
  const m =
    /^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?)?$/.exec(t) ??
    /^(\d{4})(\d{2})(\d{2})$/.exec(t);
  if (!m) return t;
  return `${m[1]}-${m[2]!.padStart(2, '0')}-${m[3]!.padStart(2, '0')}`;
}

/** Codes and numbers: full-width digits and letters become ASCII. */
function codeText(text: string): string {
  return text.normalize('NFKC').trim();
}

function rowHash(cells: string[]): string {
  const trimmed = cells.map((c) => c.trim());
  while (trimmed.length && trimmed[trimmed.length - 1] === '') trimmed.pop();
  return createHash('sha1').update(trimmed.join('\u001f')).digest('hex');
}

/** Checks one row; never throws for bad data. */
export function checkRow(rules: RowRules, rowNo: number, cells: string[]): CheckedRow {
  const { header } = rules;
  const issues: RowIssue[] = [];
  const flagged = new Set<ColumnKey>();
  const get = (key: ColumnKey): string => {
    const i = header.index[key];
    return i === undefined ? '' : (cells[i] ?? '').trim();
  };
  const add = (key: ColumnKey | null, code: string, data: Record<string, unknown> = {}) => {
    if (key) flagged.add(key);
    issues.push({ column: key ? columnLabel(header, key) : '', code, messages: importMessages(code, data) });
  };

  /** A code column: a known label, or the default when blank; undefined (flagged) when unknown. */
  const label = <T extends string>(key: ColumnKey, labels: Map<string, T>, fallback: T): T | undefined => {
    const value = get(key);
    if (value === '') return fallback;
    const hit = labels.get(normaliseHeader(value));
    if (hit !== undefined) return hit;
    const allowed = ALLOWED_WORDS[key]!;
    add(key, 'VALUE_NOT_ALLOWED', {
      value,
      column: key,
      columnZh: COLUMN_BY_KEY.get(key)!.zh,
      allowedZh: allowed.zh,
      allowedEn: allowed.en,
    });
    return undefined;
  };
  /** A decimal with at most `decimals` places, as a string; null when blank. */
  const decimal = (key: ColumnKey, decimals: number, unit?: RegExp): string | null | undefined => {
    let value = codeText(get(key)).replace(/,/g, '');
    if (unit) value = value.replace(unit, '').trim();
    if (value === '') return null;
    const m = /^(\d+)(?:\.(\d+))?$/.exec(value);
    if (!m) {
      add(key, 'NUMBER_FORMAT', { value: get(key) });
      return undefined;
    }
    if ((m[2]?.length ?? 0) > decimals) {
      add(key, 'DECIMALS', { decimals });
      return undefined;
    }
    return value;
  };
  const integer = (key: ColumnKey, strip?: RegExp): number | null | undefined => {
    let value = codeText(get(key));
    if (strip) value = value.replace(strip, '').trim();
    if (value === '') return null;
    if (!/^-?\d+$/.test(value)) {
      add(key, 'INTEGER_FORMAT', { value: get(key) });
      return undefined;
    }
    return Number(value);
  };
  const date = (key: ColumnKey): string | null => {
    const value = get(key);
    return value === '' ? null : normaliseDate(value);
  };

  // --- the customer
  const idCardNo = codeText(get('id_card_no')).replace(/\s+/g, '');
  const creditCode = codeText(get('credit_code')).replace(/\s+/g, '');
  const kind =
    get('kind') === ''
      ? creditCode && !idCardNo
        ? 'organisation'
        : 'person'
      : label('kind', KIND_LABELS, 'person');
  const utility = label('utility', UTILITY_LABELS, 'water');
  const state = label('state', STATE_LABELS, 'active' as CustomerState);

  // --- the usage type: a code or a name; it must exist and belong to the customer's utility
  let usageTypeCode: string | undefined = get('usage_type') || undefined;
  if (usageTypeCode) {
    const found = rules.usageTypes.get(normaliseHeader(usageTypeCode));
    if (!found?.active) add('usage_type', 'USAGE_TYPE_UNKNOWN');
    else if (utility && found.utility !== utility) add('usage_type', 'USAGE_TYPE_UTILITY');
    else usageTypeCode = found.code;
  }

  // --- the supply address: its parts, or one full-address column split by parseAddress
  const full = get('address');
  const parsed = full
    ? parseAddress(full)
    : { district: '', community: '', building: '', unit: '', door: '', detail: '' };
  const address = {
    kind: 'supply' as const,
    district: get('district') || parsed.district,
    community: get('community') || parsed.community,
    building: get('building') || parsed.building,
    unit: get('unit') || parsed.unit,
    door: get('door') || parsed.door,
    detail: parsed.detail,
    floor: integer('floor'),
  };
  if (!address.district && !address.community && !address.building && !address.door && !address.detail) {
    add(header.index.address !== undefined ? 'address' : 'community', 'REQUIRED');
  }

  // --- contacts: the primary phone and an optional second one
  const contactName = get('contact_name');
  const phone = codeText(get('phone'));
  const phone2 = codeText(get('phone2'));
  const contacts = [
    { name: contactName, relation: 'self', phone: phone || undefined, isPrimary: true },
    ...(phone2 ? [{ name: contactName, relation: 'self', phone: phone2, isPrimary: false }] : []),
  ];

  // --- the meter, when the row has one
  const meterNo = codeText(get('meter_no'));
  const icCard = label('ic_card', BOOLEAN_LABELS, 'false');
  const meterDetails = METER_DETAIL_COLUMNS.some((k) => get(k) !== '');
  let meter: Record<string, unknown> | null = null;
  if (meterNo) {
    const flowRating = decimal('flow_rating_m3h', 2, /\s*(m³\/h|m3\/h|立方米\/小时)$/i);
    if (flowRating && Number(flowRating) > 999_999.99) add('flow_rating_m3h', 'FLOW_RATING_TOO_BIG');
    meter = {
      meterNo,
      caliberDn: integer('caliber_dn', /^DN\s*|\s*mm$/gi),
      flowRatingM3h: flowRating,
      make: get('make'),
      model: get('model'),
      installDate: date('install_date'),
      sealNo: codeText(get('seal_no')),
      mounting: label('mounting', MOUNTING_LABELS, 'wall'),
      role: label('meter_role', ROLE_LABELS, 'settlement'),
      masterMeterNo: codeText(get('master_meter_no')) || null,
      icCard: icCard === 'true',
      initialIndex: decimal('initial_index', 3) ?? '0',
    };
  } else if (meterDetails) {
    add('meter_no', 'METER_FIELDS_WITHOUT_NO');
  }
  const lowIncomeM3 = decimal('low_income_m3', 3);

  const body = {
    officeId: rules.officeId,
    customerCode: codeText(get('customer_code')),
    kind,
    name: get('name'),
    idCardNo: idCardNo || null,
    creditCode: creditCode || null,
    bankName: get('bank_name'),
    bankAccount: codeText(get('bank_account')).replace(/\s+/g, ''),
    utility,
    // The create API opens customers pending or active; other states are set after validation.
    state: state === 'pending' ? 'pending' : 'active',
    connectedOn: date('connected_on'),
    remarks: get('remarks'),
    contacts,
    address,
    servicePoint: {
      usageTypeCode,
      meterLocation: get('meter_location'),
      meterBoxNo: codeText(get('meter_box_no')),
    },
    meter,
    lowIncome: lowIncomeM3 && Number(lowIncomeM3) > 0 ? { reductionM3: lowIncomeM3 } : null,
  };

  const result = createCustomerBody.safeParse(body, { reportInput: true });
  if (!result.success) {
    const zodIssues = result.error.issues as unknown as ZodIssueLike[];
    const zh = localiseIssues(zodIssues, 'zh-CN');
    const en = localiseIssues(zodIssues, 'en');
    zh.forEach((z, i) => {
      const key = PATH_COLUMNS[z.path] ?? PATH_COLUMNS[z.path.split('.').slice(0, 2).join('.')];
      // A column already reported by the checks above is not reported twice.
      if (key && flagged.has(key)) return;
      issues.push({
        column: key ? columnLabel(header, key) : z.path,
        code: z.code,
        messages: { 'zh-CN': z.message, en: en[i]!.message },
      });
    });
  }

  let valid: ValidRow | null = null;
  if (result.success && issues.length === 0 && state) {
    const parsedBody = result.data;
    const m = parsedBody.meter;
    if (m) {
      // The same meter rules as CustomerService.create.
      const problem = meterSizeProblem(parsedBody.utility as Utility, m.caliberDn, m.flowRatingM3h);
      if (problem) add(problem === 'FLOW_RATING_REQUIRED' ? 'flow_rating_m3h' : 'caliber_dn', problem);
      if (
        !m.icCard &&
        icCardRequired(parsedBody.utility as Utility, parsedBody.address.floor, rules.icCardAboveFloor)
      ) {
        add('ic_card', 'IC_CARD_REQUIRED', { floor: rules.icCardAboveFloor });
      }
      if (m.masterMeterNo && (m.role === 'master' || m.masterMeterNo === m.meterNo)) {
        add('master_meter_no', 'MASTER_WITH_MASTER');
      }
    }
    if (issues.length === 0) valid = { body: parsedBody, state };
  }

  return {
    rowNo,
    cells,
    keys: {
      row: rowHash(cells),
      customerCode: body.customerCode || null,
      meterNo: meterNo || null,
    },
    valid,
    issues: issues.slice(0, MAX_ISSUES_PER_ROW),
  };
}

// ------------------------------------------------------------------ "the same data"

/**
 * The facts a row states about a customer, and the same facts read back from the database:
 * a row whose customer exists with equal facts is "unchanged" (importing a file twice, or two
 * files that overlap, creates nothing twice); unequal facts are a conflict the report names.
 */
export type Facts = Record<string, string>;

/** Which column each fact comes from, for naming differences. */
export const FACT_COLUMNS: Record<string, ColumnKey | 'office'> = {
  office: 'office',
  customer_code: 'customer_code',
  kind: 'kind',
  name: 'name',
  id_card_no: 'id_card_no',
  credit_code: 'credit_code',
  bank_name: 'bank_name',
  bank_account: 'bank_account',
  utility: 'utility',
  state: 'state',
  connected_on: 'connected_on',
  low_income_m3: 'low_income_m3',
  remarks: 'remarks',
  phones: 'phone',
  contact_name: 'contact_name',
  district: 'district',
  community: 'community',
  building: 'building',
  unit: 'unit',
  door: 'door',
  detail: 'address',
  floor: 'floor',
  usage_type: 'usage_type',
  meter_location: 'meter_location',
  meter_box_no: 'meter_box_no',
  meter_no: 'meter_no',
  caliber_dn: 'caliber_dn',
  flow_rating_m3h: 'flow_rating_m3h',
  make: 'make',
  model: 'model',
  install_date: 'install_date',
  seal_no: 'seal_no',
  mounting: 'mounting',
  meter_role: 'meter_role',
  master_meter_no: 'master_meter_no',
  ic_card: 'ic_card',
  initial_index: 'initial_index',
};

/** 2.50 and 2.5 are the same volume. */
function num(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  return String(Number(value));
}
const str = (value: unknown): string => (value === null || value === undefined ? '' : String(value));

export function rowFacts(row: ValidRow): Facts {
  const b = row.body;
  const facts: Facts = {
    office: str(b.officeId),
    kind: b.kind,
    name: b.name,
    id_card_no: b.kind === 'person' ? str(b.idCardNo) : '',
    credit_code: b.kind === 'organisation' ? str(b.creditCode) : '',
    bank_name: b.bankName,
    bank_account: b.bankAccount,
    utility: b.utility,
    state: row.state,
    connected_on: str(b.connectedOn),
    low_income_m3: b.lowIncome ? num(b.lowIncome.reductionM3) : '0',
    remarks: b.remarks,
    phones: b.contacts
      .map((c) => c.phone)
      .sort()
      .join(','),
    contact_name: b.contacts[0]?.name ?? '',
    district: b.address.district,
    community: b.address.community,
    building: b.address.building,
    unit: b.address.unit,
    door: b.address.door,
    detail: b.address.detail,
    floor: str(b.address.floor),
    usage_type: b.servicePoint.usageTypeCode,
    meter_location: b.servicePoint.meterLocation,
    meter_box_no: b.servicePoint.meterBoxNo,
  };
  if (b.customerCode) facts.customer_code = b.customerCode;
  const m = b.meter;
  if (m) {
    Object.assign(facts, {
      meter_no: m.meterNo,
      caliber_dn: str(m.caliberDn),
      flow_rating_m3h: num(m.flowRatingM3h),
      make: m.make,
      model: m.model,
      install_date: str(m.installDate),
      seal_no: m.sealNo,
      mounting: m.mounting,
      meter_role: m.role,
      master_meter_no: str(m.masterMeterNo),
      ic_card: str(m.icCard),
      initial_index: num(m.initialIndex),
    });
  }
  return facts;
}

/** A customer as stored, in the shape rowFacts compares against. */
export interface StoredCustomer {
  customer: {
    account_id: number;
    office_id: number;
    customer_code: string;
    kind: string;
    name: string;
    id_card_no: string | null;
    credit_code: string | null;
    bank_name: string;
    bank_account: string;
    utility: string;
    state: string;
    connected_on: string | null;
    low_income: boolean;
    low_income_reduction_m3: string;
    remarks: string;
  };
  contacts: { name: string; phone: string; is_primary: boolean }[];
  address: {
    district: string;
    community: string;
    building: string;
    unit: string;
    door: string;
    detail: string;
    floor: number | null;
  } | null;
  servicePoints: {
    service_point_id: number;
    usage_type_code: string;
    meter_location: string;
    meter_box_no: string;
  }[];
  meters: {
    meter_no: string;
    service_point_id: number;
    caliber_dn: number | null;
    flow_rating_m3h: string | null;
    make: string;
    model: string;
    install_date: string | null;
    seal_no: string;
    mounting: string;
    role: string;
    master_meter_no: string | null;
    ic_card: boolean;
    initial_index: string;
  }[];
}

/** The facts of a stored customer, limited to what the row states (its code, its meter). */
export function storedFacts(s: StoredCustomer, like: Facts): Facts {
  const c = s.customer;
  const primary = [...s.contacts].sort((a, b) => Number(b.is_primary) - Number(a.is_primary))[0];
  const meter = 'meter_no' in like ? s.meters.find((x) => x.meter_no === like.meter_no) : undefined;
  // The service point compared is the one the row's meter sits on, else the first.
  const sp =
    s.servicePoints.find((p) => p.service_point_id === meter?.service_point_id) ?? s.servicePoints[0];
  const facts: Facts = {
    office: str(c.office_id),
    kind: c.kind,
    name: c.name,
    id_card_no: str(c.id_card_no),
    credit_code: str(c.credit_code),
    bank_name: c.bank_name,
    bank_account: c.bank_account,
    utility: c.utility,
    state: c.state,
    connected_on: str(c.connected_on),
    low_income_m3: c.low_income ? num(c.low_income_reduction_m3) : '0',
    remarks: c.remarks,
    phones: s.contacts
      .map((x) => x.phone)
      .sort()
      .join(','),
    contact_name: primary?.name ?? '',
    district: s.address?.district ?? '',
    community: s.address?.community ?? '',
    building: s.address?.building ?? '',
    unit: s.address?.unit ?? '',
    door: s.address?.door ?? '',
    detail: s.address?.detail ?? '',
    floor: str(s.address?.floor),
    usage_type: sp?.usage_type_code ?? '',
    meter_location: sp?.meter_location ?? '',
    meter_box_no: sp?.meter_box_no ?? '',
  };
  if ('customer_code' in like) facts.customer_code = c.customer_code;
  if ('meter_no' in like) {
    const m = meter;
    Object.assign(facts, {
      meter_no: m?.meter_no ?? '',
      caliber_dn: str(m?.caliber_dn),
      flow_rating_m3h: num(m?.flow_rating_m3h),
      make: m?.make ?? '',
      model: m?.model ?? '',
      install_date: str(m?.install_date),
      seal_no: m?.seal_no ?? '',
      mounting: m?.mounting ?? '',
      meter_role: m?.role ?? '',
      master_meter_no: str(m?.master_meter_no),
      ic_card: str(m?.ic_card),
      initial_index: num(m?.initial_index),
    });
  }
  return facts;
}

/** The columns (as headed in the file) whose facts differ, in both languages. */
export function differingColumns(header: HeaderMap, a: Facts, b: Facts): { zh: string; en: string } {
  const names: string[] = [];
  for (const [fact, value] of Object.entries(a)) {
    if (b[fact] === value) continue;
    const col = FACT_COLUMNS[fact];
    const name = col === 'office' ? '营业所' : col ? columnLabel(header, col) : fact;
    if (!names.includes(name)) names.push(name);
  }
  const en = names.map((n) => (n === '营业所' ? 'office (营业所)' : n));
  return { zh: names.join('、'), en: en.join(', ') };
}
