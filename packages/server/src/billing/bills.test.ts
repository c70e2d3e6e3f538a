import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { pageCount, pdfPages } from '../testing/pdf.ts';
import { monthBefore } from './bills.ts';

/**
 * Bills as the back office reads them, the bill notices (PDF, single and a book's batch) and the
 * billing summary (docs/billing.md "Bills, notices and the summary"). Bills are inserted directly
 * here (the fixture below), so these tests do not depend on the bill engine.
 */

let t: TestApp;
let officeA: number;
let officeB: number;
/** Meters of office A (water, with a supply address) and one of office B. */
let metersA: { account_id: number; meter_id: number; meter_no: string }[];
let meterB: { account_id: number; meter_id: number; meter_no: string };
let billSeq = 0;

interface FixtureLine {
  kind: string;
  code: string;
  blockNo?: number | null;
  zh: string;
  volumeM3: string;
  unitPriceFen: string | null;
  amountFen: number;
}

const RESIDENTIAL_LINES: FixtureLine[] = [
  {
    kind: 'block',
    code: 'charge',
    blockNo: 1,
    zh: '水费第一阶梯（年用量 0–180 m³）',
    volumeM3: '30.000',
    unitPriceFen: '210',
    amountFen: 6300,
  },
  {
    kind: 'block',
    code: 'charge',
    blockNo: 2,
    zh: '水费第二阶梯（年用量 180–260 m³）',
    volumeM3: '30.000',
    unitPriceFen: '315',
    amountFen: 9450,
  },
  {
    kind: 'surcharge',
    code: 'sewage',
    zh: '污水处理费',
    volumeM3: '60.000',
    unitPriceFen: '95',
    amountFen: 5700,
  },
];

/** Inserts a bill with its lines (the amount is the sum of the lines, as the engine writes it). */
async function insertBill(opts: {
  meter: { account_id: number; meter_id: number };
  period: string;
  usageType?: string;
  lines?: FixtureLine[];
  payableM3?: string;
  status?: 'open' | 'cancelled';
  readingId?: number | null;
}): Promise<{ billId: number; billNo: string; amountFen: number }> {
  const lines = opts.lines ?? RESIDENTIAL_LINES;
  const amountFen = lines.reduce((s, l) => s + l.amountFen, 0);
  const payable = opts.payableM3 ?? '60.000';
  billSeq += 1;
  const billNo = `${opts.period.replace('-', '')}-${String(billSeq).padStart(8, '0')}`;
  const [y, m] = opts.period.split('-').map(Number) as [number, number];
  const bill = await t.db
    .insertInto('bill')
    .values({
      account_id: opts.meter.account_id,
      bill_no: billNo,
      meter_id: opts.meter.meter_id,
      reading_id: opts.readingId ?? null,
      run_id: null,
      usage_type_code: opts.usageType ?? 'W_RES',
      period: opts.period,
      period_from: `${monthBefore(opts.period, 1)}-09`,
      period_to: `${opts.period}-08`,
      start_index: '1250.000',
      end_index: '1310.000',
      consumption_m3: payable,
      payable_m3: payable,
      amount_fen: amountFen,
      block_year: y,
      block_used_before_m3: '150.000',
      block_used_after_m3: '210.000',
      due_on: `${y}-${String(m).padStart(2, '0')}-28`,
      status: opts.status ?? 'open',
      explanation: JSON.stringify([
        { 'zh-CN': `用水量 ${payable} m³`, en: `Consumption ${payable} m³` },
        { 'zh-CN': '合计', en: 'Total' },
      ]),
      created_by: null,
    })
    .returning('bill_id')
    .executeTakeFirstOrThrow();
  await t.db
    .insertInto('bill_line')
    .values(
      lines.map((l, i) => ({
        account_id: opts.meter.account_id,
        bill_id: bill.bill_id,
        line_no: i + 1,
        kind: l.kind,
        code: l.code,
        block_no: l.blockNo ?? null,
        description_zh: l.zh,
        description_en: l.zh,
        volume_m3: l.volumeM3,
        unit_price_fen: l.unitPriceFen,
        amount_fen: l.amountFen,
        from_date: `${monthBefore(opts.period, 1)}-09`,
        to_date: `${opts.period}-08`,
        tariff_version: '2024-01',
      })),
    )
    .execute();
  return { billId: bill.bill_id, billNo, amountFen };
}

// ---------------------------------------------------------------- fixtures

beforeAll(async () => {
  t = await createTestApp({ customers: 40 });
  const offices = await t.db.selectFrom('office').select(['office_id', 'code']).execute();
  officeA = offices.find((o) => o.code === '0101')!.office_id;
  officeB = offices.find((o) => o.code === '0102')!.office_id;
  const metersOf = async (office: number) =>
    (
      await sql<{ account_id: number; meter_id: number; meter_no: string }>`
        select m.account_id, m.meter_id, m.meter_no from meter m
        join customer c on c.account_id = m.account_id
        where c.office_id = ${office} and m.utility = 'water'
        order by m.account_id, m.meter_id`.execute(t.db)
    ).rows;
  metersA = await metersOf(officeA);
  meterB = (await metersOf(officeB))[0]!;
  expect(metersA.length).toBeGreaterThanOrEqual(4);
  expect(meterB).toBeTruthy();
});

afterAll(async () => {
  await t?.close();
});

// ---------------------------------------------------------------- tests

describe('a customer’s bills', () => {
  let accountId: number;
  let readingId: number;
  const bills: { billId: number; billNo: string; period: string }[] = [];

  beforeAll(async () => {
    const meter = metersA[0]!;
    accountId = meter.account_id;
    const reader = await t.db
      .selectFrom('staff')
      .select('staff_id')
      .where('username', '=', 'reader')
      .executeTakeFirstOrThrow();
    readingId = (
      await t.db
        .insertInto('reading')
        .values({
          account_id: accountId,
          meter_id: meter.meter_id,
          period: '2026-10',
          read_at: '2026-10-08T02:00:00Z',
          previous_index: '1250',
          index_value: '1310',
          consumption_m3: '60',
          kind: 'actual',
          source: 'handheld',
          status: 'accepted',
          reader_id: reader.staff_id,
        })
        .returning('reading_id')
        .executeTakeFirstOrThrow()
    ).reading_id;
    for (const period of ['2026-08', '2026-10', '2026-09']) {
      const b = await insertBill({ meter, period, readingId: period === '2026-10' ? readingId : null });
      bills.push({ ...b, period });
    }
  });

  it('lists them newest first, each with its lines, paged', async () => {
    const res = await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountId}/bills` });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.total).toBe(3);
    expect(body.items.map((b: { period: string }) => b.period)).toEqual(['2026-10', '2026-09', '2026-08']);
    const first = body.items[0];
    expect(first).toMatchObject({
      accountId,
      billNo: bills.find((b) => b.period === '2026-10')!.billNo,
      amountFen: 21450,
      payableM3: '60.000',
      usageType: 'W_RES',
      usageTypeName: { 'zh-CN': '居民生活用水' },
      status: 'open',
      meterNo: metersA[0]!.meter_no,
    });
    expect(first.lines).toHaveLength(3);
    expect(first.lines[0]).toMatchObject({ lineNo: 1, kind: 'block', blockNo: 1, amountFen: 6300 });
    expect(first.lines.reduce((s: number, l: { amountFen: number }) => s + l.amountFen, 0)).toBe(
      first.amountFen,
    );

    const page2 = await t.as('clerk')({
      method: 'GET',
      url: `/api/customers/${accountId}/bills?page=2&pageSize=2`,
    });
    expect(page2.json().items.map((b: { period: string }) => b.period)).toEqual(['2026-08']);
  });

  it('shows one bill with its explanation and the reading it came from', async () => {
    const bill = bills.find((b) => b.period === '2026-10')!;
    const res = await t.as('clerk')({
      method: 'GET',
      url: `/api/customers/${accountId}/bills/${bill.billId}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.explanation).toHaveLength(2);
    expect(body.explanation[0]['zh-CN']).toContain('60.000');
    expect(body.reading).toMatchObject({ readingId, index: '1310', consumptionM3: '60' });
    expect(body.lines).toHaveLength(3);
    expect(body.noticeUrl).toBe(`/api/customers/${accountId}/bills/${bill.billId}/notice.pdf`);
  });

  it('keeps them within the office: another office’s clerk gets 404, a bill of another account too', async () => {
    const bill = bills[0]!;
    for (const url of [
      `/api/customers/${accountId}/bills`,
      `/api/customers/${accountId}/bills/${bill.billId}`,
      `/api/customers/${accountId}/bills/${bill.billId}/notice.pdf`,
    ]) {
      const res = await t.as('clerk2')({ method: 'GET', url });
      expect(res.statusCode, url).toBe(404);
    }
    // The bill id under another customer of the caller's own office is not found either.
    const other = metersA.find((m) => m.account_id !== accountId)!;
    const res = await t.as('clerk')({
      method: 'GET',
      url: `/api/customers/${other.account_id}/bills/${bill.billId}`,
    });
    expect(res.statusCode).toBe(404);
  });

  it('prints the notice as a one-page PDF carrying the bill number, the figures and the total', async () => {
    const bill = bills.find((b) => b.period === '2026-10')!;
    const res = await t.as('clerk')({
      method: 'GET',
      url: `/api/customers/${accountId}/bills/${bill.billId}/notice.pdf`,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    const pdf = res.rawPayload;
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pageCount(pdf)).toBe(1);
    const [text] = pdfPages(pdf);
    expect(text).toContain(bill.billNo);
    expect(text).toContain('水费通知单');
    expect(text).toContain('供水有限公司');
    expect(text).toContain('¥214.50');
    expect(text).toContain('94.50');
    expect(text).toContain('3.15');
    expect(text).toContain('1310');
    expect(text).toContain('缴费期限：2026-10-28');
    // What the account owes besides: its earlier standing bills and their late fees.
    const { rows } = await t.pool.query(
      `select coalesce(sum(amount_fen - paid_fen), 0)::int as arrears,
              (select amount_fen::int from bill where account_id = $1 and bill_id = $2) as amount
       from bill where account_id = $1 and status = 'open' and bill_id < $2`,
      [accountId, bill.billId],
    );
    const arrears = Number(rows[0].arrears);
    expect(arrears).toBeGreaterThan(0);
    const yuanOf = (fen: number) => `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
    expect(text).toContain(`往期欠费 ¥${yuanOf(arrears)}`);
    expect(text).not.toContain('滞纳金 ¥');
    expect(text).toContain(`合计应缴 ¥${yuanOf(Number(rows[0].amount) + arrears)}`);
  });

  it('prints the late fees owed with the arrears', async () => {
    const bill = bills.find((b) => b.period === '2026-10')!;
    const earlier = await t.pool.query(
      `select bill_id, amount_fen, due_on::text from bill
       where account_id = $1 and status = 'open' and bill_id < $2 order by bill_id limit 1`,
      [accountId, bill.billId],
    );
    const e = earlier.rows[0];
    await t.pool.query(
      `insert into late_fee (account_id, bill_id, principal_fen, due_on, rate_per_day, grace_days, cap_ratio,
                             days, accrued_fen, accrued_through, waived_fen)
       values ($1, $2, $3, $4, '0.003', 0, '1', 10, 1234, '2026-11-01', 234)`,
      [accountId, e.bill_id, e.amount_fen, e.due_on],
    );
    try {
      const res = await t.as('clerk')({
        method: 'GET',
        url: `/api/customers/${accountId}/bills/${bill.billId}/notice.pdf`,
      });
      const [text] = pdfPages(res.rawPayload);
      expect(pageCount(res.rawPayload)).toBe(1);
      expect(text).toContain('滞纳金 ¥10.00');
    } finally {
      await t.pool.query('delete from late_fee where account_id = $1 and bill_id = $2', [
        accountId,
        e.bill_id,
      ]);
    }
  });
});

describe('a book’s notices for delivery', () => {
  let bookId: number;
  /** Bill numbers in the order the route visits the meters. */
  const routeOrder: string[] = [];

  beforeAll(async () => {
    bookId = (
      await t.db
        .insertInto('book')
        .values({
          office_id: officeA,
          code: 'N-01',
          name: '通知单测试册',
          zone: 'C',
          reader_since: '2025-01-01',
        })
        .returning('book_id')
        .executeTakeFirstOrThrow()
    ).book_id;
    // Three meters on the route in the order 3, 1, 2 of their listing.
    const onRoute = [metersA[1]!, metersA[2]!, metersA[3]!];
    const seqs = [3, 1, 2];
    for (const [i, m] of onRoute.entries())
      await t.db
        .updateTable('meter')
        .set({ book_id: bookId, route_seq: seqs[i]! })
        .where('account_id', '=', m.account_id)
        .where('meter_id', '=', m.meter_id)
        .execute();
    const billed: { seq: number; billNo: string }[] = [];
    for (const [i, m] of onRoute.entries())
      billed.push({ seq: seqs[i]!, billNo: (await insertBill({ meter: m, period: '2026-10' })).billNo });
    routeOrder.push(...billed.sort((a, b) => a.seq - b.seq).map((b) => b.billNo));
    // Left out: a cancelled bill and another period's bill of the same meters.
    await insertBill({ meter: onRoute[0]!, period: '2026-10', status: 'cancelled' });
    await insertBill({ meter: onRoute[1]!, period: '2026-09' });
  });

  it('prints one notice per page in route order', async () => {
    const res = await t.as('manager')({
      method: 'GET',
      url: `/api/books/${bookId}/notices.pdf?period=2026-10`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const pdf = res.rawPayload;
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pageCount(pdf)).toBe(3);
    expect(res.headers['x-notice-count']).toBe('3');
    const pages = pdfPages(pdf);
    expect(pages).toHaveLength(3);
    pages.forEach((text, i) => {
      expect(text).toContain(routeOrder[i]);
      expect(text).toContain('N-01');
    });
  });

  it('needs billing.run or reading.plan, in the book’s office', async () => {
    const url = `/api/books/${bookId}/notices.pdf?period=2026-10`;
    expect((await t.as('clerk')({ method: 'GET', url })).statusCode).toBe(403);
    expect((await t.as('manager2')({ method: 'GET', url })).statusCode).toBe(404);
    expect((await t.as('finance')({ method: 'GET', url })).statusCode).toBe(200);
  });

  it('answers 404 for a period without bills and 400 for a malformed period', async () => {
    const none = await t.as('manager')({
      method: 'GET',
      url: `/api/books/${bookId}/notices.pdf?period=2025-01`,
    });
    expect(none.statusCode).toBe(404);
    const bad = await t.as('manager')({
      method: 'GET',
      url: `/api/books/${bookId}/notices.pdf?period=2026-13`,
    });
    expect(bad.statusCode).toBe(400);
  });
});

describe('the billing summary', () => {
  const MONTH = '2027-03';

  beforeAll(async () => {
    // Office A: residential and commercial bills, one cancelled; office B: one bill; earlier months.
    await insertBill({ meter: metersA[0]!, period: MONTH });
    await insertBill({ meter: metersA[1]!, period: MONTH, payableM3: '12.500' });
    await insertBill({
      meter: metersA[2]!,
      period: MONTH,
      usageType: 'W_BIZ',
      payableM3: '40.000',
      lines: [
        {
          kind: 'flat',
          code: 'charge',
          zh: '水费',
          volumeM3: '40.000',
          unitPriceFen: '425',
          amountFen: 17000,
        },
      ],
    });
    await insertBill({ meter: metersA[3]!, period: MONTH, status: 'cancelled' });
    await insertBill({ meter: meterB, period: MONTH });
    await insertBill({ meter: metersA[0]!, period: '2027-01' });
    await insertBill({ meter: metersA[0]!, period: '2026-03' });
  });

  /** The same figures summed straight from the bills, for comparison. */
  async function expected(officeIds: number[], month: string) {
    const { rows } = await sql<{
      usage_type_code: string;
      bills: number;
      payable_m3: string;
      amount_fen: number;
    }>`
      select b.usage_type_code, count(*)::int8 as bills, sum(b.payable_m3)::numeric(16, 3) as payable_m3,
             sum(b.amount_fen)::int8 as amount_fen
      from bill b join customer c on c.account_id = b.account_id
      where b.status = 'open' and b.period = ${month} and c.office_id = any(${officeIds}::bigint[])
      group by 1 order by 1`.execute(t.db);
    return rows;
  }

  it('sums the month’s standing bills by usage type, equal to the bills themselves', async () => {
    const res = await t.as('manager')({
      method: 'GET',
      url: `/api/billing/summary?officeId=${officeA}&month=${MONTH}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    const want = await expected([officeA], MONTH);
    const got = [...body.byUsageType].sort((a, b) => a.usageType.localeCompare(b.usageType));
    expect(
      got.map((r: { usageType: string; bills: number; payableM3: string; amountFen: number }) => ({
        usage_type_code: r.usageType,
        bills: r.bills,
        payable_m3: r.payableM3,
        amount_fen: r.amountFen,
      })),
    ).toEqual(want);
    expect(body.totals).toEqual({
      bills: 3,
      consumptionM3: '112.500',
      payableM3: '112.500',
      amountFen: 21450 * 2 + 17000,
    });
    expect(body.byUsageType.find((r: { usageType: string }) => r.usageType === 'W_RES').name['zh-CN']).toBe(
      '居民生活用水',
    );
    expect(body.byOffice).toEqual([expect.objectContaining({ officeId: officeA, bills: 3 })]);
  });

  it('gives the 12-month trend ending with the month', async () => {
    const res = await t.as('manager')({
      method: 'GET',
      url: `/api/billing/summary?officeId=${officeA}&month=${MONTH}`,
    });
    const trend = res.json().trend as { month: string; bills: number; amountFen: number }[];
    expect(trend).toHaveLength(12);
    expect(trend[0]!.month).toBe('2026-04');
    expect(trend[11]).toMatchObject({ month: MONTH, bills: 3, amountFen: 21450 * 2 + 17000 });
    expect(trend.find((r) => r.month === '2027-01')).toMatchObject({ bills: 1, amountFen: 21450 });
    expect(trend.find((r) => r.month === '2026-12')).toMatchObject({ bills: 0, amountFen: 0 });
    // 2026-03 lies outside the twelve months.
    expect(trend.some((r) => r.month === '2026-03')).toBe(false);
  });

  it('is scoped: another office is refused, no office means the caller’s own, org-wide sees all', async () => {
    const refused = await t.as('manager2')({
      method: 'GET',
      url: `/api/billing/summary?officeId=${officeA}&month=${MONTH}`,
    });
    expect(refused.statusCode).toBe(403);
    const own = await t.as('manager2')({ method: 'GET', url: `/api/billing/summary?month=${MONTH}` });
    expect(own.json().totals.bills).toBe(1);
    expect(own.json().byOffice.map((o: { officeId: number }) => o.officeId)).toEqual([officeB]);
    const all = await t.as('finance')({ method: 'GET', url: `/api/billing/summary?month=${MONTH}` });
    expect(all.statusCode).toBe(200);
    const want = await expected([officeA, officeB], MONTH);
    expect(all.json().totals.amountFen).toBe(want.reduce((s, r) => s + r.amount_fen, 0));
    expect(all.json().totals.bills).toBe(4);
    // A reader holds none of the billing permissions.
    const reader = await t.as('reader')({ method: 'GET', url: `/api/billing/summary?month=${MONTH}` });
    expect(reader.statusCode).toBe(403);
  });
});

describe('monthBefore', () => {
  it('steps back across years', () => {
    expect(monthBefore('2027-03', 11)).toBe('2026-04');
    expect(monthBefore('2027-01', 1)).toBe('2026-12');
    expect(monthBefore('2027-01', 0)).toBe('2027-01');
    expect(monthBefore('2027-12', 24)).toBe('2025-12');
  });
});
