import { Decimal } from 'decimal.js';
import type { Bilingual } from '../platform/errors.ts';

/**
 * Bill corrections by cancel-and-rebill (DOMAIN.md §3–4, docs/billing.md "Corrections
 * (cancel-and-rebill)"): a wrong bill is cancelled and its reading billed again, never edited. Two
 * pure rules: which bills a correction cancels (billsToRebill), and the difference shown between
 * the bills cancelled and the bills that replaced them (billCorrectionDifference). Amounts are
 * integer fen; nothing here rounds: a delta is the difference of two amounts already rounded.
 */

/** A bill of the account as far as the choice of bills to rebill needs it. */
export interface ChainBill {
  billId: number;
  /** Only 'consumption' bills are chosen; other kinds (other charges, adjustments) never. */
  kind: string;
  status: 'open' | 'cancelled';
  /** First and last day of the bill's period, YYYY-MM-DD. */
  periodFrom: string;
  periodTo: string;
  /** The year whose annual block usage the bill ends in (null: no block year recorded). */
  blockYear: number | null;
}

const after = (a: ChainBill, b: ChainBill) =>
  a.periodTo > b.periodTo || (a.periodTo === b.periodTo && a.billId > b.billId);

/**
 * The bills to cancel and rebill when `targets` are wrong: each open consumption target, and every
 * later open consumption bill of the account whose annual block usage counts on a target's block
 * year — the engine carries the year's usage from one bill to the next (per account), so a changed
 * volume early in the year moves the block split of every later bill of that year. A later bill
 * that starts in the target's year and ends in the next still counts on it. Cancelled bills and
 * non-consumption bills are never chosen. Ids in billing order (period end, then id).
 */
export function billsToRebill(targetIds: readonly number[], accountBills: readonly ChainBill[]): number[] {
  const isOpen = (b: ChainBill) => b.status === 'open' && b.kind === 'consumption';
  const targets = accountBills.filter((b) => targetIds.includes(b.billId) && isOpen(b));
  const chosen = accountBills.filter(
    (b) =>
      isOpen(b) &&
      targets.some((t) => {
        if (t.billId === b.billId) return true;
        if (t.blockYear === null || b.blockYear === null || !after(b, t)) return false;
        const startYear = Number(b.periodFrom.slice(0, 4));
        return startYear <= t.blockYear && t.blockYear <= b.blockYear;
      }),
  );
  return chosen
    .sort((a, b) => (a.periodTo === b.periodTo ? a.billId - b.billId : a.periodTo < b.periodTo ? -1 : 1))
    .map((b) => b.billId);
}

/** A bill line as the difference compares it. */
export interface DiffLine {
  kind: string;
  code: string;
  blockNo: number | null;
  tariffVersion: string | null;
  description: Bilingual;
  volumeM3: string;
  amountFen: number;
}

/** A bill, cancelled or new, as the difference compares it. */
export interface DiffBill {
  billId: number;
  billNo: string;
  /** Bills are paired by the reading they bill. */
  readingId: number | null;
  periodFrom: string;
  periodTo: string;
  amountFen: number;
  lines: DiffLine[];
}

export interface LineDifference {
  kind: string;
  code: string;
  blockNo: number | null;
  tariffVersion: string | null;
  description: Bilingual;
  oldVolumeM3: string;
  oldAmountFen: number;
  newVolumeM3: string;
  newAmountFen: number;
  deltaVolumeM3: string;
  deltaFen: number;
}

export interface BillDifference {
  readingId: number | null;
  periodFrom: string;
  periodTo: string;
  /** The cancelled bill (null: a reading billed now that had no bill among those cancelled). */
  old: { billId: number; billNo: string; amountFen: number } | null;
  /** Its replacement (null: the reading is no longer billable, the bill stays cancelled). */
  new: { billId: number; billNo: string; amountFen: number } | null;
  lines: LineDifference[];
  deltaFen: number;
}

export interface BillCorrectionDifference {
  bills: BillDifference[];
  oldTotalFen: number;
  newTotalFen: number;
  /** New total − old total: positive, the customer owes more; negative, less. */
  differenceFen: number;
}

const lineKey = (l: DiffLine) => `${l.kind}|${l.code}|${l.blockNo ?? ''}|${l.tariffVersion ?? ''}`;
const billKey = (b: DiffBill) => (b.readingId === null ? `bill:${b.billId}` : `reading:${b.readingId}`);

/** Lines of two bills side by side: the same kind, code, block and tariff version are one row. */
function lineDifferences(oldLines: readonly DiffLine[], newLines: readonly DiffLine[]): LineDifference[] {
  const rows = new Map<
    string,
    { line: DiffLine; oldV: Decimal; oldF: number; newV: Decimal; newF: number }
  >();
  const add = (l: DiffLine, side: 'old' | 'new') => {
    const key = lineKey(l);
    let row = rows.get(key);
    if (!row) {
      row = { line: l, oldV: new Decimal(0), oldF: 0, newV: new Decimal(0), newF: 0 };
      rows.set(key, row);
    }
    if (side === 'old') {
      row.oldV = row.oldV.plus(l.volumeM3);
      row.oldF += l.amountFen;
    } else {
      row.line = l;
      row.newV = row.newV.plus(l.volumeM3);
      row.newF += l.amountFen;
    }
  };
  for (const l of oldLines) add(l, 'old');
  for (const l of newLines) add(l, 'new');
  return [...rows.values()].map((r) => ({
    kind: r.line.kind,
    code: r.line.code,
    blockNo: r.line.blockNo,
    tariffVersion: r.line.tariffVersion,
    description: r.line.description,
    oldVolumeM3: r.oldV.toFixed(3),
    oldAmountFen: r.oldF,
    newVolumeM3: r.newV.toFixed(3),
    newAmountFen: r.newF,
    deltaVolumeM3: r.newV.minus(r.oldV).toFixed(3),
    deltaFen: r.newF - r.oldF,
  }));
}

/**
 * The difference a correction makes: the cancelled bills against the new ones, paired by reading
 * (a bill without a reading pairs with nothing), line by line, with each bill's delta and the
 * total. Totals are the sums of the bills' amounts.
 */
export function billCorrectionDifference(
  oldBills: readonly DiffBill[],
  newBills: readonly DiffBill[],
): BillCorrectionDifference {
  const pairs = new Map<string, { old: DiffBill | null; new: DiffBill | null }>();
  for (const b of oldBills) pairs.set(billKey(b), { old: b, new: null });
  for (const b of newBills) {
    const pair = pairs.get(billKey(b));
    if (pair && pair.new === null) pair.new = b;
    else pairs.set(`new:${b.billId}`, { old: null, new: b });
  }
  const bills = [...pairs.values()]
    .map(({ old, new: next }): BillDifference => {
      const any = (next ?? old)!;
      const oldFen = old?.amountFen ?? 0;
      const newFen = next?.amountFen ?? 0;
      return {
        readingId: any.readingId,
        periodFrom: any.periodFrom,
        periodTo: any.periodTo,
        old: old ? { billId: old.billId, billNo: old.billNo, amountFen: old.amountFen } : null,
        new: next ? { billId: next.billId, billNo: next.billNo, amountFen: next.amountFen } : null,
        lines: lineDifferences(old?.lines ?? [], next?.lines ?? []),
        deltaFen: newFen - oldFen,
      };
    })
    .sort((a, b) => (a.periodTo === b.periodTo ? 0 : a.periodTo < b.periodTo ? -1 : 1));
  const oldTotalFen = oldBills.reduce((s, b) => s + b.amountFen, 0);
  const newTotalFen = newBills.reduce((s, b) => s + b.amountFen, 0);
  return { bills, oldTotalFen, newTotalFen, differenceFen: newTotalFen - oldTotalFen };
}
