import { addDays, addMonths, todayInChina } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { checkInstallments } from './installments.ts';

/**
 * Installment agreements (还欠协议) over HTTP on real PostgreSQL (docs/arrears.md): the schedule sums
 * exactly to the debt, the deputy GM approves (never the requester: 403 SELF_APPROVAL), signing holds
 * the covered arrears out of escalation, payments count against the installments, a missed
 * installment defaults the agreement (the hold disappears: the arrears re-enter the ladder), a paid
 * one completes, the printed agreement is a PDF with the Chinese font.
 */

let t: TestApp;
const TODAY = todayInChina();
let accounts: number[] = [];
let billSeq = 0;
let keySeq = 0;
const key = () => `inst-test-${Date.now().toString(36)}-${++keySeq}`;

async function insertBill(accountId: number, amountFen: number, dueOn: string): Promise<number> {
  billSeq += 1;
  const period = dueOn.slice(0, 7);
  const row = await t.db
    .insertInto('bill')
    .values({
      account_id: accountId,
      bill_no: `${period.replace('-', '')}-IN${String(billSeq).padStart(6, '0')}`,
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

const holds = async (accountId: number) =>
  (
    await t.db
      .selectFrom('collection_hold')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('bill_id')
      .execute()
  ).map((h) => ({ billId: Number(h.bill_id), heldFen: Number(h.held_fen), kind: h.kind }));

async function pay(accountId: number, amountFen: number) {
  const res = await t.as('clerk')({
    method: 'POST',
    url: `/api/customers/${accountId}/payments`,
    payload: { amountFen, channel: 'cash' },
    headers: { 'idempotency-key': key() },
  });
  expect(res.statusCode, res.body).toBe(201);
}

beforeAll(async () => {
  t = await createTestApp({ customers: 20 });
  const rows = await t.db
    .selectFrom('customer as c')
    .innerJoin('office as o', 'o.office_id', 'c.office_id')
    .select('c.account_id')
    .where('o.code', '=', '0101')
    .where('c.state', '=', 'active')
    .orderBy('c.account_id')
    .execute();
  accounts = rows.map((r) => Number(r.account_id));
  // The office manager may both request and approve here, so self-approval is refused by the rule,
  // not by a missing permission.
  await t.db
    .insertInto('role_permission')
    .values({ role_code: 'office_manager', permission: 'collection.approve' })
    .onConflict((oc) => oc.doNothing())
    .execute();
});

afterAll(async () => {
  await t.close();
});

describe('installment agreements', () => {
  let account: number;
  let agreementId: number;
  let bills: number[];

  it('schedules the overdue debt exactly, and the requester cannot approve it', async () => {
    account = accounts[0]!;
    bills = [
      await insertBill(account, 10_000, addDays(TODAY, -70)),
      await insertBill(account, 5_001, addDays(TODAY, -10)),
    ];
    // Not yet due: not covered.
    await insertBill(account, 777, addDays(TODAY, 20));
    const res = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${account}/installments`,
      payload: { count: 3, firstDueOn: TODAY, intervalMonths: 1, reason: '下岗，无力一次缴清' },
      headers: { 'idempotency-key': key() },
    });
    expect(res.statusCode, res.body).toBe(201);
    const a = res.json();
    agreementId = a.agreementId;
    expect(a.agreementNo).toMatch(/^HQ\d{4}-\d{6}$/);
    expect(a).toMatchObject({ status: 'requested', debtFen: 15_001, paidFen: 0 });
    expect(a.installments.map((i: { amountFen: number }) => i.amountFen)).toEqual([5001, 5000, 5000]);
    expect(a.installments.map((i: { dueOn: string }) => i.dueOn)).toEqual([
      TODAY,
      addMonths(TODAY, 1),
      addMonths(TODAY, 2),
    ]);
    expect(a.bills.map((b: { billId: number }) => b.billId).sort()).toEqual([...bills].sort());
    // Requested, not signed: nothing held yet.
    expect(await holds(account)).toEqual([]);

    const self = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${account}/installments/${agreementId}/decision`,
      payload: { approve: true },
    });
    expect(self.statusCode).toBe(403);
    expect(self.json().error.code).toBe('SELF_APPROVAL');
    // The clerk holds no approval right at all.
    expect(
      (
        await t.as('clerk')({
          method: 'POST',
          url: `/api/customers/${account}/installments/${agreementId}/decision`,
          payload: { approve: true },
        })
      ).statusCode,
    ).toBe(403);
    // Not signable before approval.
    const early = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${account}/installments/${agreementId}/sign`,
    });
    expect(early.statusCode).toBe(409);
    // A second request while this one is live.
    const twice = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${account}/installments`,
      payload: { count: 2 },
    });
    expect(twice.statusCode).toBe(409);
    expect(twice.json().error.code).toBe('INSTALLMENT_EXISTS');
  });

  it('is approved by the deputy GM, signed, and then holds the covered arrears', async () => {
    const ok = await t.as('deputy')({
      method: 'POST',
      url: `/api/customers/${account}/installments/${agreementId}/decision`,
      payload: { approve: true, note: '同意' },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'approved', decidedBy: '孙卫东' });
    const signed = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${account}/installments/${agreementId}/sign`,
    });
    expect(signed.statusCode, signed.body).toBe(200);
    expect(signed.json().status).toBe('signed');
    expect(signed.json().signedAt).not.toBeNull();
    expect(await holds(account)).toEqual(
      [
        { billId: bills[0]!, heldFen: 10_000, kind: 'installment' },
        { billId: bills[1]!, heldFen: 5_001, kind: 'installment' },
      ].sort((x, y) => x.billId - y.billId),
    );
    const audit = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('entity_type', '=', 'installment_agreement')
      .where('entity_id', '=', `${account}/${agreementId}`)
      .orderBy('audit_id')
      .execute();
    expect(audit.map((x) => x.action)).toEqual(['request', 'approve', 'sign']);
  });

  it('prints the agreement as a PDF with the Chinese font', async () => {
    const res = await t.as('clerk')({
      method: 'GET',
      url: `/api/customers/${account}/installments/${agreementId}/pdf`,
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('application/pdf');
    expect(res.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect(res.rawPayload.toString('latin1')).toMatch(/NotoSansHans/);
  });

  it('counts payments against the installments; a missed one defaults it and the hold goes', async () => {
    // The first installment (5,001) is paid: oldest bill first, so 5,001 of the 10,000 bill.
    await pay(account, 5_001);
    const after = (
      await t.as('clerk')({ method: 'GET', url: `/api/customers/${account}/installments/${agreementId}` })
    ).json();
    expect(after).toMatchObject({ paidFen: 5_001, remainingFen: 10_000 });
    expect(after.installments.map((i: { paid: boolean }) => i.paid)).toEqual([true, false, false]);
    expect((await holds(account)).reduce((s, h) => s + h.heldFen, 0)).toBe(10_000);

    // Within the grace days of the second installment: nothing happens.
    const grace = 10;
    const second = addMonths(TODAY, 1);
    expect(await checkInstallments(t.db, addDays(second, grace))).toMatchObject({
      defaulted: 0,
      completed: 0,
    });
    expect((await holds(account)).length).toBeGreaterThan(0);
    // The day after: defaulted, the covered arrears are no longer held.
    expect(await checkInstallments(t.db, addDays(second, grace + 1))).toMatchObject({ defaulted: 1 });
    const a = (
      await t.as('clerk')({ method: 'GET', url: `/api/customers/${account}/installments/${agreementId}` })
    ).json();
    expect(a).toMatchObject({ status: 'defaulted', defaultedSeq: 2 });
    expect(await holds(account)).toEqual([]);
    // Idempotent: a second check changes nothing.
    expect(await checkInstallments(t.db, addDays(second, grace + 1))).toMatchObject({
      defaulted: 0,
      checked: 0,
    });
  });

  it('signing restores the supply of a customer who was shut off (escalation’s restore order)', async () => {
    const acc = accounts[3]!;
    await insertBill(acc, 8_000, addDays(TODAY, -90));
    const office = await t.db
      .selectFrom('customer')
      .select('office_id')
      .where('account_id', '=', acc)
      .executeTakeFirstOrThrow();
    const shutoff = await t.db
      .insertInto('collection_work_order')
      .values({
        account_id: acc,
        kind: 'shutoff',
        order_no: `TS-TEST-${acc}`,
        office_id: office.office_id,
        status: 'done',
        action: 'valve_closed',
        completed_at: new Date(),
      })
      .returning('order_id')
      .executeTakeFirstOrThrow();
    const req = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${acc}/installments`,
      payload: { count: 2 },
    });
    expect(req.statusCode, req.body).toBe(201);
    const id = req.json().agreementId;
    await t.as('deputy')({
      method: 'POST',
      url: `/api/customers/${acc}/installments/${id}/decision`,
      payload: { approve: true },
    });
    const restoreOrders = () =>
      t.db
        .selectFrom('collection_work_order')
        .select(['kind', 'cause', 'restores_order_id'])
        .where('account_id', '=', acc)
        .where('kind', '=', 'restore')
        .execute();
    expect(await restoreOrders()).toEqual([]);
    const signed = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${acc}/installments/${id}/sign`,
    });
    expect(signed.statusCode, signed.body).toBe(200);
    expect(await restoreOrders()).toEqual([
      { kind: 'restore', cause: 'installment', restores_order_id: shutoff.order_id },
    ]);
  });

  it('completes when the debt is paid', async () => {
    const acc = accounts[1]!;
    await insertBill(acc, 3_000, addDays(TODAY, -40));
    const req = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${acc}/installments`,
      payload: {
        items: [
          { dueOn: TODAY, amountFen: 1_000 },
          { dueOn: addMonths(TODAY, 1), amountFen: 2_000 },
        ],
      },
    });
    expect(req.statusCode, req.body).toBe(201);
    const id = req.json().agreementId;
    await t.as('deputy')({
      method: 'POST',
      url: `/api/customers/${acc}/installments/${id}/decision`,
      payload: { approve: true },
    });
    await t.as('clerk')({ method: 'POST', url: `/api/customers/${acc}/installments/${id}/sign` });
    await pay(acc, 3_000);
    expect(await checkInstallments(t.db, TODAY)).toMatchObject({ completed: 1 });
    const a = (
      await t.as('clerk')({ method: 'GET', url: `/api/customers/${acc}/installments/${id}` })
    ).json();
    expect(a.status).toBe('completed');
    expect(await holds(acc)).toEqual([]);
  });

  it('refuses a schedule that does not add up, too many installments, or nothing owed', async () => {
    const acc = accounts[2]!;
    const url = `/api/customers/${acc}/installments`;
    const nothing = await t.as('clerk')({ method: 'POST', url, payload: { count: 2 } });
    expect(nothing.statusCode).toBe(409);
    expect(nothing.json().error.code).toBe('NOTHING_OWED');
    await insertBill(acc, 2_000, addDays(TODAY, -3));
    const wrongSum = await t.as('clerk')({
      method: 'POST',
      url,
      payload: {
        items: [
          { dueOn: TODAY, amountFen: 1_000 },
          { dueOn: addMonths(TODAY, 1), amountFen: 999 },
        ],
      },
    });
    expect(wrongSum.statusCode).toBe(400);
    expect(wrongSum.json().error.fields[0]).toMatchObject({ path: 'items', code: 'SUM_NOT_DEBT' });
    expect(wrongSum.json().error.fields[0].message).toContain('20.00');
    const tooMany = await t.as('clerk')({ method: 'POST', url, payload: { count: 13 } });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.fields[0]).toMatchObject({ path: 'count', code: 'COUNT_OUT_OF_RANGE' });
    const rejectNoNote = await t.as('clerk')({ method: 'POST', url, payload: { count: 2 } });
    expect(rejectNoNote.statusCode).toBe(201);
    const decision = await t.as('deputy')({
      method: 'POST',
      url: `${url}/${rejectNoNote.json().agreementId}/decision`,
      payload: { approve: false },
    });
    expect(decision.statusCode).toBe(400);
    expect(decision.json().error.fields[0].path).toBe('note');
  });
});
