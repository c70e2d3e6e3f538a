import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';

/** Direct-debit mandates signed and cancelled at the counter (docs/bank-files.md). */

let t: TestApp;
let accountId: number;

beforeAll(async () => {
  t = await createTestApp({ customers: 10 });
  const c = await t.db
    .selectFrom('customer as c')
    .innerJoin('office as o', 'o.office_id', 'c.office_id')
    .select('c.account_id')
    .where('o.code', '=', '0101')
    .orderBy('c.account_id')
    .executeTakeFirstOrThrow();
  accountId = c.account_id;
  await t.db.deleteFrom('debit_mandate').execute();
});

afterAll(async () => {
  await t?.close();
});

const sign = (user: string, body: Record<string, unknown>) =>
  t.as(user)({ method: 'POST', url: `/api/customers/${accountId}/debit-mandates`, payload: body });

describe('debit mandates', () => {
  it('refuses a bad account number and an unknown bank on their fields, writing nothing', async () => {
    const res = await sign('clerk', { bankCode: 'XYZ', bankAccountNo: '12-34', holderName: '王伟' });
    expect(res.statusCode, res.body).toBe(400);
    expect(
      res
        .json()
        .error.fields.map((f: { path: string }) => f.path)
        .sort(),
    ).toEqual(['bankAccountNo', 'bankCode']);
    expect(await t.db.selectFrom('debit_mandate').select('mandate_id').execute()).toEqual([]);
  });

  it('signs one, refuses a second while it is active, cancels it, and audits both', async () => {
    const first = await sign('clerk', {
      bankCode: 'CCB',
      bankAccountNo: '6217 0000 0000 0000 021',
      holderName: '王伟',
    });
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({
      bankCode: 'CCB',
      bankAccountNo: '6217000000000000021',
      status: 'active',
    });
    const second = await sign('clerk', {
      bankCode: 'ICBC',
      bankAccountNo: '6222020000000000014',
      holderName: '王伟',
    });
    expect(second.statusCode).toBe(409);
    expect(second.json().error.code).toBe('MANDATE_ACTIVE');
    const id = first.json().mandateId;
    const cancel = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${accountId}/debit-mandates/${id}/cancel`,
    });
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect(cancel.json()).toMatchObject({ status: 'cancelled' });
    const again = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${accountId}/debit-mandates/${id}/cancel`,
    });
    expect(again.statusCode).toBe(404);
    const list = await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountId}/debit-mandates` });
    expect(list.json().items).toHaveLength(1);
    expect(
      list
        .json()
        .banks.map((b: { bankCode: string }) => b.bankCode)
        .sort(),
    ).toEqual(['CCB', 'ICBC']);
    const audits = await t.db
      .selectFrom('audit_log')
      .select(['action', 'office_id'])
      .where('entity_type', '=', 'debit_mandate')
      .orderBy('audit_id')
      .execute();
    expect(audits.map((a) => a.action)).toEqual(['mandate_sign', 'mandate_cancel']);
    // The account number is not written to the audit log in full.
    const signed = await t.db
      .selectFrom('audit_log')
      .select('after')
      .where('action', '=', 'mandate_sign')
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(signed.after)).not.toContain('6217000000000000021');
  });

  it('is the counter’s to sign: a reader gets 403, a clerk of another office 404', async () => {
    const body = { bankCode: 'CCB', bankAccountNo: '6217000000000000021', holderName: '王伟' };
    expect((await sign('reader', body)).statusCode).toBe(403);
    expect((await sign('clerk2', body)).statusCode).toBe(404);
  });
});
