import { todayInChina } from '@meterline/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invalidateSettings } from '../platform/settings.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { accrueLateFees, LateFeeScheduler, lateFeesCommand } from './lateFees.ts';

/**
 * Late fees (docs/billing.md "Late fees and other charges"): the daily run over bills inserted
 * here directly (so the test does not depend on the bill engine), its idempotence and catch-up,
 * the grace, the cap, cancelled and paid bills, resuming a run, waivers and what the bills list shows.
 */

let t: TestApp;
let accountsA: number[];
let accountB: number;
let seq = 0;

async function insertBill(opts: {
  accountId: number;
  amountFen: number;
  dueOn: string;
  status?: 'open' | 'cancelled';
  kind?: 'consumption' | 'other';
  paidFen?: number;
}): Promise<number> {
  seq += 1;
  const bill = await t.db
    .insertInto('bill')
    .values({
      account_id: opts.accountId,
      bill_no: `LF-${String(seq).padStart(8, '0')}`,
      kind: opts.kind ?? 'consumption',
      meter_id: null,
      reading_id: null,
      run_id: null,
      usage_type_code: null,
      period: opts.dueOn.slice(0, 7),
      period_from: opts.dueOn,
      period_to: opts.dueOn,
      start_index: null,
      end_index: null,
      amount_fen: opts.amountFen,
      block_year: null,
      block_used_before_m3: null,
      block_used_after_m3: null,
      due_on: opts.dueOn,
      status: opts.status ?? 'open',
      replaces_bill_id: null,
      cancelled_at: null,
      cancelled_by: null,
      created_by: null,
    })
    .returning('bill_id')
    .executeTakeFirstOrThrow();
  if (opts.paidFen)
    await sql`update bill set paid_fen = ${opts.paidFen} where account_id = ${opts.accountId} and bill_id = ${bill.bill_id}`.execute(
      t.db,
    );
  return bill.bill_id;
}

async function feeOf(accountId: number, billId: number) {
  return t.db
    .selectFrom('late_fee')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('bill_id', '=', billId)
    .executeTakeFirst();
}

beforeAll(async () => {
  t = await createTestApp({ customers: 60 });
  const accountsOf = async (code: string) =>
    (
      await sql<{ account_id: number }>`
        select c.account_id from customer c join office o on o.office_id = c.office_id
        where o.code = ${code} order by c.account_id`.execute(t.db)
    ).rows.map((r) => Number(r.account_id));
  accountsA = await accountsOf('0101');
  accountB = (await accountsOf('0102'))[0]!;
  expect(accountsA.length).toBeGreaterThanOrEqual(6);
  expect(accountB).toBeTruthy();
});

afterAll(async () => {
  await t?.close();
});

describe('the daily late-fee run', () => {
  let plain: number;
  let cancelled: number;
  let paid: number;
  let partPaid: number;
  let other: number;
  let old: number;

  beforeAll(async () => {
    plain = await insertBill({ accountId: accountsA[0]!, amountFen: 10_000, dueOn: '2026-10-01' });
    cancelled = await insertBill({
      accountId: accountsA[1]!,
      amountFen: 10_000,
      dueOn: '2026-10-01',
      status: 'cancelled',
    });
    paid = await insertBill({
      accountId: accountsA[2]!,
      amountFen: 10_000,
      dueOn: '2026-10-01',
      paidFen: 10_000,
    });
    partPaid = await insertBill({
      accountId: accountsA[3]!,
      amountFen: 10_000,
      dueOn: '2026-10-01',
      paidFen: 5_000,
    });
    other = await insertBill({
      accountId: accountsA[4]!,
      amountFen: 10_000,
      dueOn: '2026-10-01',
      kind: 'other',
    });
    // Due almost two years before: 3‰ × 600+ days is far above the principal.
    old = await insertBill({ accountId: accountsA[5]!, amountFen: 1_000, dueOn: '2025-01-01' });
  });

  it('charges unpaid × 3‰ × days after the due date, on the unpaid remainder', async () => {
    const { run, ran } = await accrueLateFees(t.db, '2026-10-11', { via: 'cli' });
    expect(ran).toBe(true);
    expect(run.status).toBe('done');
    const fee = await feeOf(accountsA[0]!, plain);
    expect(fee).toMatchObject({
      days: 10,
      accrued_fen: 300,
      accrued_through: '2026-10-11',
      principal_fen: 10_000,
    });
    expect(await feeOf(accountsA[3]!, partPaid)).toMatchObject({ accrued_fen: 150, principal_fen: 5_000 });
  });

  it('never goes above the cap (the principal by default)', async () => {
    expect(await feeOf(accountsA[5]!, old)).toMatchObject({ accrued_fen: 1_000 });
  });

  it('skips cancelled bills, paid bills and other charges', async () => {
    expect(await feeOf(accountsA[1]!, cancelled)).toBeUndefined();
    expect(await feeOf(accountsA[2]!, paid)).toBeUndefined();
    expect(await feeOf(accountsA[4]!, other)).toBeUndefined();
  });

  it('records the run with its counts and totals', async () => {
    const run = await t.db
      .selectFrom('late_fee_run')
      .selectAll()
      .where('run_date', '=', '2026-10-11')
      .executeTakeFirstOrThrow();
    expect(run).toMatchObject({ status: 'done', bills_examined: 3, bills_charged: 3, via: 'cli' });
    expect(Number(run.accrued_fen)).toBe(300 + 150 + 1_000);
    expect(Number(run.accrued_delta_fen)).toBe(300 + 150 + 1_000);
    const audited = await t.db
      .selectFrom('audit_log')
      .select('action')
      .where('entity_type', '=', 'late_fee_run')
      .where('entity_id', '=', String(run.run_id))
      .execute();
    expect(audited.map((a) => a.action).sort()).toEqual(['late_fee_run_done', 'late_fee_run_start']);
  });

  it('changes nothing when the same day runs again', async () => {
    const before = await t.db.selectFrom('late_fee').selectAll().orderBy('bill_id').execute();
    const { ran, run } = await accrueLateFees(t.db, '2026-10-11');
    expect(ran).toBe(false);
    expect(run.status).toBe('done');
    expect(await t.db.selectFrom('late_fee').selectAll().orderBy('bill_id').execute()).toEqual(before);
    // Even recomputing the day from scratch (its run record gone) stores the same fees.
    await t.db.deleteFrom('late_fee_run').where('run_date', '=', '2026-10-11').execute();
    const again = await accrueLateFees(t.db, '2026-10-11');
    expect(again.ran).toBe(true);
    expect(Number(again.run.accrued_delta_fen)).toBe(0);
    const after = await t.db
      .selectFrom('late_fee')
      .select(['bill_id', 'accrued_fen', 'days'])
      .orderBy('bill_id')
      .execute();
    expect(after).toEqual(
      before.map((b) => ({ bill_id: b.bill_id, accrued_fen: b.accrued_fen, days: b.days })),
    );
  });

  it('catches up after skipped days: the fee comes from the dates', async () => {
    const { run } = await accrueLateFees(t.db, '2026-10-21');
    expect(await feeOf(accountsA[0]!, plain)).toMatchObject({ days: 20, accrued_fen: 600 });
    expect(Number(run.accrued_delta_fen)).toBe(300 + 150);
  });

  it('respects the grace set for new bills and keeps the terms a bill started with', async () => {
    await t.db
      .insertInto('setting')
      .values({
        key: 'lateFee.graceDays',
        effective_from: '2026-10-20',
        value: JSON.stringify(5),
        updated_by: null,
      })
      .execute();
    invalidateSettings();
    const graced = await insertBill({ accountId: accountsA[0]!, amountFen: 10_000, dueOn: '2026-10-20' });
    await accrueLateFees(t.db, '2026-10-25');
    expect(await feeOf(accountsA[0]!, graced)).toBeUndefined();
    await accrueLateFees(t.db, '2026-10-27');
    expect(await feeOf(accountsA[0]!, graced)).toMatchObject({ days: 2, accrued_fen: 60, grace_days: 5 });
    // The bill that started accruing with no grace keeps counting from its due date.
    expect(await feeOf(accountsA[0]!, plain)).toMatchObject({ days: 26, accrued_fen: 780, grace_days: 0 });
    await t.db.deleteFrom('setting').where('key', '=', 'lateFee.graceDays').execute();
    invalidateSettings();
  });

  it('resumes a run that stopped part-way, with neither gaps nor double counts', async () => {
    await expect(
      accrueLateFees(t.db, '2026-10-31', {
        chunkBills: 2,
        afterChunk: (n) => {
          if (n === 1) throw new Error('crash after the first chunk');
        },
      }),
    ).rejects.toThrow('crash');
    const failed = await t.db
      .selectFrom('late_fee_run')
      .selectAll()
      .where('run_date', '=', '2026-10-31')
      .executeTakeFirstOrThrow();
    expect(failed.status).toBe('failed');
    expect(failed.bills_examined).toBe(2);
    const { run } = await accrueLateFees(t.db, '2026-10-31', { chunkBills: 2 });
    expect(run.status).toBe('done');
    expect(run.bills_examined).toBe(4);
    expect(await feeOf(accountsA[0]!, plain)).toMatchObject({ days: 30, accrued_fen: 900 });
  });
});

describe('waivers', () => {
  let billId: number;
  const accountId = () => accountsA[6] ?? accountsA[0]!;
  const url = () => `/api/customers/${accountId()}/bills/${billId}/late-fee/waive`;

  beforeAll(async () => {
    billId = await insertBill({ accountId: accountId(), amountFen: 20_000, dueOn: '2026-11-01' });
    await accrueLateFees(t.db, '2026-11-11');
    expect(await feeOf(accountId(), billId)).toMatchObject({ accrued_fen: 600 });
  });

  it('refuses clerks, other offices, more than owed and no reason, field by field in zh-CN', async () => {
    const clerk = await t.as('clerk')({
      method: 'POST',
      url: url(),
      payload: { amountFen: 100, reason: 'x' },
    });
    expect(clerk.statusCode).toBe(403);
    const other = await t.as('manager2')({
      method: 'POST',
      url: url(),
      payload: { amountFen: 100, reason: 'x' },
    });
    expect(other.statusCode).toBe(404);
    const bad = await t.as('manager')({
      method: 'POST',
      url: url(),
      payload: { amountFen: 601, reason: ' ' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields).toEqual([
      { path: 'amountFen', code: 'WAIVER_ABOVE_OWED', message: '减免金额不能超过应收滞纳金 600 分' },
      { path: 'reason', code: 'WAIVER_REASON', message: '请填写减免原因' },
    ]);
  });

  it('waives part of the fee, audited; later runs keep accruing but the waiver stands', async () => {
    const res = await t.as('manager')({
      method: 'POST',
      url: url(),
      payload: { amountFen: 200, reason: '低保户困难减免' },
      headers: { 'idempotency-key': 'waive-0001' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ accruedFen: 600, waivedFen: 200, owedFen: 400 });
    const audit = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'late_fee_waive')
      .executeTakeFirstOrThrow();
    expect(audit.account_id).toBe(accountId());
    expect(audit.before).toMatchObject({ waived_fen: 0 });
    expect(audit.after).toMatchObject({ waived_fen: 200, reason: '低保户困难减免' });
    // A retry with the same key waives nothing more.
    const retry = await t.as('manager')({
      method: 'POST',
      url: url(),
      payload: { amountFen: 200, reason: '低保户困难减免' },
      headers: { 'idempotency-key': 'waive-0001' },
    });
    expect(retry.json()).toMatchObject({ waivedFen: 200 });
    await accrueLateFees(t.db, '2026-11-21');
    expect(await feeOf(accountId(), billId)).toMatchObject({ accrued_fen: 1_200, waived_fen: 200 });
  });

  it('waives the rest and stops the accrual', async () => {
    const res = await t.as('manager')({
      method: 'POST',
      url: url(),
      payload: { reason: '经理审批免收', stopAccrual: true },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ waivedFen: 1_200, owedFen: 0, accrualStopped: true });
    await accrueLateFees(t.db, '2026-12-01');
    expect(await feeOf(accountId(), billId)).toMatchObject({ accrued_fen: 1_200, waived_fen: 1_200 });
    const nothing = await t.as('manager')({ method: 'POST', url: url(), payload: { reason: 'again' } });
    expect(nothing.statusCode).toBe(400);
    expect(nothing.json().error.fields[0].code).toBe('WAIVER_NOTHING_OWED');
  });
});

describe('what the back office sees', () => {
  it('the bills list shows each bill’s late fee owed and unpaid remainder', async () => {
    const res = await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountsA[3]}/bills` });
    expect(res.statusCode, res.body).toBe(200);
    const bill = res.json().items[0];
    expect(bill).toMatchObject({ amountFen: 10_000, paidFen: 5_000, unpaidFen: 5_000 });
    expect(bill.lateFeeFen).toBeGreaterThan(0);
    expect(bill.lateFeeDays).toBe(61);
  });

  it('the list and summary are scoped to the caller’s offices, with ageing buckets', async () => {
    await insertBill({ accountId: accountB, amountFen: 10_000, dueOn: '2026-11-01' });
    await accrueLateFees(t.db, '2026-12-02');
    const mine = await t.as('manager')({ method: 'GET', url: '/api/late-fees' });
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json().items.every((i: { accountId: number }) => i.accountId !== accountB)).toBe(true);
    const theirs = await t.as('manager2')({ method: 'GET', url: '/api/late-fees' });
    expect(theirs.json().items.map((i: { accountId: number }) => i.accountId)).toEqual([accountB]);
    const summary = await t.as('manager')({ method: 'GET', url: '/api/late-fees/summary' });
    expect(summary.statusCode, summary.body).toBe(200);
    const s = summary.json();
    expect(s.ageing).toHaveLength(5);
    expect(s.ageing.reduce((n: number, b: { owedFen: number }) => n + b.owedFen, 0)).toBe(s.totals.owedFen);
    expect(s.totals.owedFen).toBe(
      mine.json().items.reduce((n: number, i: { owedFen: number }) => n + i.owedFen, 0),
    );
    expect(s.runs[0].runDate).toBe('2026-12-02');
    expect(s.settings.ratePerDay).toBe(0.003);
  });

  it('organisation-wide billing.run holders run a day from the page; others may not', async () => {
    const denied = await t.as('clerk')({ method: 'POST', url: '/api/late-fees/runs', payload: {} });
    expect(denied.statusCode).toBe(403);
    // One run covers every office, so an office manager cannot start it.
    const office = await t.as('manager')({ method: 'POST', url: '/api/late-fees/runs', payload: {} });
    expect(office.statusCode).toBe(403);
    const res = await t.as('finance')({
      method: 'POST',
      url: '/api/late-fees/runs',
      payload: { asOf: '2026-11-22' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ runDate: '2026-11-22', status: 'done', ran: true });
    const future = await t.as('finance')({
      method: 'POST',
      url: '/api/late-fees/runs',
      payload: { asOf: '2099-01-01' },
    });
    expect(future.statusCode).toBe(400);
    expect(future.json().error.fields[0].path).toBe('asOf');
    const again = await t.as('finance')({
      method: 'POST',
      url: '/api/late-fees/runs',
      payload: { asOf: '2026-11-22' },
    });
    expect(again.json()).toMatchObject({ ran: false });
  });

  it('the command line refuses a bad date and runs a day', async () => {
    let printed = '';
    const out = {
      write: (s: string) => {
        printed += s;
      },
    };
    expect(await lateFeesCommand(t.db, { asOf: '2026-13-01' }, out)).toBe(2);
    expect(await lateFeesCommand(t.db, { asOf: '2026-11-19' }, out)).toBe(0);
    expect(printed).toContain('late-fee run');
    expect(printed).toContain('2026-11-19');
  });
});

describe('the server’s daily schedule', () => {
  it('runs today once, and leaves a done day alone', async () => {
    // (Dates above are fixed; today may be one of them.)
    await t.db.deleteFrom('late_fee_run').where('run_date', '=', todayInChina()).execute();
    const logged: string[] = [];
    const scheduler = new LateFeeScheduler(t.db, (msg) => logged.push(msg));
    await scheduler.tick();
    await scheduler.tick();
    await scheduler.stop();
    const runs = await t.db
      .selectFrom('late_fee_run')
      .select(['status', 'via'])
      .where('run_date', '=', todayInChina())
      .execute();
    expect(runs).toEqual([{ status: 'done', via: 'server' }]);
    expect(logged.filter((m) => m.startsWith(`late fees of ${todayInChina()}`))).toHaveLength(1);
  });
});
