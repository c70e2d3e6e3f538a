/** A message in both UI languages. Placeholders are written {name}. */
export interface Bilingual {
  'zh-CN': string;
  en: string;
}

export type Lang = keyof Bilingual;
export const LANGS: readonly Lang[] = ['zh-CN', 'en'];

export function formatMessage(template: string, data: Record<string, unknown> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, key: string) => (key in data ? String(data[key]) : whole));
}

/** One field that failed validation: its path in the submitted object and why. */
export interface FieldError {
  path: string;
  code: string;
  message: string;
}

/**
 * The one error type of the product: a stable code, the data that explains it,
 * and a message in both languages. The server maps codes to HTTP statuses once.
 */
export class DomainError extends Error {
  constructor(
    readonly code: string,
    readonly data: Record<string, unknown>,
    readonly messages: Bilingual,
    readonly fields: { path: string; code: string; messages: Bilingual }[] = [],
  ) {
    super(formatMessage(messages.en, data));
    this.name = 'DomainError';
  }

  messageIn(lang: Lang): string {
    return formatMessage(this.messages[lang], this.data);
  }

  fieldErrorsIn(lang: Lang): FieldError[] {
    return this.fields.map((f) => ({
      path: f.path,
      code: f.code,
      message: formatMessage(f.messages[lang], this.data),
    }));
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}
