import { todayInChina } from '@meterline/domain';
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { billAcceptedReadings } from '../billing/engine.ts';
import type { RequestContext } from '../platform/context.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { accountLedgerProblems } from './ledger.ts';

/**
 * Payments through the HTTP API on real PostgreSQL (DOMAIN.md §5, docs/payments.md): allocation
 * oldest-first with the late fee first, credit, idempotent retries, limits, the 80 mm slip, the
 * slip-for-invoice exchange, reversals, refunds, deposits, the cashier close, the daily report,
 * office scope, audit, cancel-and-rebill of a paid bill, and a property test over random sequences.
 * After every test the ledger check of every account with a bill or a posting is empty.
 */

let t: TestApp;
/** Active customers of office 0101 without bills, handed out one per test (fresh). */
let freeA: number[] = [];
let accountB: number;
let billSeq = 0;
let keySeq = 0;
const TODAY = todayInChina();
const RUN = Date.now().toString(36);

const ctx = (): RequestContext => ({
  caller: null,
  lang: 'zh-CN',
  requestId: 'payments-test',
  ip: '127.0.0.1',
  audited: 0,
});

const fresh = (): number => {
  const a = freeA.shift();
  if (a === undefined) throw new Error('out of test customers');
  return a;
};
const newKey = () => `pt-${RUN}-${++keySeq}`;

/** A bill inserted directly (with one charge line so the account_ledger view balances). */
async function insertBill(accountId: number, amountFen: number, dueOn: string): Promise<number> {
  billSeq += 1;
  const period = dueOn.slice(0, 7);
  const row = await t.db
    .insertInto('bill')
    .values({
      account_id: accountId,
      bill_no: `${period.replace('-', '')}-T${String(billSeq).padStart(7, '0')}`,
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

async function insertLateFee(accountId: number, billId: number, principalFen: number, feeFen: number) {
  await t.pool.query(
    `insert into late_fee (account_id, bill_id, principal_fen, due_on, rate_per_day, grace_days, days,
       accrued_fen, accrued_through)
     select account_id, bill_id, $3, due_on, 0.003, 15, 30, $4, current_date from bill
     where account_id = $1 and bill_id = $2`,
    [accountId, billId, principalFen, feeFen],
  );
}

const pay = (
  user: string,
  accountId: number,
  payload: Record<string, unknown>,
  key: string | null = newKey(),
): Promise<LightMyRequestResponse> =>
  t.as(user)({
    method: 'POST',
    url: `/api/customers/${accountId}/payments`,
    payload: { channel: 'cash', ...payload },
    headers: key === null ? {} : { 'idempotency-key': key },
  });

const ask = (user: string, accountId: number, payload: Record<string, unknown>) =>
  t.as(user)({ method: 'POST', url: `/api/customers/${accountId}/payment-requests`, payload });

const decide = (user: string, accountId: number, requestId: number, approve = true) =>
  t.as(user)({
    method: 'POST',
    url: `/api/customers/${accountId}/payment-requests/${requestId}/decision`,
    payload: { approve, note: 'ok' },
  });

const position = async (accountId: number, user = 'clerk') => {
  const res = await t.as(user)({ method: 'GET', url: `/api/customers/${accountId}/account` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

const billRow = async (accountId: number, billId: number) =>
  (
    await t.pool.query<{ paid_fen: string; amount_fen: string; status: string }>(
      'select paid_fen, amount_fen, status from bill where account_id = $1 and bill_id = $2',
      [accountId, billId],
    )
  ).rows[0]!;

const paidOf = async (accountId: number, billId: number) =>
  Number((await billRow(accountId, billId)).paid_fen);

async function ledgerProblemsEverywhere() {
  const { rows } = await t.pool.query<{ account_id: string }>(
    `select account_id from bill union select account_id from ledger_posting`,
  );
  const out: unknown[] = [];
  for (const r of rows) {
    const p = await accountLedgerProblems(t.db, Number(r.account_id));
    if (p.length) out.push({ accountId: r.account_id, problems: p });
  }
  return out;
}

beforeAll(async () => {
  t = await createTestApp({ customers: 80, metering: true });
  const { rows } = await t.pool.query<{ account_id: string; code: string }>(
    `select c.account_id, o.code from customer c join office o on o.office_id = c.office_id
     where c.state = 'active' and o.code in ('0101', '0102') order by c.account_id`,
  );
  freeA = rows.filter((r) => r.code === '0101').map((r) => Number(r.account_id));
  accountB = Number(rows.find((r) => r.code === '0102')!.account_id);
  expect(freeA.length).toBeGreaterThan(30);
}, 300_000);

afterAll(async () => {
  await t?.close();
});

afterEach(async () => {
  expect(await ledgerProblemsEverywhere()).toEqual([]);
});

describe('taking a payment at the counter', () => {
  it('allocates oldest-first with the late fee first, overpayment to credit, credit used at the next payment', async () => {
    const a = fresh();
    const b2 = await insertBill(a, 7_290, '2026-03-15');
    const b1 = await insertBill(a, 8_640, '2026-02-15');
    await insertLateFee(a, b1, 8_640, 648);
    // Partial: the late fee of the oldest bill first, then its principal.
    const r1 = await pay('clerk', a, { amountFen: 5_000 });
    expect(r1.statusCode, r1.body).toBe(201);
    expect(r1.json()).toMatchObject({
      amountFen: 5_000,
      status: 'posted',
      creditFen: 0,
      allocations: [{ billId: b1, principalFen: 4_352, lateFeeFen: 648 }],
    });
    expect(r1.json().receipts).toMatchObject([{ kind: 'slip', status: 'issued' }]);
    expect(r1.json().receipts[0].receiptNo).toMatch(/^SJ\d{4}-\d{8}$/);
    // The rest and more: b1 settled, b2 settled, 10 yuan credit.
    const r2 = await pay('clerk', a, { amountFen: 4_288 + 7_290 + 1_000 });
    expect(r2.statusCode, r2.body).toBe(201);
    expect(r2.json().allocations).toEqual([
      expect.objectContaining({ billId: b1, principalFen: 4_288, lateFeeFen: 0 }),
      expect.objectContaining({ billId: b2, principalFen: 7_290, lateFeeFen: 0 }),
    ]);
    expect(r2.json().creditFen).toBe(1_000);
    expect(await paidOf(a, b1)).toBe(8_640);
    expect(await paidOf(a, b2)).toBe(7_290);
    let pos = await position(a);
    expect(pos).toMatchObject({ creditFen: 1_000, principalFen: 0, lateFeeFen: 0, dueFen: 0, openBills: [] });
    // A later bill: the next payment settles part, the credit the rest.
    const b3 = await insertBill(a, 3_000, '2026-04-15');
    expect((await position(a)).dueFen).toBe(2_000);
    const r3 = await pay('clerk', a, { amountFen: 500 });
    expect(r3.statusCode, r3.body).toBe(201);
    expect(r3.json()).toMatchObject({
      allocations: [{ billId: b3, principalFen: 500 }],
      creditFen: 0,
      creditAppliedFen: 1_000,
    });
    expect(await paidOf(a, b3)).toBe(1_500);
    pos = await position(a);
    expect(pos).toMatchObject({ creditFen: 0, principalFen: 1_500, dueFen: 1_500 });
  });

  it('settles the principal before the late fee when payment.lateFeesFirst is 0', async () => {
    const a = fresh();
    const b1 = await insertBill(a, 8_640, '2026-02-15');
    await insertLateFee(a, b1, 8_640, 648);
    await t.pool.query(
      `insert into setting (key, effective_from, value) values ('payment.lateFeesFirst', $1, '0')`,
      [TODAY],
    );
    try {
      const r = await pay('clerk', a, { amountFen: 5_000 });
      expect(r.statusCode, r.body).toBe(201);
      expect(r.json().allocations).toEqual([
        expect.objectContaining({ billId: b1, principalFen: 5_000, lateFeeFen: 0 }),
      ]);
    } finally {
      await t.pool.query(`delete from setting where key = 'payment.lateFeesFirst' and effective_from = $1`, [
        TODAY,
      ]);
    }
    const r = await pay('clerk', a, { amountFen: 4_288 });
    expect(r.json().allocations).toEqual([
      expect.objectContaining({ billId: b1, principalFen: 3_640, lateFeeFen: 648 }),
    ]);
  });

  it('a retry with the same Idempotency-Key returns the first payment; another amount is refused; no key is a field error', async () => {
    const a = fresh();
    await insertBill(a, 10_000, '2026-02-15');
    const key = newKey();
    const first = await pay('clerk', a, { amountFen: 3_000 }, key);
    expect(first.statusCode, first.body).toBe(201);
    const again = await pay('clerk', a, { amountFen: 3_000 }, key);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replay']).toBe('true');
    expect(again.json().paymentId).toBe(first.json().paymentId);
    const other = await pay('clerk', a, { amountFen: 3_001 }, key);
    expect(other.statusCode).toBe(422);
    expect(other.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const none = await pay('clerk', a, { amountFen: 3_000 }, null);
    expect(none.statusCode).toBe(400);
    expect(none.json().error.fields).toEqual([
      expect.objectContaining({ path: 'Idempotency-Key', code: 'REQUIRED' }),
    ]);
    const { rows } = await t.pool.query('select count(*)::int as n from payment where account_id = $1', [a]);
    expect(rows[0].n).toBe(1);
    expect((await position(a)).principalFen).toBe(7_000);
  });

  it('asks for confirmation above payment.confirmAboveFen, refuses above payment.maxFen and bad amounts', async () => {
    const a = fresh();
    await insertBill(a, 2_000_000, '2026-02-15');
    const big = 1_000_001;
    const key = newKey();
    const asked = await pay('clerk', a, { amountFen: big }, key);
    expect(asked.statusCode).toBe(409);
    expect(asked.json().error.code).toBe('PAYMENT_NEEDS_CONFIRMATION');
    const ok = await pay('clerk', a, { amountFen: big, confirmed: true }, newKey());
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().confirmedBy).toBe('王丽');
    const tooBig = await pay('clerk', a, { amountFen: 100_000_001, confirmed: true });
    expect(tooBig.statusCode).toBe(400);
    expect(tooBig.json().error.fields).toEqual([
      expect.objectContaining({ path: 'amountFen', code: 'AMOUNT_ABOVE_MAX' }),
    ]);
    for (const amountFen of [0, -1, 1.5]) {
      const bad = await pay('clerk', a, { amountFen });
      expect(bad.statusCode, `${amountFen}`).toBe(400);
      const field = bad.json().error.fields[0];
      expect(field.path).toBe('amountFen');
      expect(field.message).toBeTruthy();
      const en = await t.as('clerk')({
        method: 'POST',
        url: `/api/customers/${a}/payments`,
        payload: { channel: 'cash', amountFen },
        headers: { 'idempotency-key': newKey(), 'accept-language': 'en' },
      });
      expect(en.json().error.fields[0].path).toBe('amountFen');
    }
    const { rows } = await t.pool.query('select count(*)::int as n from payment where account_id = $1', [a]);
    expect(rows[0].n).toBe(1);
  });

  it('prints the slip on 80 mm paper', async () => {
    const a = fresh();
    await insertBill(a, 5_000, '2026-02-15');
    const p = (await pay('clerk', a, { amountFen: 5_000 })).json();
    const res = await t.as('clerk')({
      method: 'GET',
      url: `/api/customers/${a}/receipts/${p.receipts[0].receiptId}/pdf`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/pdf');
    const box = /\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/.exec(res.rawPayload.toString('latin1'));
    expect(box).not.toBeNull();
    expect(Number(box![1])).toBeCloseTo((80 / 25.4) * 72, 1);
  });
});

describe('receipts', () => {
  it('exchanges a slip for an invoice once; a concurrent double exchange gives one 201 and one 409', async () => {
    const a = fresh();
    await insertBill(a, 9_000, '2026-02-15');
    const p1 = (await pay('clerk', a, { amountFen: 4_000 })).json();
    const p2 = (await pay('clerk', a, { amountFen: 5_000 })).json();
    const exchange = (receiptId: number) =>
      t.as('clerk')({
        method: 'POST',
        url: `/api/customers/${a}/receipts/${receiptId}/exchange`,
        payload: { kind: 'invoice' },
      });
    const slip1 = p1.receipts[0].receiptId;
    const ex = await exchange(slip1);
    expect(ex.statusCode, ex.body).toBe(201);
    expect(ex.json().invoiceNo).toMatch(/^FP\d{4}-\d{8}$/);
    const twice = await exchange(slip1);
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('RECEIPT_NOT_EXCHANGEABLE');
    // The invoice itself is not a slip.
    expect((await exchange(ex.json().invoiceId)).statusCode).toBe(409);
    const view = (
      await t.as('clerk')({ method: 'GET', url: `/api/customers/${a}/payments/${p1.paymentId}` })
    ).json();
    expect(view.receipts.map((r: { kind: string; status: string }) => [r.kind, r.status])).toEqual([
      ['slip', 'taken_back'],
      ['invoice', 'issued'],
    ]);
    const both = await Promise.all([exchange(p2.receipts[0].receiptId), exchange(p2.receipts[0].receiptId)]);
    expect(both.map((r) => r.statusCode).sort()).toEqual([201, 409]);
    const { rows } = await t.pool.query(
      'select count(*)::int as n from receipt where account_id = $1 and replaces_receipt_id = $2',
      [a, p2.receipts[0].receiptId],
    );
    expect(rows[0].n).toBe(1);
  });
});

describe('reversals and refunds', () => {
  it('a reversal is approved by another person: the bills owe again, receipts voided, never twice', async () => {
    const a = fresh();
    const b1 = await insertBill(a, 6_000, '2026-02-15');
    const p = (await pay('clerk', a, { amountFen: 7_000 })).json();
    expect(p.creditFen).toBe(1_000);
    expect(
      (await ask('clerk', a, { kind: 'reversal', paymentId: p.paymentId, reason: '  ' })).statusCode,
    ).toBe(400);
    const own = await ask('manager', a, { kind: 'reversal', paymentId: p.paymentId, reason: '金额录错' });
    expect(own.statusCode, own.body).toBe(201);
    const self = await decide('manager', a, own.json().requestId);
    expect(self.statusCode).toBe(403);
    expect(self.json().error.code).toBe('SELF_APPROVAL');
    // The clerk may ask but not approve.
    expect((await decide('clerk', a, own.json().requestId)).statusCode).toBe(403);
    const dup = await ask('clerk', a, { kind: 'reversal', paymentId: p.paymentId, reason: '重复' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.code).toBe('REQUEST_PENDING');
    const ok = await decide('deputy', a, own.json().requestId);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'approved', decidedBy: '孙卫东' });
    expect(await paidOf(a, b1)).toBe(0);
    const pos = await position(a);
    expect(pos).toMatchObject({ principalFen: 6_000, creditFen: 0 });
    const view = (
      await t.as('clerk')({ method: 'GET', url: `/api/customers/${a}/payments/${p.paymentId}` })
    ).json();
    expect(view.status).toBe('reversed');
    expect(view.receipts.every((r: { status: string }) => r.status === 'voided')).toBe(true);
    const again = await ask('clerk', a, { kind: 'reversal', paymentId: p.paymentId, reason: '再冲' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('PAYMENT_ALREADY_REVERSED');
    expect((await decide('deputy', a, own.json().requestId)).json().error.code).toBe('REQUEST_NOT_PENDING');
  });

  it('reversing a payment whose credit settled a later bill takes that settlement back too', async () => {
    const a = fresh();
    await insertBill(a, 1_000, '2026-02-15');
    const p = (await pay('clerk', a, { amountFen: 3_000 })).json();
    const b2 = await insertBill(a, 1_500, '2026-03-15');
    const p2 = (await pay('clerk', a, { amountFen: 100 })).json();
    expect(p2.creditAppliedFen).toBe(1_400);
    expect(await paidOf(a, b2)).toBe(1_500);
    // The first payment's credit is used: it cannot be reversed; the second one can.
    const refused = await ask('clerk', a, { kind: 'reversal', paymentId: p.paymentId, reason: '错收' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('PAYMENT_CREDIT_USED');
    const r = await ask('clerk', a, { kind: 'reversal', paymentId: p2.paymentId, reason: '错收' });
    expect(r.statusCode, r.body).toBe(201);
    expect((await decide('manager', a, r.json().requestId)).statusCode).toBe(200);
    expect(await paidOf(a, b2)).toBe(0);
    expect((await position(a)).creditFen).toBe(2_000);
  });

  it('refunds credit with approval, never more than the credit', async () => {
    const a = fresh();
    await insertBill(a, 1_000, '2026-02-15');
    await pay('clerk', a, { amountFen: 4_000 });
    const tooMuch = await ask('clerk', a, { kind: 'refund', amountFen: 3_001, reason: '退预存' });
    expect(tooMuch.statusCode).toBe(400);
    expect(tooMuch.json().error.fields[0]).toMatchObject({ path: 'amountFen', code: 'ABOVE_CREDIT' });
    const r = await ask('clerk', a, {
      kind: 'refund',
      amountFen: 2_000,
      channel: 'bank_transfer',
      reason: '退预存',
    });
    expect(r.statusCode, r.body).toBe(201);
    expect((await position(a)).creditFen).toBe(3_000); // nothing posted until approved
    const rej = await ask('clerk', a, { kind: 'refund', reason: '全退' });
    expect(rej.statusCode).toBe(409); // one pending refund at a time
    const ok = await decide('manager', a, r.json().requestId);
    expect(ok.statusCode, ok.body).toBe(200);
    expect((await position(a)).creditFen).toBe(1_000);
    const rest = await ask('clerk', a, { kind: 'refund', reason: '全退' });
    expect(rest.json().amountFen).toBe(1_000);
    expect((await decide('manager', a, rest.json().requestId, false)).json().status).toBe('rejected');
    expect((await position(a)).creditFen).toBe(1_000);
  });
});

describe('deposits', () => {
  const takeDeposit = async (a: number, depositKind: string, amountFen: number) => {
    const r = await pay('clerk', a, { amountFen, purpose: 'deposit', depositKind });
    expect(r.statusCode, r.body).toBe(201);
    const pos = await position(a);
    return { payment: r.json(), deposit: pos.deposits.at(-1), pos };
  };

  it('a household deposit is held, not refunded before supply, refunded once billed (with approval)', async () => {
    const a = fresh();
    const { deposit, pos, payment } = await takeDeposit(a, 'household', 5_000);
    expect(payment.allocations).toEqual([]);
    expect(pos).toMatchObject({ depositFen: 5_000, creditFen: 0 });
    expect(deposit).toMatchObject({ kind: 'household', amountFen: 5_000, status: 'held' });
    const early = await ask('clerk', a, {
      kind: 'deposit_refund',
      depositId: deposit.depositId,
      reason: '退押金',
    });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('DEPOSIT_NOT_REFUNDABLE');
    await insertBill(a, 3_000, '2026-02-15');
    const r = await ask('clerk', a, {
      kind: 'deposit_refund',
      depositId: deposit.depositId,
      reason: '退押金',
    });
    expect(r.statusCode, r.body).toBe(201);
    expect((await decide('manager', a, r.json().requestId)).statusCode).toBe(200);
    const after = await position(a);
    expect(after.depositFen).toBe(0);
    expect(after.deposits[0].status).toBe('refunded');
    expect(after.principalFen).toBe(3_000);
    const twice = await ask('clerk', a, {
      kind: 'deposit_apply',
      depositId: deposit.depositId,
      reason: '抵扣',
    });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('DEPOSIT_NOT_HELD');
  });

  it('a large user is not refunded within the year; a developer with arrears is not; either may apply it to the arrears', async () => {
    const a = fresh();
    const b1 = await insertBill(a, 4_000, '2026-02-15');
    const large = (await takeDeposit(a, 'large_user', 3_000)).deposit;
    const refused = await ask('clerk', a, {
      kind: 'deposit_refund',
      depositId: large.depositId,
      reason: '退',
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('DEPOSIT_NOT_REFUNDABLE');
    const dev = (await takeDeposit(a, 'developer', 2_000)).deposit;
    const arrears = await ask('clerk', a, { kind: 'deposit_refund', depositId: dev.depositId, reason: '退' });
    expect(arrears.statusCode).toBe(409);
    const apply = await ask('clerk', a, {
      kind: 'deposit_apply',
      depositId: large.depositId,
      reason: '抵扣欠费',
    });
    expect(apply.statusCode, apply.body).toBe(201);
    expect((await decide('manager', a, apply.json().requestId)).statusCode).toBe(200);
    expect(await paidOf(a, b1)).toBe(3_000);
    // The developer's deposit covers the rest; what is left over becomes credit.
    const apply2 = await ask('clerk', a, {
      kind: 'deposit_apply',
      depositId: dev.depositId,
      reason: '抵扣欠费',
    });
    expect((await decide('manager', a, apply2.json().requestId)).statusCode).toBe(200);
    expect(await paidOf(a, b1)).toBe(4_000);
    const pos = await position(a);
    expect(pos).toMatchObject({ depositFen: 0, principalFen: 0, creditFen: 1_000 });
    expect(pos.deposits.map((d: { status: string }) => d.status)).toEqual(['applied', 'applied']);
  });
});

describe('the cashier close and the daily report', () => {
  it('closes the day once: a difference needs a reason, a handover a voucher; the next close starts empty', async () => {
    const a = fresh();
    await insertBill(a, 20_000, '2026-02-15');
    // The manager's own payments (the clerk's are spread over the other tests).
    await pay('manager', a, { amountFen: 1_000 });
    await pay('manager', a, { amountFen: 2_500, channel: 'bank_card' });
    const reversed = (await pay('manager', a, { amountFen: 700 })).json();
    const rq = await ask('clerk', a, { kind: 'reversal', paymentId: reversed.paymentId, reason: '错收' });
    expect((await decide('deputy', a, rq.json().requestId)).statusCode).toBe(200);
    const preview = await t.as('manager')({ method: 'GET', url: '/api/cashier/close?countedCashFen=990' });
    expect(preview.statusCode, preview.body).toBe(200);
    expect(preview.json()).toMatchObject({
      payments: 2,
      systemTotalFen: 3_500,
      systemCashFen: 1_000,
      byChannelFen: { cash: 1_000, bank_card: 2_500 },
      differenceFen: -10,
    });
    expect(preview.json().list).toHaveLength(3);
    const close = (body: Record<string, unknown>) =>
      t.as('manager')({ method: 'POST', url: '/api/cashier/close', payload: body });
    const noReason = await close({ countedCashFen: 990, handedOverFen: 990 });
    expect(noReason.statusCode).toBe(400);
    expect(
      noReason
        .json()
        .error.fields.map((f: { path: string }) => f.path)
        .sort(),
    ).toEqual(['bankVoucherNo', 'differenceReason']);
    const done = await close({
      countedCashFen: 990,
      handedOverFen: 990,
      bankVoucherNo: 'JK20261123-01',
      differenceReason: '找零差一角',
    });
    expect(done.statusCode, done.body).toBe(201);
    expect(done.json()).toMatchObject({
      payments: 2,
      systemCashFen: 1_000,
      countedCashFen: 990,
      differenceFen: -10,
      differenceReason: '找零差一角',
      bankVoucherNo: 'JK20261123-01',
      handedOverFen: 990,
    });
    const { rows } = await t.pool.query(
      'select count(*)::int as n from payment where account_id = $1 and close_id = $2',
      [a, done.json().closeId],
    );
    expect(rows[0].n).toBe(3);
    const again = await close({ countedCashFen: 0 });
    expect(again.statusCode).toBe(400);
    expect(again.json().error.fields[0].code).toBe('NOTHING_TO_CLOSE');
    const empty = (await t.as('manager')({ method: 'GET', url: '/api/cashier/close' })).json();
    expect(empty).toMatchObject({ payments: 0, systemTotalFen: 0, list: [] });
    await pay('manager', a, { amountFen: 300 });
    const next = (
      await t.as('manager')({ method: 'GET', url: '/api/cashier/close?countedCashFen=300' })
    ).json();
    expect(next).toMatchObject({ payments: 1, systemCashFen: 300, differenceFen: 0 });
    const balanced = await close({ countedCashFen: 300 });
    expect(balanced.statusCode, balanced.body).toBe(201);
    expect(balanced.json().differenceReason).toBe('');
  });

  it('the daily report sums standing payments by day and channel', async () => {
    const res = await t.as('manager')({
      method: 'GET',
      url: `/api/payments/report?from=${TODAY}&to=${TODAY}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json();
    const { rows } = await t.pool.query<{ channel: string; status: string; fen: string; n: number }>(
      `select p.channel, p.status, sum(p.amount_fen)::text as fen, count(*)::int as n from payment p
       join office o on o.office_id = p.office_id where o.code = '0101' and p.business_day = $1
       group by 1, 2`,
      [TODAY],
    );
    const standing = rows.filter((r) => r.status === 'posted');
    const total = standing.reduce((s, r) => s + Number(r.fen), 0);
    expect(total).toBeGreaterThan(0);
    expect(report.totals.totalFen).toBe(total);
    expect(report.totals.payments).toBe(standing.reduce((s, r) => s + r.n, 0));
    expect(report.totals.reversedFen).toBe(
      rows.filter((r) => r.status === 'reversed').reduce((s, r) => s + Number(r.fen), 0),
    );
    for (const r of standing) expect(report.totals.byChannelFen[r.channel]).toBe(Number(r.fen));
    expect(report.days).toHaveLength(1);
    expect(report.days[0].totalFen).toBe(total);
    expect(report.closes.length).toBeGreaterThanOrEqual(2);
  });
});

describe('access', () => {
  it('keeps offices apart and readers out; every mutation is audited', async () => {
    const a = fresh();
    await insertBill(a, 1_000, '2026-02-15');
    const other = await pay('clerk2', a, { amountFen: 1_000 });
    expect(other.statusCode).toBe(404);
    expect((await t.as('clerk2')({ method: 'GET', url: `/api/customers/${a}/account` })).statusCode).toBe(
      404,
    );
    const reader = await pay('reader', a, { amountFen: 1_000 });
    expect(reader.statusCode).toBe(403);
    const inB = await pay('clerk2', accountB, { amountFen: 1_000 });
    expect(inB.statusCode, inB.body).toBe(201);
    const { rows } = await t.pool.query('select count(*)::int as n from payment where account_id = $1', [a]);
    expect(rows[0].n).toBe(0);

    const audit = await t.pool.query<{ action: string; n: number }>(
      'select action, count(*)::int as n from audit_log group by action',
    );
    const actions = new Map(audit.rows.map((r) => [r.action, r.n]));
    for (const action of [
      'payment_take',
      'credit_apply',
      'receipt_exchange',
      'request_reversal',
      'approve_reversal',
      'request_refund',
      'approve_refund',
      'reject_refund',
      'request_deposit_refund',
      'approve_deposit_refund',
      'request_deposit_apply',
      'approve_deposit_apply',
      'cashier_close',
    ])
      expect(actions.get(action), action).toBeGreaterThan(0);
    // One audit entry per payment: replays and refused payments leave none.
    const payments = await t.pool.query('select count(*)::int as n from payment');
    expect(actions.get('payment_take')).toBe(payments.rows[0].n);
  });
});

describe('cancel-and-rebill of a paid bill', () => {
  it('moves what was paid to credit, which settles the new bill', async () => {
    const { rows } = await t.pool.query<{ account_id: number; reading_id: number }>(
      `select r.account_id::int, r.reading_id::int from reading r
       join customer c on c.account_id = r.account_id
       join office o on o.office_id = c.office_id and o.code = '0101'
       join meter m on m.account_id = r.account_id and m.meter_id = r.meter_id and m.role <> 'master'
       join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
       where r.status = 'accepted' and r.consumption_m3 > 2 and r.kind = 'actual' and sp.usage_type_code = 'W_RES'
         and c.state = 'active' and (select count(*) from meter m2 where m2.account_id = r.account_id) = 1
         and not exists (select 1 from bill b where b.account_id = r.account_id)
       order by r.account_id, r.read_at desc`,
    );
    expect(rows.length).toBeGreaterThan(0);
    const a = rows[0]!.account_id;
    freeA = freeA.filter((x) => x !== a);
    await t.db.transaction().execute((trx) =>
      billAcceptedReadings(
        trx,
        ctx(),
        rows.filter((r) => r.account_id === a).map((r) => ({ accountId: a, readingId: r.reading_id })),
      ),
    );
    const bills = (
      await t.pool.query<{ bill_id: number; amount_fen: number }>(
        `select bill_id::int, amount_fen::int from bill where account_id = $1 and status = 'open'
         order by period_to desc, bill_id desc`,
        [a],
      )
    ).rows;
    expect(bills.length).toBeGreaterThan(0);
    const total = bills.reduce((s, b) => s + b.amount_fen, 0);
    const p = await pay('clerk', a, { amountFen: total });
    expect(p.statusCode, p.body).toBe(201);
    expect(p.json().creditFen).toBe(0);
    const target = bills[0]!;
    // The customer turns out to be low-income: the last bill is cancelled and billed again, lower.
    await t.pool.query(
      `update customer set low_income = true, low_income_reduction_m3 = 2, low_income_valid_until = null
       where account_id = $1`,
      [a],
    );
    const asked = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${a}/bills/${target.bill_id}/corrections`,
      payload: { reason: '低保户未减免' },
    });
    expect(asked.statusCode, asked.body).toBe(201);
    const decided = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${a}/bill-corrections/${asked.json().correctionId}/decide`,
      payload: { approve: true, note: '同意' },
    });
    expect(decided.statusCode, decided.body).toBe(200);
    const newIds: number[] = decided.json().newBillIds;
    expect(decided.json().cancelledBillIds).toContain(target.bill_id);
    expect(newIds.length).toBeGreaterThan(0);
    expect((await billRow(a, target.bill_id)).status).toBe('cancelled');
    const cancelledTotal = (
      await t.pool.query<{ s: number }>(
        `select coalesce(sum(amount_fen), 0)::int as s from bill where account_id = $1 and status = 'cancelled'`,
        [a],
      )
    ).rows[0]!.s;
    let newTotal = 0;
    for (const id of newIds) {
      const b = await billRow(a, id);
      expect(Number(b.paid_fen)).toBe(Number(b.amount_fen));
      newTotal += Number(b.amount_fen);
    }
    const pos = await position(a);
    expect(pos.principalFen).toBe(0);
    expect(pos.creditFen).toBe(cancelledTotal - newTotal);
    expect(pos.creditFen).toBeGreaterThanOrEqual(0);
    const transfers = await t.pool.query(
      `select count(*)::int as n from ledger_posting where account_id = $1 and kind = 'credit_transfer'`,
      [a],
    );
    expect(transfers.rows[0].n).toBeGreaterThan(0);
    // The payment's bill was cancelled: it can no longer be reversed, its credit refunded instead.
    const rev = await ask('clerk', a, { kind: 'reversal', paymentId: p.json().paymentId, reason: '冲正' });
    expect(rev.statusCode).toBe(409);
    expect(rev.json().error.code).toBe('PAYMENT_BILL_CANCELLED');
  });
});

describe('property: random payments, retries, reversals and refunds keep the ledger whole', () => {
  it('balances, bills paid = receivable credits, clearing = posted − reversed − refunded, nothing lost or doubled', async () => {
    const accounts = [fresh(), fresh(), fresh()];
    const op = fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({
          k: fc.constant('pay' as const),
          who: fc.nat(2),
          fen: fc.integer({ min: 1, max: 20_000 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('retry' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ k: fc.constant('reverse' as const), pick: fc.nat() }) },
      {
        weight: 1,
        arbitrary: fc.record({
          k: fc.constant('refund' as const),
          who: fc.nat(2),
          fen: fc.integer({ min: 1, max: 5_000 }),
        }),
      },
      {
        weight: 2,
        arbitrary: fc.record({
          k: fc.constant('bill' as const),
          who: fc.nat(2),
          fen: fc.integer({ min: 1, max: 15_000 }),
        }),
      },
    );
    const CHANNELS = ['cash', 'bank_card', 'wechat'] as const;
    // What the model expects, across runs (the database keeps everything).
    const sent = new Map<
      string,
      { accountId: number; amountFen: number; channel: string; paymentId: number }
    >();
    const reversed = new Set<number>();
    let refundedFen = 0;
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        runs += 1;
        for (const o of ops) {
          if (o.k === 'bill') {
            const month = String(1 + (billSeq % 12)).padStart(2, '0');
            await insertBill(accounts[o.who]!, o.fen, `2025-${month}-15`);
          } else if (o.k === 'pay') {
            const key = newKey();
            const channel = CHANNELS[o.fen % 3]!;
            const r = await pay('clerk', accounts[o.who]!, { amountFen: o.fen, channel }, key);
            expect(r.statusCode, r.body).toBe(201);
            sent.set(key, {
              accountId: accounts[o.who]!,
              amountFen: o.fen,
              channel,
              paymentId: r.json().paymentId,
            });
          } else if (o.k === 'retry' && sent.size) {
            const [key, s] = [...sent.entries()][o.pick % sent.size]!;
            const r = await pay('clerk', s.accountId, { amountFen: s.amountFen, channel: s.channel }, key);
            expect(r.statusCode, r.body).toBe(201);
            expect(r.headers['idempotent-replay']).toBe('true');
            expect(r.json().paymentId).toBe(s.paymentId);
          } else if (o.k === 'reverse' && sent.size) {
            const s = [...sent.values()][o.pick % sent.size]!;
            const q = await ask('clerk', s.accountId, {
              kind: 'reversal',
              paymentId: s.paymentId,
              reason: '冲正',
            });
            if (q.statusCode !== 201) {
              // Refused for a reason the model knows: reversed already, or its credit is used.
              expect(q.statusCode, q.body).toBe(409);
              expect(['PAYMENT_ALREADY_REVERSED', 'PAYMENT_CREDIT_USED']).toContain(q.json().error.code);
              if (q.json().error.code === 'PAYMENT_ALREADY_REVERSED')
                expect(reversed.has(s.paymentId)).toBe(true);
              continue;
            }
            const d = await decide('manager', s.accountId, q.json().requestId);
            expect(d.statusCode, d.body).toBe(200);
            reversed.add(s.paymentId);
          } else if (o.k === 'refund') {
            const a = accounts[o.who]!;
            const credit = (await position(a)).creditFen as number;
            const q = await ask('clerk', a, { kind: 'refund', amountFen: o.fen, reason: '退款' });
            if (o.fen > credit) {
              expect(q.statusCode, q.body).toBe(400);
              continue;
            }
            expect(q.statusCode, q.body).toBe(201);
            const d = await decide('manager', a, q.json().requestId);
            expect(d.statusCode, d.body).toBe(200);
            refundedFen += o.fen;
          }
        }
        // The ledger balances and every bill's paid_fen is its receivable credits.
        for (const a of accounts) expect(await accountLedgerProblems(t.db, a)).toEqual([]);
        const mismatch = await t.pool.query(
          `select b.bill_id from bill b
           left join (select account_id, bill_id, sum(credit_fen - debit_fen) as paid from ledger_line
                      where ledger_account = 'receivable' and part = 'principal' group by 1, 2) l
             on l.account_id = b.account_id and l.bill_id = b.bill_id
           where b.account_id = any($1::bigint[]) and b.paid_fen <> coalesce(l.paid, 0)`,
          [accounts],
        );
        expect(mismatch.rows).toEqual([]);
        // Nothing lost or doubled: one payment row per key, with its amount.
        const { rows } = await t.pool.query<{ idempotency_key: string; amount_fen: string; status: string }>(
          `select idempotency_key, amount_fen, status from payment where account_id = any($1::bigint[])`,
          [accounts],
        );
        expect(rows.length).toBe(sent.size);
        for (const r of rows) {
          expect(Number(r.amount_fen)).toBe(sent.get(r.idempotency_key)?.amountFen);
          expect(r.status === 'reversed').toBe(reversed.has(sent.get(r.idempotency_key)!.paymentId));
        }
        // Clearing accounts hold what was taken and not reversed, less what was refunded.
        const clearing = await t.pool.query<{ fen: string }>(
          `select coalesce(sum(debit_fen - credit_fen), 0)::text as fen from ledger_line
           where account_id = any($1::bigint[]) and ledger_account in ('cash', 'bank', 'gateway')`,
          [accounts],
        );
        const standing = [...sent.values()]
          .filter((s) => !reversed.has(s.paymentId))
          .reduce((sum, s) => sum + s.amountFen, 0);
        expect(Number(clearing.rows[0]!.fen)).toBe(standing - refundedFen);
      }),
      { numRuns: 25, seed: 20261123 },
    );
    expect(runs).toBeGreaterThanOrEqual(25);
    console.log(
      `property: ${runs} runs, ${sent.size} payments, ${reversed.size} reversed, ${refundedFen} fen refunded`,
    );
  }, 300_000);
});
