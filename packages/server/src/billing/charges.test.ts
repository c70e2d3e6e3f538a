import { todayInChina } from '@meterline/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';

/**
 * The fee catalogue and other charges (docs/billing.md "Late fees and other charges"): catalogue
 * validation with field errors in zh-CN, the seeded items, a charge to a customer as a bill of kind
 * 'other', its idempotent retry, and office scope.
 */

let t: TestApp;
let accountA: number;

beforeAll(async () => {
  t = await createTestApp({ customers: 40 });
  accountA = Number(
    (
      await sql<{ account_id: number }>`
        select c.account_id from customer c join office o on o.office_id = c.office_id
        where o.code = '0101' order by c.account_id limit 1`.execute(t.db)
    ).rows[0]!.account_id,
  );
});

afterAll(async () => {
  await t?.close();
});

const fee = (over: Record<string, unknown> = {}) => ({
  code: 'SEAL_REPAIR',
  name: { 'zh-CN': '铅封修复费', en: 'Seal repair' },
  kind: 'repair',
  defaultAmountFen: 5_000,
  taxable: false,
  active: true,
  sortOrder: 80,
  ...over,
});

describe('the fee catalogue', () => {
  it('is seeded with the charges of DOMAIN.md §4', async () => {
    const res = await t.as('clerk')({ method: 'GET', url: '/api/fee-catalogue?active=true' });
    expect(res.statusCode, res.body).toBe(200);
    const kinds = res.json().map((f: { kind: string }) => f.kind);
    for (const kind of [
      'installation',
      'repair',
      'meter_replacement',
      'transfer',
      'account_opening',
      'heater_inspection',
      'deposit',
    ])
      expect(kinds).toContain(kind);
    expect(res.json().find((f: { code: string }) => f.code === 'ACCOUNT_OPEN')).toMatchObject({
      name: { 'zh-CN': '开户费' },
      defaultAmountFen: 2000,
    });
  });

  it('refuses a negative amount and missing names, field by field in zh-CN', async () => {
    const res = await t.as('finance')({
      method: 'POST',
      url: '/api/fee-catalogue',
      payload: fee({ defaultAmountFen: -100, name: { 'zh-CN': ' ', en: '' } }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.fields).toEqual([
      { path: 'name.zh-CN', code: 'FEE_NAME_REQUIRED', message: '请填写名称' },
      { path: 'name.en', code: 'FEE_NAME_REQUIRED', message: '请填写名称' },
      {
        path: 'defaultAmountFen',
        code: 'FEE_AMOUNT',
        message: '金额须为不小于 0 的整数（分），最多 1000 万元',
      },
    ]);
    expect(
      await t.db.selectFrom('fee_catalogue').select('code').where('code', '=', 'SEAL_REPAIR').execute(),
    ).toEqual([]);
  });

  it('adds a fee (audited) and refuses its code a second time', async () => {
    const res = await t.as('finance')({ method: 'POST', url: '/api/fee-catalogue', payload: fee() });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({ code: 'SEAL_REPAIR', defaultAmountFen: 5_000, revision: 1 });
    const again = await t.as('admin')({
      method: 'POST',
      url: '/api/fee-catalogue',
      payload: fee({ code: 'seal_repair' }),
    });
    expect(again.statusCode).toBe(400);
    expect(again.json().error.fields).toEqual([
      { path: 'code', code: 'FEE_CODE_TAKEN', message: '编码 seal_repair 已存在' },
    ]);
    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action', 'after'])
      .where('entity_type', '=', 'fee_catalogue')
      .where('entity_id', '=', 'SEAL_REPAIR')
      .execute();
    expect(audit).toEqual([
      { action: 'create', after: expect.objectContaining({ default_amount_fen: 5_000 }) },
    ]);
  });

  it('changes a fee with its revision, refuses a stale one, and only for tariff.admin', async () => {
    const { code: _code, ...body } = fee({ defaultAmountFen: 6_000 });
    const ok = await t.as('finance')({
      method: 'PUT',
      url: '/api/fee-catalogue/SEAL_REPAIR',
      payload: { ...body, revision: 1 },
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ defaultAmountFen: 6_000, revision: 2 });
    const stale = await t.as('finance')({
      method: 'PUT',
      url: '/api/fee-catalogue/SEAL_REPAIR',
      payload: { ...body, revision: 1 },
    });
    expect(stale.statusCode).toBe(409);
    const clerk = await t.as('clerk')({
      method: 'POST',
      url: '/api/fee-catalogue',
      payload: fee({ code: 'X1' }),
    });
    expect(clerk.statusCode).toBe(403);
    // An office manager holds no tariff.admin either.
    const manager = await t.as('manager')({
      method: 'PUT',
      url: '/api/fee-catalogue/SEAL_REPAIR',
      payload: { ...body, revision: 2 },
    });
    expect(manager.statusCode).toBe(403);
  });
});

describe('charging a customer', () => {
  const url = () => `/api/customers/${accountA}/charges`;

  it('makes a bill of kind "other" with one line, numbered like consumption bills, audited', async () => {
    const res = await t.as('clerk')({
      method: 'POST',
      url: url(),
      payload: { feeCode: 'ACCOUNT_OPEN', note: '新户开户' },
      headers: { 'idempotency-key': 'charge-0001' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const charge = res.json();
    const today = todayInChina();
    expect(charge).toMatchObject({
      accountId: accountA,
      feeCode: 'ACCOUNT_OPEN',
      amountFen: 2_000,
      quantity: 1,
    });
    expect(charge.billNo).toMatch(new RegExp(`^${today.slice(0, 4)}${today.slice(5, 7)}-\\d{8}$`));
    const bill = await t.db
      .selectFrom('bill')
      .selectAll()
      .where('account_id', '=', accountA)
      .where('bill_id', '=', charge.billId)
      .executeTakeFirstOrThrow();
    expect(bill).toMatchObject({
      kind: 'other',
      amount_fen: 2_000,
      period: today.slice(0, 7),
      status: 'open',
    });
    expect(bill.due_on > today).toBe(true);
    const lines = await t.db
      .selectFrom('bill_line')
      .selectAll()
      .where('bill_id', '=', charge.billId)
      .execute();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      code: 'ACCOUNT_OPEN',
      amount_fen: 2_000,
      description_zh: '开户费（新户开户）',
    });
    const audit = await t.db
      .selectFrom('audit_log')
      .select(['action', 'account_id', 'staff_id'])
      .where('entity_id', '=', `${accountA}/${charge.billId}`)
      .execute();
    expect(audit).toEqual([expect.objectContaining({ action: 'other_charge', account_id: accountA })]);
    // It shows among the customer's bills.
    const list = await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountA}/bills` });
    expect(list.json().items.map((b: { billNo: string }) => b.billNo)).toContain(charge.billNo);
  });

  it('a retry with the same key returns the same bill; a different body with it is refused', async () => {
    const count = async () =>
      Number(
        (
          await sql<{
            n: number;
          }>`select count(*)::int as n from bill where account_id = ${accountA} and kind = 'other'`.execute(
            t.db,
          )
        ).rows[0]!.n,
      );
    const before = await count();
    const first = await t.as('clerk')({
      method: 'POST',
      url: url(),
      payload: { feeCode: 'TRANSFER' },
      headers: { 'idempotency-key': 'charge-0002' },
    });
    const retry = await t.as('clerk')({
      method: 'POST',
      url: url(),
      payload: { feeCode: 'TRANSFER' },
      headers: { 'idempotency-key': 'charge-0002' },
    });
    expect(retry.statusCode).toBe(201);
    expect(retry.json().billId).toBe(first.json().billId);
    expect(await count()).toBe(before + 1);
    const changed = await t.as('clerk')({
      method: 'POST',
      url: url(),
      payload: { feeCode: 'TRANSFER', amountFen: 9_900 },
      headers: { 'idempotency-key': 'charge-0002' },
    });
    expect(changed.statusCode).toBe(422);
    expect(changed.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(await count()).toBe(before + 1);
  });

  it('prices amount × quantity, and needs an amount above 0 where the catalogue has none', async () => {
    const deposit = await t.as('clerk')({ method: 'POST', url: url(), payload: { feeCode: 'DEPOSIT' } });
    expect(deposit.statusCode).toBe(400);
    expect(deposit.json().error.fields).toEqual([
      { path: 'amountFen', code: 'CHARGE_AMOUNT_REQUIRED', message: '该收费项目没有标准金额，请填写金额' },
    ]);
    const zero = await t.as('clerk')({
      method: 'POST',
      url: url(),
      payload: { feeCode: 'REPAIR', amountFen: 0 },
    });
    expect(zero.statusCode).toBe(400);
    expect(zero.json().error.fields[0]).toMatchObject({ path: 'amountFen', code: 'CHARGE_AMOUNT' });
    const unknown = await t.as('clerk')({ method: 'POST', url: url(), payload: { feeCode: 'NOPE' } });
    expect(unknown.json().error.fields[0]).toMatchObject({ path: 'feeCode', code: 'CHARGE_FEE_UNKNOWN' });
    const meters = await t.as('clerk')({
      method: 'POST',
      url: url(),
      payload: { feeCode: 'METER_REPLACE', quantity: 2 },
    });
    expect(meters.statusCode, meters.body).toBe(201);
    expect(meters.json()).toMatchObject({ unitFen: 15_000, quantity: 2, amountFen: 30_000 });
  });

  it('is for billing.adjust holders of the customer’s office only', async () => {
    const reader = await t.as('reader')({ method: 'POST', url: url(), payload: { feeCode: 'TRANSFER' } });
    expect(reader.statusCode).toBe(403);
    const otherOffice = await t.as('clerk2')({
      method: 'POST',
      url: url(),
      payload: { feeCode: 'TRANSFER' },
    });
    expect(otherOffice.statusCode).toBe(404);
  });
});
