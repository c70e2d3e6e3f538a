import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../calendar/workingDays.ts';
import type { DomainError } from '../platform/errors.ts';
import { splitIntoBlocks } from './blocks.ts';
import { type Bill, type BillLine, calculateBill } from './calculateBill.ts';
import { daysInclusive, monthsIn, yearOf } from './days.ts';
import { type Block, type Tariff, type TariffVersion, validateTariff } from './tariff.ts';

const EPOCH = '2023-01-01';
const NAME = { 'zh-CN': '水费', en: 'Water charge' };

/** A volume in m³ with 3 decimals, from thousandths. */
const volumeArb = (maxM3: number) =>
  fc.integer({ min: 0, max: maxM3 * 1000 }).map((u) => new Decimal(u).div(1000));
/** A price in fen per m³ up to 10 yuan, with up to 2 decimals of fen. */
const priceArb = fc.integer({ min: 0, max: 100_000 }).map((c) => new Decimal(c).div(100).toString());

const blocksArb: fc.Arbitrary<Block[]> = fc
  .array(fc.integer({ min: 1, max: 200_000 }), { minLength: 0, maxLength: 3 })
  .chain((widths) =>
    fc.array(priceArb, { minLength: widths.length + 1, maxLength: widths.length + 1 }).map((prices) => {
      let from = new Decimal(0);
      return prices.map((price, i) => {
        const width = widths[i];
        const to = width === undefined ? null : from.plus(new Decimal(width).div(1000));
        const block = {
          fromM3: from.toString(),
          toM3: to === null ? null : to.toString(),
          priceFenPerM3: price,
        };
        if (to !== null) from = to;
        return block;
      });
    }),
  );

function chargeArb(opts: { monthly: boolean }): fc.Arbitrary<TariffVersion['charge']> {
  return fc.oneof(
    priceArb.map((p) => ({ kind: 'flat' as const, priceFenPerM3: p })),
    fc
      .tuple(
        opts.monthly
          ? fc.constantFrom('annual' as const, 'monthly' as const)
          : fc.constant('annual' as const),
        blocksArb,
      )
      .map(([basis, blocks]) => ({ kind: 'blocks' as const, basis, blocks })),
  );
}

const surchargesArb = fc.array(fc.integer({ min: 0, max: 30_000 }), { maxLength: 2 }).map((prices) =>
  prices.map((c, i) => ({
    code: `s${i}`,
    name: { 'zh-CN': `附加费${i}`, en: `Surcharge ${i}` },
    priceFenPerM3: new Decimal(c).div(100).toString(),
  })),
);

/** A valid tariff from 2023-01-01 on, with up to 3 contiguous versions, the last open-ended. */
function tariffArb(opts: { monthly: boolean; minimum: boolean }): fc.Arbitrary<Tariff> {
  return fc
    .uniqueArray(fc.integer({ min: 1, max: 1_400 }), { maxLength: 2 })
    .chain((changes) => {
      const starts = [0, ...changes.sort((a, b) => a - b)];
      return fc.tuple(
        ...starts.map((start, i) =>
          fc
            .record({
              charge: chargeArb(opts),
              surcharges: surchargesArb,
              minimumChargeFenPerMonth: opts.minimum
                ? fc.option(fc.integer({ min: 0, max: 50_000 }), { nil: null })
                : fc.constant(null),
            })
            .map(
              (parts): TariffVersion => ({
                version: `v${i}`,
                effectiveFrom: addDays(EPOCH, start),
                effectiveTo: i + 1 < starts.length ? addDays(EPOCH, starts[i + 1]! - 1) : null,
                ...parts,
              }),
            ),
        ),
      );
    })
    .map((versions) => ({ usageType: 'test', chargeName: NAME, versions }));
}

/** A period inside the tariffs' range: start within 2023–2026, 1 to 400 days. */
const periodArb = fc
  .tuple(fc.integer({ min: 0, max: 1_400 }), fc.integer({ min: 1, max: 400 }))
  .map(([start, days]) => ({
    periodFrom: addDays(EPOCH, start),
    periodTo: addDays(EPOCH, start + days - 1),
  }));

const usedArb = volumeArb(500);

function volumeBill(
  tariff: Tariff,
  periodFrom: string,
  periodTo: string,
  volume: Decimal,
  usedM3: Decimal,
): Bill {
  return calculateBill({
    tariff,
    periodFrom,
    periodTo,
    reading: { kind: 'volume', consumptionM3: volume.toFixed(3) },
    annualBlockUsed: { year: yearOf(periodFrom), volumeM3: usedM3.toFixed(3) },
  });
}

const sumFen = (lines: BillLine[]) => lines.reduce((s, l) => s + l.amountFen, 0);

describe('calculateBill properties', () => {
  it('the total is the sum of the lines, each a whole number of fen rounded once from volume × price', () => {
    fc.assert(
      fc.property(
        tariffArb({ monthly: true, minimum: true }),
        periodArb,
        volumeArb(3_000),
        usedArb,
        (tariff, period, volume, used) => {
          const b = volumeBill(tariff, period.periodFrom, period.periodTo, volume, used);
          expect(b.totalFen).toBe(sumFen(b.lines));
          for (const l of b.lines) {
            expect(Number.isSafeInteger(l.amountFen) && l.amountFen >= 0).toBe(true);
            if (l.unitPriceFen !== null) {
              const exact = new Decimal(l.volumeM3).times(l.unitPriceFen);
              expect(exact.minus(l.amountFen).abs().lte(0.5)).toBe(true);
              expect(l.amountFen).toBe(exact.toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber());
            }
          }
          // The segments cover the period and share the payable volume exactly.
          expect(b.segments.reduce((s, x) => s + x.days, 0)).toBe(b.days);
          expect(b.segments.reduce((s, x) => s.plus(x.volumeM3), new Decimal(0)).toFixed(3)).toBe(
            b.payableM3,
          );
          // The main charge lines of each segment price exactly its volume.
          for (const seg of b.segments) {
            const charged = b.lines
              .filter((l) => l.from === seg.from && (l.kind === 'flat' || l.kind === 'block'))
              .reduce((s, l) => s.plus(l.volumeM3), new Decimal(0));
            expect(charged.toFixed(3)).toBe(seg.volumeM3);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('billing a period in two parts (annual usage passed forward) equals billing it whole, within one fen per line', () => {
    fc.assert(
      fc.property(
        tariffArb({ monthly: false, minimum: false }),
        periodArb.filter((p) => p.periodFrom < p.periodTo),
        volumeArb(3_000),
        usedArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        (tariff, { periodFrom, periodTo }, volume, used, at) => {
          const days = daysInclusive(periodFrom, periodTo);
          const firstDays = 1 + Math.min(days - 2, Math.floor(at * (days - 1)));
          const splitTo = addDays(periodFrom, firstDays - 1);
          // The interim reading's volume: the whole pro rata by days, to the litre.
          const v1 = volume.times(firstDays).div(days).toDecimalPlaces(3, Decimal.ROUND_HALF_UP);
          const whole = volumeBill(tariff, periodFrom, periodTo, volume, used);
          const first = volumeBill(tariff, periodFrom, splitTo, v1, used);
          const second = calculateBill({
            tariff,
            periodFrom: addDays(splitTo, 1),
            periodTo,
            reading: { kind: 'volume', consumptionM3: volume.minus(v1).toFixed(3) },
            annualBlockUsed: first.annualBlockUsedAfter,
          });
          // The same year's usage, up to the litres that rounding moves across 1 January.
          expect(second.annualBlockUsedAfter.year).toBe(whole.annualBlockUsedAfter.year);
          const usageDiff = new Decimal(second.annualBlockUsedAfter.volumeM3).minus(
            whole.annualBlockUsedAfter.volumeM3,
          );
          expect(usageDiff.abs().lte('0.002')).toBe(true);
          // Compare like with like: the lines of one charge, version, block and year.
          const key = (l: BillLine) => `${l.code}|${l.tariffVersion}|${l.blockNo}|${l.from.slice(0, 4)}`;
          const groups = new Map<string, { whole: number; parts: number; lines: number }>();
          const add = (l: BillLine, side: 'whole' | 'parts') => {
            const g = groups.get(key(l)) ?? { whole: 0, parts: 0, lines: 0 };
            g[side] += l.amountFen;
            g.lines += 1;
            groups.set(key(l), g);
          };
          for (const l of whole.lines) add(l, 'whole');
          for (const l of [...first.lines, ...second.lines]) add(l, 'parts');
          for (const [k, g] of groups) {
            if (Math.abs(g.whole - g.parts) > g.lines)
              throw new Error(`${k}: whole ${g.whole} ≠ parts ${g.parts}`);
          }
          const lines = whole.lines.length + first.lines.length + second.lines.length;
          expect(Math.abs(whole.totalFen - first.totalFen - second.totalFen)).toBeLessThanOrEqual(lines);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('annual blocks never double-count across the bills of one year', () => {
    const tariffWithAnnualBlocks = blocksArb.map(
      (blocks): Tariff => ({
        usageType: 'test',
        chargeName: NAME,
        versions: [
          {
            version: 'v',
            effectiveFrom: '2020-01-01',
            effectiveTo: null,
            charge: { kind: 'blocks', basis: 'annual', blocks },
            surcharges: [],
            minimumChargeFenPerMonth: null,
          },
        ],
      }),
    );
    fc.assert(
      fc.property(
        tariffWithAnnualBlocks,
        fc.array(fc.tuple(fc.integer({ min: 1, max: 120 }), volumeArb(150)), { minLength: 1, maxLength: 8 }),
        (tariff, bills) => {
          let from = '2025-01-01';
          let used = { year: 2025, volumeM3: '0' };
          const byBlock = new Map<number, Decimal>();
          let total = new Decimal(0);
          for (const [days, volume] of bills) {
            const to = addDays(from, days - 1);
            if (to > '2025-12-31') break;
            const b = calculateBill({
              tariff,
              periodFrom: from,
              periodTo: to,
              reading: { kind: 'volume', consumptionM3: volume.toFixed(3) },
              annualBlockUsed: used,
            });
            for (const l of b.lines)
              byBlock.set(l.blockNo!, (byBlock.get(l.blockNo!) ?? new Decimal(0)).plus(l.volumeM3));
            total = total.plus(volume);
            used = b.annualBlockUsedAfter;
            from = addDays(to, 1);
          }
          expect(used.volumeM3).toBe(total.toFixed(3));
          const oneBill = splitIntoBlocks(
            total,
            new Decimal(0),
            tariff.versions[0]!.charge.kind === 'blocks'
              ? tariff.versions[0]!.charge.blocks.map((b) => ({
                  fromM3: new Decimal(b.fromM3),
                  toM3: b.toM3 === null ? null : new Decimal(b.toM3),
                }))
              : [],
          );
          expect(
            [...byBlock].map(([n, v]) => [n, v.toFixed(3)]).sort((a, b) => Number(a[0]) - Number(b[0])),
          ).toEqual(oneBill.map((s) => [s.index + 1, s.volumeM3.toFixed(3)]));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads through a register rollover: consumption is what passed the dial, whatever the start', () => {
    const tariff: Tariff = {
      usageType: 'test',
      chargeName: NAME,
      versions: [
        {
          version: 'v',
          effectiveFrom: '2020-01-01',
          effectiveTo: null,
          charge: { kind: 'flat', priceFenPerM3: '100' },
          surcharges: [],
          minimumChargeFenPerMonth: null,
        },
      ],
    };
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
        (digits, startShare, usedShare) => {
          const top = new Decimal(10).pow(digits);
          const start = top.times(startShare).toDecimalPlaces(3, Decimal.ROUND_DOWN);
          const consumption = top.times(usedShare).toDecimalPlaces(3, Decimal.ROUND_DOWN);
          const end = start.plus(consumption).mod(top);
          const b = calculateBill({
            tariff,
            periodFrom: '2025-01-01',
            periodTo: '2025-01-31',
            reading: {
              kind: 'index',
              startIndex: start.toFixed(3),
              endIndex: end.toFixed(3),
              dialDigits: digits,
            },
          });
          expect(b.consumptionM3).toBe(consumption.toFixed(3));
          expect(b.rollover).toBe(start.plus(consumption).gte(top));
          expect(b.totalFen).toBe(
            consumption.times(100).toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber(),
          );
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a master meter less its sub-meters is never negative: refused when the sub-meters exceed it', () => {
    fc.assert(
      fc.property(
        tariffArb({ monthly: true, minimum: true }),
        periodArb,
        volumeArb(2_000),
        fc.array(volumeArb(500), { maxLength: 6 }),
        (tariff, { periodFrom, periodTo }, master, subs) => {
          const subTotal = subs.reduce((s, x) => s.plus(x), new Decimal(0));
          const run = () =>
            calculateBill({
              tariff,
              periodFrom,
              periodTo,
              reading: { kind: 'volume', consumptionM3: master.toFixed(3) },
              subMeterConsumptionsM3: subs.map((s) => s.toFixed(3)),
            });
          if (subTotal.gt(master)) {
            expect(run).toThrow(expect.objectContaining({ code: 'SUB_METERS_EXCEED_MASTER' }) as DomainError);
          } else {
            const b = run();
            expect(b.payableM3).toBe(master.minus(subTotal).toFixed(3));
            expect(b.lines.every((l) => !new Decimal(l.volumeM3).isNegative() && l.amountFen >= 0)).toBe(
              true,
            );
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('the low-income reduction is the monthly volume × months, never more than there is to reduce', () => {
    fc.assert(
      fc.property(
        tariffArb({ monthly: true, minimum: false }),
        periodArb,
        volumeArb(200),
        fc.integer({ min: 0, max: 20_000 }),
        (tariff, { periodFrom, periodTo }, volume, perMonthL) => {
          const perMonth = new Decimal(perMonthL).div(1000);
          const b = calculateBill({
            tariff,
            periodFrom,
            periodTo,
            reading: { kind: 'volume', consumptionM3: volume.toFixed(3) },
            lowIncome: { reductionM3PerMonth: perMonth.toFixed(3) },
          });
          const due = perMonth
            .times(monthsIn(periodFrom, periodTo))
            .toDecimalPlaces(3, Decimal.ROUND_HALF_UP);
          expect(b.lowIncomeReductionM3).toBe(Decimal.min(due, volume).toFixed(3));
          expect(new Decimal(b.payableM3).gte(0)).toBe(true);
          expect(new Decimal(b.payableM3).plus(b.lowIncomeReductionM3).toFixed(3)).toBe(volume.toFixed(3));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('validateTariff properties', () => {
  it('accepts every well-formed tariff', () => {
    fc.assert(
      fc.property(tariffArb({ monthly: true, minimum: true }), (t) => {
        expect(validateTariff(t)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a gap between blocks, a negative price and overlapping versions, each at its field', () => {
    fc.assert(
      fc.property(
        tariffArb({ monthly: true, minimum: true }),
        fc.nat(),
        fc.integer({ min: 1, max: 999_999 }),
        (t, pick, bump) => {
          const i = pick % t.versions.length;
          const v = t.versions[i]!;
          const path = `versions[${i}]`;
          // Negative price.
          const negative = structuredClone(t);
          const nv = negative.versions[i]!;
          if (nv.charge.kind === 'flat') nv.charge.priceFenPerM3 = `-${bump}`;
          else nv.charge.blocks[0]!.priceFenPerM3 = `-${bump}`;
          expect(validateTariff(negative).map((p) => p.code)).toContain('PRICE_NEGATIVE');
          // Gap between blocks.
          if (v.charge.kind === 'blocks' && v.charge.blocks.length > 1) {
            const gap = structuredClone(t);
            const blocks = (gap.versions[i]!.charge as { blocks: Block[] }).blocks;
            const k = 1 + (pick % (blocks.length - 1));
            blocks[k]!.fromM3 = new Decimal(blocks[k]!.fromM3).plus(new Decimal(bump).div(1000)).toString();
            expect(validateTariff(gap).map((p) => [p.path, p.code])).toContainEqual([
              `${path}.charge.blocks[${k}].fromM3`,
              'BLOCK_GAP',
            ]);
          }
          // A version starting before the previous one ends.
          if (i > 0) {
            const overlap = structuredClone(t);
            const prev = overlap.versions[i - 1]!;
            const back = 1 + (bump % daysInclusive(prev.effectiveFrom, prev.effectiveTo!));
            overlap.versions[i]!.effectiveFrom = addDays(v.effectiveFrom, -back);
            expect(validateTariff(overlap).map((p) => [p.path, p.code])).toContainEqual([
              `${path}.effectiveFrom`,
              'VERSION_OVERLAP',
            ]);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
