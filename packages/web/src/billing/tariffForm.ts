import { type Bilingual, fenToYuan, formatFenAsYuan, type TariffVersion, yuanToFen } from '@meterline/domain';
import { ApiError } from '../api';

/**
 * The tariff editor's form and its conversion to and from the API. People type prices in yuan per
 * m³; the API keeps fen per m³. Conversion moves the decimal point in the text (yuanToFen /
 * fenToYuan), so no price ever passes through a binary float.
 */

export interface BilledVersion {
  version: string;
  firstDay: string;
  lastDay: string;
  bills: number;
}

/** GET /api/tariffs items. */
export interface TariffSummary {
  usageType: string;
  utility: string;
  name: Bilingual;
  active: boolean;
  configured: boolean;
  chargeName: Bilingual | null;
  revision: number;
  versionCount: number;
  current: TariffVersion | null;
  next: { version: string; effectiveFrom: string } | null;
  updatedAt: string | null;
  updatedBy: { staffId: number; fullName: string } | null;
}

/** GET /api/tariffs/:usageType */
export interface TariffDetail extends TariffSummary {
  versions: TariffVersion[];
  billed: BilledVersion[];
  suggestedChargeName: Bilingual;
}

export interface BillLine {
  kind: 'flat' | 'block' | 'surcharge' | 'minimum';
  code: string;
  blockNo: number | null;
  description: Bilingual;
  volumeM3: string;
  unitPriceFen: string | null;
  amountFen: number;
  from: string;
  to: string;
  tariffVersion: string;
}

/** POST /api/tariffs/preview: calculateBill's bill. */
export interface PreviewBill {
  payableM3: string;
  lowIncomeReductionM3: string;
  segments: { from: string; to: string; days: number; tariffVersion: string; volumeM3: string }[];
  lines: BillLine[];
  totalFen: number;
  annualBlockUsedAfter: { year: number; volumeM3: string };
  explanation: Bilingual[];
}

export interface BlockForm {
  fromM3: string;
  toM3: string | null;
  priceYuanPerM3: string;
}

export interface SurchargeForm {
  code: string;
  name: Bilingual;
  priceYuanPerM3: string;
}

export interface VersionForm {
  version: string;
  effectiveFrom: string | null;
  effectiveTo: string | null;
  charge: {
    kind: 'flat' | 'blocks';
    priceYuanPerM3?: string;
    basis?: 'annual' | 'monthly';
    blocks?: BlockForm[];
  };
  surcharges: SurchargeForm[];
  /** Yuan a month; empty: no minimum charge. */
  minimumChargeYuanPerMonth: string;
}

export interface TariffForm {
  chargeName: Bilingual;
  versions: VersionForm[];
}

/** A price in yuan as typed, or the text itself when it is not one (the form's rule says why). */
function fen(yuan: string | undefined | null): string {
  const text = (yuan ?? '').trim();
  return yuanToFen(text) ?? text;
}

function yuan(fenText: string): string {
  return fenToYuan(fenText) ?? fenText;
}

const blank = (v: string | null | undefined): boolean => v === null || v === undefined || v.trim() === '';

export function versionToForm(v: TariffVersion): VersionForm {
  return {
    version: v.version,
    effectiveFrom: v.effectiveFrom,
    effectiveTo: v.effectiveTo,
    charge:
      v.charge.kind === 'flat'
        ? { kind: 'flat', priceYuanPerM3: yuan(v.charge.priceFenPerM3), basis: 'annual', blocks: [] }
        : {
            kind: 'blocks',
            basis: v.charge.basis,
            blocks: v.charge.blocks.map((b) => ({
              fromM3: b.fromM3,
              toM3: b.toM3,
              priceYuanPerM3: yuan(b.priceFenPerM3),
            })),
          },
    surcharges: v.surcharges.map((s) => ({
      code: s.code,
      name: { ...s.name },
      priceYuanPerM3: yuan(s.priceFenPerM3),
    })),
    minimumChargeYuanPerMonth:
      v.minimumChargeFenPerMonth === null ? '' : formatFenAsYuan(v.minimumChargeFenPerMonth),
  };
}

export function versionFromForm(v: VersionForm): TariffVersion {
  const charge = v.charge ?? { kind: 'flat' };
  const minimum = (v.minimumChargeYuanPerMonth ?? '').trim();
  const minimumFen = minimum === '' ? null : yuanToFen(minimum);
  return {
    version: (v.version ?? '').trim(),
    effectiveFrom: v.effectiveFrom ?? '',
    effectiveTo: blank(v.effectiveTo) ? null : (v.effectiveTo as string),
    charge:
      charge.kind === 'blocks'
        ? {
            kind: 'blocks',
            basis: charge.basis ?? 'annual',
            blocks: (charge.blocks ?? []).map((b) => ({
              fromM3: (b?.fromM3 ?? '').trim(),
              toM3: blank(b?.toM3) ? null : (b.toM3 as string).trim(),
              priceFenPerM3: fen(b?.priceYuanPerM3),
            })),
          }
        : { kind: 'flat', priceFenPerM3: fen(charge.priceYuanPerM3) },
    surcharges: (v.surcharges ?? []).map((s) => ({
      code: (s?.code ?? '').trim(),
      name: { 'zh-CN': s?.name?.['zh-CN'] ?? '', en: s?.name?.en ?? '' },
      priceFenPerM3: fen(s?.priceYuanPerM3),
    })),
    // A minimum is whole fen; the form's rule refuses anything finer before it gets here.
    minimumChargeFenPerMonth: minimumFen === null ? null : Number(minimumFen),
  };
}

export function tariffFromForm(form: TariffForm): { chargeName: Bilingual; versions: TariffVersion[] } {
  return {
    chargeName: {
      'zh-CN': form.chargeName?.['zh-CN'] ?? '',
      en: form.chargeName?.en ?? '',
    },
    versions: (form.versions ?? []).map(versionFromForm),
  };
}

/** The form field a server path names: prices are typed in yuan, so their fields say so. */
export function formPath(apiPath: string): string {
  return apiPath
    .replace(/\.priceFenPerM3$/, '.priceYuanPerM3')
    .replace(/\.minimumChargeFenPerMonth$/, '.minimumChargeYuanPerMonth');
}

/** The same error with its field paths renamed to the form's (and `prefix` taken off). */
export function forForm(error: unknown, prefix = ''): unknown {
  if (!(error instanceof ApiError)) return error;
  return new ApiError(
    error.status,
    error.code,
    error.message,
    error.fields.map((f) => ({
      ...f,
      path: formPath(prefix && f.path.startsWith(prefix) ? f.path.slice(prefix.length) : f.path),
    })),
  );
}

/** The version (index in the form) a field path points into, if any. */
export function versionIndexOf(path: string): number | null {
  const m = /^(?:tariff\.)?versions\.(\d+)\./.exec(path);
  return m ? Number(m[1]) : null;
}

/** A yuan price as typed: digits with at most 6 decimals (a minus sign is left for the server to refuse). */
export function isYuanPrice(text: string): boolean {
  return yuanToFen(text) !== null;
}

/** A minimum charge in yuan: whole fen. */
export function isYuanAmount(text: string): boolean {
  const fenText = yuanToFen(text);
  return fenText !== null && /^-?\d+$/.test(fenText);
}

/** A price (fen per m³ as text) as a number of yuan for the chart (display only). */
export function yuanNumber(fenText: string): number {
  const y = fenToYuan(fenText);
  return y === null ? Number.NaN : Number(y);
}

/** Fen prices have at most 4 decimals: as whole ten-thousandths of a fen they add exactly. */
const FEN_SCALE = 4;

function toUnits(fenText: string): bigint | null {
  const m = /^(-?)(\d{1,15})(?:\.(\d{1,4}))?$/.exec(fenText.trim());
  if (!m) return null;
  const units = BigInt(`${m[2]}${(m[3] ?? '').padEnd(FEN_SCALE, '0')}`);
  return m[1] ? -units : units;
}

function fromUnits(units: bigint): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(FEN_SCALE + 1, '0');
  const whole = digits.slice(0, -FEN_SCALE);
  const fraction = digits.slice(-FEN_SCALE).replace(/0+$/, '');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** The sum of fen prices, exactly; null when one of them is not a price. */
export function sumFen(prices: string[]): string | null {
  let total = 0n;
  for (const p of prices) {
    const units = toUnits(p);
    if (units === null) return null;
    total += units;
  }
  return fromUnits(total);
}
