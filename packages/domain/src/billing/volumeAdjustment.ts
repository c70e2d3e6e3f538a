import { Decimal } from 'decimal.js';
import { type Bilingual, DomainError, formatMessage } from '../platform/errors.ts';
import { type Bill, type BillLine, calculateBill } from './calculateBill.ts';
import { isVolume, type Tariff } from './tariff.ts';

/**
 * Volume adjustments and supplementary volumes (调量 / 补量, DOMAIN.md §3): an approved work order
 * takes volume off a bill (reduce) or adds volume to it or to a period never billed (supplement).
 * The adjustment is billed as the difference between the period priced with the adjusted volume
 * and the period as it was priced: the same tariff versions, the same block position at the start
 * of the period, so an adjustment on an annual block bill moves volume at the blocks it actually
 * fell in. Each difference line is the difference of two amounts rounded once each: nothing is
 * rounded again, and the adjustment's total is exactly the difference of the two bills' totals.
 */

export type VolumeAdjustmentKind = 'reduce' | 'supplement';

export interface VolumeAdjustmentInput {
  tariff: Tariff;
  kind: VolumeAdjustmentKind;
  /** The period the volume belongs to: the adjusted bill's, or the period a supplement covers. */
  periodFrom: string;
  periodTo: string;
  /** The payable volume already billed for the period ('0' when nothing was billed). */
  billedM3: string;
  /** Annual block usage before the period, as the bill adjusted was priced (else from the bill before). */
  annualBlockUsed?: { year: number; volumeM3: string } | null;
  /** The volume taken off or added, m³, more than zero. */
  volumeM3: string;
}

export interface AdjustmentLine {
  kind: BillLine['kind'];
  code: string;
  blockNo: number | null;
  description: Bilingual;
  /** Volume after − before on this line (negative when volume is taken off). */
  volumeM3: string;
  unitPriceFen: string | null;
  /** Amount after − before: whole fen, no new rounding. */
  amountFen: number;
  from: string;
  to: string;
  tariffVersion: string;
}

export interface VolumeAdjustment {
  /** The period as billed (null when nothing was billed: a supplement on its own). */
  before: Bill | null;
  after: Bill;
  lines: AdjustmentLine[];
  /** after − before, fen: negative for a reduction (a credit to the customer). */
  totalFen: number;
  explanation: Bilingual[];
}

export const VOLUME_ADJUSTMENT_MESSAGES = {
  ADJUSTMENT_VOLUME: {
    'zh-CN': '调整水量应为大于 0 的数，最多三位小数',
    en: 'The volume is a number above 0 with at most 3 decimals',
  },
  ADJUSTMENT_EXCEEDS_BILLED: {
    'zh-CN': '调减水量 {volumeM3} m³ 超过该账单的计费水量 {billedM3} m³',
    en: 'Taking off {volumeM3} m³ is more than the {billedM3} m³ the bill charged',
  },
  ADJUSTMENT_INVALID: {
    'zh-CN': '调量/补量工单有误，未保存',
    en: 'The volume adjustment was refused',
  },
  EXPLAIN_REDUCE: {
    'zh-CN': '调减水量 {volumeM3} m³：原计费 {billedM3} m³，调整后 {afterM3} m³',
    en: 'Volume taken off: {volumeM3} m³ (billed {billedM3} m³, now {afterM3} m³)',
  },
  EXPLAIN_SUPPLEMENT: {
    'zh-CN': '补收水量 {volumeM3} m³：原计费 {billedM3} m³，调整后 {afterM3} m³',
    en: 'Supplementary volume: {volumeM3} m³ (billed {billedM3} m³, now {afterM3} m³)',
  },
  EXPLAIN_TOTAL: {
    'zh-CN': '按调整后水量重新计价 {afterYuan} 元，原计价 {beforeYuan} 元，差额 {diffYuan} 元',
    en: 'Priced with the adjusted volume: {afterYuan} yuan; as billed: {beforeYuan} yuan; difference {diffYuan} yuan',
  },
} satisfies Record<string, Bilingual>;

type Code = keyof typeof VOLUME_ADJUSTMENT_MESSAGES;

function refused(path: string, code: Code, data: Record<string, unknown> = {}): DomainError {
  const m = VOLUME_ADJUSTMENT_MESSAGES[code];
  return new DomainError('ADJUSTMENT_INVALID', data, VOLUME_ADJUSTMENT_MESSAGES.ADJUSTMENT_INVALID, [
    { path, code, messages: { 'zh-CN': formatMessage(m['zh-CN'], data), en: formatMessage(m.en, data) } },
  ]);
}

const yuan = (fen: number) => {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
};

const lineKey = (l: BillLine) =>
  `${l.kind}|${l.code}|${l.blockNo ?? ''}|${l.tariffVersion}|${l.from}|${l.to}`;

/**
 * The bill lines of a volume adjustment: the period priced with the adjusted volume less the period
 * as billed, line by line (lines that do not change are left out). Refused with a field error on
 * `volumeM3` when the volume is not a positive volume or a reduction exceeds what was billed.
 */
export function priceVolumeAdjustment(input: VolumeAdjustmentInput): VolumeAdjustment {
  if (!isVolume(input.volumeM3) || !new Decimal(input.volumeM3).gt(0))
    throw refused('volumeM3', 'ADJUSTMENT_VOLUME');
  if (!isVolume(input.billedM3)) throw refused('billedM3', 'ADJUSTMENT_VOLUME');
  const billed = new Decimal(input.billedM3);
  const delta = new Decimal(input.volumeM3);
  if (input.kind === 'reduce' && delta.gt(billed))
    throw refused('volumeM3', 'ADJUSTMENT_EXCEEDS_BILLED', {
      volumeM3: delta.toFixed(3),
      billedM3: billed.toFixed(3),
    });
  const adjusted = input.kind === 'reduce' ? billed.minus(delta) : billed.plus(delta);
  const priced = (volume: Decimal) =>
    calculateBill({
      tariff: input.tariff,
      periodFrom: input.periodFrom,
      periodTo: input.periodTo,
      reading: { kind: 'volume', consumptionM3: volume.toFixed(3) },
      annualBlockUsed: input.annualBlockUsed ?? null,
    });
  // Nothing billed: nothing to take off the new pricing (not even a minimum charge).
  const before = billed.isZero() ? null : priced(billed);
  const after = priced(adjusted);

  const byKey = new Map<string, { before?: BillLine; after?: BillLine }>();
  for (const l of before?.lines ?? []) byKey.set(lineKey(l), { before: l });
  for (const l of after.lines) {
    const entry = byKey.get(lineKey(l));
    if (entry) entry.after = l;
    else byKey.set(lineKey(l), { after: l });
  }
  const lines: AdjustmentLine[] = [];
  for (const { before: b, after: a } of byKey.values()) {
    const l = (a ?? b)!;
    const volume = new Decimal(a?.volumeM3 ?? 0).minus(b?.volumeM3 ?? 0);
    const amount = (a?.amountFen ?? 0) - (b?.amountFen ?? 0);
    if (volume.isZero() && amount === 0) continue;
    lines.push({
      kind: l.kind,
      code: l.code,
      blockNo: l.blockNo,
      description: l.description,
      volumeM3: volume.toFixed(3),
      unitPriceFen: l.unitPriceFen,
      amountFen: amount,
      from: l.from,
      to: l.to,
      tariffVersion: l.tariffVersion,
    });
  }
  const totalFen = after.totalFen - (before?.totalFen ?? 0);
  const data = {
    volumeM3: delta.toFixed(3),
    billedM3: billed.toFixed(3),
    afterM3: adjusted.toFixed(3),
    afterYuan: yuan(after.totalFen),
    beforeYuan: yuan(before?.totalFen ?? 0),
    diffYuan: yuan(totalFen),
  };
  const explain = (code: Code): Bilingual => ({
    'zh-CN': formatMessage(VOLUME_ADJUSTMENT_MESSAGES[code]['zh-CN'], data),
    en: formatMessage(VOLUME_ADJUSTMENT_MESSAGES[code].en, data),
  });
  return {
    before,
    after,
    lines,
    totalFen,
    explanation: [
      explain(input.kind === 'reduce' ? 'EXPLAIN_REDUCE' : 'EXPLAIN_SUPPLEMENT'),
      ...after.explanation,
      explain('EXPLAIN_TOTAL'),
    ],
  };
}
