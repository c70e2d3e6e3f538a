import { type Bilingual, DomainError, type FieldError, type Lang, messageFor } from '@meterline/domain';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { localiseIssues, type ZodIssueLike } from './i18n.ts';

/** HTTP status for each error code that is not a plain 400; decided here once for the whole API. */
const STATUS_BY_CODE: Record<string, number> = {
  UNAUTHENTICATED: 401,
  BAD_CREDENTIALS: 401,
  FORBIDDEN: 403,
  OUT_OF_SCOPE: 403,
  NOT_FOUND: 404,
  ACCOUNT_LOCKED: 423,
  VERSION_CONFLICT: 409,
  METER_NUMBER_TAKEN: 409,
  CUSTOMER_CODE_TAKEN: 409,
  USERNAME_TAKEN: 409,
  OFFICE_CODE_TAKEN: 409,
  BRANCH_CODE_TAKEN: 409,
  BOOK_CODE_TAKEN: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  STATE_TRANSITION_NOT_ALLOWED: 409,
  PAYLOAD_TOO_LARGE: 413,
  UPLOAD_FIRST: 409,
  READING_NOT_IN_REVIEW: 409,
  CONSUMPTION_UNKNOWN: 409,
  READING_NOT_CORRECTABLE: 409,
  CORRECTION_PENDING: 409,
  CORRECTION_NOT_PENDING: 409,
  CORRECTION_BREAKS_NEXT: 409,
  FOLLOWUP_CLOSED: 409,
  SELF_APPROVAL: 403,
  TARIFF_VERSION_BILLED: 409,
  BILL_RUN_FINISHED: 409,
  BILL_RUN_ACTIVE: 409,
  BILL_RUN_NOT_CANCELLABLE: 409,
  ADJUSTMENT_NOT_PENDING: 409,
  ADJUSTMENT_OPEN_FOR_BILL: 409,
  ADJUSTMENT_BILL_NOT_OPEN: 409,
  ADJUSTMENT_SAME_PERSON: 403,
  PAYMENT_NEEDS_CONFIRMATION: 409,
  RECEIPT_NOT_EXCHANGEABLE: 409,
  PAYMENT_ALREADY_REVERSED: 409,
  PAYMENT_BILL_CANCELLED: 409,
  PAYMENT_CREDIT_USED: 409,
  DEPOSIT_NOT_HELD: 409,
  DEPOSIT_NOT_REFUNDABLE: 409,
  REQUEST_PENDING: 409,
  REQUEST_NOT_PENDING: 409,
  NO_CREDIT: 409,
  BANK_EXPORT_OUTSTANDING: 409,
  VAT_NOT_ALLOWED: 409,
  VAT_REQUEST_EXISTS: 409,
  MANDATE_ACTIVE: 409,
  GATEWAY_NOTHING_OWED: 409,
  // Escalation, shut-off and restore (collections/escalationRoutes.ts).
  SHUTOFF_NOT_ELIGIBLE: 409,
  LETTER_NOT_DUE: 409,
  LETTER_DELIVERED: 409,
  WORK_ORDER_CLOSED: 409,
  NOT_SHUT_OFF: 409,
  // Disputes and installment agreements (docs/arrears.md).
  DISPUTE_NOT_OPEN: 409,
  INSTALLMENT_STATE: 409,
  INSTALLMENT_EXISTS: 409,
  NOTHING_OWED: 409,
  // Field collection (docs/field-collection.md).
  COLLECTION_TASK_NOT_OPEN: 409,
};

/** Data of an error that its reply carries besides code and message (for clients that act on it). */
const EXPOSED_DATA: Record<string, readonly string[]> = {
  // The handheld lists the meters still to be done.
  UPLOAD_FIRST: ['workDate', 'meters'],
  // Escalation: why a shut-off or letter was refused, for the page to show it.
  SHUTOFF_NOT_ELIGIBLE: ['reason', 'monthsNeeded', 'earliestOn', 'months'],
  LETTER_NOT_DUE: ['reason', 'dueOn'],
};

export function statusFor(code: string): number {
  return STATUS_BY_CODE[code] ?? 400;
}

export const notFound = (entity: string, id: string | number) =>
  new DomainError(
    'NOT_FOUND',
    { entity, id },
    { 'zh-CN': '找不到该记录（{entity} {id}）', en: 'No such {entity}: {id}' },
  );

export const forbidden = (permission: string) =>
  new DomainError(
    'FORBIDDEN',
    { permission },
    { 'zh-CN': '您的角色没有此权限（{permission}）', en: 'Your role does not allow this ({permission})' },
  );

export const outOfScope = () =>
  new DomainError(
    'OUT_OF_SCOPE',
    {},
    { 'zh-CN': '该营业所不在您的管辖范围内', en: 'That office is outside the offices you work for' },
  );

export const versionConflict = () =>
  new DomainError(
    'VERSION_CONFLICT',
    {},
    {
      'zh-CN': '该记录已被他人修改，请刷新后重试',
      en: 'Someone else changed this record; reload it and try again',
    },
  );

/** A validation failure on named fields, with messages from the shared catalogue. */
export function fieldError(path: string, code: string, data: Record<string, unknown> = {}): DomainError {
  return fieldErrors([{ path, code }], data);
}

export function fieldErrors(
  fields: { path: string; code: string; messages?: Bilingual }[],
  data: Record<string, unknown> = {},
): DomainError {
  const resolved = fields.map((f) => ({
    path: f.path,
    code: f.code,
    messages: f.messages ?? messageFor(f.code) ?? { 'zh-CN': f.code, en: f.code },
  }));
  return new DomainError(
    'VALIDATION',
    data,
    { 'zh-CN': '提交的内容有误，请检查标出的字段', en: 'Some fields are not valid; see the marked fields' },
    resolved,
  );
}

export interface ErrorBody {
  error: { code: string; message: string; fields?: FieldError[] };
}

export function errorBody(error: DomainError, lang: Lang): ErrorBody {
  const fields = error.fieldErrorsIn(lang);
  const exposed = Object.fromEntries((EXPOSED_DATA[error.code] ?? []).map((k) => [k, error.data[k]]));
  return {
    error: {
      code: error.code,
      message: error.messageIn(lang),
      ...exposed,
      ...(fields.length ? { fields } : {}),
    },
  };
}

const VALIDATION_MESSAGES: Bilingual = {
  'zh-CN': '提交的内容有误，请检查标出的字段',
  en: 'Some fields are not valid; see the marked fields',
};

/** The one place errors become HTTP replies. */
export function handleError(
  error: FastifyError & { issues?: ZodIssueLike[] },
  request: FastifyRequest,
  reply: FastifyReply,
) {
  const lang = request.ctx?.lang ?? 'zh-CN';
  if (error instanceof DomainError) {
    return reply.status(statusFor(error.code)).send(errorBody(error, lang));
  }
  if (error.validation) {
    const issues = error.issues;
    const fields = issues
      ? localiseIssues(issues, lang, error.validationContext)
      : error.validation.map((v) => ({
          path: [error.validationContext, v.instancePath.replace(/^\//, '').replace(/\//g, '.')]
            .filter(Boolean)
            .join('.'),
          code: 'INVALID',
          message: v.message ?? 'invalid',
        }));
    return reply
      .status(400)
      .send({ error: { code: 'VALIDATION', message: VALIDATION_MESSAGES[lang], fields } });
  }
  if (error.statusCode === 413 || error.code === 'FST_REQ_FILE_TOO_LARGE') {
    return reply.status(413).send({
      error: {
        code: 'PAYLOAD_TOO_LARGE',
        message: lang === 'en' ? 'The file or request is too large' : '文件或请求过大',
      },
    });
  }
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return reply
      .status(error.statusCode)
      .send({ error: { code: error.code ?? 'BAD_REQUEST', message: error.message } });
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply.status(500).send({
    error: {
      code: 'INTERNAL',
      message:
        lang === 'en' ? 'Something went wrong on the server; it has been logged' : '服务器内部错误，已记录',
    },
  });
}
