import {
  formatMessage,
  MESSAGES,
  type MessageCode,
  validateCreditCode,
  validateIdCardNo,
  validatePhone,
} from '@meterline/domain';
import type { Rule } from 'antd/es/form';
import i18n, { currentLang } from '../i18n';

/** The shared message catalogue in the UI language: the same words the server would use. */
export function domainMessage(code: string, data: Record<string, unknown> = {}): string {
  const messages = (MESSAGES as Record<string, { 'zh-CN': string; en: string }>)[code as MessageCode];
  return messages
    ? formatMessage(messages[currentLang()], data)
    : i18n.t(`validation.${code}`, { defaultValue: code, ...data });
}

function checkRule(check: (value: string) => { ok: boolean; code?: string }): Rule {
  return {
    validator: (_, value: string | undefined | null) => {
      if (value === undefined || value === null || value.trim() === '') return Promise.resolve();
      const result = check(value);
      return result.ok
        ? Promise.resolve()
        : Promise.reject(new Error(domainMessage(result.code ?? 'INVALID')));
    },
  };
}

/** ID card number: length, region, birth date and the GB 11643 check digit, before the server sees it. */
export const idCardRule: Rule = checkRule((v) => validateIdCardNo(v));
export const creditCodeRule: Rule = checkRule((v) => validateCreditCode(v));
export const phoneRule: Rule = checkRule((v) => validatePhone(v));
export const bankAccountRule: Rule = checkRule((v) =>
  /^\d{8,30}$/.test(v.trim()) ? { ok: true } : { ok: false, code: 'BANK_ACCOUNT_FORMAT' },
);
export const meterNoRule: Rule = checkRule((v) =>
  /^[0-9A-Za-z-]+$/.test(v.trim()) ? { ok: true } : { ok: false, code: 'METER_NO_CHARS' },
);
export const volumeRule: Rule = checkRule((v) =>
  /^\d{1,9}(\.\d{1,3})?$/.test(String(v).trim()) ? { ok: true } : { ok: false, code: 'VOLUME_FORMAT' },
);
