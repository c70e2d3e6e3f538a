/**
 * A field collection visit (DOMAIN.md §6, "A field visit records its method and outcome"): the
 * customer signs an account confirmation (水费账务确认书) — preferred — or signs the dunning notice;
 * if they refuse, the notice is posted on the building, photographed, and the reason recorded; if
 * nobody is found, the notice is posted and photographed and, where a phone number is known, the
 * customer is phoned. The visit also collects site data. See docs/field-collection.md.
 */
import type { Bilingual } from '../platform/errors.ts';

/** How the notice reached the customer. */
export const VISIT_METHODS = ['account_confirmation', 'dunning_notice', 'notice_posted'] as const;
export type VisitMethod = (typeof VISIT_METHODS)[number];

/** What came of the visit: signed (either document), refused, or nobody found. */
export const VISIT_OUTCOMES = ['signed', 'refused', 'nobody_found'] as const;
export type VisitOutcome = (typeof VISIT_OUTCOMES)[number];

/** What came of the phone call after nobody was found. */
export const PHONE_CALL_RESULTS = ['promised', 'refused', 'no_answer', 'wrong_number', 'disputed'] as const;
export type PhoneCallResult = (typeof PHONE_CALL_RESULTS)[number];

/** Secondary supply (二次供水) kinds on non-residential sites. */
export const SECONDARY_SUPPLY_TYPES = ['roof_tank', 'pump_station', 'pool', 'other'] as const;

export interface ResidentialSite {
  kind: 'residential';
  /** The compound's top floor. */
  topFloor: number;
  units: number;
  households: number;
}

export interface NonResidentialSite {
  kind: 'non_residential';
  community: string;
  buildings: number;
  households: number;
  /** Expected use per month, m³. */
  expectedUseM3: number;
  secondarySupply: boolean;
  /** Required when secondarySupply. */
  secondarySupplyType: string | null;
}

export type SiteData = ResidentialSite | NonResidentialSite;

export interface VisitInput {
  method: string;
  outcome: string;
  reason: string;
  hasPhoto: boolean;
  hasSignature: boolean;
  /** The signer's name (the customer or their household member). */
  signerName: string;
  /** Whether the customer has a phone number on record. */
  phoneKnown: boolean;
  phoneCall: { phone: string; result: string; note: string } | null;
  /** Promise to pay by this date (YYYY-MM-DD), optional. */
  promisedOn: string | null;
  site: SiteData | null;
}

export const VISIT_MESSAGES = {
  VISIT_METHOD_UNKNOWN: { 'zh-CN': '请选择催缴方式', en: 'Choose how the notice was delivered' },
  VISIT_OUTCOME_UNKNOWN: { 'zh-CN': '请选择走访结果', en: 'Choose the outcome of the visit' },
  VISIT_METHOD_MISMATCH: {
    'zh-CN': '签字确认须选择“账务确认书”或“催缴通知书”；拒签或无人须选择“张贴通知”',
    en: 'A signed visit uses the account confirmation or the notice; refused or nobody found means the notice was posted',
  },
  VISIT_SIGNATURE_REQUIRED: { 'zh-CN': '请客户签字', en: 'The customer’s signature is required' },
  VISIT_SIGNER_REQUIRED: { 'zh-CN': '请填写签字人姓名', en: 'Enter the signer’s name' },
  VISIT_PHOTO_REQUIRED: {
    'zh-CN': '请拍摄张贴通知的照片',
    en: 'Take a photo of the posted notice',
  },
  VISIT_REASON_REQUIRED: { 'zh-CN': '请填写拒签原因', en: 'Enter the reason the customer refused' },
  VISIT_PHONE_CALL_REQUIRED: {
    'zh-CN': '客户留有电话，请电话联系并记录结果',
    en: 'The customer has a phone number: call and record the result',
  },
  VISIT_PHONE_RESULT_UNKNOWN: { 'zh-CN': '请选择通话结果', en: 'Choose the result of the call' },
  VISIT_PHONE_FORMAT: { 'zh-CN': '电话号码格式不正确', en: 'The phone number is not valid' },
  VISIT_PROMISED_ON_FORMAT: {
    'zh-CN': '承诺缴费日期格式应为 YYYY-MM-DD',
    en: 'Dates are written YYYY-MM-DD',
  },
  VISIT_TEXT_TOO_LONG: { 'zh-CN': '内容过长（最多 500 字）', en: 'Too long (at most 500 characters)' },
  SITE_WHOLE_NUMBER: {
    'zh-CN': '请填写整数（楼层、单元至少为 1）',
    en: 'Enter a whole number (floors and units at least 1)',
  },
  SITE_NUMBER: { 'zh-CN': '请填写不小于 0 的数', en: 'Enter a number of at least 0' },
  SITE_COMMUNITY_REQUIRED: { 'zh-CN': '请填写小区（社区）名称', en: 'Enter the community' },
  SITE_SUPPLY_TYPE_REQUIRED: {
    'zh-CN': '有二次供水时请选择其类型',
    en: 'Choose the kind of secondary supply',
  },
  SITE_KIND_UNKNOWN: {
    'zh-CN': '请选择现场类型（居民/非居民）',
    en: 'Choose residential or non-residential',
  },
} satisfies Record<string, Bilingual>;

export type VisitMessageCode = keyof typeof VISIT_MESSAGES;

export interface VisitProblem {
  path: string;
  code: VisitMessageCode;
  messages: Bilingual;
}

/** Longest free text of a visit (reason, note). */
export const MAX_VISIT_TEXT = 500;

/** The method a visit's outcome calls for: signed → one of the two documents, otherwise the posted notice. */
export function methodsForOutcome(outcome: VisitOutcome): readonly VisitMethod[] {
  return outcome === 'signed' ? ['account_confirmation', 'dunning_notice'] : ['notice_posted'];
}

/**
 * Checks a visit against the rules of DOMAIN.md §6 and returns the problems, field by field (an
 * empty list: the visit may be stored).
 */
export function validateVisit(v: VisitInput): VisitProblem[] {
  const problems: VisitProblem[] = [];
  const add = (path: string, code: VisitMessageCode) =>
    problems.push({ path, code, messages: VISIT_MESSAGES[code] });
  const method = (VISIT_METHODS as readonly string[]).includes(v.method) ? (v.method as VisitMethod) : null;
  const outcome = (VISIT_OUTCOMES as readonly string[]).includes(v.outcome)
    ? (v.outcome as VisitOutcome)
    : null;
  if (!method) add('method', 'VISIT_METHOD_UNKNOWN');
  if (!outcome) add('outcome', 'VISIT_OUTCOME_UNKNOWN');
  if (v.reason.length > MAX_VISIT_TEXT) add('reason', 'VISIT_TEXT_TOO_LONG');
  if (method && outcome && !methodsForOutcome(outcome).includes(method))
    add('method', 'VISIT_METHOD_MISMATCH');
  if (outcome === 'signed') {
    if (!v.hasSignature) add('signature', 'VISIT_SIGNATURE_REQUIRED');
    if (v.signerName.trim() === '') add('signerName', 'VISIT_SIGNER_REQUIRED');
  }
  if (outcome === 'refused' || outcome === 'nobody_found') {
    if (!v.hasPhoto) add('photo', 'VISIT_PHOTO_REQUIRED');
  }
  if (outcome === 'refused' && v.reason.trim() === '') add('reason', 'VISIT_REASON_REQUIRED');
  if (outcome === 'nobody_found' && v.phoneKnown && !v.phoneCall)
    add('phoneCall', 'VISIT_PHONE_CALL_REQUIRED');
  if (v.phoneCall) {
    if (!(PHONE_CALL_RESULTS as readonly string[]).includes(v.phoneCall.result))
      add('phoneCall.result', 'VISIT_PHONE_RESULT_UNKNOWN');
    if (!/^[0-9+\-\s()]{7,20}$/.test(v.phoneCall.phone)) add('phoneCall.phone', 'VISIT_PHONE_FORMAT');
    if (v.phoneCall.note.length > MAX_VISIT_TEXT) add('phoneCall.note', 'VISIT_TEXT_TOO_LONG');
  }
  if (v.promisedOn !== null && !isDate(v.promisedOn)) add('promisedOn', 'VISIT_PROMISED_ON_FORMAT');
  if (v.site) problems.push(...validateSite(v.site));
  return problems;
}

/** Site data (DOMAIN.md §6): residential compounds top floor, units, households; others community, buildings, households, expected use, secondary supply and its type. */
export function validateSite(site: SiteData): VisitProblem[] {
  const problems: VisitProblem[] = [];
  const add = (path: string, code: VisitMessageCode) =>
    problems.push({ path: `site.${path}`, code, messages: VISIT_MESSAGES[code] });
  const whole = (path: string, value: unknown, min: number) => {
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > 100_000)
      add(path, 'SITE_WHOLE_NUMBER');
  };
  if (site.kind === 'residential') {
    whole('topFloor', site.topFloor, 1);
    whole('units', site.units, 1);
    whole('households', site.households, 0);
  } else if (site.kind === 'non_residential') {
    if (typeof site.community !== 'string' || site.community.trim() === '')
      add('community', 'SITE_COMMUNITY_REQUIRED');
    whole('buildings', site.buildings, 0);
    whole('households', site.households, 0);
    if (
      typeof site.expectedUseM3 !== 'number' ||
      !Number.isFinite(site.expectedUseM3) ||
      site.expectedUseM3 < 0
    )
      add('expectedUseM3', 'SITE_NUMBER');
    if (
      site.secondarySupply &&
      !(SECONDARY_SUPPLY_TYPES as readonly string[]).includes(site.secondarySupplyType ?? '')
    )
      add('secondarySupplyType', 'SITE_SUPPLY_TYPE_REQUIRED');
  } else {
    add('kind', 'SITE_KIND_UNKNOWN');
  }
  return problems;
}

function isDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}
