/**
 * Resident identity card numbers (居民身份证号码), GB 11643-1999:
 * 6-digit region code, 8-digit birth date, 3-digit sequence, 1 check character.
 */

export type IdCheckCode =
  | 'ID_CARD_LENGTH'
  | 'ID_CARD_CHARS'
  | 'ID_CARD_REGION'
  | 'ID_CARD_BIRTH_DATE'
  | 'ID_CARD_CHECKSUM';

export type CheckResult<C extends string> = { ok: true; normalized: string } | { ok: false; code: C };

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const ID_CHECK_CHARS = '10X98765432';

/** Province-level codes in use (the first two digits of the region code). */
const PROVINCE_CODES = new Set([
  11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61,
  62, 63, 64, 65, 71, 81, 82, 83,
]);

/** The check character for the first 17 digits of an ID card number. */
export function idCardCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i]!;
  return ID_CHECK_CHARS[sum % 11]!;
}

function isRealDate(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** Validates an 18-character ID card number; `today` bounds the birth date. */
export function validateIdCardNo(input: string, today: Date = new Date()): CheckResult<IdCheckCode> {
  const value = input.trim().toUpperCase();
  if (value.length !== 18) return { ok: false, code: 'ID_CARD_LENGTH' };
  if (!/^\d{17}[\dX]$/.test(value)) return { ok: false, code: 'ID_CARD_CHARS' };
  if (!PROVINCE_CODES.has(Number(value.slice(0, 2)))) return { ok: false, code: 'ID_CARD_REGION' };
  const year = Number(value.slice(6, 10));
  const month = Number(value.slice(10, 12));
  const day = Number(value.slice(12, 14));
  const birth = Date.UTC(year, month - 1, day);
  if (year < 1900 || !isRealDate(year, month, day) || birth > today.getTime()) {
    return { ok: false, code: 'ID_CARD_BIRTH_DATE' };
  }
  if (idCardCheckChar(value.slice(0, 17)) !== value[17]) return { ok: false, code: 'ID_CARD_CHECKSUM' };
  return { ok: true, normalized: value };
}

/** The birth date an ID card number carries, as YYYY-MM-DD. */
export function birthDateFromIdCard(idCardNo: string): string {
  return `${idCardNo.slice(6, 10)}-${idCardNo.slice(10, 12)}-${idCardNo.slice(12, 14)}`;
}
