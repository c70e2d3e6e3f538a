import { addDays, todayInChina } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BillRunner } from '../billing/runner.ts';
import { accountLedgerProblems } from '../payments/ledger.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { seedDemoBillRun } from './billing.ts';
import { seedDemoPayments } from './payments.ts';

/** The demo's first start bills its readings up to last month, once. */

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp({ customers: 30, metering: true });
});

afterAll(async () => {
  await t?.close();
});

describe('seedDemoBillRun', () => {
  it('queues one run over every office up to the end of last month, and none the second time', async () => {
    const monthStart = `${todayInChina().slice(0, 7)}-01`;
    const runId = await seedDemoBillRun(t.db);
    expect(runId).not.toBeNull();
    const run = await t.db
      .selectFrom('bill_run')
      .selectAll()
      .where('run_id', '=', runId!)
      .executeTakeFirstOrThrow();
    expect(run).toMatchObject({
      scope: 'all',
      up_to: addDays(monthStart, -1),
      dry_run: false,
      status: 'pending',
      office_ids: null,
    });
    expect(await seedDemoBillRun(t.db)).toBeNull();

    // The server's runner bills it: every accepted reading read before this month, none after.
    const cut = `${monthStart}T00:00:00+08:00`;
    const runner = new BillRunner(t.db, { pool: t.pool, logger: { info() {}, warn() {}, error() {} } });
    await runner.resume();
    await runner.idle();
    const done = await t.db
      .selectFrom('bill_run')
      .selectAll()
      .where('run_id', '=', runId!)
      .executeTakeFirstOrThrow();
    expect(done.status).toBe('done');
    const { rows } = await t.pool.query(
      `select
         count(*) filter (where b.bill_id is not null and r.read_at < $1)::int as billed_before,
         count(*) filter (where b.bill_id is null and r.read_at < $1)::int as unbilled_before,
         count(*) filter (where b.bill_id is not null and r.read_at >= $1)::int as billed_after
       from reading r left join bill b on b.account_id = r.account_id and b.reading_id = r.reading_id
       where r.status = 'accepted' and r.consumption_m3 is not null`,
      [cut],
    );
    expect(rows[0].billed_before).toBeGreaterThan(0);
    expect(rows[0].unbilled_before).toBe(done.exceptions);
    expect(rows[0].billed_after).toBe(0);
  });
});

describe('seedDemoPayments', () => {
  it('pays most due bills on time, one posting each, balanced; leaves the rest unpaid; runs once', async () => {
    const today = todayInChina();
    const paid = await seedDemoPayments(t.db, today);
    const { rows } = await t.pool.query(
      `select count(*)::int as due,
              count(*) filter (where paid_fen = amount_fen)::int as paid,
              count(*) filter (where paid_fen = 0)::int as unpaid
       from bill where status = 'open' and kind = 'consumption' and amount_fen > 0 and due_on < $1`,
      [today],
    );
    expect(paid).toBeGreaterThan(0);
    expect(rows[0].paid).toBe(paid);
    expect(rows[0].paid + rows[0].unpaid).toBe(rows[0].due);
    // About DEMO_PAID_PERCENT of them, and some left for collections.
    expect(rows[0].unpaid).toBeGreaterThan(0);
    expect(paid / rows[0].due).toBeGreaterThan(0.7);
    // Every payment was made before its bill fell due, and never today or later.
    const { rows: late } = await t.pool.query(
      `select count(*)::int as n from payment p
       join ledger_line l on l.account_id = p.account_id and l.posting_id = p.posting_id and l.bill_id is not null
       join bill b on b.account_id = l.account_id and b.bill_id = l.bill_id
       where p.business_day >= b.due_on or p.business_day >= $1`,
      [today],
    );
    expect(late[0].n).toBe(0);
    // The ledger balances overall, and each account's check is clean.
    const { rows: totals } = await t.pool.query(
      `select sum(debit_fen)::text as d, sum(credit_fen)::text as c from ledger_line`,
    );
    expect(totals[0].d).toBe(totals[0].c);
    const { rows: accounts } = await t.pool.query('select distinct account_id from payment limit 20');
    for (const a of accounts) expect(await accountLedgerProblems(t.db, Number(a.account_id))).toEqual([]);
    expect(await seedDemoPayments(t.db, today)).toBe(0);
  });
});
