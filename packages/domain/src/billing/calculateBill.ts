import { Decimal } from 'decimal.js';
import { validateIsoDate } from '../platform/dates.ts';
import { assert, type Bilingual, DomainError } from '../platform/errors.ts';
import { type BlockBounds, splitIntoBlocks } from './blocks.ts';
import { daysInclusive, minDate, monthsIn, nextDay, splitByYear, yearOf } from './days.ts';
import { BILLING_MESSAGES, type BillingProblem, problem } from './messages.ts';
import { assertValidTariff, isVolume, problemsError, type Tariff, type TariffVersion } from './tariff.ts';

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

function m3(value: Decimal): string {
  return value.toFixed(3);
}

function yuan(fen: number): string {
  return new Decimal(fen).div(100).toFixed(2);
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
 * Shares a volume among segments pro rata by days, in thousandths of a m³, so the shares are
 * 3-decimal volumes adding up to the whole exactly (largest remainder; ties to the earlier day).
 */
export function prorateByDays(volumeM3: Decimal, days: number[]): Decimal[] {
  const totalDays = days.reduce((s, d) => s + d, 0);
  assert(totalDays > 0, 'a period has at least one day');
  const units = volumeM3.times(1000);
  assert(units.isInteger(), 'volumes have at most 3 decimals');
  // One stretch takes the whole volume (the shares below would come to the same).
  if (days.length === 1) return [units.div(1000)];
  const exact = days.map((d) => units.times(d).div(totalDays));
  const shares = exact.map((x) => x.floor());
  let left = units.minus(shares.reduce((s, x) => s.plus(x), new Decimal(0))).toNumber();
  const order = exact
    .map((x, i) => ({ i, rest: x.minus(x.floor()) }))
    .sort((a, b) => b.rest.comparedTo(a.rest) || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    shares[i] = shares[i]!.plus(1);
    left--;
  }
  return shares.map((x) => x.div(1000));
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

function line(
  fields: Omit<BillLine, 'amountFen' | 'volumeM3' | 'unitPriceFen'>,
  volumeM3: Decimal,
  priceFenPerM3: string,
): BillLine {
  const unitPrice = tariffDecimal(priceFenPerM3);
  return {
    ...fields,
    volumeM3: m3(volumeM3),
    unitPriceFen: unitPrice.toString(),
    amountFen: roundFen(volumeM3.times(unitPrice)),
  };
}

export function calculateBill(input: BillInput): Bill {
  assertValidTariff(input.tariff);
  const problems = validateBillInput(input);
  if (problems.length > 0) throw problemsError('BILL_INPUT_INVALID', problems);
  const { tariff, periodFrom, periodTo, reading } = input;
  const explanation: Bilingual[] = [];

  // 1. Consumption, with rollover.
  let consumption: Decimal;
  let rollover = false;
  if (reading.kind === 'index') {
    const start = new Decimal(reading.startIndex);
    const end = new Decimal(reading.endIndex);
    rollover = end.lt(start);
    consumption = rollover
      ? new Decimal(10).pow(reading.dialDigits).minus(start).plus(end)
      : end.minus(start);
    explanation.push({
      'zh-CN': `表码 ${reading.startIndex} → ${reading.endIndex}，用量 ${m3(consumption)} m³${rollover ? `（${reading.dialDigits} 位字轮已归零重计）` : ''}`,
      en: `Index ${reading.startIndex} → ${reading.endIndex}: ${m3(consumption)} m³${rollover ? ` (the ${reading.dialDigits}-digit register rolled over)` : ''}`,
    });
  } else {
    consumption = new Decimal(reading.consumptionM3);
    explanation.push({
      'zh-CN': `用量 ${m3(consumption)} m³（按核定水量，无表码）`,
      en: `Volume ${m3(consumption)} m³ (an assessed volume, no indexes)`,
    });
  }

  // 2. Master meter less its sub-meters: refused, never billed negative or silently as zero.
  const subs = input.subMeterConsumptionsM3 ?? [];
  const subTotal = subs.reduce((s, x) => s.plus(x), ZERO);
  if (subTotal.gt(consumption)) {
    throw new DomainError(
      'SUB_METERS_EXCEED_MASTER',
      { masterM3: m3(consumption), subMetersM3: m3(subTotal) },
      BILLING_MESSAGES.SUB_METERS_EXCEED_MASTER,
    );
  }
  const afterSubs = consumption.minus(subTotal);
  if (subs.length > 0) {
    explanation.push({
      'zh-CN': `减 ${subs.length} 块分表用量 ${m3(subTotal)} m³，总表计费 ${m3(afterSubs)} m³`,
      en: `Less ${subs.length} sub-meter(s), ${m3(subTotal)} m³: ${m3(afterSubs)} m³ on the master meter`,
    });
  }

  // 3. Low-income reduction over the valid days of the period, counted by calendar month.
  let reduction = ZERO;
  if (input.lowIncome) {
    const perMonth = new Decimal(input.lowIncome.reductionM3PerMonth);
    const until = input.lowIncome.validUntil ? minDate(input.lowIncome.validUntil, periodTo) : periodTo;
    const months = until >= periodFrom ? monthsIn(periodFrom, until) : ZERO;
    const due = perMonth.times(months).toDecimalPlaces(3, Decimal.ROUND_HALF_UP);
    reduction = Decimal.min(due, afterSubs);
    if (due.gt(0)) {
      const capped = reduction.lt(due);
      explanation.push({
        'zh-CN': `减低保减免量 ${m3(reduction)} m³（每月 ${perMonth.toString()} m³ × ${months.toFixed(3)} 个月${capped ? `，应减 ${m3(due)} m³，以用量为限` : ''}）`,
        en: `Less the low-income reduction, ${m3(reduction)} m³ (${perMonth.toString()} m³ a month × ${months.toFixed(3)} months${capped ? `; ${m3(due)} m³ due, limited to the volume used` : ''})`,
      });
    }
  }
  const payable = afterSubs.minus(reduction);
  explanation.push({ 'zh-CN': `计费水量 ${m3(payable)} m³`, en: `Payable volume ${m3(payable)} m³` });

  // 4. Segments: one per tariff version and calendar year, the volume shared by days.
  const segments = segmentsOf(tariff, periodFrom, periodTo);
  const days = daysInclusive(periodFrom, periodTo);
  const shares = prorateByDays(
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
  let used = given && given.year === firstYear ? new Decimal(given.volumeM3) : ZERO;
  const usedBefore = used;
  let annualBlocksUsed = false;
  const lines: BillLine[] = [];
  segments.forEach((seg, i) => {
    const volume = shares[i]!;
    const v = seg.version;
    const segYear = yearOf(seg.from);
    if (segYear !== usedYear) {
      usedYear = segYear;
      used = ZERO;
    }
    const common = { from: seg.from, to: seg.to, tariffVersion: v.version };
    const months = monthsIn(seg.from, seg.to);
    const segmentLines: BillLine[] = [];
    if (v.charge.kind === 'flat') {
      if (volume.gt(0))
        segmentLines.push(
          line(
            { ...common, kind: 'flat', code: 'charge', blockNo: null, description: tariff.chargeName },
            volume,
            v.charge.priceFenPerM3,
          ),
        );
    } else {
      const { basis, blocks } = v.charge;
      annualBlocksUsed ||= basis === 'annual';
      // Monthly thresholds scale with the months of the segment, rounded to the litre.
      const scale = (x: string) =>
        basis === 'annual'
          ? tariffDecimal(x)
          : tariffDecimal(x).times(months).toDecimalPlaces(3, Decimal.ROUND_HALF_UP);
      const bounds: BlockBounds[] = blocks.map((b) => ({
        fromM3: scale(b.fromM3),
        toM3: b.toM3 === null ? null : scale(b.toM3),
      }));
      for (const share of splitIntoBlocks(volume, basis === 'annual' ? used : ZERO, bounds)) {
        const block = blocks[share.index]!;
        segmentLines.push(
          line(
            {
              ...common,
              kind: 'block',
              code: 'charge',
              blockNo: share.index + 1,
              description: blockDescription(tariff, basis, share.index + 1, block, months),
            },
            share.volumeM3,
            block.priceFenPerM3,
          ),
        );
      }
    }
    used = used.plus(volume);

    if (v.minimumChargeFenPerMonth !== null && v.minimumChargeFenPerMonth > 0) {
      const minimumFen = roundFen(new Decimal(v.minimumChargeFenPerMonth).times(months));
      const chargedFen = segmentLines.reduce((s, l) => s + l.amountFen, 0);
      if (chargedFen < minimumFen) {
        const perMonth = yuan(v.minimumChargeFenPerMonth);
        segmentLines.push({
          ...common,
          kind: 'minimum',
          code: 'minimum',
          blockNo: null,
          description: {
            'zh-CN': `最低收费补足（每月 ${perMonth} 元 × ${months.toFixed(3)} 个月 = ${yuan(minimumFen)} 元）`,
            en: `Minimum charge top-up (${perMonth} yuan a month × ${months.toFixed(3)} months = ${yuan(minimumFen)} yuan)`,
          },
          volumeM3: m3(ZERO),
          unitPriceFen: null,
          amountFen: minimumFen - chargedFen,
        });
      }
    }
    if (volume.gt(0))
      for (const s of v.surcharges)
        segmentLines.push(
          line(
            { ...common, kind: 'surcharge', code: s.code, blockNo: null, description: s.name },
            volume,
            s.priceFenPerM3,
          ),
        );
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
