import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoPrepaid } from '../seed/prepaid.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import {
  chinaMonth,
  deductPrepaid,
  PREPAID_LOW_TEMPLATE,
  prepaidDeductCommand,
  prepaidDeductionDue,
  smsSendTime,
  systemContext,
} from './prepaid.ts';

/**
 * Prepaid IC-card accounts (docs/billing.md "Prepaid IC-card accounts"): loads with idempotency,
 * the deduction job (once per bill, run twice or at once), reversal of a cancelled bill's deduction,
 * the low-balance SMS once a month, the statement's running balance and office scope. Bills are
 * inserted directly, so these tests do not depend on the bill engine.
 */

let t: TestApp;
let officeA: number;
/** IC-card customers of office A (0101) and B (0102), and a customer of A without one. */
let icA: { account_id: number; meter_id: number };
let icA2: { account_id: number; meter_id: number };
let icB: { account_id: number; meter_id: number };
let plainA: { account_id: number; meter_id: number };
let billSeq = 0;
const MONTH = chinaMonth();

async function insertBill(
  meter: { account_id: number; meter_id: number },
  amountFen: number,
  period = MONTH,
): Promise<number> {
  billSeq += 1;
  const row = await t.db
    .insertInto('bill')
    .values({
      account_id: meter.account_id,
      bill_no: `${period.replace('-', '')}-P${String(billSeq).padStart(7, '0')}`,
      meter_id: meter.meter_id,
      reading_id: null,
      run_id: null,
      usage_type_code: 'G_RES',
      period,
      period_from: `${period}-01`,
      period_to: `${period}-08`,
      consumption_m3: '18.500',
      payable_m3: '18.500',
      amount_fen: amountFen,
      due_on: `${period}-28`,
      created_by: null,
    })
    .returning('bill_id')
    .executeTakeFirstOrThrow();
  return row.bill_id;
}

const load = (user: string, accountId: number, amountFen: number, key: string, channel = 'cash') =>
  t.as(user)({
    method: 'POST',
    url: `/api/customers/${accountId}/prepaid/loads`,
    payload: { amountFen, channel },
    headers: { 'idempotency-key': key },
  });

const statement = async (accountId: number, user = 'clerk') => {
  const res = await t.as(user)({ method: 'GET', url: `/api/customers/${accountId}/prepaid` });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

const sumOfEntries = async (accountId: number) =>
  Number(
    (
      await sql<{ s: number }>`select coalesce(sum(amount_fen), 0)::int8 as s from prepaid_entry
        where account_id = ${accountId}`.execute(t.db)
    ).rows[0]!.s,
  );

beforeAll(async () => {
  t = await createTestApp({ customers: 40 });
  const offices = await t.db.selectFrom('office').select(['office_id', 'code']).execute();
  officeA = offices.find((o) => o.code === '0101')!.office_id;
  const officeB = offices.find((o) => o.code === '0102')!.office_id;
  // Known IC-card flags: the first two meters of A and the first of B carry a card, the rest none.
  const metersOf = async (office: number) =>
    (
      await sql<{ account_id: number; meter_id: number }>`
        select m.account_id, m.meter_id from meter m join customer c on c.account_id = m.account_id
        where c.office_id = ${office} and m.state = 'in_service' and c.state = 'active'
        order by m.account_id, m.meter_id`.execute(t.db)
    ).rows;
  const a = await metersOf(officeA);
  const b = await metersOf(officeB);
  await sql`update meter set ic_card = false, ic_card_no = ''`.execute(t.db);
  [icA, icA2, plainA] = [a[0]!, a.find((m) => m.account_id !== a[0]!.account_id)!, a.at(-1)!];
  icB = b[0]!;
  for (const m of [icA, icA2, icB])
    await sql`update meter set ic_card = true, ic_card_no = ${`IC${m.account_id}`}
              where account_id = ${m.account_id} and meter_id = ${m.meter_id}`.execute(t.db);
  // A mobile for the low-balance SMS (icA), none for icA2.
  await sql`delete from contact where account_id in (${icA.account_id}, ${icA2.account_id})`.execute(t.db);
  await t.db
    .insertInto('contact')
    .values({ account_id: icA.account_id, name: '王伟', phone: '13800138000', is_primary: true })
    .execute();
});

afterAll(async () => {
  await t?.close();
});

describe('loads', () => {
  it('loads money once per Idempotency-Key, audited; a retry returns the first load', async () => {
    const first = await load('clerk', icA.account_id, 10_000, 'load-test-0001');
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({
      amountFen: 10_000,
      balanceFen: 10_000,
      cardNo: `IC${icA.account_id}`,
    });
    const retry = await load('clerk', icA.account_id, 10_000, 'load-test-0001');
    expect(retry.statusCode, retry.body).toBe(201);
    expect(retry.headers['idempotent-replay']).toBe('true');
    expect(retry.json().entryId).toBe(first.json().entryId);
    expect(await sumOfEntries(icA.account_id)).toBe(10_000);
    const audits = await t.db
      .selectFrom('audit_log')
      .select(['action', 'account_id', 'office_id', 'after'])
      .where('entity_type', '=', 'prepaid_entry')
      .execute();
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      action: 'prepaid_load',
      account_id: icA.account_id,
      office_id: officeA,
    });
  });

  it('refuses the same key with another amount, and a load without a key', async () => {
    const conflicting = await load('clerk', icA.account_id, 20_000, 'load-test-0001');
    expect(conflicting.statusCode).toBe(422);
    expect(conflicting.json().error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const noKey = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${icA.account_id}/prepaid/loads`,
      payload: { amountFen: 100, channel: 'cash' },
    });
    expect(noKey.statusCode).toBe(400);
    expect(noKey.json().error.fields[0].path).toBe('Idempotency-Key');
    expect(await sumOfEntries(icA.account_id)).toBe(10_000);
  });

  it('the same key from another session on the same account is the same load', async () => {
    const other = await load('manager', icA.account_id, 10_000, 'load-test-0001');
    expect(other.statusCode, other.body).toBe(201);
    expect(await sumOfEntries(icA.account_id)).toBe(10_000);
  });

  it('refuses zero, fractions and more than the limit on the amount field, in the caller’s language', async () => {
    const zero = await load('clerk', icA.account_id, 0, 'load-test-zero');
    expect(zero.statusCode).toBe(400);
    expect(zero.json().error.fields).toEqual([
      { path: 'amountFen', code: 'AMOUNT_NOT_POSITIVE', message: '充值金额必须大于 0' },
    ]);
    const fraction = await load('clerk', icA.account_id, 10.5, 'load-test-frac');
    expect(fraction.json().error.fields[0].code).toBe('AMOUNT_NOT_WHOLE_FEN');
    const tooMuchSigned = await load('clerk', icA.account_id, 1_000_001, 'load-test-max2');
    expect(tooMuchSigned.json().error.fields[0]).toMatchObject({
      path: 'amountFen',
      code: 'AMOUNT_ABOVE_MAX',
      message: '单次充值不能超过 10000.00 元',
    });
    expect(await sumOfEntries(icA.account_id)).toBe(10_000);
  });

  it('refuses a customer without an IC-card meter with a field error', async () => {
    const res = await load('clerk', plainA.account_id, 5_000, 'load-test-plain');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.fields[0]).toMatchObject({ path: 'cardNo', code: 'NOT_IC_CARD' });
    expect(await sumOfEntries(plainA.account_id)).toBe(0);
  });

  it('is scoped: a clerk of another office cannot load or read, a reader cannot load', async () => {
    const other = await load('clerk2', icA.account_id, 5_000, 'load-test-scope');
    expect(other.statusCode).toBe(404);
    const read = await t.as('clerk2')({ method: 'GET', url: `/api/customers/${icA.account_id}/prepaid` });
    expect(read.statusCode).toBe(404);
    const reader = await load('reader', icA.account_id, 5_000, 'load-test-reader');
    expect(reader.statusCode).toBe(403);
    expect(await sumOfEntries(icA.account_id)).toBe(10_000);
  });
});

describe('the deduction job', () => {
  let billA: number;
  let billA2: number;
  let billB: number;

  beforeAll(async () => {
    billA = await insertBill(icA, 7_585);
    billA2 = await insertBill(icA2, 3_000);
    billB = await insertBill(icB, 4_400);
    // Not deducted: a bill of a meter without a card, a cancelled bill, next month's bill.
    await insertBill(plainA, 9_999);
    const cancelled = await insertBill(icA2, 1_234);
    await sql`update bill set status = 'cancelled' where bill_id = ${cancelled}`.execute(t.db);
  });

  it('a manager’s run deducts the bills of their office once, whole, even below zero', async () => {
    const res = await t.as('manager')({ method: 'POST', url: '/api/prepaid/deductions', payload: {} });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ deducted: 2, deductedFen: 7_585 + 3_000, reversed: 0 });
    const entries = await t.db
      .selectFrom('prepaid_entry')
      .select(['account_id', 'bill_id', 'amount_fen'])
      .where('kind', '=', 'deduction')
      .orderBy('bill_id')
      .execute();
    expect(entries).toEqual([
      { account_id: icA.account_id, bill_id: billA, amount_fen: -7_585 },
      { account_id: icA2.account_id, bill_id: billA2, amount_fen: -3_000 },
    ]);
    // Paid from the prepayment: no late fee accrues on them (amount_fen − paid_fen = 0).
    const { rows: paid } = await sql<{ bill_id: number; paid_fen: number }>`
      select bill_id, paid_fen from bill where bill_id in (${billA}, ${billA2}, ${billB}) order by bill_id`.execute(
      t.db,
    );
    expect(paid.map((b) => [b.bill_id, Number(b.paid_fen)])).toEqual([
      [billA, 7_585],
      [billA2, 3_000],
      [billB, 0],
    ]);
    // Office B's bill waits for someone covering office B.
    expect(entries.some((e) => e.bill_id === billB)).toBe(false);
    expect(await sumOfEntries(icA2.account_id)).toBe(-3_000);
  });

  it('running again, or twice at once, posts nothing more', async () => {
    const ctx = systemContext('test');
    const [x, y] = await Promise.all([
      deductPrepaid(t.db, { officeIds: null, ctx }),
      deductPrepaid(t.db, { officeIds: null, ctx }),
    ]);
    // Office B's bill is deducted by exactly one of the two.
    expect(x.deducted + y.deducted).toBe(1);
    const again = await deductPrepaid(t.db, { officeIds: null, ctx });
    expect(again.deducted).toBe(0);
    const { rows } = await sql<{ n: number; bills: number }>`
      select count(*)::int as n, count(distinct (account_id, bill_id))::int as bills
      from prepaid_entry where kind = 'deduction'`.execute(t.db);
    expect(rows[0]).toEqual({ n: 3, bills: 3 });
  });

  it('sends one low-balance SMS a month to an account with a mobile left below the threshold', async () => {
    // icA: 100.00 loaded, 75.85 deducted: 24.15 left, below 50.00.
    const sms = await t.db
      .selectFrom('outbox_message')
      .selectAll()
      .where('template', '=', PREPAID_LOW_TEMPLATE)
      .where('account_id', '=', icA.account_id)
      .execute();
    expect(sms).toHaveLength(1);
    expect(sms[0]).toMatchObject({
      account_id: icA.account_id,
      recipient: '13800138000',
      dedupe_key: `prepaid_low:${MONTH}`,
    });
    expect(sms[0]!.body).toContain('余额24.15元');
    // icA2 is below the threshold too (-30.00) but has no mobile: no SMS.
    const none = await t.db
      .selectFrom('outbox_message')
      .select('message_id')
      .where('account_id', '=', icA2.account_id)
      .execute();
    expect(none).toEqual([]);
    // Another bill this month: deducted, but no second notice this month.
    await insertBill(icA, 500);
    const more = await deductPrepaid(t.db, { officeIds: null, ctx: systemContext('test') });
    expect(more).toMatchObject({ deducted: 1, lowBalanceSms: 0 });
    // Next month, a new notice.
    await insertBill(icA, 100);
    const nextMonth = new Date(Date.now() + 40 * 24 * 3600_000);
    const later = await deductPrepaid(t.db, {
      officeIds: null,
      ctx: systemContext('test'),
      upTo: chinaMonth(nextMonth),
      now: nextMonth,
    });
    expect(later).toMatchObject({ deducted: 1, lowBalanceSms: 1 });
    const keys = await t.db
      .selectFrom('outbox_message')
      .select('dedupe_key')
      .where('template', '=', PREPAID_LOW_TEMPLATE)
      .where('account_id', '=', icA.account_id)
      .orderBy('message_id')
      .execute();
    expect(keys.map((k) => k.dedupe_key)).toEqual([
      `prepaid_low:${MONTH}`,
      `prepaid_low:${chinaMonth(nextMonth)}`,
    ]);
  });

  it('gives a cancelled bill’s deduction back once', async () => {
    await sql`update bill set status = 'cancelled', cancel_reason = 'test' where bill_id = ${billA2}`.execute(
      t.db,
    );
    const first = await deductPrepaid(t.db, { officeIds: null, ctx: systemContext('test') });
    expect(first).toMatchObject({ reversed: 1, reversedFen: 3_000 });
    const second = await deductPrepaid(t.db, { officeIds: null, ctx: systemContext('test') });
    expect(second.reversed).toBe(0);
    expect(await sumOfEntries(icA2.account_id)).toBe(0);
    const body = await statement(icA2.account_id);
    expect(body.lines.map((l: { kind: string }) => l.kind)).toEqual(['deduction', 'reversal']);
    expect(body.lines[1].bill.billId).toBe(billA2);
    expect(body.lines[1].bill.status).toBe('cancelled');
  });

  it('readers and clerks cannot run it', async () => {
    for (const user of ['reader', 'clerk']) {
      const res = await t.as(user)({ method: 'POST', url: '/api/prepaid/deductions', payload: {} });
      expect(res.statusCode).toBe(403);
    }
    const out = await t.as('manager')({
      method: 'POST',
      url: '/api/prepaid/deductions',
      payload: {
        officeId: (
          await t.db
            .selectFrom('office')
            .select('office_id')
            .where('code', '=', '0102')
            .executeTakeFirstOrThrow()
        ).office_id,
      },
    });
    expect(out.statusCode).toBe(403);
  });
});

describe('resuming', () => {
  it('a job stopped after a chunk keeps that chunk; the next run posts the rest, each bill once', async () => {
    const bills = [await insertBill(icA, 111), await insertBill(icA2, 222), await insertBill(icB, 333)];
    const deducted = async () =>
      (
        await sql<{ bill_id: number }>`select bill_id from prepaid_entry
          where kind = 'deduction' and bill_id = any(${bills}::bigint[]) order by bill_id`.execute(t.db)
      ).rows.map((r) => r.bill_id);
    const ctx = systemContext('test');
    const crash = deductPrepaid(t.db, {
      officeIds: null,
      ctx,
      chunkAccounts: 1,
      onChunk: (soFar) => {
        if (soFar.deducted > 0) throw new Error('killed');
      },
    });
    await expect(crash).rejects.toThrow('killed');
    expect(await deducted()).toHaveLength(1);
    const rest = await deductPrepaid(t.db, { officeIds: null, ctx, chunkAccounts: 1 });
    expect(rest.deducted).toBe(2);
    expect(await deducted()).toEqual([...bills].sort((a, b) => a - b));
  });
});

describe('the statement and the summary', () => {
  it('shows every entry with a running balance equal to the sum of the entries', async () => {
    const body = await statement(icA.account_id);
    expect(body.prepaid).toBe(true);
    expect(body.lines.map((l: { kind: string; amountFen: number }) => [l.kind, l.amountFen])).toEqual([
      ['load', 10_000],
      ['deduction', -7_585],
      ['deduction', -500],
      ['deduction', -100],
      ['deduction', -111],
    ]);
    let running = 0;
    for (const line of body.lines) {
      running += line.amountFen;
      expect(line.balanceAfterFen).toBe(running);
    }
    expect(body.balanceFen).toBe(await sumOfEntries(icA.account_id));
    expect(body.balanceFen).toBe(1_704);
    expect(body.low).toBe(true);
    expect(body.arrearsFen).toBe(0);
    expect(body.lines[1].bill).toMatchObject({ payableM3: '18.500', amountFen: 7_585, period: MONTH });
    expect(body.lines[0].createdBy).toBe('王丽');
  });

  it('summarises loads, revenue and closing balance by office for finance', async () => {
    const res = await t.as('finance')({ method: 'GET', url: `/api/prepaid/summary?month=${MONTH}` });
    expect(res.statusCode, res.body).toBe(200);
    const s = res.json();
    const { rows } = await sql<{ loads: number; revenue: number; closing: number }>`
      select coalesce(sum(amount_fen) filter (where kind = 'load'), 0)::int8 as loads,
             coalesce(-sum(amount_fen) filter (where kind <> 'load'), 0)::int8 as revenue,
             coalesce(sum(amount_fen), 0)::int8 as closing
      from prepaid_entry where created_at < now()`.execute(t.db);
    // Next month's test deduction was posted now too, so this month holds every entry.
    expect(s.totals).toMatchObject({
      loadsFen: Number(rows[0]!.loads),
      revenueFen: Number(rows[0]!.revenue),
      closingFen: Number(rows[0]!.closing),
    });
    expect(s.trend).toHaveLength(12);
    expect(s.trend.at(-1).closingFen).toBe(s.totals.closingFen);
    expect(s.byOffice.reduce((n: number, o: { closingFen: number }) => n + o.closingFen, 0)).toBe(
      s.totals.closingFen,
    );
    // A clerk holds billing.adjust but sees only office A.
    const clerk = await t.as('clerk')({ method: 'GET', url: `/api/prepaid/summary?month=${MONTH}` });
    expect(clerk.statusCode).toBe(200);
    expect(clerk.json().byOffice.map((o: { officeId: number }) => o.officeId)).toEqual([officeA]);
    const reader = await t.as('reader')({ method: 'GET', url: `/api/prepaid/summary?month=${MONTH}` });
    expect(reader.statusCode).toBe(403);
  });
});

describe('SMS time', () => {
  it('sends in the day and holds a late decision until the next morning (China time)', () => {
    const noon = new Date('2026-11-23T04:00:00Z'); // 12:00 China
    expect(smsSendTime(noon)).toEqual(noon);
    expect(smsSendTime(new Date('2026-11-23T14:00:00Z')).toISOString()).toBe('2026-11-24T01:00:00.000Z');
    expect(smsSendTime(new Date('2026-11-22T19:00:00Z')).toISOString()).toBe('2026-11-23T01:00:00.000Z');
  });
});

describe('the daily timer, the command line and the demo loads', () => {
  it('is due once a day from prepaid.deductAt, China time', () => {
    const at0330 = new Date('2026-11-22T19:30:00Z'); // 03:30 on 23 November in China
    const at0230 = new Date('2026-11-22T18:30:00Z');
    expect(prepaidDeductionDue(at0330, '03:00', null)).toBe(true);
    expect(prepaidDeductionDue(at0230, '03:00', null)).toBe(false);
    expect(prepaidDeductionDue(at0330, '03:00', '2026-11-23')).toBe(false);
    expect(prepaidDeductionDue(at0330, '03:00', '2026-11-22')).toBe(true);
    // Not a time of day: the default (03:00) holds.
    expect(prepaidDeductionDue(at0330, 'soon', null)).toBe(true);
    expect(prepaidDeductionDue(at0230, 'soon', null)).toBe(false);
  });

  it('meterline prepaid-deduct deducts an office’s new bills and refuses a bad office', async () => {
    const bill = await insertBill(icB, 250);
    const out: string[] = [];
    expect(await prepaidDeductCommand(t.db, { office: '0199' }, (x) => out.push(x))).toBe(2);
    expect(await prepaidDeductCommand(t.db, { upTo: '2026-13' }, (x) => out.push(x))).toBe(2);
    expect(await prepaidDeductCommand(t.db, { office: '0101' }, (x) => out.push(x))).toBe(0);
    expect(out.at(-1)).toMatch(/0 deductions/);
    expect(await prepaidDeductCommand(t.db, { office: '0102' }, (x) => out.push(x))).toBe(0);
    expect(out.at(-1)).toMatch(/1 deductions \(2\.50 yuan\)/);
    const entry = await t.db
      .selectFrom('prepaid_entry')
      .select('amount_fen')
      .where('account_id', '=', icB.account_id)
      .where('bill_id', '=', bill)
      .executeTakeFirstOrThrow();
    expect(entry.amount_fen).toBe(-250);
  });

  it('the demo seed loads every IC-card account, once', async () => {
    // Entries exist already: the seed adds nothing to a database in use.
    expect(await seedDemoPrepaid(t.db)).toBe(0);
    await sql`delete from prepaid_entry`.execute(t.db);
    const added = await seedDemoPrepaid(t.db);
    expect(added).toBe(3 * 3);
    const { rows } = await sql<{ account_id: number; n: number; min: number }>`
      select account_id, count(*)::int as n, min(amount_fen)::int8 as min from prepaid_entry
      group by account_id order by account_id`.execute(t.db);
    expect(rows.map((r) => r.account_id).sort()).toEqual(
      [icA.account_id, icA2.account_id, icB.account_id].sort(),
    );
    expect(rows.every((r) => r.n === 3 && Number(r.min) >= 5000)).toBe(true);
    expect(await seedDemoPrepaid(t.db)).toBe(0);
  });
});
