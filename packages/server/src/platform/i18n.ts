import {
  type Bilingual,
  type FieldError,
  formatMessage,
  LANGS,
  type Lang,
  messageFor,
} from '@meterline/domain';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { type $ZodType, safeParse } from 'zod/v4/core';

/** The parts of a zod issue the localiser reads. */
export interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  input?: unknown;
  expected?: string;
  origin?: string;
  minimum?: number | bigint;
  maximum?: number | bigint;
  values?: unknown[];
  keys?: string[];
  format?: string;
  params?: Record<string, unknown>;
}

/** The caller's language: the lang cookie, then ?lang=, then Accept-Language; zh-CN by default. */
export function requestLang(request: FastifyRequest): Lang {
  const fromCookie = request.cookies?.lang;
  if (fromCookie && (LANGS as string[]).includes(fromCookie)) return fromCookie as Lang;
  const header = request.headers['accept-language'] ?? '';
  if (/^en\b/i.test(header)) return 'en';
  return 'zh-CN';
}

const zhLocale = z.locales.zhCN().localeError;
const enLocale = z.locales.en().localeError;

function t(lang: Lang, messages: Bilingual, data: Record<string, unknown> = {}): string {
  return formatMessage(messages[lang], data);
}

const SIZE_WORDS: Record<string, Bilingual> = {
  string: { 'zh-CN': '个字符', en: ' characters' },
  array: { 'zh-CN': '项', en: ' items' },
};

function issueMessage(issue: ZodIssueLike, lang: Lang): { code: string; message: string } {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined || issue.input === null) {
        return { code: 'REQUIRED', message: t(lang, messageFor('REQUIRED')!) };
      }
      return {
        code: 'INVALID_TYPE',
        message: t(
          lang,
          { 'zh-CN': '类型不正确，应为{expected}', en: 'Wrong type: expected {expected}' },
          issue as never,
        ),
      };
    case 'too_small': {
      if (issue.origin === 'string' && Number(issue.minimum) === 1) {
        return { code: 'REQUIRED', message: t(lang, messageFor('REQUIRED')!) };
      }
      const unit = SIZE_WORDS[issue.origin ?? ''];
      if (unit) {
        return {
          code: 'TOO_SHORT',
          message:
            t(lang, { 'zh-CN': '至少 {minimum}', en: 'At least {minimum}' }, issue as never) + unit[lang],
        };
      }
      return {
        code: 'TOO_SMALL',
        message: t(lang, { 'zh-CN': '不能小于 {minimum}', en: 'Must be at least {minimum}' }, issue as never),
      };
    }
    case 'too_big': {
      const unit = SIZE_WORDS[issue.origin ?? ''];
      if (unit) {
        return {
          code: 'TOO_LONG',
          message:
            t(lang, { 'zh-CN': '最多 {maximum}', en: 'At most {maximum}' }, issue as never) + unit[lang],
        };
      }
      return {
        code: 'TOO_BIG',
        message: t(lang, { 'zh-CN': '不能大于 {maximum}', en: 'Must be at most {maximum}' }, issue as never),
      };
    }
    case 'invalid_value':
      return {
        code: 'NOT_ALLOWED',
        message: t(
          lang,
          { 'zh-CN': '取值无效，应为：{values}', en: 'Not allowed; expected one of: {values}' },
          { values: (issue.values ?? []).join(' / ') },
        ),
      };
    case 'invalid_format':
      return { code: 'FORMAT', message: t(lang, { 'zh-CN': '格式不正确', en: 'Wrong format' }) };
    case 'unrecognized_keys':
      return {
        code: 'UNKNOWN_FIELD',
        message: t(
          lang,
          { 'zh-CN': '不认识的字段：{keys}', en: 'Unknown field(s): {keys}' },
          { keys: (issue.keys ?? []).join(', ') },
        ),
      };
    case 'custom': {
      const code = String(issue.params?.code ?? 'INVALID');
      const messages = messageFor(code);
      if (messages) return { code, message: t(lang, messages, issue.params ?? {}) };
      return { code, message: issue.message };
    }
    default: {
      const localeError = lang === 'en' ? enLocale : zhLocale;
      const m = localeError(issue as never);
      return {
        code: issue.code.toUpperCase(),
        message: typeof m === 'string' ? m : (m?.message ?? issue.message),
      };
    }
  }
}

export function localiseIssues(issues: ZodIssueLike[], lang: Lang, _context?: string): FieldError[] {
  return issues.map((issue) => {
    const { code, message } = issueMessage(issue, lang);
    return { path: issue.path.map(String).join('.'), code, message };
  });
}

/**
 * Fastify validator: zod parsing that keeps each issue (with its input) so the error handler
 * can word it in the caller's language.
 */
export const validatorCompiler =
  ({ schema }: { schema: unknown }) =>
  (data: unknown) => {
    const result = safeParse(schema as $ZodType, data, { reportInput: true });
    if (result.success) return { value: result.data };
    const issues = result.error.issues as unknown as ZodIssueLike[];
    const error = Object.assign(new Error('validation failed'), {
      validation: issues.map((issue) => ({
        keyword: issue.code,
        instancePath: `/${issue.path.join('/')}`,
        schemaPath: '',
        message: issue.message,
        params: { issue },
      })),
      issues,
    });
    return { error };
  };
