import { Decimal } from 'decimal.js';
import { addDays } from '../calendar/workingDays.ts';
import { validateIsoDate } from '../platform/dates.ts';
import { type Bilingual, DomainError } from '../platform/errors.ts';
import { BILLING_MESSAGES, type BillingProblem, problem } from './messages.ts';

/**
 * Tariffs as data (DOMAIN.md §4): one tariff per usage type, versioned by effective date. A
 * version prices the volume with one charge — a flat price or blocks (阶梯) counted monthly or
 * over the calendar year — plus surcharges per m³ (污水处理费, 水资源费) and an optional minimum
 * charge. Prices are fen per m³ as decimal strings; volumes are m³ as decimal strings.
 */

export interface Tariff {
  /** The usage type (用水性质 / 用气性质) this tariff prices, e.g. 'residential'. */
  usageType: string;
  /** What the main charge is called on the bill, e.g. 水费 / Water charge, 燃气费 / Gas charge. */
  chargeName: Bilingual;
  versions: TariffVersion[];
}

export interface TariffVersion {
  /** A label unique within the tariff, shown on bill lines, e.g. '2025-07'. */
  version: string;
  /** First day the version applies, YYYY-MM-DD. */
  effectiveFrom: string;
  /** Last day it applies (included), or null while it is the current version. */
  effectiveTo: string | null;
  charge: FlatCharge | BlockCharge;
  surcharges: Surcharge[];
  /** Least main charge a month, fen; topped up per version segment of a bill. null: none. */
  minimumChargeFenPerMonth: number | null;
}

export interface FlatCharge {
  kind: 'flat';
  priceFenPerM3: string;
}

export type BlockBasis = 'monthly' | 'annual';

export interface BlockCharge {
  kind: 'blocks';
  /**
   * annual: thresholds are volumes per calendar year, consumed across the year's bills;
   * monthly: thresholds are volumes per month, scaled by the months a bill covers.
   */
  basis: BlockBasis;
  blocks: Block[];
}

/** A block covers (fromM3, toM3] of the basis volume; the last block has toM3 null. */
export interface Block {
  fromM3: string;
  toM3: string | null;
  priceFenPerM3: string;
}

export interface Surcharge {
  /** Stable code, e.g. 'sewage', 'water_resource'. */
  code: string;
  name: Bilingual;
  priceFenPerM3: string;
}

export const MAX_TARIFF_VERSIONS = 500;
export const MAX_BLOCKS = 10;
export const MAX_SURCHARGES = 10;
/** Decimals allowed in a price in fen per m³ (fen to 1/10 000, i.e. yuan to 6 decimals). */
export const PRICE_FRACTION_DIGITS = 4;

const VOLUME_RE = /^\d{1,12}(\.\d{1,3})?$/;
const PRICE_RE = new RegExp(`^-?\\d{1,9}(\\.\\d{1,${PRICE_FRACTION_DIGITS}})?$`);

export function isVolume(value: unknown): value is string {
  return typeof value === 'string' && VOLUME_RE.test(value);
}

function checkPrice(value: unknown, path: string, out: BillingProblem[]): void {
  if (typeof value !== 'string' || !PRICE_RE.test(value)) {
    out.push(problem(path, 'PRICE_FORMAT', { fractionDigits: PRICE_FRACTION_DIGITS }));
  } else if (new Decimal(value).isNegative() && !new Decimal(value).isZero()) {
    out.push(problem(path, 'PRICE_NEGATIVE', { price: value }));
  }
}

function checkDate(value: unknown, path: string, out: BillingProblem[]): value is string {
  if (typeof value !== 'string') {
    out.push(problem(path, 'DATE_FORMAT'));
    return false;
  }
  const r = validateIsoDate(value);
  if (!r.ok) {
    out.push(problem(path, r.code === 'DATE_INVALID' ? 'DATE_INVALID' : 'DATE_FORMAT'));
    return false;
  }
  return true;
}

function checkName(value: Bilingual | undefined, path: string, out: BillingProblem[]): void {
  if (!value || typeof value['zh-CN'] !== 'string' || value['zh-CN'].trim() === '')
    out.push(problem(`${path}.zh-CN`, 'REQUIRED'));
  if (!value || typeof value.en !== 'string' || value.en.trim() === '')
    out.push(problem(`${path}.en`, 'REQUIRED'));
}

function checkBlocks(charge: BlockCharge, path: string, out: BillingProblem[]): void {
  if (charge.basis !== 'monthly' && charge.basis !== 'annual')
    out.push(problem(`${path}.basis`, 'BLOCK_BASIS'));
  const blocks = Array.isArray(charge.blocks) ? charge.blocks : [];
  if (blocks.length === 0) {
    out.push(problem(`${path}.blocks`, 'BLOCKS_EMPTY'));
    return;
  }
  if (blocks.length > MAX_BLOCKS) {
    out.push(problem(`${path}.blocks`, 'TOO_MANY', { max: MAX_BLOCKS }));
    return;
  }
  let previousTo: string | null | undefined; // undefined: unknown (bad input before)
  blocks.forEach((block, i) => {
    const p = `${path}.blocks[${i}]`;
    const blockNo = i + 1;
    checkPrice(block.priceFenPerM3, `${p}.priceFenPerM3`, out);
    const fromOk = isVolume(block.fromM3);
    if (!fromOk) out.push(problem(`${p}.fromM3`, 'VOLUME_FORMAT'));
    const toOk = block.toM3 === null || isVolume(block.toM3);
    if (!toOk) out.push(problem(`${p}.toM3`, 'VOLUME_FORMAT'));
    if (fromOk) {
      const from = new Decimal(block.fromM3);
      if (i === 0 && !from.isZero())
        out.push(problem(`${p}.fromM3`, 'BLOCK_FIRST_FROM_ZERO', { fromM3: block.fromM3 }));
      if (i > 0 && typeof previousTo === 'string') {
        const prev = new Decimal(previousTo);
        if (from.gt(prev))
          out.push(
            problem(`${p}.fromM3`, 'BLOCK_GAP', { blockNo, fromM3: block.fromM3, previousToM3: previousTo }),
          );
        if (from.lt(prev))
          out.push(
            problem(`${p}.fromM3`, 'BLOCK_OVERLAP', {
              blockNo,
              fromM3: block.fromM3,
              previousToM3: previousTo,
            }),
          );
      }
      if (toOk && block.toM3 !== null && !new Decimal(block.toM3).gt(from))
        out.push(problem(`${p}.toM3`, 'BLOCK_EMPTY', { blockNo, fromM3: block.fromM3, toM3: block.toM3 }));
    }
    const last = i === blocks.length - 1;
    if (last && block.toM3 !== null) out.push(problem(`${p}.toM3`, 'BLOCK_LAST_OPEN'));
    if (!last && block.toM3 === null) out.push(problem(`${p}.toM3`, 'BLOCK_OPEN_NOT_LAST'));
    previousTo = toOk ? block.toM3 : undefined;
  });
}

function checkVersion(v: TariffVersion, path: string, out: BillingProblem[]): void {
  if (typeof v.version !== 'string' || v.version.trim() === '')
    out.push(problem(`${path}.version`, 'REQUIRED'));
  const fromOk = checkDate(v.effectiveFrom, `${path}.effectiveFrom`, out);
  if (v.effectiveTo !== null) {
    const toOk = checkDate(v.effectiveTo, `${path}.effectiveTo`, out);
    if (fromOk && toOk && v.effectiveTo < v.effectiveFrom)
      out.push(
        problem(`${path}.effectiveTo`, 'VERSION_ENDS_BEFORE_START', {
          effectiveFrom: v.effectiveFrom,
          effectiveTo: v.effectiveTo,
        }),
      );
  }
  const charge = v.charge;
  if (charge?.kind === 'flat') checkPrice(charge.priceFenPerM3, `${path}.charge.priceFenPerM3`, out);
  else if (charge?.kind === 'blocks') checkBlocks(charge, `${path}.charge`, out);
  else out.push(problem(`${path}.charge.kind`, 'CHARGE_KIND'));

  const surcharges = Array.isArray(v.surcharges) ? v.surcharges : [];
  if (surcharges.length > MAX_SURCHARGES)
    out.push(problem(`${path}.surcharges`, 'TOO_MANY', { max: MAX_SURCHARGES }));
  const codes = new Set<string>();
  surcharges.slice(0, MAX_SURCHARGES).forEach((s, i) => {
    const p = `${path}.surcharges[${i}]`;
    if (typeof s.code !== 'string' || s.code.trim() === '') out.push(problem(`${p}.code`, 'REQUIRED'));
    else if (codes.has(s.code)) out.push(problem(`${p}.code`, 'SURCHARGE_DUPLICATE', { code: s.code }));
    else codes.add(s.code);
    checkName(s.name, `${p}.name`, out);
    checkPrice(s.priceFenPerM3, `${p}.priceFenPerM3`, out);
  });

  const min = v.minimumChargeFenPerMonth;
  if (min !== null && !(Number.isSafeInteger(min) && min >= 0))
    out.push(problem(`${path}.minimumChargeFenPerMonth`, 'MINIMUM_CHARGE_FORMAT'));
}

/**
 * Checks a tariff before it is saved or used: every version well formed, versions neither
 * overlapping nor leaving days without a price, blocks starting at 0 and joining without gaps or
 * overlaps, the last block open-ended, no negative prices. Returns every problem found, each
 * with the path of the field and the reason in both languages; empty when the tariff is valid.
 */
export function validateTariff(tariff: Tariff): BillingProblem[] {
  const out: BillingProblem[] = [];
  if (typeof tariff.usageType !== 'string' || tariff.usageType.trim() === '')
    out.push(problem('usageType', 'REQUIRED'));
  checkName(tariff.chargeName, 'chargeName', out);
  const versions = Array.isArray(tariff.versions) ? tariff.versions : [];
  if (versions.length === 0) {
    out.push(problem('versions', 'TARIFF_NO_VERSIONS'));
    return out;
  }
  if (versions.length > MAX_TARIFF_VERSIONS) {
    out.push(problem('versions', 'TOO_MANY', { max: MAX_TARIFF_VERSIONS }));
    return out;
  }
  const labels = new Set<string>();
  versions.forEach((v, i) => {
    checkVersion(v, `versions[${i}]`, out);
    if (typeof v.version === 'string' && v.version.trim() !== '') {
      if (labels.has(v.version))
        out.push(problem(`versions[${i}].version`, 'VERSION_DUPLICATE', { version: v.version }));
      labels.add(v.version);
    }
  });

  // Overlaps and gaps, on the versions whose dates are usable, in order of effective date.
  const dated = versions
    .map((v, i) => ({ v, i }))
    .filter(
      ({ v }) =>
        typeof v.effectiveFrom === 'string' &&
        validateIsoDate(v.effectiveFrom).ok &&
        (v.effectiveTo === null ||
          (typeof v.effectiveTo === 'string' && validateIsoDate(v.effectiveTo).ok)) &&
        (v.effectiveTo === null || v.effectiveTo >= v.effectiveFrom),
    )
    .sort((a, b) => a.v.effectiveFrom.localeCompare(b.v.effectiveFrom) || a.i - b.i);
  for (let k = 1; k < dated.length; k++) {
    const prev = dated[k - 1]!.v;
    const { v, i } = dated[k]!;
    const data = {
      version: v.version,
      effectiveFrom: v.effectiveFrom,
      other: prev.version,
      otherFrom: prev.effectiveFrom,
      otherTo: prev.effectiveTo ?? '…',
    };
    if (prev.effectiveTo === null || prev.effectiveTo >= v.effectiveFrom) {
      out.push(problem(`versions[${i}].effectiveFrom`, 'VERSION_OVERLAP', data));
    } else if (addDays(prev.effectiveTo, 1) < v.effectiveFrom) {
      const days = Math.round((Date.parse(v.effectiveFrom) - Date.parse(prev.effectiveTo)) / 86_400_000) - 1;
      out.push(problem(`versions[${i}].effectiveFrom`, 'VERSION_GAP', { ...data, days }));
    }
  }
  return out;
}

/** Tariffs checked by prepareTariff: deep-frozen, so they cannot have changed since. */
const PREPARED = new WeakSet<object>();

/** Throws the problems of validateTariff as one DomainError with field errors. */
export function assertValidTariff(tariff: Tariff): void {
  if (PREPARED.has(tariff)) return;
  const problems = validateTariff(tariff);
  if (problems.length > 0) throw problemsError('TARIFF_INVALID', problems);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * A validated, deep-frozen copy of a tariff, for pricing many bills with it: calculateBill checks
 * a tariff on every call (validateTariff), except one prepared here, which cannot have changed
 * since it was checked. Throws TARIFF_INVALID like assertValidTariff.
 */
export function prepareTariff(tariff: Tariff): Tariff {
  assertValidTariff(tariff);
  const copy = deepFreeze(structuredClone(tariff));
  PREPARED.add(copy);
  return copy;
}

export function problemsError(code: 'TARIFF_INVALID' | 'BILL_INPUT_INVALID', problems: BillingProblem[]) {
  return new DomainError(
    code,
    { count: problems.length },
    BILLING_MESSAGES[code],
    problems.map((p) => ({ path: p.path, code: p.code, messages: p.messages })),
  );
}

/** The version in effect on a day, or null. Assumes a valid tariff. */
export function versionOn(tariff: Tariff, date: string): TariffVersion | null {
  return (
    tariff.versions.find(
      (v) => v.effectiveFrom <= date && (v.effectiveTo === null || date <= v.effectiveTo),
    ) ?? null
  );
}
