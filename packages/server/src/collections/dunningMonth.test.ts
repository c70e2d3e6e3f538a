import { randomUUID } from 'node:crypto';
import { addDays } from '@meterline/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { runDunning } from './dunning.ts';

/**
 * A month simulated day by day over a seeded office (issue 6, "Tests"): bills read on various days,
 * customers paying at the counter on day +3, +10, +12, +20 after their reading or never, some with
 * no phone or only a landline; the daily run for each day (the date passed explicitly), a server
 * that was down two days, a run that crashes after one chunk, a day run twice. Every customer must
 * get exactly the messages the default policy (DOMAIN.md §6) says — D+1 notice, D+10 reminder if
 * unpaid, D+15 voice call if unpaid — on the right day, none after paying, none twice.
 */

let t: TestApp;

interface Sim {
  accountId: number;
  billId: number;
  readDay: string;
  /** Days after the reading the customer pays everything at the counter, or null: never. */
  payAfter: number | null;
  contact: 'mobile' | 'landline' | 'none';
  /** The bill engine already queued its day +1 notice. */
  engineNotice: boolean;
}

const sims: Sim[] = [];
const FIRST_DAY = '2026-11-01';
const LAST_DAY = '2026-12-10';
/** The server is down these days: no run; the next run catches up (dunning.catchUpDays = 3). */
const DOWN_DAYS = new Set(['2026-11-14', '2026-11-15']);
/** This day's run crashes after its first chunk and is run again. */
const CRASH_DAY = '2026-11-11';
const PAY_AFTER = [3, 10, 12, 20, null, null] as const;
const AMOUNT_FEN = 6_390;

beforeAll(async () => {
  t = await createTestApp({ customers: 120 });
  const { rows } = await sql<{ account_id: number }>`
    select c.account_id from customer c join office o on o.office_id = c.office_id
    where o.code = '0101' order by c.account_id limit 36`.execute(t.db);
  expect(rows.length).toBeGreaterThanOrEqual(24);
  for (const [i, r] of rows.entries()) {
    const accountId = Number(r.account_id);
    const readDay = addDays(FIRST_DAY, i % 12);
    const contact = i % 7 === 0 ? 'none' : i % 7 === 1 ? 'landline' : 'mobile';
    await sql`delete from contact where account_id = ${accountId}`.execute(t.db);
    if (contact !== 'none')
      await t.db
        .insertInto('contact')
        .values({
          account_id: accountId,
          phone:
            contact === 'mobile'
              ? `139${String(10_000_000 + i).padStart(8, '0')}`
              : `0571-8800${String(1000 + i)}`,
          is_primary: true,
        })
        .execute();
    // Nothing of the seed's own bills: the simulation owns the account's arrears.
    await sql`delete from bill where account_id = ${accountId}`.execute(t.db);
    const bill = await t.db
      .insertInto('bill')
      .values({
        account_id: accountId,
        bill_no: `DM-${String(i).padStart(6, '0')}`,
        kind: 'consumption',
        meter_id: null,
        reading_id: null,
        run_id: null,
        usage_type_code: null,
        period: readDay.slice(0, 7),
        period_from: addDays(readDay, -30),
        period_to: readDay,
        start_index: null,
        end_index: null,
        payable_m3: '18.000',
        amount_fen: AMOUNT_FEN,
        block_year: null,
        block_used_before_m3: null,
        block_used_after_m3: null,
        due_on: addDays(readDay, 30),
        replaces_bill_id: null,
        cancelled_at: null,
        cancelled_by: null,
        created_by: null,
      })
      .returning('bill_id')
      .executeTakeFirstOrThrow();
    const engineNotice = contact === 'mobile' && i % 4 === 0;
    if (engineNotice)
      await t.db
        .insertInto('outbox_message')
        .values({
          account_id: accountId,
          channel: 'sms',
          recipient: `139${String(10_000_000 + i).padStart(8, '0')}`,
          template: 'bill_notice',
          body: '（计费引擎的账单通知）',
          dedupe_key: `bill:${bill.bill_id}`,
          not_before: `${addDays(readDay, 1)}T09:00:00+08:00`,
          bill_id: bill.bill_id,
          stop_if_paid: true,
        })
        .execute();
    sims.push({
      accountId,
      billId: Number(bill.bill_id),
      readDay,
      payAfter: PAY_AFTER[i % PAY_AFTER.length]!,
      contact,
      engineNotice,
    });
  }
}, 120_000);

afterAll(async () => {
  await t?.close();
});

/** What the policy says, computed plainly: for each day the server is up, the steps of the window. */
function expected(): { key: string; day: string }[] {
  const steps = [
    { code: 'notice', offset: 1, channel: 'sms' },
    { code: 'reminder', offset: 10, channel: 'sms' },
    { code: 'voice', offset: 15, channel: 'voice' },
  ];
  const out: { key: string; day: string }[] = [];
  const sent = new Set<string>();
  let lastUp: string | null = null;
  for (let day = FIRST_DAY; day <= LAST_DAY; day = addDays(day, 1)) {
    if (DOWN_DAYS.has(day)) continue;
    // The day after the last run, at most 3 days back (dunning.catchUpDays); today on the first run.
    const from = lastUp === null ? day : [addDays(lastUp, 1), addDays(day, -3)].sort()[1]!;
    lastUp = day;
    for (const s of sims) {
      // The run comes before the day's payments: a customer paying today is still unpaid at the run.
      const paidBy = s.payAfter === null ? null : addDays(s.readDay, s.payAfter);
      if (paidBy !== null && paidBy < day) continue;
      for (const step of steps) {
        const stepDay = addDays(s.readDay, step.offset);
        if (stepDay < from || stepDay > day) continue;
        const key = `${s.accountId}/${step.code}`;
        if (sent.has(key)) continue;
        sent.add(key);
        const reachable = step.channel === 'sms' ? s.contact === 'mobile' : s.contact !== 'none';
        if (!reachable) out.push({ key: `${key}/exception`, day });
        // The engine's notice was queued at billing: the run adds nothing for it.
        else if (step.code === 'notice' && s.engineNotice) out.push({ key: `${key}/engine`, day: stepDay });
        else out.push({ key, day });
      }
    }
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

async function pay(accountId: number): Promise<void> {
  const res = await t.as('clerk')({
    method: 'POST',
    url: `/api/customers/${accountId}/payments`,
    payload: { channel: 'cash', amountFen: AMOUNT_FEN },
    headers: { 'idempotency-key': randomUUID() },
  });
  expect(res.statusCode, res.body).toBeLessThan(300);
}

describe('a month of daily dunning runs over a seeded office', () => {
  const runs: Record<string, { queued: number; ran: boolean }> = {};

  it('runs every day the server is up, then takes the day’s payments', async () => {
    for (let day = FIRST_DAY; day <= LAST_DAY; day = addDays(day, 1)) {
      if (!DOWN_DAYS.has(day)) {
        if (day === CRASH_DAY) {
          await expect(
            runDunning(t.db, day, {
              chunkBills: 2,
              afterChunk: (n) => {
                if (n === 1) throw new Error('simulated crash after the first chunk');
              },
            }),
          ).rejects.toThrow('simulated crash');
          const half = await t.db
            .selectFrom('dunning_run')
            .selectAll()
            .where('run_date', '=', day)
            .executeTakeFirstOrThrow();
          expect(half.status).toBe('failed');
          expect(half.chunks).toBe(1);
          expect(Number(half.cursor_account_id)).toBeGreaterThan(0);
        }
        const { run, ran } = await runDunning(t.db, day, { chunkBills: day === CRASH_DAY ? 2 : 7 });
        expect(run.status, day).toBe('done');
        expect(ran, day).toBe(true);
        runs[day] = { queued: run.messages_queued, ran };
        // Idempotent per day: asking again does nothing.
        const again = await runDunning(t.db, day);
        expect(again.ran, day).toBe(false);
        expect(again.run.run_id).toBe(run.run_id);
      }
      for (const s of sims)
        if (s.payAfter !== null && addDays(s.readDay, s.payAfter) === day) await pay(s.accountId);
    }
  }, 240_000);

  it('every customer got exactly the messages the policy says, on the right day', async () => {
    const { rows } = await sql<{
      account_id: number;
      dedupe_key: string;
      day: string;
      channel: string;
      body: string;
    }>`
      select account_id, dedupe_key, (not_before at time zone 'Asia/Shanghai')::date::text as day, channel, body
      from outbox_message where account_id = any(${sims.map((s) => s.accountId)}::int8[])`.execute(t.db);
    const stepOf = (key: string) => (key.startsWith('bill:') ? 'notice' : key.split(':')[1]!);
    const got = rows.map((r) => ({
      key: `${r.account_id}/${stepOf(r.dedupe_key)}${r.body === '（计费引擎的账单通知）' ? '/engine' : ''}`,
      day: r.day,
    }));
    const ex = await t.db.selectFrom('dunning_exception').selectAll().execute();
    for (const e of ex) {
      const run = await t.db
        .selectFrom('dunning_run')
        .select('run_date')
        .where('run_id', '=', e.run_id)
        .executeTakeFirstOrThrow();
      got.push({ key: `${e.account_id}/${e.step_code}/exception`, day: run.run_date });
    }
    got.sort((a, b) => a.key.localeCompare(b.key));
    const want = expected();
    expect(want.length).toBeGreaterThan(40);
    expect(got).toEqual(want);
    // Voice steps go to the call list channel, reminders are SMS with the customer's figures.
    const reminder = rows.find((r) => r.dedupe_key.startsWith('dun:reminder:'))!;
    expect(reminder.channel).toBe('sms');
    expect(reminder.body).toContain('63.90元');
    expect(
      rows.filter((r) => r.dedupe_key.startsWith('dun:voice:')).every((r) => r.channel === 'voice'),
    ).toBe(true);
  });

  it('nothing was queued about a bill after it was paid, and what was pending when it was paid was cancelled', async () => {
    const { rows } = await sql<{ account_id: number; day: string; status: string; last_error: string }>`
      select account_id, (not_before at time zone 'Asia/Shanghai')::date::text as day, status, last_error
      from outbox_message where account_id = any(${sims.map((s) => s.accountId)}::int8[])`.execute(t.db);
    let cancelled = 0;
    for (const r of rows) {
      const s = sims.find((x) => x.accountId === Number(r.account_id))!;
      if (s.payAfter === null) continue;
      const paidOn = addDays(s.readDay, s.payAfter);
      expect(r.day <= paidOn, `${r.account_id} message of ${r.day} after paying on ${paidOn}`).toBe(true);
      // Paid on the day of a message, after the run: the message was cancelled before it went out.
      if (r.day === paidOn) {
        expect(r.status).toBe('cancelled');
        expect(r.last_error).toBe('paid');
        cancelled++;
      }
    }
    expect(cancelled).toBeGreaterThan(0);
  });

  it('the days the server was down were caught up by the next run', async () => {
    const next = await t.db
      .selectFrom('dunning_run')
      .selectAll()
      .where('run_date', '=', '2026-11-16')
      .executeTakeFirstOrThrow();
    expect(next.window_from).toBe('2026-11-14');
    const steps = expected().filter((e) => e.day === '2026-11-16' && !e.key.endsWith('/engine'));
    expect(steps.length).toBeGreaterThan(runs['2026-11-13']!.queued > 0 ? 1 : 0);
    expect(next.messages_queued + next.exceptions).toBe(steps.length);
  });

  it('the crashed run resumed where it stopped: its counts add up to one whole run', async () => {
    const run = await t.db
      .selectFrom('dunning_run')
      .selectAll()
      .where('run_date', '=', CRASH_DAY)
      .executeTakeFirstOrThrow();
    const want = expected().filter((e) => e.day === CRASH_DAY && !e.key.endsWith('/engine'));
    expect(run.messages_queued + run.exceptions).toBe(want.length);
    expect(run.bills_examined).toBe(run.bills_total);
    const perStep = Object.values(run.counts).reduce((n, c) => n + c.queued + c.exceptions, 0);
    expect(perStep).toBe(want.length);
  });

  it('a day run again from its start adds nothing (the dedupe keys)', async () => {
    const day = '2026-11-13';
    const before = await sql<{ n: number }>`select count(*)::int as n from outbox_message`.execute(t.db);
    const exBefore = await sql<{ n: number }>`select count(*)::int as n from dunning_exception`.execute(t.db);
    // As if the cursor were lost: the whole day is gone through again.
    await sql`update dunning_run set status = 'failed', cursor_account_id = 0, cursor_bill_id = 0, chunks = 0,
                bills_examined = 0, messages_queued = 0, already_queued = 0, exceptions = 0, counts = '{}'
              where run_date = ${day}`.execute(t.db);
    const { run, ran } = await runDunning(t.db, day);
    expect(ran).toBe(true);
    expect(run.messages_queued).toBe(0);
    expect(run.exceptions).toBe(0);
    expect(run.already_queued).toBeGreaterThan(0);
    const after = await sql<{ n: number }>`select count(*)::int as n from outbox_message`.execute(t.db);
    const exAfter = await sql<{ n: number }>`select count(*)::int as n from dunning_exception`.execute(t.db);
    expect(after.rows[0]!.n).toBe(before.rows[0]!.n);
    expect(exAfter.rows[0]!.n).toBe(exBefore.rows[0]!.n);
  });
});
