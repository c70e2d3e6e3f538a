import { type Bilingual, DomainError } from '@meterline/domain';

/** A 400 on one field with its own message (codes of this area are not in the shared catalogue). */
export function invalid(
  path: string,
  code: string,
  messages: Bilingual,
  data: Record<string, unknown> = {},
): DomainError {
  return new DomainError(
    'VALIDATION',
    data,
    { 'zh-CN': `提交的内容有误：${messages['zh-CN']}`, en: `Not valid: ${messages.en}` },
    [{ path, code, messages }],
  );
}

/** Up to this many meters are named in an error message; the rest are counted. */
const NAMED_IN_MESSAGE = 10;

export function nameSome(items: string[]): string {
  const named = items.slice(0, NAMED_IN_MESSAGE).join('、');
  return items.length > NAMED_IN_MESSAGE ? `${named} … (+${items.length - NAMED_IN_MESSAGE})` : named;
}

/** A taken code is a conflict (409), like every other "already in use", marked on the code field. */
export const bookCodeTaken = (code: string) => {
  const messages = { 'zh-CN': '册本号 {code} 已被使用', en: 'Book code {code} is already in use' };
  return new DomainError('BOOK_CODE_TAKEN', { code }, messages, [
    { path: 'code', code: 'BOOK_CODE_TAKEN', messages },
  ]);
};

export const readerNotInOffice = (path = 'readerId') =>
  invalid(path, 'READER_NOT_IN_OFFICE', {
    'zh-CN': '该员工不是本营业所在职的抄表员',
    en: 'This staff member is not an active meter reader of the book’s office',
  });

export const stateConflict = (messages: Bilingual, data: Record<string, unknown> = {}) =>
  new DomainError('STATE_TRANSITION_NOT_ALLOWED', data, messages);
