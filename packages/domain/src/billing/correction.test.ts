import { describe, expect, it } from 'vitest';
import { billCorrectionDifference, billsToRebill, type ChainBill, type DiffBill } from './correction.ts';

const bill = (id: number, from: string, to: string, over: Partial<ChainBill> = {}): ChainBill => ({
  billId: id,
  kind: 'consumption',
  status: 'open',
  periodFrom: from,
  periodTo: to,
  blockYear: Number(to.slice(0, 4)),
  ...over,
});

describe('billsToRebill: the wrong bill and the later bills of its block year (DOMAIN.md §4)', () => {
  const chain = [
    bill(1, '2025-10-01', '2025-12-20'),
    bill(2, '2025-12-21', '2026-03-20'),
    bill(3, '2026-03-21', '2026-06-20'),
    bill(4, '2026-06-21', '2026-09-20'),
    bill(5, '2026-09-21', '2026-12-20', { status: 'cancelled' }),
    bill(6, '2026-09-21', '2026-12-20'),
    bill(7, '2026-12-21', '2027-03-20'),
    bill(8, '2026-10-01', '2026-10-01', { kind: 'other', blockYear: null }),
  ];

  it('takes every later open consumption bill of the same block year, in billing order', () => {
    expect(billsToRebill([3], chain)).toEqual([3, 4, 6, 7]);
  });

  it('takes a later bill that starts in the year and ends in the next (its first days count on it)', () => {
    expect(billsToRebill([6], chain)).toEqual([6, 7]);
    expect(billsToRebill([1], chain)).toEqual([1, 2]);
  });

  it('never takes earlier bills, cancelled bills or other charges; a cancelled target gives nothing', () => {
    expect(billsToRebill([4], chain)).toEqual([4, 6, 7]);
    expect(billsToRebill([5], chain)).toEqual([]);
    expect(billsToRebill([8], chain)).toEqual([]);
  });

  it('joins the chains of several targets without repeating a bill', () => {
    expect(billsToRebill([4, 3], chain)).toEqual([3, 4, 6, 7]);
    expect(billsToRebill([2, 7], chain)).toEqual([2, 3, 4, 6, 7]);
  });

  it('takes only the target when no block year is known', () => {
    const flat = chain.map((b) => ({ ...b, blockYear: null }));
    expect(billsToRebill([3], flat)).toEqual([3]);
    // A bill of a later year only (starting after the target's year) is left alone.
    expect(billsToRebill([1], chain)).not.toContain(3);
  });
});

const line = (code: string, blockNo: number | null, volumeM3: string, amountFen: number) => ({
  kind: blockNo === null ? 'surcharge' : 'block',
  code,
  blockNo,
  tariffVersion: '2026-07',
  description: { 'zh-CN': code, en: code },
  volumeM3,
  amountFen,
});

const diffBill = (billId: number, readingId: number | null, lines: ReturnType<typeof line>[]): DiffBill => ({
  billId,
  billNo: `202611-${String(billId).padStart(8, '0')}`,
  readingId,
  periodFrom: '2026-08-01',
  periodTo: readingId === 11 ? '2026-08-31' : '2026-10-31',
  amountFen: lines.reduce((s, l) => s + l.amountFen, 0),
  lines,
});

describe('billCorrectionDifference: what changed, line by line, and the total', () => {
  it('pairs bills by reading and shows old, new and delta per block and surcharge', () => {
    const old = [
      diffBill(1, 11, [line('charge', 1, '20.000', 5500), line('sewage', null, '20.000', 1900)]),
      diffBill(2, 12, [
        line('charge', 1, '10.000', 2750),
        line('charge', 2, '5.000', 2063),
        line('sewage', null, '15.000', 1425),
      ]),
    ];
    const fresh = [
      diffBill(3, 11, [line('charge', 1, '12.000', 3300), line('sewage', null, '12.000', 1140)]),
      diffBill(4, 12, [line('charge', 1, '15.000', 4125), line('sewage', null, '15.000', 1425)]),
    ];
    const d = billCorrectionDifference(old, fresh);
    expect(d.oldTotalFen).toBe(7400 + 6238);
    expect(d.newTotalFen).toBe(4440 + 5550);
    expect(d.differenceFen).toBe(d.newTotalFen - d.oldTotalFen);
    expect(d.bills.map((b) => [b.old?.billId, b.new?.billId, b.deltaFen])).toEqual([
      [1, 3, 4440 - 7400],
      [2, 4, 5550 - 6238],
    ]);
    const second = d.bills[1]!.lines;
    expect(second.find((l) => l.code === 'charge' && l.blockNo === 1)).toMatchObject({
      oldVolumeM3: '10.000',
      newVolumeM3: '15.000',
      deltaVolumeM3: '5.000',
      oldAmountFen: 2750,
      newAmountFen: 4125,
      deltaFen: 1375,
    });
    // The second block is gone from the new bill: its row shows it emptied.
    expect(second.find((l) => l.blockNo === 2)).toMatchObject({
      oldVolumeM3: '5.000',
      newVolumeM3: '0.000',
      deltaVolumeM3: '-5.000',
      newAmountFen: 0,
      deltaFen: -2063,
    });
    expect(second.find((l) => l.code === 'sewage')!.deltaFen).toBe(0);
    // The lines' deltas add up to the bill's delta.
    for (const b of d.bills) expect(b.lines.reduce((s, l) => s + l.deltaFen, 0)).toBe(b.deltaFen);
  });

  it('shows a bill left cancelled (reading no longer billable) as all minus', () => {
    const old = [diffBill(1, 11, [line('charge', 1, '20.000', 5500)])];
    const d = billCorrectionDifference(old, []);
    expect(d.bills).toHaveLength(1);
    expect(d.bills[0]!.new).toBeNull();
    expect(d.bills[0]!.deltaFen).toBe(-5500);
    expect(d.differenceFen).toBe(-5500);
    expect(d.bills[0]!.lines[0]).toMatchObject({ newVolumeM3: '0.000', deltaVolumeM3: '-20.000' });
  });

  it('keeps a tariff-version split apart and gives no difference for an identical rebill', () => {
    const a = { ...line('charge', 1, '10.000', 2600), tariffVersion: '2015-01' };
    const b = line('charge', 1, '10.000', 2750);
    const d = billCorrectionDifference([diffBill(1, 11, [a, b])], [diffBill(2, 11, [a, b])]);
    expect(d.bills[0]!.lines).toHaveLength(2);
    expect(d.differenceFen).toBe(0);
    expect(d.bills[0]!.lines.every((l) => l.deltaFen === 0 && l.deltaVolumeM3 === '0.000')).toBe(true);
  });
});
