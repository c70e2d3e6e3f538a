import { addDays, DEFAULT_SETTINGS, restoreDeadline, todayInChina } from '@meterline/domain';
import {
  type BankResultRow,
  EXAMPLE_BANK_FORMATS,
  renderResultFile,
} from '@meterline/domain/payments/bankFiles';
import iconv from 'iconv-lite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkingCalendar } from '../calendar/load.ts';
import { SANDBOX_SECRET_SETTING, signSandboxCallback } from '../payments/gateways/sandbox.ts';
import { accountLedgerProblems } from '../payments/ledger.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { multipart } from '../testing/multipart.ts';
import { completeLadder, freeCustomers, insertBill, newKey } from './escalationTesting.ts';

/**
 * Restore after every payment channel (DOMAIN.md §6 "Restore", docs/escalation.md): restore.ts
 * runs from afterAccountPaid inside every payment's transaction. A shut-off customer who pays by a
 * bank direct debit result file, or online through the gateway's callback, gets exactly one restore
 * work order with the right deadline (24 hours; a removed meter by the end of the 2nd working day);
 * importing the same file again, a second file repeating the bank reference, or the callback
 * repeated (one after another and several at once) makes no second one.
 */

let t: TestApp;
let persons: number[] = [];
let secret: string;
const RUN = Date.now().toString(36);
const ICBC = EXAMPLE_BANK_FORMATS.ICBC;

const take = () => {
  const a = persons.shift();
  if (a === undefined) throw new Error('out of test customers');
  return a;
};
const post = (user: string, url: string, payload: unknown, key?: string) =>
  t.as(user)({ method: 'POST', url, payload, headers: key ? { 'idempotency-key': key } : {} });

const restoresOf = (accountId: number) =>
  t.db
    .selectFrom('collection_work_order')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('kind', '=', 'restore')
    .execute();

/** A customer shut off through the whole process: ladder, request, approval, work order done. */
async function shutOff(accountId: number, action: 'valve_closed' | 'meter_removed') {
  await completeLadder(t, accountId);
  const req = await post(
    'manager',
    `/api/customers/${accountId}/shutoff-requests`,
    { reason: '长期欠费' },
    newKey(),
  );
  expect(req.statusCode, req.body).toBe(201);
  const approved = await post(
    'deputy',
    `/api/customers/${accountId}/shutoff-requests/${req.json().requestId}/decision`,
    { approve: true, note: '同意' },
  );
  expect(approved.statusCode, approved.body).toBe(200);
  const orderId = approved.json().orderId as number;
  const order = (
    await t.as('collector')({ method: 'GET', url: `/api/customers/${accountId}/work-orders/${orderId}` })
  ).json();
  const done = await post('collector', `/api/customers/${accountId}/work-orders/${orderId}/result`, {
    outcome: 'done',
    action,
    confirmedMeterNo: order.meterNo,
  });
  expect(done.statusCode, done.body).toBe(200);
  return orderId;
}

/** The restore deadline for a payment made at `paidAt` (domain restoreDeadline, the China calendar). */
async function expectedDue(paidAt: Date, meterRemoved: boolean): Promise<Date> {
  const today = todayInChina(paidAt);
  const calendar = await loadWorkingCalendar(t.db, today, addDays(today, 60));
  return restoreDeadline(paidAt, meterRemoved, calendar, DEFAULT_SETTINGS);
}

async function expectOneRestore(
  accountId: number,
  shutoffOrderId: number,
  window: { before: number; after: number },
  meterRemoved: boolean,
) {
  const restores = await restoresOf(accountId);
  expect(restores).toHaveLength(1);
  const r = restores[0]!;
  expect(r).toMatchObject({ status: 'dispatched', cause: 'payment', restores_order_id: shutoffOrderId });
  expect(r.dispatched_at.getTime()).toBeGreaterThanOrEqual(window.before - 1000);
  expect(r.dispatched_at.getTime()).toBeLessThanOrEqual(window.after + 1000);
  // The deadline is the rule's, from the moment the order went out.
  expect(r.due_at!.toISOString()).toBe((await expectedDue(r.dispatched_at, meterRemoved)).toISOString());
  if (!meterRemoved)
    expect((r.due_at!.getTime() - r.dispatched_at.getTime()) / 3_600_000).toBe(
      DEFAULT_SETTINGS['shutoff.restoreHours'],
    );
  // Audited once, as the order's dispatch.
  const audits = await t.pool.query(
    `select count(*)::int as n from audit_log where account_id = $1 and action = 'dispatch_restore'`,
    [accountId],
  );
  expect(audits.rows[0].n).toBe(1);
  return r;
}

// ---------------------------------------------------------------- bank direct debit

const resultFile = (batchNo: string, rows: BankResultRow[]) =>
  iconv.encode(renderResultFile(ICBC, { bankCode: 'ICBC', fileDate: '20261124', batchNo }, rows), 'gbk');

const upload = (content: Buffer, name: string) => {
  const body = multipart({}, { name, type: 'text/plain', content });
  return t.as('finance')({
    method: 'POST',
    url: '/api/bank-files/imports?bankCode=ICBC',
    payload: body.payload,
    headers: body.headers,
  });
};

async function customerCode(accountId: number): Promise<string> {
  return (
    await t.db
      .selectFrom('customer')
      .select('customer_code')
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow()
  ).customer_code;
}

const debited = (code: string, amountFen: number, ref: string): BankResultRow => ({
  accountRef: code,
  bankAccountNo: '6222020200000000001',
  holderName: '王伟',
  amountFen,
  bankTxnRef: ref,
  resultCode: '0000',
  reason: '',
});

// ---------------------------------------------------------------- online payment

interface Order {
  orderId: number;
  orderNo: string;
  gatewayOrderId: string;
  amountFen: number;
}

const paidNotice = (o: Order) =>
  JSON.stringify({
    event: 'order.paid',
    gatewayOrderId: o.gatewayOrderId,
    orderNo: o.orderNo,
    txnId: `T${o.gatewayOrderId}`,
    amountFen: o.amountFen,
    channel: 'online',
    at: new Date().toISOString(),
  });

const callback = (body: string) =>
  t.app.inject({
    method: 'POST',
    url: '/api/gateway/callback',
    headers: signSandboxCallback(secret, body),
    payload: body,
  });

beforeAll(async () => {
  t = await createTestApp({ customers: 200, metering: true });
  persons = await freeCustomers(t, 'water', 'person');
  expect(persons.length).toBeGreaterThanOrEqual(4);
  const s = await t.pool.query<{ value: string }>('select value from setting where key = $1', [
    SANDBOX_SECRET_SETTING,
  ]);
  secret = s.rows[0]!.value;
}, 300_000);

afterAll(async () => {
  await t?.close();
});

describe('restore after a bank direct debit result file', () => {
  it('one restore order due in 24 h; the same file again, or another file repeating the reference, adds none', async () => {
    const a = take();
    await insertBill(t, a, 8_000, 70);
    await insertBill(t, a, 3_000, 40);
    const shutoff = await shutOff(a, 'valve_closed');
    const code = await customerCode(a);

    // A debit covering part of the arrears restores nothing.
    const partial = await upload(
      resultFile(`${RUN.slice(-6)}01`, [debited(code, 5_000, `R${RUN}-1`)]),
      'p.txt',
    );
    expect(partial.statusCode, partial.body).toBe(201);
    expect(partial.json().counts).toMatchObject({ posted: 1 });
    expect(await restoresOf(a)).toHaveLength(0);

    const before = Date.now();
    const file = resultFile(`${RUN.slice(-6)}02`, [debited(code, 6_000, `R${RUN}-2`)]);
    const res = await upload(file, '工行回盘.txt');
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ status: 'done', counts: { posted: 1, error: 0 } });
    const r = await expectOneRestore(a, shutoff, { before, after: Date.now() }, false);
    expect(r.order_no).toMatch(/^FS\d{4}-\d{6}$/);

    // The byte-identical file again: its first report, nothing posted, no second order.
    const again = await upload(file, 'again.txt');
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json().duplicateOf).toMatchObject({ fileId: res.json().fileId });
    // Another file repeating the bank reference: a duplicate line, no second order.
    const repeat = await upload(
      resultFile(`${RUN.slice(-6)}03`, [debited(code, 6_000, `R${RUN}-2`)]),
      'r.txt',
    );
    expect(repeat.statusCode, repeat.body).toBe(201);
    expect(repeat.json().counts).toMatchObject({ posted: 0, duplicate: 1 });
    const payments = await t.pool.query('select count(*)::int as n from payment where account_id = $1', [a]);
    expect(payments.rows[0].n).toBe(2);
    expect(await restoresOf(a)).toHaveLength(1);
    expect(await accountLedgerProblems(t.db, a)).toEqual([]);
  });

  it('a removed meter: due by the end of the 2nd working day', async () => {
    const a = take();
    await insertBill(t, a, 7_500, 70);
    const shutoff = await shutOff(a, 'meter_removed');
    const before = Date.now();
    const res = await upload(
      resultFile(`${RUN.slice(-6)}04`, [debited(await customerCode(a), 7_500, `R${RUN}-4`)]),
      'm.txt',
    );
    expect(res.statusCode, res.body).toBe(201);
    const r = await expectOneRestore(a, shutoff, { before, after: Date.now() }, true);
    expect(r.due_at!.toISOString()).toMatch(/T16:00:00.000Z$/);
  });
});

describe('restore after an online payment callback', () => {
  it('one restore order; the callback repeated, then five at once, adds none', async () => {
    const a = take();
    await insertBill(t, a, 8_000, 70);
    await insertBill(t, a, 3_000, 40);
    const shutoff = await shutOff(a, 'valve_closed');
    const opened = await post('clerk', `/api/customers/${a}/gateway-orders`, {}, newKey());
    expect(opened.statusCode, opened.body).toBe(201);
    const order = opened.json() as Order;
    expect(order.amountFen).toBe(11_000);

    const before = Date.now();
    const body = paidNotice(order);
    const first = await callback(body);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ code: 'SUCCESS', status: 'paid' });
    await expectOneRestore(a, shutoff, { before, after: Date.now() }, false);

    for (let i = 0; i < 3; i++) expect((await callback(body)).statusCode).toBe(200);
    const together = await Promise.all(Array.from({ length: 5 }, () => callback(body)));
    for (const r of together) expect(r.statusCode, r.body).toBe(200);
    const payments = await t.pool.query('select count(*)::int as n from payment where account_id = $1', [a]);
    expect(payments.rows[0].n).toBe(1);
    expect(await restoresOf(a)).toHaveLength(1);
    expect(await accountLedgerProblems(t.db, a)).toEqual([]);
  });

  it('a removed meter paid online: due by the end of the 2nd working day', async () => {
    const a = take();
    await insertBill(t, a, 6_000, 70);
    const shutoff = await shutOff(a, 'meter_removed');
    const opened = await post('clerk', `/api/customers/${a}/gateway-orders`, {}, newKey());
    expect(opened.statusCode, opened.body).toBe(201);
    const before = Date.now();
    const res = await callback(paidNotice(opened.json()));
    expect(res.statusCode, res.body).toBe(200);
    await expectOneRestore(a, shutoff, { before, after: Date.now() }, true);
  });
});
