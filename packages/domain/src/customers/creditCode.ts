import type { CheckResult } from './idCard.ts';

/**
 * Unified social credit codes (统一社会信用代码), GB 32100-2015: 18 characters from
 * a 31-character alphabet (no I, O, S, V, Z); the last is a check character.
 */

export type CreditCodeCheck = 'CREDIT_CODE_LENGTH' | 'CREDIT_CODE_CHARS' | 'CREDIT_CODE_CHECKSUM';

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

/** The check character for the first 17 characters of a credit code. */
export function creditCodeCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += ALPHABET.indexOf(first17[i]!) * WEIGHTS[i]!;
  const check = 31 - (sum % 31);
  return ALPHABET[check === 31 ? 0 : check]!;
}

export function validateCreditCode(input: string): CheckResult<CreditCodeCheck> {
  const value = input.trim().toUpperCase();
  if (value.length !== 18) return { ok: false, code: 'CREDIT_CODE_LENGTH' };
  for (const ch of value) if (!ALPHABET.includes(ch)) return { ok: false, code: 'CREDIT_CODE_CHARS' };
  // Registration authority (1st) and category (2nd) characters, then a 6-digit region code.
  if (!/^[0-9A-HJ-NP-RTUWXY]{2}\d{6}/.test(value)) return { ok: false, code: 'CREDIT_CODE_CHARS' };
  if (creditCodeCheckChar(value.slice(0, 17)) !== value[17])
    return { ok: false, code: 'CREDIT_CODE_CHECKSUM' };
  return { ok: true, normalized: value };
}
