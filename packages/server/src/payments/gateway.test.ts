import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { parseGatewayOrderNo } from './gatewayRoutes.ts';
import { SANDBOX_HEADERS, SANDBOX_SECRET_SETTING, signSandboxCallback } from './gateways/sandbox.ts';
import { accountLedgerProblems } from './ledger.ts';

/**
 * Online payment through the sandbox gateway (docs/payments-gateway.md): an order for what is owed,
 * the signed callback posting the payment once, repeated and concurrent callbacks answered alike,
 * bad signatures and tampered amounts refused and logged with nothing posted, and the checkout
 * page's buttons going through the same callback. After every test the ledger check is empty.
 */

let t: TestApp;
let secret: string;
let freeA: number[] = [];
let accountB: number;
let billSeq = 0;
let keySeq = 0;
const RUN = Date.now().toString(36);
const newKey = () => `gw-${RUN}-${++keySeq}`;

const fresh = (): number => {
  const a = freeA.shift();
  if (a === undefined) throw new Error('out of test customers');
  return a;
};

/** A bill inserted directly, with one charge line so the account_ledger view balances. */
async function insertBill(accountId: number, amountFen: number, dueOn = '2026-03-15'): Promise<number> {
  billSeq += 1;
  const period = dueOn.slice(0, 7);
  const row = await t.db
    .insertInto('bill')
    .values({
      account_id: accountId,
      bill_no: `${period.replace('-', '')}-G${String(billSeq).padStart(7, '0')}`,
      meter_id: null,
      reading_id: null,
      run_id: null,
      usage_type_code: 'W_RES',
      period,
      period_from: `${period}-01`,
      period_to: `${period}-08`,
      amount_fen: amountFen,
      due_on: dueOn,
      created_by: null,
    })
    .returning('bill_id')
    .executeTakeFirstOrThrow();
  await t.db
    .insertInto('bill_line')
    .values({
      account_id: accountId,
      bill_id: row.bill_id,
      line_no: 1,
      kind: 'charge',
      code: 'charge',
      block_no: null,
      description_zh: '水费',
      description_en: 'Water',
      unit_price_fen: null,
      amount_fen: amountFen,
      from_date: null,
      to_date: null,
      tariff_version: null,
    })
    .execute();
  return Number(row.bill_id);
}

const openOrder = (accountId: number, payload: Record<string, unknown> = {}, key: string | null = newKey()) =>
  t.as('clerk')({
    method: 'POST',
    url: `/api/customers/${accountId}/gateway-orders`,
    payload,
    headers: key === null ? {} : { 'idempotency-key': key },
  });

const orderStatus = async (accountId: number, orderId: number) => {
  const res = await t.as('clerk')({
    method: 'GET',
    url: `/api/customers/${accountId}/gateway-orders/${orderId}`,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

interface Order {
  orderId: number;
  orderNo: string;
  gatewayOrderId: string;
  amountFen: number;
}

const noticeFor = (o: Order, over: Record<string, unknown> = {}) =>
  JSON.stringify({
    event: 'order.paid',
    gatewayOrderId: o.gatewayOrderId,
    orderNo: o.orderNo,
    txnId: `T${o.gatewayOrderId}`,
    amountFen: o.amountFen,
    channel: 'online',
    at: new Date().toISOString(),
    ...over,
  });

const callback = (body: string, headers: Record<string, string>) =>
  t.app.inject({ method: 'POST', url: '/api/gateway/callback', headers, payload: body });

const paymentsOf = async (accountId: number) =>
  (
    await t.pool.query<{ payment_id: number; amount_fen: number; source: string; external_ref: string }>(
      'select payment_id, amount_fen, source, external_ref from payment where account_id = $1',
      [accountId],
    )
  ).rows;

const callbacksOf = async (orderNo: string) =>
  (
    await t.pool.query<{ outcome: string; signature_ok: boolean; http_status: number }>(
      `select outcome, signature_ok, http_status from gateway_callback where raw_body like $1 order by callback_id`,
      [`%${orderNo}%`],
    )
  ).rows;

async function newOrder(amountFen: number): Promise<{ accountId: number; order: Order }> {
  const accountId = fresh();
  await insertBill(accountId, amountFen);
  const res = await openOrder(accountId);
  expect(res.statusCode, res.body).toBe(201);
  return { accountId, order: res.json() };
}

beforeAll(async () => {
  t = await createTestApp({ customers: 40 });
  const { rows } = await t.pool.query<{ account_id: string; code: string }>(
    `select c.account_id, o.code from customer c join office o on o.office_id = c.office_id
     where c.state = 'active' and o.code in ('0101', '0102') order by c.account_id`,
  );
  freeA = rows.filter((r) => r.code === '0101').map((r) => Number(r.account_id));
  accountB = Number(rows.find((r) => r.code === '0102')!.account_id);
  const s = await t.pool.query<{ value: string }>('select value from setting where key = $1', [
    SANDBOX_SECRET_SETTING,
  ]);
  secret = s.rows[0]!.value;
  expect(secret).toMatch(/^[0-9a-f]{64}$/);
}, 300_000);

afterAll(async () => {
  await t?.close();
});

afterEach(async () => {
  const { rows } = await t.pool.query<{ account_id: string }>(
    'select account_id from bill union select account_id from ledger_posting',
  );
  for (const r of rows) expect(await accountLedgerProblems(t.db, Number(r.account_id))).toEqual([]);
  expect(t.built.unaudited).toEqual([]);
});

describe('opening an order', () => {
  it('defaults to what is owed, returns the sandbox pay URL, needs an Idempotency-Key, replays on retry', async () => {
    const a = fresh();
    await insertBill(a, 8_640);
    await insertBill(a, 7_290, '2026-04-15');
    const key = newKey();
    const res = await openOrder(a, {}, key);
    expect(res.statusCode, res.body).toBe(201);
    const o = res.json();
    expect(o).toMatchObject({
      accountId: a,
      amountFen: 15_930,
      status: 'created',
      gateway: 'sandbox',
      channel: 'online',
    });
    expect(o.payUrl).toBe(`/sandbox-gateway/checkout/${o.gatewayOrderId}`);
    expect(parseGatewayOrderNo(o.orderNo)).toEqual({ accountId: a, orderId: o.orderId });
    const again = await openOrder(a, {}, key);
    expect(again.json().orderId).toBe(o.orderId);
    expect((await openOrder(a, {}, null)).statusCode).toBe(400);
    const entered = await openOrder(a, { amountFen: 5_000, channel: 'wechat' });
    expect(entered.json()).toMatchObject({ amountFen: 5_000, channel: 'wechat' });
    const audit = await t.pool.query(
      `select count(*)::int as n from audit_log where entity_type = 'gateway_order' and action = 'gateway_order_create' and account_id = $1`,
      [a],
    );
    expect(audit.rows[0].n).toBe(2);
  });

  it('refuses when nothing is owed and no amount is given, and bad amounts field by field', async () => {
    const a = fresh();
    const res = await openOrder(a);
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.code).toBe('GATEWAY_NOTHING_OWED');
    const bad = await openOrder(a, { amountFen: 12.5 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields?.[0]?.path).toBe('amountFen');
    expect((await openOrder(a, { amountFen: -1 })).statusCode).toBe(400);
  });

  it('keeps to the clerk’s offices', async () => {
    await insertBill(accountB, 1_000);
    const res = await openOrder(accountB);
    expect(res.statusCode).toBe(404);
    expect(
      (
        await t.as('clerk2')({
          method: 'POST',
          url: `/api/customers/${accountB}/gateway-orders`,
          payload: {},
          headers: { 'idempotency-key': newKey() },
        })
      ).statusCode,
    ).toBe(201);
  });
});

describe('the callback', () => {
  it('posts the payment once: settles the bill, marks the order paid', async () => {
    const { accountId, order } = await newOrder(12_345);
    const body = noticeFor(order);
    const res = await callback(body, signSandboxCallback(secret, body));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ code: 'SUCCESS', status: 'paid', orderNo: order.orderNo });
    const payments = await paymentsOf(accountId);
    expect(payments).toHaveLength(1);
    expect(payments[0]).toMatchObject({
      amount_fen: 12_345,
      source: 'gateway',
      external_ref: `T${order.gatewayOrderId}`,
    });
    const status = await orderStatus(accountId, order.orderId);
    expect(status).toMatchObject({
      status: 'paid',
      gatewayTxnId: `T${order.gatewayOrderId}`,
      paymentId: payments[0]!.payment_id,
    });
    const bills = await t.pool.query('select paid_fen from bill where account_id = $1', [accountId]);
    expect(Number(bills.rows[0].paid_fen)).toBe(12_345);
    expect((await callbacksOf(order.orderNo)).map((c) => c.outcome)).toEqual(['paid']);
  });

  it('the same callback 5 times, then 5 at once: one payment, the same answer every time', async () => {
    const { accountId, order } = await newOrder(9_900);
    const body = noticeFor(order);
    const headers = signSandboxCallback(secret, body);
    const first = await callback(body, headers);
    expect(first.statusCode, first.body).toBe(200);
    for (let i = 0; i < 4; i++) {
      const again = await callback(body, headers);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual(first.json());
    }
    const together = await Promise.all(
      Array.from({ length: 5 }, () => callback(body, signSandboxCallback(secret, body))),
    );
    for (const r of together) {
      expect(r.statusCode, r.body).toBe(200);
      expect(r.json()).toEqual(first.json());
    }
    expect(await paymentsOf(accountId)).toHaveLength(1);
    const outcomes = (await callbacksOf(order.orderNo)).map((c) => c.outcome);
    expect(outcomes).toEqual(['paid', ...Array(9).fill('replay')]);
  });

  it('five first deliveries at once post one payment', async () => {
    const { accountId, order } = await newOrder(4_200);
    const body = noticeFor(order);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => callback(body, signSandboxCallback(secret, body))),
    );
    for (const r of results) expect(r.statusCode, r.body).toBe(200);
    expect(new Set(results.map((r) => r.body)).size).toBe(1);
    expect(await paymentsOf(accountId)).toHaveLength(1);
    expect((await callbacksOf(order.orderNo)).filter((c) => c.outcome === 'paid')).toHaveLength(1);
  });

  it('a bad signature is refused, logged and audited; nothing is posted', async () => {
    const { accountId, order } = await newOrder(5_000);
    const body = noticeFor(order);
    const wrongKey = await callback(body, signSandboxCallback('0'.repeat(64), body));
    expect(wrongKey.statusCode).toBe(401);
    expect(wrongKey.json()).toMatchObject({ code: 'FAIL', reason: 'bad_signature' });
    const unsigned = await callback(body, { 'content-type': 'application/json' });
    expect(unsigned.statusCode).toBe(401);
    const stale = await callback(
      body,
      signSandboxCallback(secret, body, { timestampS: Math.floor(Date.now() / 1000) - 3600 }),
    );
    expect(stale.statusCode).toBe(401);
    // Signed, then the amount changed in transit.
    const headers = signSandboxCallback(secret, body);
    const tampered = body.replace(`"amountFen":${order.amountFen}`, '"amountFen":1');
    expect(tampered).not.toBe(body);
    const t1 = await callback(tampered, headers);
    expect(t1.statusCode).toBe(401);
    expect(await paymentsOf(accountId)).toEqual([]);
    expect((await orderStatus(accountId, order.orderId)).status).toBe('created');
    const log = await callbacksOf(order.orderNo);
    expect(log.map((c) => [c.outcome, c.signature_ok, c.http_status])).toEqual(
      Array(4).fill(['bad_signature', false, 401]),
    );
    const audited = await t.pool.query(
      `select count(*)::int as n from audit_log where action = 'gateway_callback_refused' and after->>'refusal' = 'bad_signature'`,
    );
    expect(audited.rows[0].n).toBeGreaterThanOrEqual(4);
    // The genuine notice still goes through afterwards.
    const ok = await callback(body, signSandboxCallback(secret, body));
    expect(ok.statusCode, ok.body).toBe(200);
    expect(await paymentsOf(accountId)).toHaveLength(1);
  });

  it('a signed notice whose amount differs from the order is refused and logged; nothing is posted', async () => {
    const { accountId, order } = await newOrder(6_000);
    const body = noticeFor(order, { amountFen: 1 });
    const res = await callback(body, signSandboxCallback(secret, body));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'FAIL', reason: 'amount_mismatch' });
    expect(await paymentsOf(accountId)).toEqual([]);
    expect((await callbacksOf(order.orderNo)).map((c) => c.outcome)).toEqual(['amount_mismatch']);
    const audited = await t.pool.query(
      `select count(*)::int as n from audit_log where action = 'gateway_callback_refused' and account_id = $1`,
      [accountId],
    );
    expect(audited.rows[0].n).toBe(1);
  });

  it('refuses unknown orders and a second transaction on a paid order; a closed notice fails the order', async () => {
    const { accountId, order } = await newOrder(3_000);
    const unknown = noticeFor({ ...order, orderNo: `GW${accountId}-999999999` });
    expect((await callback(unknown, signSandboxCallback(secret, unknown))).statusCode).toBe(404);
    const otherGatewayId = noticeFor({ ...order, gatewayOrderId: 'SBX000000000000000000000000' });
    expect((await callback(otherGatewayId, signSandboxCallback(secret, otherGatewayId))).statusCode).toBe(
      404,
    );
    const paid = noticeFor(order);
    expect((await callback(paid, signSandboxCallback(secret, paid))).statusCode).toBe(200);
    const second = noticeFor(order, { txnId: 'ANOTHER-TXN' });
    const res = await callback(second, signSandboxCallback(secret, second));
    expect(res.statusCode).toBe(409);
    expect(await paymentsOf(accountId)).toHaveLength(1);

    const other = await newOrder(2_000);
    const closed = noticeFor(other.order, { event: 'order.closed', txnId: null });
    const c1 = await callback(closed, signSandboxCallback(secret, closed));
    expect(c1.statusCode, c1.body).toBe(200);
    expect((await orderStatus(other.accountId, other.order.orderId)).status).toBe('failed');
    const c2 = await callback(closed, signSandboxCallback(secret, closed));
    expect(c2.json()).toEqual(c1.json());
    expect(await paymentsOf(other.accountId)).toEqual([]);
  });

  it('a malformed but correctly signed body is refused as bad_payload', async () => {
    const body = '{"event":"order.paid"}';
    const res = await callback(body, signSandboxCallback(secret, body));
    expect(res.statusCode).toBe(400);
    expect(res.json().reason).toBe('bad_payload');
    expect(SANDBOX_HEADERS.signature).toBe('x-sandbox-signature');
  });
});

describe('the sandbox checkout page', () => {
  it('shows the order in zh-CN; 确认支付 sends the signed callback and posts once; the status turns paid', async () => {
    const { accountId, order } = await newOrder(7_700);
    const pageRes = await t.app.inject({
      method: 'GET',
      url: `/sandbox-gateway/checkout/${order.gatewayOrderId}`,
    });
    expect(pageRes.statusCode).toBe(200);
    expect(pageRes.headers['content-type']).toContain('text/html');
    expect(pageRes.body).toContain('确认支付');
    expect(pageRes.body).toContain('取消');
    expect(pageRes.body).toContain('77.00');
    const pay = () =>
      t.app.inject({
        method: 'POST',
        url: `/sandbox-gateway/checkout/${order.gatewayOrderId}/pay`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: '',
      });
    const r1 = await pay();
    expect(r1.statusCode, r1.body).toBe(200);
    expect(r1.body).toContain('支付成功');
    const r2 = await pay();
    expect(r2.body).toContain('支付成功');
    expect(await paymentsOf(accountId)).toHaveLength(1);
    expect((await orderStatus(accountId, order.orderId)).status).toBe('paid');
    const after = await t.app.inject({
      method: 'GET',
      url: `/sandbox-gateway/checkout/${order.gatewayOrderId}`,
    });
    expect(after.body).toContain('该订单已支付');
    expect(
      (await t.app.inject({ method: 'GET', url: '/sandbox-gateway/checkout/SBXffffffffffffffffffffffff' }))
        .statusCode,
    ).toBe(404);
  });

  it('取消 closes the order without a payment', async () => {
    const { accountId, order } = await newOrder(1_500);
    const res = await t.app.inject({
      method: 'POST',
      url: `/sandbox-gateway/checkout/${order.gatewayOrderId}/cancel`,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body).toContain('已取消');
    expect((await orderStatus(accountId, order.orderId)).status).toBe('failed');
    expect(await paymentsOf(accountId)).toEqual([]);
  });
});
