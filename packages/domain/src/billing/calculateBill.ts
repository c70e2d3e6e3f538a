import { Decimal } from 'decimal.js';
import { validateIsoDate } from '../platform/dates.ts';
import { assert, type Bilingual, DomainError } from '../platform/errors.ts';
import { milliOf, milliText } from '../platform/milli.ts';
import { type MilliBlockBounds, splitMilliIntoBlocks } from './blocks.ts';
import { daysInclusive, minDate, monthsIn, nextDay, splitByYear, yearOf } from './days.ts';
import { BILLING_MESSAGES, type BillingProblem, problem } from './messages.ts';
import {
  assertValidTariff,
  type Block,
  isVolume,
  problemsError,
  type Tariff,
  type TariffVersion,
} from './tariff.ts';
import { formatFenAsYuan } from './yuan.ts';

/**
 * The bill of one meter for one period (开账, DOMAIN.md §4), as one pure function:
 *
 * 1. consumption = end index − start index, or 10^dialDigits − start + end when the register
 *    rolled over;
 * 2. a master meter: less the sum of its sub-meters (refused when the sub-meters exceed it);
 * 3. less the low-income reduction (低保减免量): a volume a month, counted by calendar month over
 *    the days of the period the reduction is valid, never below zero;
 * 4. the payable volume is shared among the tariff versions in effect (and the calendar years)
 *    pro rata by days;
 * 5. each share is priced by its version: flat or blocks (annual blocks continue from what this
 *    year's earlier bills used; monthly blocks are scaled by the months of the share), plus the
 *    surcharges per m³ and a minimum-charge top-up where configured;
 * 6. each line is rounded half-up to the fen once; the total is the sum of the lines.
 *
 * Volumes are whole thousandths of a m³ (milli) and prices whole ten-thousandths of a fen, so the
 * volumes, the shares and every line's amount are exact integer arithmetic (a line's product in
 * BigInt where it passes 2^53). decimal.js is left to what is a fraction of a month — the
 * low-income reduction, monthly block thresholds, the minimum charge — which few bills have.
 */

export type MeterReadingInput =
  | {
      kind: 'index';
      startIndex: string;
      endIndex: string;
      /** Digits of the register: it rolls over to 0 after 10^dialDigits − 1. */
      dialDigits: number;
    }
  /** A volume without indexes: an estimate (估表) or an approved volume adjustment (调量). */
  | { kind: 'volume'; consumptionM3: string };

export interface BillInput {
  tariff: Tariff;
  /** First and last day of the period, both included (YYYY-MM-DD). */
  periodFrom: string;
  periodTo: string;
  reading: MeterReadingInput;
  /** Master meter (总表): the consumption of each sub-meter (分表) over the same period. */
  subMeterConsumptionsM3?: string[];
  /** Low-income household (低保户): the monthly reduction, valid up to a date (included) if given. */
  lowIncome?: { reductionM3PerMonth: string; validUntil?: string | null } | null;
  /**
   * Volume this account already used against annual blocks in `year`, before this bill. A year
   * earlier than the period's start counts as nothing used: the blocks restart each 1 January.
   */
  annualBlockUsed?: { year: number; volumeM3: string } | null;
}

export type BillLineKind = 'flat' | 'block' | 'surcharge' | 'minimum';

export interface BillLine {
  kind: BillLineKind;
  /** 'charge' for the main charge, the surcharge code, or 'minimum'. */
  code: string;
  /** 1-based block number for block lines, else null. */
  blockNo: number | null;
  description: Bilingual;
  volumeM3: string;
  /** Fen per m³ as a decimal string; null for a minimum-charge top-up. */
  unitPriceFen: string | null;
  /** volumeM3 × unitPriceFen rounded half-up to the fen (once). */
  amountFen: number;
  from: string;
  to: string;
  tariffVersion: string;
}

/** A stretch of the period priced by one tariff version within one calendar year. */
export interface BillSegment {
  from: string;
  to: string;
  days: number;
  tariffVersion: string;
  volumeM3: string;
}

export interface Bill {
  usageType: string;
  periodFrom: string;
  periodTo: string;
  days: number;
  /** Metered consumption of this meter (from the indexes or the given volume). */
  consumptionM3: string;
  rollover: boolean;
  subMetersM3: string;
  /** The low-income reduction actually applied (never more than there was to reduce). */
  lowIncomeReductionM3: string;
  /** The volume priced: consumption − sub-meters − reduction. */
  payableM3: string;
  segments: BillSegment[];
  lines: BillLine[];
  totalFen: number;
  /** The annual block usage after this bill, for the year the period ends in: pass it to the next bill. */
  annualBlockUsedAfter: { year: number; volumeM3: string };
  /** The calculation, step by step, in both languages. */
  explanation: Bilingual[];
}

/** A bill period longer than this is refused (three years: long estimates, final bills). */
export const MAX_BILL_PERIOD_DAYS = 1_096;
export const MAX_SUB_METERS = 10_000;
export const MAX_DIAL_DIGITS = 12;

const INDEX_RE = /^\d{1,12}(\.\d{1,3})?$/;
const ZH_NUMERALS = ['一', '二', '三', '四', '五', '六', '七', '八', '九', '十'];

function roundFen(amount: Decimal): number {
  const fen = amount.toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
  assert(Number.isSafeInteger(fen), 'amount must be a safe integer of fen');
  return fen;
}

const m3 = milliText;
const yuan = formatFenAsYuan;

/** A price in fen per m³: as decimal.js prints it, and in whole ten-thousandths of a fen. */
interface Price {
  text: string;
  tenThousandths: number;
}

/** Prices parsed once by their text (PRICE_FRACTION_DIGITS decimals at most). */
const PRICES = new Map<string, Price>();

function priceOf(text: string): Price {
  let price = PRICES.get(text);
  if (price === undefined) {
    const value = tariffDecimal(text);
    const scaled = value.times(10_000);
    assert(scaled.isInteger() && scaled.abs().lte(Number.MAX_SAFE_INTEGER), 'a price has at most 4 decimals');
    price = { text: value.toString(), tenThousandths: scaled.toNumber() };
    if (PRICES.size >= MAX_CACHED_DECIMALS) PRICES.clear();
    PRICES.set(text, price);
  }
  return price;
}

/** Thousandths of a m³ × ten-thousandths of a fen per m³ = 10^-7 fen. */
const PRODUCT_PER_FEN = 10_000_000;

/** volume × price rounded half-up (away from zero) to the fen, exactly. */
function amountFen(milli: number, price: Price): number {
  const product = milli * price.tenThousandths;
  if (Number.isSafeInteger(product)) {
    const abs = Math.abs(product);
    let q = Math.floor(abs / PRODUCT_PER_FEN);
    let r = abs - q * PRODUCT_PER_FEN;
    // The quotient of two doubles is off by at most one near 2^53.
    if (r < 0) {
      q--;
      r += PRODUCT_PER_FEN;
    } else if (r >= PRODUCT_PER_FEN) {
      q++;
      r -= PRODUCT_PER_FEN;
    }
    const fen = q + (r * 2 >= PRODUCT_PER_FEN ? 1 : 0);
    return product < 0 ? -fen : fen;
  }
  const exact = BigInt(milli) * BigInt(price.tenThousandths);
  const abs = exact < 0n ? -exact : exact;
  const per = BigInt(PRODUCT_PER_FEN);
  const fen = abs / per + ((abs % per) * 2n >= per ? 1n : 0n);
  const value = Number(exact < 0n ? -fen : fen);
  assert(Number.isSafeInteger(value), 'amount must be a safe integer of fen');
  return value;
}

/** Digits of the whole part of an index (INDEX_RE), leading zeros aside: it is ≥ 10^n when above n. */
function integerDigits(index: string): number {
  const dot = index.indexOf('.');
  const whole = dot === -1 ? index : index.slice(0, dot);
  let i = 0;
  while (i < whole.length - 1 && whole[i] === '0') i++;
  return whole === '0'.repeat(whole.length) ? 0 : whole.length - i;
}

/** Tariff figures (prices, block bounds) parsed once by their text; Decimals are immutable. */
const TARIFF_DECIMALS = new Map<string, Decimal>();
const MAX_CACHED_DECIMALS = 10_000;

function tariffDecimal(text: string): Decimal {
  let value = TARIFF_DECIMALS.get(text);
  if (value === undefined) {
    value = new Decimal(text);
    if (TARIFF_DECIMALS.size >= MAX_CACHED_DECIMALS) TARIFF_DECIMALS.clear();
    TARIFF_DECIMALS.set(text, value);
  }
  return value;
}

const ZERO = new Decimal(0);

function checkDateField(value: unknown, path: string, out: BillingProblem[]): boolean {
  const r =
    typeof value === 'string' ? validateIsoDate(value) : ({ ok: false, code: 'DATE_FORMAT' } as const);
  if (!r.ok) out.push(problem(path, r.code === 'DATE_INVALID' ? 'DATE_INVALID' : 'DATE_FORMAT'));
  return r.ok;
}

/** Field-level problems with a bill input (the tariff is checked by validateTariff). */
export function validateBillInput(input: BillInput): BillingProblem[] {
  const out: BillingProblem[] = [];
  const fromOk = checkDateField(input.periodFrom, 'periodFrom', out);
  const toOk = checkDateField(input.periodTo, 'periodTo', out);
  if (fromOk && toOk) {
    if (input.periodTo < input.periodFrom) {
      out.push(
        problem('periodTo', 'PERIOD_ORDER', { periodFrom: input.periodFrom, periodTo: input.periodTo }),
      );
    } else {
      const days = daysInclusive(input.periodFrom, input.periodTo);
      if (days > MAX_BILL_PERIOD_DAYS)
        out.push(problem('periodTo', 'PERIOD_TOO_LONG', { days, max: MAX_BILL_PERIOD_DAYS }));
    }
  }
  const r = input.reading;
  if (r?.kind === 'index') {
    const digitsOk = Number.isInteger(r.dialDigits) && r.dialDigits >= 1 && r.dialDigits <= MAX_DIAL_DIGITS;
    if (!digitsOk) out.push(problem('reading.dialDigits', 'DIAL_DIGITS'));
    for (const field of ['startIndex', 'endIndex'] as const) {
      const value = r[field];
      if (typeof value !== 'string' || !INDEX_RE.test(value)) {
        out.push(problem(`reading.${field}`, 'INDEX_FORMAT'));
      } else if (digitsOk && integerDigits(value) > r.dialDigits) {
        out.push(problem(`reading.${field}`, 'INDEX_TOO_LARGE', { index: value, dialDigits: r.dialDigits }));
      }
    }
  } else if (r?.kind === 'volume') {
    if (!isVolume(r.consumptionM3)) out.push(problem('reading.consumptionM3', 'VOLUME_FORMAT'));
  } else {
    out.push(problem('reading.kind', 'REQUIRED'));
  }
  const subs = input.subMeterConsumptionsM3 ?? [];
  if (subs.length > MAX_SUB_METERS)
    out.push(problem('subMeterConsumptionsM3', 'TOO_MANY', { max: MAX_SUB_METERS }));
  else
    subs.forEach((s, i) => {
      if (!isVolume(s)) out.push(problem(`subMeterConsumptionsM3[${i}]`, 'VOLUME_FORMAT'));
    });
  if (input.lowIncome) {
    if (!isVolume(input.lowIncome.reductionM3PerMonth))
      out.push(problem('lowIncome.reductionM3PerMonth', 'VOLUME_FORMAT'));
    if (input.lowIncome.validUntil != null)
      checkDateField(input.lowIncome.validUntil, 'lowIncome.validUntil', out);
  }
  const used = input.annualBlockUsed;
  if (used) {
    if (!Number.isInteger(used.year)) out.push(problem('annualBlockUsed.year', 'REQUIRED'));
    else if (fromOk && used.year > yearOf(input.periodFrom))
      out.push(
        problem('annualBlockUsed.year', 'ANNUAL_USAGE_LATER_YEAR', {
          year: used.year,
          periodYear: yearOf(input.periodFrom),
        }),
      );
    if (!isVolume(used.volumeM3)) out.push(problem('annualBlockUsed.volumeM3', 'VOLUME_FORMAT'));
  }
  return out;
}

interface Segment {
  from: string;
  to: string;
  days: number;
  version: TariffVersion;
}

/** A tariff's versions in order of effective date (kept for tariffs that cannot change: prepareTariff). */
const SORTED_VERSIONS = new WeakMap<Tariff, TariffVersion[]>();

function versionsByDate(tariff: Tariff): TariffVersion[] {
  let sorted = SORTED_VERSIONS.get(tariff);
  if (!sorted) {
    sorted = [...tariff.versions].sort((a, b) => a.effectiveFrom.localeCompare(b.effectiveFrom));
    if (Object.isFrozen(tariff) && Object.isFrozen(tariff.versions)) SORTED_VERSIONS.set(tariff, sorted);
  }
  return sorted;
}

/** The period cut at each tariff change and each 1 January; refused where no version applies. */
function segmentsOf(tariff: Tariff, periodFrom: string, periodTo: string): Segment[] {
  const byDate = versionsByDate(tariff);
  const segments: Segment[] = [];
  for (const year of splitByYear(periodFrom, periodTo)) {
    let cursor = year.from;
    for (const version of byDate) {
      if (cursor > year.to) break;
      const end = version.effectiveTo === null ? year.to : minDate(version.effectiveTo, year.to);
      if (end < cursor) continue;
      if (version.effectiveFrom > cursor) break;
      segments.push({ from: cursor, to: end, days: daysInclusive(cursor, end), version });
      cursor = nextDay(end);
    }
    if (cursor <= year.to)
      throw new DomainError(
        'TARIFF_NOT_IN_EFFECT',
        { usageType: tariff.usageType, date: cursor },
        BILLING_MESSAGES.TARIFF_NOT_IN_EFFECT,
      );
  }
  return segments;
}

/**
 * Shares a volume in thousandths of a m³ among segments pro rata by days, so the shares add up to
 * the whole exactly (largest remainder; ties to the earlier day).
 */
export function prorateMilliByDays(units: number, days: readonly number[]): number[] {
  const totalDays = days.reduce((s, d) => s + d, 0);
  assert(totalDays > 0, 'a period has at least one day');
  assert(Number.isSafeInteger(units) && units >= 0, 'volumes are whole thousandths, not negative');
  // One stretch takes the whole volume (the shares below would come to the same).
  if (days.length === 1) return [units];
  const shares: number[] = [];
  const rests: number[] = [];
  if (Number.isSafeInteger(units * totalDays)) {
    for (const d of days) {
      const exact = units * d;
      const share = Math.floor(exact / totalDays);
      // exact and share × totalDays are below 2^53: the rest is exact (and the floor within one).
      let rest = exact - share * totalDays;
      let fixed = share;
      while (rest < 0) {
        fixed--;
        rest += totalDays;
      }
      while (rest >= totalDays) {
        fixed++;
        rest -= totalDays;
      }
      shares.push(fixed);
      rests.push(rest);
    }
  } else {
    const total = BigInt(totalDays);
    for (const d of days) {
      const exact = BigInt(units) * BigInt(d);
      shares.push(Number(exact / total));
      rests.push(Number(exact % total));
    }
  }
  let left = units - shares.reduce((s, x) => s + x, 0);
  const order = rests.map((rest, i) => ({ i, rest })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    shares[i]!++;
    left--;
  }
  return shares;
}

/** prorateMilliByDays for a volume as a decimal (at most 3 decimals). */
export function prorateByDays(volumeM3: Decimal, days: number[]): Decimal[] {
  const units = volumeM3.times(1000);
  assert(units.isInteger(), 'volumes have at most 3 decimals');
  return prorateMilliByDays(units.toNumber(), days).map((x) => new Decimal(x).div(1000));
}

function blockDescription(
  tariff: Tariff,
  basis: 'monthly' | 'annual',
  blockNo: number,
  bounds: { fromM3: string; toM3: string | null },
  months: Decimal,
): Bilingual {
  const zhNo = ZH_NUMERALS[blockNo - 1] ?? String(blockNo);
  const from = new Decimal(bounds.fromM3).toString();
  const to = bounds.toM3 === null ? null : new Decimal(bounds.toM3).toString();
  if (basis === 'annual') {
    return {
      'zh-CN': `${tariff.chargeName['zh-CN']}第${zhNo}阶梯（年用量 ${to === null ? `${from} m³ 以上` : `${from}–${to} m³`}）`,
      en: `${tariff.chargeName.en}, block ${blockNo} (${to === null ? `over ${from} m³` : `${from}–${to} m³`} a year)`,
    };
  }
  const monthsText = months.toFixed(3);
  return {
    'zh-CN': `${tariff.chargeName['zh-CN']}第${zhNo}阶梯（每月 ${to === null ? `${from} m³ 以上` : `${from}–${to} m³`}，本段 ${monthsText} 个月）`,
    en: `${tariff.chargeName.en}, block ${blockNo} (${to === null ? `over ${from} m³` : `${from}–${to} m³`} a month × ${monthsText} months)`,
  };
}

/** Annual block descriptions of prepared (frozen) tariffs, made once: they depend on nothing else. */
const ANNUAL_DESCRIPTIONS = new WeakMap<Tariff, Map<Block, Bilingual>>();

function annualBlockDescription(tariff: Tariff, blockNo: number, block: Block): Bilingual {
  if (!Object.isFrozen(tariff) || !Object.isFrozen(block))
    return blockDescription(tariff, 'annual', blockNo, block, ZERO);
  let byBlock = ANNUAL_DESCRIPTIONS.get(tariff);
  if (!byBlock) {
    byBlock = new Map();
    ANNUAL_DESCRIPTIONS.set(tariff, byBlock);
  }
  let description = byBlock.get(block);
  if (!description) {
    description = blockDescription(tariff, 'annual', blockNo, block, ZERO);
    byBlock.set(block, description);
  }
  return description;
}

/** A threshold of a monthly block scaled by the months of a segment, rounded to the litre. */
function scaledMilli(text: string, months: Decimal): number {
  const milli = tariffDecimal(text).times(months).toDecimalPlaces(3, Decimal.ROUND_HALF_UP).times(1000);
  // Past 2^53 thousandths a threshold is never reached (the year's volume is at most 2·10^15).
  return milli.gt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : milli.toNumber();
}

/** A priced line (every line has the same shape: object spreads are slow on this path). */
function line(
  kind: BillLineKind,
  code: string,
  blockNo: number | null,
  description: Bilingual,
  seg: Segment,
  milli: number,
  priceFenPerM3: string,
): BillLine {
  const price = priceOf(priceFenPerM3);
  return {
    from: seg.from,
    to: seg.to,
    tariffVersion: seg.version.version,
    kind,
    code,
    blockNo,
    description,
    volumeM3: m3(milli),
    unitPriceFen: price.text,
    amountFen: amountFen(milli, price),
  };
}

export function calculateBill(input: BillInput): Bill {
  assertValidTariff(input.tariff);
  const problems = validateBillInput(input);
  if (problems.length > 0) throw problemsError('BILL_INPUT_INVALID', problems);
  const { tariff, periodFrom, periodTo, reading } = input;
  const explanation: Bilingual[] = [];

  // 1. Consumption, with rollover (indexes and volumes are at most 10^15 thousandths).
  let consumption: number;
  let rollover = false;
  if (reading.kind === 'index') {
    const start = milliOf(reading.startIndex);
    const end = milliOf(reading.endIndex);
    rollover = end < start;
    consumption = rollover ? 10 ** (reading.dialDigits + 3) - start + end : end - start;
    explanation.push({
      'zh-CN': `表码 ${reading.startIndex} → ${reading.endIndex}，用量 ${m3(consumption)} m³${rollover ? `（${reading.dialDigits} 位字轮已归零重计）` : ''}`,
      en: `Index ${reading.startIndex} → ${reading.endIndex}: ${m3(consumption)} m³${rollover ? ` (the ${reading.dialDigits}-digit register rolled over)` : ''}`,
    });
  } else {
    consumption = milliOf(reading.consumptionM3);
    explanation.push({
      'zh-CN': `用量 ${m3(consumption)} m³（按核定水量，无表码）`,
      en: `Volume ${m3(consumption)} m³ (an assessed volume, no indexes)`,
    });
  }

  // 2. Master meter less its sub-meters: refused, never billed negative or silently as zero.
  const subs = input.subMeterConsumptionsM3 ?? [];
  let subTotal = 0;
  for (const sub of subs) subTotal += milliOf(sub);
  if (!Number.isSafeInteger(subTotal) || subTotal > consumption) {
    const exact = subs.reduce((sum, x) => sum.plus(x), ZERO);
    throw new DomainError(
      'SUB_METERS_EXCEED_MASTER',
      { masterM3: m3(consumption), subMetersM3: exact.toFixed(3) },
      BILLING_MESSAGES.SUB_METERS_EXCEED_MASTER,
    );
  }
  const afterSubs = consumption - subTotal;
  if (subs.length > 0) {
    explanation.push({
      'zh-CN': `减 ${subs.length} 块分表用量 ${m3(subTotal)} m³，总表计费 ${m3(afterSubs)} m³`,
      en: `Less ${subs.length} sub-meter(s), ${m3(subTotal)} m³: ${m3(afterSubs)} m³ on the master meter`,
    });
  }

  // 3. Low-income reduction over the valid days of the period, counted by calendar month.
  let reduction = 0;
  if (input.lowIncome) {
    const perMonth = new Decimal(input.lowIncome.reductionM3PerMonth);
    const until = input.lowIncome.validUntil ? minDate(input.lowIncome.validUntil, periodTo) : periodTo;
    const months = until >= periodFrom ? monthsIn(periodFrom, until) : ZERO;
    const due = perMonth.times(months).toDecimalPlaces(3, Decimal.ROUND_HALF_UP);
    const capped = due.times(1000).gt(afterSubs);
    reduction = capped ? afterSubs : due.times(1000).toNumber();
    if (due.gt(0)) {
      explanation.push({
        'zh-CN': `减低保减免量 ${m3(reduction)} m³（每月 ${perMonth.toString()} m³ × ${months.toFixed(3)} 个月${capped ? `，应减 ${due.toFixed(3)} m³，以用量为限` : ''}）`,
        en: `Less the low-income reduction, ${m3(reduction)} m³ (${perMonth.toString()} m³ a month × ${months.toFixed(3)} months${capped ? `; ${due.toFixed(3)} m³ due, limited to the volume used` : ''})`,
      });
    }
  }
  const payable = afterSubs - reduction;
  explanation.push({ 'zh-CN': `计费水量 ${m3(payable)} m³`, en: `Payable volume ${m3(payable)} m³` });

  // 4. Segments: one per tariff version and calendar year, the volume shared by days.
  const segments = segmentsOf(tariff, periodFrom, periodTo);
  const days = daysInclusive(periodFrom, periodTo);
  const shares = prorateMilliByDays(
    payable,
    segments.map((s) => s.days),
  );
  if (segments.length > 1) {
    explanation.push({
      'zh-CN': `计费期 ${periodFrom} 至 ${periodTo} 共 ${days} 天，跨调价日或年度，水量按天数分摊：`,
      en: `The period ${periodFrom} to ${periodTo} (${days} days) spans a tariff change or a new year; the volume is shared by days:`,
    });
    segments.forEach((s, i) => {
      explanation.push({
        'zh-CN': `　${s.from} 至 ${s.to}（${s.days} 天），版本 ${s.version.version}，${m3(shares[i]!)} m³`,
        en: `  ${s.from} to ${s.to} (${s.days} days), version ${s.version.version}: ${m3(shares[i]!)} m³`,
      });
    });
  }

  // 5. Price each segment.
  const firstYear = yearOf(periodFrom);
  const given = input.annualBlockUsed;
  let usedYear = firstYear;
  let used = given && given.year === firstYear ? milliOf(given.volumeM3) : 0;
  const usedBefore = used;
  let annualBlocksUsed = false;
  const lines: BillLine[] = [];
  segments.forEach((seg, i) => {
    const volume = shares[i]!;
    const v = seg.version;
    const segYear = yearOf(seg.from);
    if (segYear !== usedYear) {
      usedYear = segYear;
      used = 0;
    }
    // Months of the segment, for what is priced per month (few bills): worked out when needed.
    let segmentMonths: Decimal | null = null;
    const months = () => (segmentMonths ??= monthsIn(seg.from, seg.to));
    const segmentLines: BillLine[] = [];
    if (v.charge.kind === 'flat') {
      if (volume > 0)
        segmentLines.push(
          line('flat', 'charge', null, tariff.chargeName, seg, volume, v.charge.priceFenPerM3),
        );
    } else {
      const { basis, blocks } = v.charge;
      annualBlocksUsed ||= basis === 'annual';
      // Monthly thresholds scale with the months of the segment, rounded to the litre.
      const bounds: MilliBlockBounds[] = blocks.map((b) =>
        basis === 'annual'
          ? { from: milliOf(b.fromM3), to: b.toM3 === null ? null : milliOf(b.toM3) }
          : {
              from: scaledMilli(b.fromM3, months()),
              to: b.toM3 === null ? null : scaledMilli(b.toM3, months()),
            },
      );
      for (const share of splitMilliIntoBlocks(volume, basis === 'annual' ? used : 0, bounds)) {
        const block = blocks[share.index]!;
        segmentLines.push(
          line(
            'block',
            'charge',
            share.index + 1,
            basis === 'annual'
              ? annualBlockDescription(tariff, share.index + 1, block)
              : blockDescription(tariff, basis, share.index + 1, block, months()),
            seg,
            share.milli,
            block.priceFenPerM3,
          ),
        );
      }
    }
    used += volume;

    if (v.minimumChargeFenPerMonth !== null && v.minimumChargeFenPerMonth > 0) {
      const minimumFen = roundFen(new Decimal(v.minimumChargeFenPerMonth).times(months()));
      const chargedFen = segmentLines.reduce((s, l) => s + l.amountFen, 0);
      if (chargedFen < minimumFen) {
        const perMonth = yuan(v.minimumChargeFenPerMonth);
        segmentLines.push({
          from: seg.from,
          to: seg.to,
          tariffVersion: v.version,
          kind: 'minimum',
          code: 'minimum',
          blockNo: null,
          description: {
            'zh-CN': `最低收费补足（每月 ${perMonth} 元 × ${months().toFixed(3)} 个月 = ${yuan(minimumFen)} 元）`,
            en: `Minimum charge top-up (${perMonth} yuan a month × ${months().toFixed(3)} months = ${yuan(minimumFen)} yuan)`,
          },
          volumeM3: m3(0),
          unitPriceFen: null,
          amountFen: minimumFen - chargedFen,
        });
      }
    }
    if (volume > 0)
      for (const s of v.surcharges)
        segmentLines.push(line('surcharge', s.code, null, s.name, seg, volume, s.priceFenPerM3));
    lines.push(...segmentLines);
  });

  const lastYear = yearOf(periodTo);
  assert(usedYear === lastYear, 'the last segment lies in the year the period ends');
  if (annualBlocksUsed) {
    explanation.push({
      'zh-CN':
        firstYear === lastYear
          ? `年阶梯：${lastYear} 年此前已用 ${m3(usedBefore)} m³，本单后累计 ${m3(used)} m³`
          : `年阶梯：${firstYear} 年此前已用 ${m3(usedBefore)} m³；${lastYear} 年从 0 重新累计，本单后 ${m3(used)} m³`,
      en:
        firstYear === lastYear
          ? `Annual blocks: ${m3(usedBefore)} m³ used earlier in ${lastYear}, ${m3(used)} m³ after this bill`
          : `Annual blocks: ${m3(usedBefore)} m³ used earlier in ${firstYear}; ${lastYear} starts again from 0, ${m3(used)} m³ after this bill`,
    });
  }

  const totalFen = lines.reduce((s, l) => s + l.amountFen, 0);
  assert(Number.isSafeInteger(totalFen), 'total must be a safe integer of fen');
  assert(
    lines.every((l) => Number.isSafeInteger(l.amountFen) && l.amountFen >= 0),
    'every line is a whole, non-negative number of fen',
  );
  explanation.push({
    'zh-CN': `合计 ${yuan(totalFen)} 元（${lines.length} 项，每项四舍五入到分后相加）`,
    en: `Total ${yuan(totalFen)} yuan (${lines.length} line(s), each rounded half-up to the fen, then added)`,
  });

  return {
    usageType: tariff.usageType,
    periodFrom,
    periodTo,
    days,
    consumptionM3: m3(consumption),
    rollover,
    subMetersM3: m3(subTotal),
    lowIncomeReductionM3: m3(reduction),
    payableM3: m3(payable),
    segments: segments.map((s, i) => ({
      from: s.from,
      to: s.to,
      days: s.days,
      tariffVersion: s.version.version,
      volumeM3: m3(shares[i]!),
    })),
    lines,
    totalFen,
    annualBlockUsedAfter: { year: lastYear, volumeM3: m3(used) },
    explanation,
  };
}
