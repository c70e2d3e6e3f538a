import { addDays, todayInChina } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';

/**
 * Disputes (水费异议) over HTTP on real PostgreSQL (docs/arrears.md "Disputes"): recorded with a
 * classification and claim, the amount checked against what the bill owes, held out of escalation
 * (view collection_hold) while undecided, reviewed by the office manager (pass on, uphold, reject),
 * audited, and refused with field errors in the user's language.
 */

let t: TestApp;
const TODAY = todayInChina();
let accounts: number[] = [];
let billSeq = 0;
let keySeq = 0;
const key = () => `dispute-test-${Date.now().toString(36)}-${++keySeq}`;

async function insertBill(accountId: number, amountFen: number, dueOn: string): Promise<number> {
  billSeq += 1;
  const period = dueOn.slice(0, 7);
  const row = await t.db
    .insertInto('bill')
    .values({
      account_id: accountId,
      bill_no: `${period.replace('-', '')}-DS${String(billSeq).padStart(6, '0')}`,
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
      replaces_bill_id: null,
      cancelled_at: null,
      cancelled_by: null,
    })
    .returning('bill_id')
    .executeTakeFirstOrThrow();
  return Number(row.bill_id);
}

const holds = async (accountId: number) =>
  (
    await t.db
      .selectFrom('collection_hold')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('ref_id')
      .execute()
  ).map((h) => ({
    billId: h.bill_id === null ? null : Number(h.bill_id),
    heldFen: Number(h.held_fen),
    kind: h.kind,
  }));

beforeAll(async () => {
  t = await createTestApp({ customers: 20 });
  const rows = await t.db
    .selectFrom('customer as c')
    .innerJoin('office as o', 'o.office_id', 'c.office_id')
    .select('c.account_id')
    .where('o.code', '=', '0101')
    .orderBy('c.account_id')
    .execute();
  accounts = rows.map((r) => Number(r.account_id));
});

afterAll(async () => {
  await t.close();
});

describe('disputes', () => {
  it('holds the disputed amount until the manager decides, and releases it on the decision', async () => {
    const account = accounts[0]!;
    const billId = await insertBill(account, 5000, addDays(TODAY, -20));
    const url = `/api/customers/${account}/disputes`;
    const payload = {
      category: 'reading',
      description: '抄表读数明显偏高',
      claim: '本期只用了 10 吨',
      bills: [{ billId, disputedFen: 3000 }],
    };
    const created = await t.as('clerk')({
      method: 'POST',
      url,
      payload,
      headers: { 'idempotency-key': key() },
    });
    expect(created.statusCode, created.body).toBe(201);
    const d = created.json();
    expect(d).toMatchObject({ status: 'open', held: true, disputedFen: 3000, category: 'reading' });
    expect(d.bills).toEqual([expect.objectContaining({ billId, disputedFen: 3000 })]);
    expect(await holds(account)).toEqual([{ billId, heldFen: 3000, kind: 'dispute' }]);

    // Only 2,000 of the bill is left to dispute while this one is undecided.
    const second = await t.as('clerk')({
      method: 'POST',
      url,
      payload: { ...payload, bills: [{ billId, disputedFen: 2500 }] },
    });
    expect(second.statusCode).toBe(400);
    expect(second.json().error.fields[0]).toMatchObject({
      path: 'bills.0.disputedFen',
      code: 'ABOVE_OUTSTANDING',
    });
    expect(second.json().error.fields[0].message).toContain('20.00');

    const review = `/api/customers/${account}/disputes/${d.disputeId}/review`;
    // The clerk may record, not review.
    expect(
      (await t.as('clerk')({ method: 'POST', url: review, payload: { action: 'reject', note: 'x' } }))
        .statusCode,
    ).toBe(403);
    // Passing on needs the department.
    const noDept = await t.as('manager')({
      method: 'POST',
      url: review,
      payload: { action: 'pass_on', note: '请核查' },
    });
    expect(noDept.statusCode).toBe(400);
    expect(noDept.json().error.fields.map((f: { path: string }) => f.path)).toEqual(['passedTo']);
    const passed = await t.as('manager')({
      method: 'POST',
      url: review,
      payload: { action: 'pass_on', note: '请核查水表', passedTo: '计量所' },
    });
    expect(passed.statusCode, passed.body).toBe(200);
    expect(passed.json()).toMatchObject({ status: 'passed_on', passedTo: '计量所', held: true });
    expect(await holds(account)).toHaveLength(1);

    const rejected = await t.as('manager')({
      method: 'POST',
      url: review,
      payload: { action: 'reject', note: '复核读数无误' },
    });
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect(rejected.json()).toMatchObject({ status: 'rejected', held: false, decidedBy: '张建国' });
    expect(await holds(account)).toEqual([]);

    // Decided: no further review.
    const again = await t.as('manager')({
      method: 'POST',
      url: review,
      payload: { action: 'uphold', note: 'x' },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('DISPUTE_NOT_OPEN');

    const audit = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('entity_type', '=', 'dispute')
      .where('entity_id', '=', `${account}/${d.disputeId}`)
      .orderBy('audit_id')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['record', 'pass_on', 'reject']);
  });

  it('holds an amount on the whole account when no bill is named; upholding releases it', async () => {
    const account = accounts[1]!;
    const res = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${account}/disputes`,
      payload: {
        category: 'ownership',
        description: '房屋已过户',
        claim: '欠费为原户主所欠',
        disputedFen: 12_345,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(await holds(account)).toEqual([{ billId: null, heldFen: 12_345, kind: 'dispute' }]);
    const list = await t.as('manager')({ method: 'GET', url: '/api/collections/disputes?status=undecided' });
    expect(list.json().items.map((i: { accountId: number }) => i.accountId)).toContain(account);
    const up = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${account}/disputes/${res.json().disputeId}/review`,
      payload: { action: 'uphold', note: '核实过户，转原户主追缴' },
    });
    expect(up.json().status).toBe('upheld');
    expect(await holds(account)).toEqual([]);
  });

  it('refuses bad input with field errors in the user’s language', async () => {
    const account = accounts[2]!;
    const billId = await insertBill(account, 1000, addDays(TODAY, -5));
    const url = `/api/customers/${account}/disputes`;
    const unknownCategory = await t.as('clerk')({
      method: 'POST',
      url,
      payload: { category: 'weather', description: 'x', claim: 'x', disputedFen: 1 },
    });
    expect(unknownCategory.statusCode).toBe(400);
    expect(unknownCategory.json().error.fields[0].path).toBe('category');
    const noAmount = await t.as('clerk')({
      method: 'POST',
      url,
      payload: { category: 'leak', description: '暗管漏水', claim: '申请减免' },
      headers: { 'accept-language': 'en' },
    });
    expect(noAmount.statusCode).toBe(400);
    expect(noAmount.json().error.fields[0]).toMatchObject({ path: 'disputedFen' });
    expect(noAmount.json().error.fields[0].message).toMatch(/disputed/i);
    const tooMuch = await t.as('clerk')({
      method: 'POST',
      url,
      payload: {
        category: 'leak',
        description: '暗管漏水',
        claim: '申请减免',
        bills: [{ billId, disputedFen: 1001 }],
      },
    });
    expect(tooMuch.statusCode).toBe(400);
    expect(tooMuch.json().error.fields[0].message).toContain('10.00');
    // A reader may not record disputes.
    expect(
      (
        await t.as('reader')({
          method: 'POST',
          url,
          payload: { category: 'leak', description: 'x', claim: 'x', disputedFen: 1 },
        })
      ).statusCode,
    ).toBe(403);
    expect(await holds(account)).toEqual([]);
  });
});
