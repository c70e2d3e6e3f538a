import { type Bilingual, DomainError, formatMessage, type Lang } from '@meterline/domain';

/** Why one reading of an upload or a bulk file was not stored, in both languages. */
export const ROW_MESSAGES = {
  METER_UNKNOWN: {
    'zh-CN': '找不到该表，或该表不属于您所在的营业所',
    en: 'No such meter in your offices',
  },
  METER_NO_UNKNOWN: {
    'zh-CN': '表号 {meterNo} 不存在或不属于该营业所',
    en: 'Meter {meterNo} does not exist in this office',
  },
  METER_REMOVED: { 'zh-CN': '该表已拆除', en: 'This meter has been removed' },
  INDEX_FORMAT: {
    'zh-CN': '读数格式不正确（最多9位整数、3位小数）',
    en: 'The index is not a number (at most 9 digits and 3 decimals)',
  },
  INDEX_TOO_LARGE: {
    'zh-CN': '读数超出表盘位数（{dialDigits}位）',
    en: 'The index does not fit the {dialDigits}-digit dial',
  },
  INDEX_REQUIRED: {
    'zh-CN': '请填写读数，或选择无法抄表的原因（如无人在家）',
    en: 'Enter the index, or choose why it could not be read (e.g. no access)',
  },
  REGISTER_INDEX_REQUIRED: {
    'zh-CN': '日冻结读数须有读数',
    en: 'A register read needs an index',
  },
  READ_AT_FORMAT: {
    'zh-CN': '抄表时间格式不正确',
    en: 'The read time is not a valid date and time',
  },
  READ_AT_FUTURE: { 'zh-CN': '抄表时间晚于当前时间', en: 'The read time is in the future' },
  READ_AT_TOO_OLD: {
    'zh-CN': '抄表时间早于 {days} 天前',
    en: 'The read time is more than {days} days ago',
  },
  ANOMALY_UNKNOWN: { 'zh-CN': '异常代码 {code} 不存在', en: 'Unknown anomaly code {code}' },
  IMAGE_TYPE: {
    'zh-CN': '{what}须为 JPEG 或 PNG 图片',
    en: 'The {what} must be a JPEG or PNG image',
  },
  IMAGE_TOO_LARGE: {
    'zh-CN': '{what}超过 {maxKb} KB',
    en: 'The {what} is larger than {maxKb} KB',
  },
  INDEX_UNCHANGED: { 'zh-CN': '新读数与原读数相同', en: 'The new index is the same as the recorded one' },
  INDEX_BELOW_PREVIOUS: {
    'zh-CN': '新读数低于上次读数 {previousIndex}',
    en: 'The new index is below the previous index {previousIndex}',
  },
  COLUMN_COUNT: {
    'zh-CN': '列数不对：应为 表号,抄表时间,读数[,异常代码]',
    en: 'Wrong number of columns: expected meter_no,read_at,index[,anomaly_codes]',
  },
} as const satisfies Record<string, Bilingual>;

export type RowCode = keyof typeof ROW_MESSAGES;

export interface RowError {
  code: RowCode;
  data: Record<string, unknown>;
}

/** Words for the image fields in the messages above ({what}: 'photo' or 'signature'). */
export const IMAGE_WHAT: Record<'photo' | 'signature', Bilingual> = {
  photo: { 'zh-CN': '照片', en: 'photo' },
  signature: { 'zh-CN': '签名', en: 'signature' },
};

export function rowMessage(error: RowError, lang: Lang): string {
  const what = IMAGE_WHAT[error.data.what as 'photo' | 'signature'];
  return formatMessage(
    ROW_MESSAGES[error.code][lang],
    what ? { ...error.data, what: what[lang] } : error.data,
  );
}

export function rowMessages(error: RowError): Bilingual {
  return { 'zh-CN': rowMessage(error, 'zh-CN'), en: rowMessage(error, 'en') };
}

// ------------------------------------------------------------------ request-level errors

/** A field of a request that fails one of the checks above (400 with the field marked). */
export function readingFieldError(path: string, error: RowError): DomainError {
  return new DomainError(
    'VALIDATION',
    error.data,
    { 'zh-CN': '提交的内容有误，请检查标出的字段', en: 'Some fields are not valid; see the marked fields' },
    [{ path, code: error.code, messages: rowMessages(error) }],
  );
}

export const readingNotInReview = (status: string) =>
  new DomainError(
    'READING_NOT_IN_REVIEW',
    { status },
    {
      'zh-CN': '该抄表记录不在待审核状态（当前：{status}）',
      en: 'This reading is not waiting for review (it is {status})',
    },
  );

export const consumptionUnknown = () =>
  new DomainError(
    'CONSUMPTION_UNKNOWN',
    {},
    {
      'zh-CN': '读数低于上次读数且不是翻表，无法计算用量：请退回重抄、估表，或先更正上次读数',
      en: 'The index is below the last one and no rollover, so there is no consumption: reject it, estimate, or correct the last reading first',
    },
  );

export const readingNotCorrectable = () =>
  new DomainError(
    'READING_NOT_CORRECTABLE',
    {},
    {
      'zh-CN': '只能更正已通过的实抄读数',
      en: 'Only an accepted actual reading can have its index corrected',
    },
  );

export const correctionPending = () =>
  new DomainError(
    'CORRECTION_PENDING',
    {},
    {
      'zh-CN': '该读数已有待审批的更正申请',
      en: 'This reading already has a correction waiting for approval',
    },
  );

export const correctionNotPending = (status: string) =>
  new DomainError(
    'CORRECTION_NOT_PENDING',
    { status },
    { 'zh-CN': '该更正申请已处理（{status}）', en: 'This correction has been decided already ({status})' },
  );

export const selfApproval = () =>
  new DomainError(
    'SELF_APPROVAL',
    {},
    {
      'zh-CN': '不能审批自己提交的更正申请',
      en: 'You cannot approve a correction you requested yourself',
    },
  );

export const correctionBreaksNext = (nextIndex: string) =>
  new DomainError(
    'CORRECTION_BREAKS_NEXT',
    { nextIndex },
    {
      'zh-CN': '更正后的读数高于下一次读数 {nextIndex}，下一次用量将为负：请先更正下一次读数',
      en: 'The corrected index is above the next reading ({nextIndex}), whose consumption would go negative: correct that one first',
    },
  );

export const followupClosed = () =>
  new DomainError(
    'FOLLOWUP_CLOSED',
    {},
    { 'zh-CN': '该跟进事项已关闭', en: 'This follow-up is closed already' },
  );

export const uploadFirst = (workDate: string, meters: Record<string, unknown>[]) =>
  new DomainError(
    'UPLOAD_FIRST',
    { workDate, count: meters.length, meters },
    {
      'zh-CN': '请先上传 {workDate} 的抄表数据（还有 {count} 块表未抄也未登记无法抄表），再下载新的线路',
      en: 'Upload the readings of {workDate} first ({count} meters have neither a reading nor a no-access entry) before downloading a new route',
    },
  );
