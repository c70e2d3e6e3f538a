import { PRICE_FRACTION_DIGITS } from './tariff.ts';

/**
 * Prices are kept in fen per m³ (docs/billing.md) but people think and type in yuan per m³. These
 * convert between the two by moving the decimal point in the text, never through a binary float,
 * so 2.1 yuan is exactly 210 fen and 0.955 yuan exactly 95.5 fen.
 */

/** Decimals a price in yuan may have: a fen price's decimals plus the two of the fen. */
export const YUAN_FRACTION_DIGITS = PRICE_FRACTION_DIGITS + 2;

const YUAN_RE = new RegExp(`^(-?)(\\d{1,7})(?:\\.(\\d{1,${YUAN_FRACTION_DIGITS}}))?$`);
const FEN_RE = /^(-?)(\d{1,15})(?:\.(\d{1,12}))?$/;

function stripLeadingZeros(digits: string): string {
  return digits.replace(/^0+(?=\d)/, '');
}

/**
 * '2.1' (yuan) → '210' (fen); '0.955' → '95.5'; '-1' → '-100'. Null when the text is not a number
 * of yuan with at most 7 whole digits and 6 decimals. A negative price converts (and is then refused
 * by validateTariff with its reason), so the person sees why rather than a format error.
 */
export function yuanToFen(yuan: string): string | null {
  const m = YUAN_RE.exec(yuan.trim());
  if (!m) return null;
  const [, sign, whole = '', fraction = ''] = m;
  const padded = fraction.padEnd(2, '0');
  const fenWhole = stripLeadingZeros(`${whole}${padded.slice(0, 2)}`);
  const fenFraction = padded.slice(2).replace(/0+$/, '');
  const abs = fenFraction ? `${fenWhole}.${fenFraction}` : fenWhole;
  return sign && /[1-9]/.test(abs) ? `-${abs}` : abs;
}

/**
 * '210' (fen) → '2.10' (yuan); '95.5' → '0.955'; '-5' → '-0.05'. At least two decimals, trailing
 * zeros beyond them dropped. Null when the text is not a decimal number.
 */
export function fenToYuan(fen: string): string | null {
  const m = FEN_RE.exec(fen.trim());
  if (!m) return null;
  const [, sign, whole = '', fraction = ''] = m;
  const padded = whole.padStart(3, '0');
  const yuanWhole = stripLeadingZeros(padded.slice(0, -2));
  const yuanFraction = `${padded.slice(-2)}${fraction}`.replace(/0+$/, '').padEnd(2, '0');
  const zero = !/[1-9]/.test(`${whole}${fraction}`);
  return `${sign && !zero ? '-' : ''}${yuanWhole}.${yuanFraction}`;
}

/** A whole number of fen as yuan with two decimals: 21450 → '214.50'. */
export function formatFenAsYuan(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new Error(`not a whole number of fen: ${fen}`);
  const abs = Math.abs(fen);
  const whole = Math.floor(abs / 100);
  const part = abs - whole * 100;
  return `${fen < 0 ? '-' : ''}${whole}.${part < 10 ? '0' : ''}${part}`;
}
