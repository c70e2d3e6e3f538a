import { addDays, todayInChina } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { arrearsRows, backfillArrearsSnapshots, historyDays, takeArrearsSnapshot } from './ageing.ts';

/**
 * Arrears ageing on real PostgreSQL (docs/arrears.md "Ageing"): the figures of the API equal a
 * hand count of the bills put on seeded meters; groupings agree; the daily snapshot is idempotent;
 * a past day is reconstructed from bill and payment dates.
 */

let t: TestApp;
const TODAY = todayInChina();
let billSeq = 0;
let keySeq = 0;
/** Months per cycle by the book's zone (DOMAIN.md §3): written out here, not taken from the code. */
const CYCLE: Record<string, number> = { '0': 1, A: 2, B: 2, C: 3, D: 3, E: 3 };

interface MeterOnBook {
  account_id: number;
  meter_id: number;
  book_id: number;
  zone: string;
  reader_id: number | null;
  office_id: number;
}
let meters: MeterOnBook[] = [];
let officeA: number;

async function insertBill(
  m: { account_id: number; meter_id: number | null },
  amountFen: number,
  dueOn: string,
  extra: { paidFen?: number; cancelled?: boolean } = {},
): Promise<number> {
  billSeq += 1;
  const period = dueOn.slice(0, 7);
  const row = await t.db
    .insertInto('bill')
    .values({
      account_id: m.account_id,
      bill_no: `${period.replace('-', '')}-AG${String(billSeq).padStart(6, '0')}`,
      meter_id: m.meter_id,
      reading_id: null,
      run_id: null,
      usage_type_code: 'W_RES',
      period,
      period_from: `${period}-01`,
      period_to: `${period}-08`,
      amount_fen: amountFen,
      due_on: dueOn,
      created_by: null,
      status: extra.cancelled ? 'cancelled' : 'open',
      cancelled_at: extra.cancelled ? new Date() : null,
      cancelled_by: null,
      replaces_bill_id: null,
    })
    .returning('bill_id')
    .executeTakeFirstOrThrow();
  if (extra.paidFen)
    await t.db
      .updateTable('bill')
      .set({ paid_fen: extra.paidFen })
      .where('account_id', '=', m.account_id)
      .where('bill_id', '=', row.bill_id)
      .execute();
  return Number(row.bill_id);
}

beforeAll(async () => {
  t = await createTestApp({ customers: 40, metering: true });
  officeA = (
    await t.db.selectFrom('office').select('office_id').where('code', '=', '0101').executeTakeFirstOrThrow()
  ).office_id;
  // Seeded meters on books of office 0101, one per account.
  const rows = await t.db
    .selectFrom('meter as m')
    .innerJoin('book as b', 'b.book_id', 'm.book_id')
    .innerJoin('customer as c', 'c.account_id', 'm.account_id')
    .select(['m.account_id', 'm.meter_id', 'm.book_id', 'b.zone', 'b.reader_id', 'c.office_id'])
    .where('c.office_id', '=', officeA)
    .where('m.meter_id', 'in', (eb) =>
      eb
        .selectFrom('meter')
        .select((e) => e.fn.min('meter_id').as('x'))
        .groupBy('account_id'),
    )
    .orderBy('m.account_id')
    .execute();
  meters = rows.map((r) => ({
    account_id: Number(r.account_id),
    meter_id: Number(r.meter_id),
    book_id: Number(r.book_id),
    zone: r.zone,
    reader_id: r.reader_id === null ? null : Number(r.reader_id),
    office_id: Number(r.office_id),
  }));
  expect(meters.length).toBeGreaterThanOrEqual(5);
  expect(await t.db.selectFrom('bill').select('bill_id').executeTakeFirst()).toBeUndefined();
});

afterAll(async () => {
  await t.close();
});

describe('arrears ageing', () => {
  it('equals a hand count of the bills on seeded meters, by cycles and by days', async () => {
    const [m1, m2, m3, m4, m5] = meters as [MeterOnBook, MeterOnBook, MeterOnBook, MeterOnBook, MeterOnBook];
    // m1: 10 days overdue, 1,000 fen → 0 months, 1 cycle whatever the zone; 0–30 days.
    await insertBill(m1, 1000, addDays(TODAY, -10));
    // m2: oldest 100 days overdue (3 whole months), and one 40 days, 500 of which 200 paid → 2,300 fen.
    await insertBill(m2, 2000, addDays(TODAY, -100));
    await insertBill(m2, 500, addDays(TODAY, -40), { paidFen: 200 });
    // m3: 400 days overdue (13 whole months), 4,000 fen; 180+ days.
    await insertBill(m3, 4000, addDays(TODAY, -400));
    // m4: none of these is arrears — not yet due, due today, cancelled, paid in full.
    await insertBill(m4, 7000, addDays(TODAY, 5));
    await insertBill(m4, 7000, TODAY);
    await insertBill(m4, 7000, addDays(TODAY, -50), { cancelled: true });
    await insertBill(m4, 7000, addDays(TODAY, -50), { paidFen: 7000 });
    // m5: a bill without a meter (an "other" charge): aged on its own, 3 cycles default.
    await insertBill({ account_id: m5.account_id, meter_id: null }, 300, addDays(TODAY, -65));

    const cyc = (months: number, zone: string) => 1 + Math.floor(months / CYCLE[zone]!);
    const bucketOf = (c: number) => (c >= 6 ? '6+' : c >= 3 ? '3-5' : String(c));
    const expected: Record<string, { meters: number; owedFen: number }> = {
      '1': { meters: 0, owedFen: 0 },
      '2': { meters: 0, owedFen: 0 },
      '3-5': { meters: 0, owedFen: 0 },
      '6+': { meters: 0, owedFen: 0 },
    };
    for (const [bucket, fen] of [
      [bucketOf(cyc(0, m1.zone)), 1000],
      [bucketOf(cyc(3, m2.zone)), 2300],
      [bucketOf(cyc(13, m3.zone)), 4000],
      [bucketOf(1 + Math.floor(2 / 3)), 300],
    ] as const) {
      expected[bucket]!.meters++;
      expected[bucket]!.owedFen += fen;
    }

    const res = await t.as('manager')({ method: 'GET', url: '/api/collections/ageing?basis=cycles' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.buckets).toEqual(['1', '2', '3-5', '6+']);
    expect(body.totals.meters).toBe(4);
    expect(body.totals.accounts).toBe(4);
    expect(body.totals.owedFen).toBe(1000 + 2300 + 4000 + 300);
    for (const [bucket, e] of Object.entries(expected)) {
      expect(body.totals.buckets[bucket].meters, bucket).toBe(e.meters);
      expect(body.totals.buckets[bucket].owedFen, bucket).toBe(e.owedFen);
    }
    expect(body.rows).toHaveLength(1);
    expect(body.rows[0]).toMatchObject({ officeId: officeA, meters: 4, owedFen: 7600 });

    const days = (await t.as('manager')({ method: 'GET', url: '/api/collections/ageing?basis=days' })).json();
    expect(days.buckets).toEqual(['0-30', '31-60', '61-90', '91-180', '180+']);
    expect(days.totals.buckets).toEqual({
      '0-30': { meters: 1, accounts: 1, owedFen: 1000 },
      '31-60': { meters: 0, accounts: 0, owedFen: 0 },
      '61-90': { meters: 1, accounts: 1, owedFen: 300 },
      '91-180': { meters: 1, accounts: 1, owedFen: 2300 },
      '180+': { meters: 1, accounts: 1, owedFen: 4000 },
    });
  });

  it('groups by book, reader and customer with the same totals, and drills to a bucket', async () => {
    for (const groupBy of ['book', 'reader', 'customer']) {
      const body = (
        await t.as('manager')({ method: 'GET', url: `/api/collections/ageing?basis=days&groupBy=${groupBy}` })
      ).json();
      expect(
        body.rows.reduce((s: number, r: { owedFen: number }) => s + r.owedFen, 0),
        groupBy,
      ).toBe(7600);
      expect(
        body.rows.reduce((s: number, r: { meters: number }) => s + r.meters, 0),
        groupBy,
      ).toBe(4);
    }
    const m3 = meters[2]!;
    const drill = (
      await t.as('manager')({
        method: 'GET',
        url: '/api/collections/ageing?basis=days&groupBy=customer&bucket=180%2B',
      })
    ).json();
    expect(drill.rows).toHaveLength(1);
    expect(drill.rows[0]).toMatchObject({ key: m3.account_id, owedFen: 4000, days: 400 });
    const byBook = (
      await t.as('manager')({
        method: 'GET',
        url: `/api/collections/ageing?groupBy=customer&bookId=${meters[1]!.book_id}`,
      })
    ).json();
    expect(byBook.rows.map((r: { key: number }) => r.key)).toContain(meters[1]!.account_id);
  });

  it('takes the day’s snapshot once per day per bucket, and the history shows it', async () => {
    const history = (
      await t.as('manager')({ method: 'GET', url: '/api/collections/ageing/history?basis=days' })
    ).json();
    const today = history.points.find((p: { day: string }) => p.day === TODAY);
    expect(today.buckets['180+']).toEqual({ meters: 1, owedFen: 4000 });
    expect(today.buckets['0-30']).toEqual({ meters: 1, owedFen: 1000 });
    const count = async () =>
      Number(
        (
          await t.db
            .selectFrom('arrears_snapshot')
            .select((e) => e.fn.countAll().as('n'))
            .where('snapshot_on', '=', TODAY)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const offices = (await t.db.selectFrom('office').select('office_id').execute()).length;
    expect(before).toBe(offices * (4 + 5));
    await takeArrearsSnapshot(t.db, TODAY);
    expect(await count()).toBe(before);
    // Two at once (the job and a page's first request): one after the other, same rows.
    await Promise.all([takeArrearsSnapshot(t.db, TODAY), takeArrearsSnapshot(t.db, TODAY)]);
    expect(await count()).toBe(before);
  });

  it('reconstructs a past day from payment dates: a bill paid today was in arrears yesterday', async () => {
    const m = meters[5]!;
    const billId = await insertBill(m, 900, addDays(TODAY, -20));
    const pay = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${m.account_id}/payments`,
      payload: { amountFen: 900, channel: 'cash' },
      headers: { 'idempotency-key': `ageing-pay-${++keySeq}-${Date.now()}` },
    });
    expect(pay.statusCode, pay.body).toBe(201);
    const now = await arrearsRows(t.db, TODAY);
    expect(now.find((r) => r.account_id === m.account_id)).toBeUndefined();
    const yesterday = await arrearsRows(t.db, addDays(TODAY, -1), undefined, true);
    expect(yesterday.find((r) => r.account_id === m.account_id)).toMatchObject({ owed_fen: 900 });
    // Before it fell due, not in arrears.
    const earlier = await arrearsRows(t.db, addDays(TODAY, -25), undefined, true);
    expect(earlier.find((r) => r.account_id === m.account_id)).toBeUndefined();
    expect(billId).toBeGreaterThan(0);
    // The backfill writes one derived snapshot per past month end, once.
    const n = await backfillArrearsSnapshots(t.db, TODAY);
    expect(n).toBeGreaterThan(0);
    expect(await backfillArrearsSnapshots(t.db, TODAY)).toBe(0);
    const days = historyDays(TODAY, 6);
    const derived = await t.db
      .selectFrom('arrears_snapshot')
      .select('snapshot_on')
      .where('derived', '=', true)
      .groupBy('snapshot_on')
      .execute();
    expect(derived.map((d) => d.snapshot_on).sort()).toEqual(days);
  });

  it('refuses another office’s filter', async () => {
    const other = await t.db
      .selectFrom('office')
      .select('office_id')
      .where('code', '=', '0102')
      .executeTakeFirstOrThrow();
    const res = await t.as('manager')({
      method: 'GET',
      url: `/api/collections/ageing?officeId=${other.office_id}`,
    });
    expect(res.statusCode).toBe(403);
  });
});
