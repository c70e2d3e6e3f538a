import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '../platform/context.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { pageCount, pdfPages } from '../testing/pdf.ts';
import { billAcceptedReadings } from './engine.ts';

/**
 * Volume adjustments and supplementary volumes (调量 / 补量, DOMAIN.md §3): the work order's three
 * steps by three people (request, the reading specialist's check, the department manager's
 * signature), the difference billed once as an adjustment bill, and every bad request refused on
 * its field.
 */

let t: TestApp;
let officeA: number;

interface BillRow {
  account_id: number;
  bill_id: number;
  bill_no: string;
  meter_id: number;
  payable_m3: string;
  amount_fen: number;
  period_from: string;
  period_to: string;
}

/** Residential bills of office 0101 within one year, priced in block 1 of one tariff version, ≥ 3 m³. */
let bill: BillRow;
let otherBill: BillRow;

beforeAll(async () => {
  t = await createTestApp({ customers: 40, metering: true });
  officeA = (
    await t.db.selectFrom('office').select('office_id').where('code', '=', '0101').executeTakeFirstOrThrow()
  ).office_id;
  const keys = await t.db
    .selectFrom('reading as r')
    .innerJoin('customer as c', 'c.account_id', 'r.account_id')
    .select(['r.account_id as accountId', 'r.reading_id as readingId'])
    .where('r.status', '=', 'accepted')
    .where('c.office_id', '=', officeA)
    .execute();
  const ctx: RequestContext = { caller: null, lang: 'zh-CN', requestId: 'test', ip: '127.0.0.1', audited: 0 };
  await t.db.transaction().execute((trx) => billAcceptedReadings(trx, ctx, keys));
  const { rows } = await sql<BillRow>`
    select b.account_id, b.bill_id, b.bill_no, b.meter_id, b.payable_m3::text, b.amount_fen, b.period_from::text,
           b.period_to::text
    from bill b
    where b.usage_type_code = 'W_RES' and b.status = 'open' and b.payable_m3 >= 3 and b.block_used_after_m3 <= 180
      and extract(year from b.period_from) = extract(year from b.period_to)
      and (select count(distinct tariff_version) from bill_line l
           where l.account_id = b.account_id and l.bill_id = b.bill_id) = 1
    order by b.account_id, b.bill_id limit 2`.execute(t.db);
  expect(rows.length).toBe(2);
  [bill, otherBill] = rows as [BillRow, BillRow];
});

afterAll(async () => {
  await t?.close();
});

const post = (user: string, url: string, payload: unknown) => t.as(user)({ method: 'POST', url, payload });
const orders = (accountId: number) => `/api/customers/${accountId}/volume-adjustments`;
const reduce = (b: BillRow, volumeM3: string) => ({
  kind: 'reduce',
  meterId: b.meter_id,
  billId: b.bill_id,
  volumeM3,
  basis: 'meter_test',
  basisNote: '水表检定偏快 4%，依据检定报告 JD-2026-118',
});

describe('a volume adjustment work order', () => {
  it('is requested, checked, signed by three people and billed once as the difference', async () => {
    const lines = await t.db
      .selectFrom('bill_line')
      .select(['code', 'block_no', 'unit_price_fen', 'amount_fen'])
      .where('account_id', '=', bill.account_id)
      .where('bill_id', '=', bill.bill_id)
      .execute();
    // Taking 2 m³ off a block-1 bill: each line loses 2 m³ at its price (whole fen here).
    const expected = -lines.reduce((s, l) => s + Math.round(2 * Number(l.unit_price_fen)), 0);

    const preview = await post('clerk', `${orders(bill.account_id)}/preview`, reduce(bill, '2'));
    expect(preview.statusCode, preview.body).toBe(200);
    expect(preview.json()).toMatchObject({ billedM3: bill.payable_m3, amountFen: expected });

    const requested = await post('clerk', orders(bill.account_id), reduce(bill, '2'));
    expect(requested.statusCode, requested.body).toBe(201);
    const order = requested.json();
    expect(order).toMatchObject({
      status: 'requested',
      kind: 'reduce',
      billNo: bill.bill_no,
      amountFen: expected,
    });
    expect(order.orderNo).toMatch(/^TL\d{6}-\d{6}$/);
    const at = `${orders(bill.account_id)}/${order.adjustmentId}`;

    // The requester neither checks nor signs; a clerk holds neither permission anyway.
    expect((await post('clerk', `${at}/check`, { approve: true })).statusCode).toBe(403);
    const signEarly = await post('manager', `${at}/sign`, { approve: true });
    expect(signEarly.statusCode).toBe(409);
    expect(signEarly.json().error.code).toBe('ADJUSTMENT_NOT_PENDING');

    const checked = await post('analyst', `${at}/check`, { approve: true, note: '核对原始抄表记录无误' });
    expect(checked.statusCode, checked.body).toBe(200);
    expect(checked.json()).toMatchObject({ status: 'checked', checkedByName: '周婷' });
    // The checker cannot sign what they checked (the manager can check too, but not both).
    const signed = await post('manager', `${at}/sign`, { approve: true, note: '同意' });
    expect(signed.statusCode, signed.body).toBe(200);
    const done = signed.json();
    expect(done).toMatchObject({ status: 'approved', amountFen: expected, decidedByName: '张建国' });

    const result = await t.db
      .selectFrom('bill')
      .selectAll()
      .where('account_id', '=', bill.account_id)
      .where('bill_id', '=', done.resultBillId)
      .executeTakeFirstOrThrow();
    expect(result).toMatchObject({
      kind: 'adjustment',
      amount_fen: expected,
      payable_m3: '-2.000',
      status: 'open',
    });
    const resultLines = await t.db
      .selectFrom('bill_line')
      .selectAll()
      .where('account_id', '=', bill.account_id)
      .where('bill_id', '=', done.resultBillId)
      .execute();
    expect(resultLines.reduce((s, l) => s + Number(l.amount_fen), 0)).toBe(expected);
    expect(resultLines.every((l) => l.volume_m3 === '-2.000')).toBe(true);

    // Signing again bills nothing twice.
    const again = await post('manager', `${at}/sign`, { approve: true });
    expect(again.statusCode).toBe(409);
    const adjustments = await t.db
      .selectFrom('bill')
      .select('bill_id')
      .where('account_id', '=', bill.account_id)
      .where('kind', '=', 'adjustment')
      .execute();
    expect(adjustments).toHaveLength(1);

    // A second reduction of the same bill starts from what the first left.
    const second = await post('clerk', `${orders(bill.account_id)}/preview`, reduce(bill, '1'));
    expect(second.json().billedM3).toBe((Number(bill.payable_m3) - 2).toFixed(3));

    // The work order prints with the three names and the billed difference.
    const pdf = await t.as('clerk')({ method: 'GET', url: `${at}/order.pdf` });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pageCount(pdf.rawPayload)).toBe(1);
    const [text] = pdfPages(pdf.rawPayload);
    for (const word of [
      order.orderNo,
      bill.bill_no,
      '王丽',
      '周婷',
      '张建国',
      '核对原始抄表记录无误',
      '水表检定报告',
    ])
      expect(text).toContain(word);
    expect(text).toContain(`-${Math.floor(-expected / 100)}.${String(-expected % 100).padStart(2, '0')}`);

    // Every step is on the customer's trail.
    const trail = await t.db
      .selectFrom('audit_log')
      .select(['action', 'entity_type'])
      .where('account_id', '=', bill.account_id)
      .where('entity_type', 'in', ['volume_adjustment', 'bill'])
      .where('action', 'in', ['request', 'check', 'sign', 'bill_adjustment'])
      .execute();
    expect(trail.map((a) => a.action).sort()).toEqual(['bill_adjustment', 'check', 'request', 'sign']);
  });

  it('needs three different people: the one who checked does not sign', async () => {
    const requested = await post('clerk', orders(otherBill.account_id), reduce(otherBill, '1'));
    expect(requested.statusCode, requested.body).toBe(201);
    const at = `${orders(otherBill.account_id)}/${requested.json().adjustmentId}`;
    // A second work order on the same bill while this one is open is refused.
    const twice = await post('manager', orders(otherBill.account_id), reduce(otherBill, '1'));
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('ADJUSTMENT_OPEN_FOR_BILL');

    expect((await post('manager', `${at}/check`, { approve: true })).statusCode).toBe(200);
    const same = await post('manager', `${at}/sign`, { approve: true });
    expect(same.statusCode).toBe(403);
    expect(same.json().error.code).toBe('ADJUSTMENT_SAME_PERSON');
    // Rejected at signature by someone else: nothing billed, and it cannot be signed after.
    const rejected = await post('deputy', `${at}/sign`, { approve: false, note: '依据不足' });
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect(rejected.json()).toMatchObject({
      status: 'rejected',
      decisionNote: '依据不足',
      resultBillId: null,
    });
    expect((await post('deputy', `${at}/sign`, { approve: true })).json().error.code).toBe(
      'ADJUSTMENT_NOT_PENDING',
    );
  });

  it('prices a bill reaching over New Year from the usage of the year it starts in', async () => {
    const { rows } = await sql<BillRow>`
      select b.account_id, b.bill_id, b.meter_id, b.payable_m3::text from bill b
      where b.usage_type_code = 'W_RES' and b.status = 'open' and b.payable_m3 >= 3
        and extract(year from b.period_from) < extract(year from b.period_to)
        and b.block_year is not null
      order by b.account_id desc limit 1`.execute(t.db);
    const spanning = rows[0]!;
    // Reducing by the whole volume gives back exactly the bill's amount: the pricing reproduces it.
    const preview = await post(
      'clerk',
      `${orders(spanning.account_id)}/preview`,
      reduce(spanning, spanning.payable_m3),
    );
    expect(preview.statusCode, preview.body).toBe(200);
    const original = await t.db
      .selectFrom('bill')
      .select('amount_fen')
      .where('account_id', '=', spanning.account_id)
      .where('bill_id', '=', spanning.bill_id)
      .executeTakeFirstOrThrow();
    expect(preview.json().beforeFen).toBe(Number(original.amount_fen));
  });

  it('bills a supplementary volume over a period never billed', async () => {
    const body = {
      kind: 'supplement',
      meterId: bill.meter_id,
      periodFrom: '2026-01-01',
      periodTo: '2026-01-31',
      volumeM3: '12.5',
      basis: 'site_check',
      basisNote: '表停期间按现场核查补量',
    };
    const requested = await post('clerk', orders(bill.account_id), body);
    expect(requested.statusCode, requested.body).toBe(201);
    const order = requested.json();
    expect(order.orderNo).toMatch(/^BL/);
    expect(order.amountFen).toBeGreaterThan(0);
    const at = `${orders(bill.account_id)}/${order.adjustmentId}`;
    expect((await post('analyst', `${at}/check`, { approve: true })).statusCode).toBe(200);
    const signed = await post('manager', `${at}/sign`, { approve: true });
    expect(signed.statusCode, signed.body).toBe(200);
    const result = await t.db
      .selectFrom('bill')
      .select(['amount_fen', 'payable_m3', 'period_from', 'period_to'])
      .where('account_id', '=', bill.account_id)
      .where('bill_id', '=', signed.json().resultBillId)
      .executeTakeFirstOrThrow();
    expect(result).toMatchObject({
      amount_fen: order.amountFen,
      payable_m3: '12.500',
      period_from: '2026-01-01',
      period_to: '2026-01-31',
    });
  });

  it('refuses bad requests on their fields, in the caller’s language', async () => {
    const fields = async (payload: unknown, lang = 'zh-CN') => {
      const res = await t.as('clerk')({
        method: 'POST',
        url: orders(bill.account_id),
        payload,
        headers: { 'accept-language': lang },
      });
      expect(res.statusCode, res.body).toBe(400);
      return res.json().error.fields as { path: string; code: string; message: string }[];
    };
    const { billId: _, ...noBill } = reduce(bill, '1');
    expect((await fields(noBill))[0]).toMatchObject({ path: 'billId', message: '调量须选择被调整的账单' });
    expect((await fields(reduce(bill, '9999')))[0]).toMatchObject({
      path: 'volumeM3',
      code: 'ADJUSTMENT_EXCEEDS_BILLED',
    });
    expect((await fields(reduce(bill, '0')))[0]).toMatchObject({ path: 'volumeM3' });
    expect((await fields({ ...reduce(bill, '1'), basisNote: '  ' })).map((f) => f.path)).toContain(
      'basisNote',
    );
    expect((await fields({ ...reduce(bill, '1'), basis: 'hunch' })).map((f) => f.path)).toContain('basis');
    const supplement = { ...noBill, kind: 'supplement' };
    expect((await fields(supplement, 'en')).map((f) => [f.path, f.message])).toEqual([
      ['periodFrom', 'A supplement gives the period it covers'],
      ['periodTo', 'A supplement gives the period it covers'],
    ]);
    expect(
      (await fields({ ...supplement, periodFrom: '2026-03-01', periodTo: '2026-02-01' })).map((f) => f.code),
    ).toEqual(['PERIOD_ORDER']);
    // Nothing was written by any of them.
    const open = await t.db
      .selectFrom('volume_adjustment')
      .select('adjustment_id')
      .where('account_id', '=', bill.account_id)
      .where('status', '=', 'requested')
      .execute();
    expect(open).toHaveLength(0);
  });

  it('is withdrawn when its bill is cancelled and rebilled meanwhile', async () => {
    const { rows } = await sql<BillRow>`
      select b.account_id, b.bill_id, b.bill_no, b.meter_id, b.payable_m3::text from bill b
      where b.usage_type_code = 'W_RES' and b.status = 'open' and b.kind = 'consumption' and b.payable_m3 >= 3
        and b.account_id not in (${bill.account_id}, ${otherBill.account_id})
      order by b.account_id, b.bill_id desc limit 1`.execute(t.db);
    const target = rows[0]!;
    const requested = await post('clerk', orders(target.account_id), reduce(target, '1'));
    expect(requested.statusCode, requested.body).toBe(201);
    const at = `${orders(target.account_id)}/${requested.json().adjustmentId}`;
    expect((await post('analyst', `${at}/check`, { approve: true })).statusCode).toBe(200);

    // The bill is cancelled and rebilled (账单更正) before the manager signs the work order.
    const asked = await post(
      'clerk',
      `/api/customers/${target.account_id}/bills/${target.bill_id}/corrections`,
      {
        reason: '抄表员录错表码',
      },
    );
    expect(asked.statusCode, asked.body).toBe(201);
    const decided = await post(
      'manager',
      `/api/customers/${target.account_id}/bill-corrections/${asked.json().correctionId}/decide`,
      { approve: true, note: '' },
    );
    expect(decided.statusCode, decided.body).toBe(200);

    const order = (await t.as('manager')({ method: 'GET', url: at })).json();
    expect(order).toMatchObject({ status: 'rejected', resultBillId: null });
    expect(order.decisionNote).toContain('账单已作废重开');
    const sign = await post('manager', `${at}/sign`, { approve: true });
    expect(sign.statusCode).toBe(409);
    const trail = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('entity_type', '=', 'volume_adjustment')
      .where('entity_id', '=', `${target.account_id}/${requested.json().adjustmentId}`)
      .execute();
    expect(trail.map((a) => a.action)).toContain('withdraw');
  });

  it('keeps to the caller’s offices', async () => {
    // Another office's customer reads as not found (platform/access.ts).
    const res = await post('manager2', orders(bill.account_id), reduce(bill, '1'));
    expect(res.statusCode).toBe(404);
    const list = await t.as('manager2')({ method: 'GET', url: '/api/volume-adjustments' });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().total).toBe(0);
    const mine = await t.as('manager')({ method: 'GET', url: '/api/volume-adjustments' });
    expect(mine.json().total).toBeGreaterThanOrEqual(3);
    expect(mine.json().items.every((o: { officeId: number }) => o.officeId === officeA)).toBe(true);
  });
});
