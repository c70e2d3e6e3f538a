import { addDays, todayInChina } from '@meterline/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { historyDays } from './ageing.ts';
import { ArrearsDailyJob } from './ageingJob.ts';
import {
  backfillCoverageSnapshots,
  ensureCoverageSnapshot,
  firstMessageDay,
  takeCoverageSnapshot,
} from './coverageHistory.ts';

/**
 * Dunning coverage over time (docs/arrears.md "Coverage over time") on real PostgreSQL: a past
 * month end reconstructed from message, visit, bill and payment dates, yesterday recorded by the
 * daily job, and the results page's months — each equal to a hand count of the seeded bills,
 * messages and visits below; months before meterline's first message have no data.
 */

let t: TestApp;
const TODAY = todayInChina();
const RUN = Date.now().toString(36);
// D: the end of the month before last; E: the end of last month; Y: yesterday (E ≤ Y).
const [D, E] = historyDays(TODAY, 2) as [string, string];
const Y = addDays(TODAY, -1);
/** A China day at `hour` o'clock. */
const at = (day: string, hour = 10) => new Date(`${day}T${String(hour).padStart(2, '0')}:00:00+08:00`);

interface M {
  account_id: number;
  meter_id: number;
  reader_id: number;
  office_id: number;
}
let meters: M[] = [];
let seq = 0;

async function insertBill(m: M, amountFen: number, dueOn: string): Promise<number> {
  seq += 1;
  const period = addDays(dueOn, -30).slice(0, 7);
  const row = await t.db
    .insertInto('bill')
    .values({
      account_id: m.account_id,
      bill_no: `${period.replace('-', '')}-CV${RUN.slice(-4)}${String(seq).padStart(4, '0')}`,
      meter_id: m.meter_id,
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
      account_id: m.account_id,
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

async function message(
  m: M,
  billId: number,
  notBefore: Date,
  status: 'sent' | 'pending' | 'cancelled' | 'failed',
  sentAt: Date | null,
  lastError = '',
): Promise<number> {
  const row = await t.db
    .insertInto('outbox_message')
    .values({
      account_id: m.account_id,
      channel: 'sms',
      recipient: '13812345678',
      template: 'bill_notice',
      body: 'x',
      dedupe_key: `coverage-${RUN}-${++seq}`,
      not_before: notBefore,
      status,
      sent_at: sentAt,
      last_error: lastError,
      bill_id: billId,
      purpose: 'notice',
      stop_if_paid: status === 'pending',
    })
    .returning('message_id')
    .executeTakeFirstOrThrow();
  return Number(row.message_id);
}

async function visit(m: M, on: string) {
  const collector = await t.db
    .selectFrom('staff')
    .select('staff_id')
    .where('username', '=', 'collector')
    .executeTakeFirstOrThrow();
  await t.db
    .insertInto('collection_visit')
    .values({
      account_id: m.account_id,
      task_id: null,
      office_id: m.office_id,
      client_visit_id: `coverage-${RUN}-${++seq}`,
      method: 'account_confirmation',
      outcome: 'signed',
      phone_call: null,
      site: null,
      promised_on: null,
      photo_path: null,
      signature_path: null,
      latitude: null,
      longitude: null,
      accuracy_m: null,
      visited_at: at(on),
      visited_on: on,
      device_id: 'x',
      staff_id: collector.staff_id,
    })
    .execute();
}

const snapshotRows = (day: string) =>
  t.db
    .selectFrom('coverage_snapshot')
    .select(['office_id', 'reader_id', 'in_arrears', 'covered', 'derived'])
    .where('snapshot_on', '=', day)
    .execute();

const totals = (rows: { in_arrears: number; covered: number }[]) => ({
  inArrears: rows.reduce((s, r) => s + r.in_arrears, 0),
  covered: rows.reduce((s, r) => s + r.covered, 0),
});

/** A day's rows with someone in arrears, per reader: [in arrears, covered]. */
const readerRows = (rows: { reader_id: number; in_arrears: number; covered: number }[]) =>
  new Map(rows.filter((r) => r.in_arrears > 0).map((r) => [Number(r.reader_id), [r.in_arrears, r.covered]]));

/** Per reader, the hand count of the accounts named: [in arrears, covered]. */
function byReader(inArrears: M[], covered: M[]): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  for (const m of inArrears) {
    const c = out.get(m.reader_id) ?? [0, 0];
    c[0]++;
    if (covered.includes(m)) c[1]++;
    out.set(m.reader_id, c);
  }
  return out;
}

beforeAll(async () => {
  t = await createTestApp({ customers: 30, metering: true });
  const { rows } = await sql<M>`
    select distinct on (m.account_id) m.account_id, m.meter_id, coalesce(b.reader_id, 0) as reader_id, c.office_id
      from meter m join book b on b.book_id = m.book_id join customer c on c.account_id = m.account_id
      join office o on o.office_id = c.office_id
     where o.code = '0101' and c.state = 'active' order by m.account_id, m.meter_id`.execute(t.db);
  meters = rows.slice(0, 8).map((r) => ({
    account_id: Number(r.account_id),
    meter_id: Number(r.meter_id),
    reader_id: Number(r.reader_id),
    office_id: Number(r.office_id),
  }));
  expect(meters).toHaveLength(8);
  // Household meters on a 3-month cycle (zone C), so the cycles behind below are known.
  await sql`update book set zone = 'C' where book_id in (select book_id from meter
              where account_id = any(${meters.map((m) => m.account_id)}::bigint[]))`.execute(t.db);
}, 300_000);

afterAll(async () => {
  await t?.close();
});

describe('dunning coverage over time', () => {
  it('has no data before meterline sends its first message', async () => {
    expect(await firstMessageDay(t.db)).toBeNull();
    expect(await backfillCoverageSnapshots(t.db, TODAY)).toEqual([]);
    expect(await ensureCoverageSnapshot(t.db, TODAY)).toBe(false);
    const res = await t.as('manager')({ method: 'GET', url: '/api/collections/results' });
    expect(res.statusCode, res.body).toBe(200);
    const months = res.json().coverage.byMonth;
    expect(months).toHaveLength(12);
    for (const m of months) expect(m).toMatchObject({ day: null, rate: null });
  });

  it('reconstructs past month ends and records yesterday equal to a hand count', async () => {
    const [m1, m2, m3, m4, m5, m6, m7, m8] = meters as [M, M, M, M, M, M, M, M];
    // m1: due 20 days before D, its notice sent before D → covered on D.
    const b1 = await insertBill(m1, 3_000, addDays(D, -20));
    await message(m1, b1, at(addDays(D, -25), 9), 'sent', at(addDays(D, -25), 9));
    // m2: notice sent; a reminder due on D-5 but only sent on D+1 → not covered on D, covered after.
    const b2 = await insertBill(m2, 3_000, addDays(D, -20));
    await message(m2, b2, at(addDays(D, -25), 9), 'sent', at(addDays(D, -25), 9));
    await message(m2, b2, at(addDays(D, -5), 9), 'sent', at(addDays(D, 1), 9));
    // m3: its only message came due after D → nothing due on D: not covered (the notice is always due).
    const b3 = await insertBill(m3, 3_000, addDays(D, -20));
    await message(m3, b3, at(addDays(D, 2), 9), 'sent', at(addDays(D, 2), 9));
    // m4: paid in full today; its notice, due on D-5, was never sent and cancelled by the payment →
    // in arrears and not covered on D, E and yesterday; not in arrears today.
    const b4 = await insertBill(m4, 4_000, addDays(D, -20));
    await message(m4, b4, at(addDays(D, -5), 9), 'pending', null);
    // m5, m6: 200 days overdue (3+ cycles: a visit is due), notices sent; m5 visited after D, m6 the day before.
    const b5 = await insertBill(m5, 9_000, addDays(D, -200));
    await message(m5, b5, at(addDays(D, -25), 9), 'sent', at(addDays(D, -25), 9));
    await visit(m5, addDays(D, 3));
    const b6 = await insertBill(m6, 9_000, addDays(D, -200));
    await message(m6, b6, at(addDays(D, -25), 9), 'sent', at(addDays(D, -25), 9));
    await visit(m6, addDays(D, -1));
    // m7: not due yet at all (due in 5 days): never in arrears.
    const b7 = await insertBill(m7, 2_000, addDays(TODAY, 5));
    await message(m7, b7, at(addDays(D, -25), 9), 'sent', at(addDays(D, -25), 9));
    // m8: notice sent; a reminder cancelled by hand on D-10 (audited) is not due → covered.
    const b8 = await insertBill(m8, 3_000, addDays(D, -20));
    await message(m8, b8, at(addDays(D, -25), 9), 'sent', at(addDays(D, -25), 9));
    const cancelled = await message(m8, b8, at(addDays(D, -8), 9), 'cancelled', null, 'cancelled by manager');
    await t.db
      .insertInto('audit_log')
      .values({
        at: at(addDays(D, -10)),
        staff_id: null,
        office_id: m8.office_id,
        account_id: m8.account_id,
        entity_type: 'outbox_message',
        entity_id: String(cancelled),
        action: 'outbox_cancel',
        before: null,
        after: null,
      })
      .execute();

    const pay = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${m4.account_id}/payments`,
      payload: { amountFen: 4_000, channel: 'cash' },
      headers: { 'idempotency-key': `coverage-${RUN}-pay` },
    });
    expect(pay.statusCode, pay.body).toBe(201);
    // The payment cancelled m4's unsent notice (stop if paid).
    expect(
      await t.db
        .selectFrom('outbox_message')
        .select(['status', 'last_error'])
        .where('account_id', '=', m4.account_id)
        .execute(),
    ).toEqual([{ status: 'cancelled', last_error: 'paid' }]);

    expect(await firstMessageDay(t.db)).toBe(addDays(D, -25));
    // Month ends from the first message on: D and E (earlier ones: no data).
    expect(await backfillCoverageSnapshots(t.db, TODAY)).toEqual([D, E]);

    // D by hand: in arrears m1–m6, m8 (7); covered m1, m6, m8.
    const onD = await snapshotRows(D);
    expect(totals(onD)).toEqual({ inArrears: 7, covered: 3 });
    expect(onD.every((r) => r.derived)).toBe(true);
    const inArrears = [m1, m2, m3, m4, m5, m6, m8];
    expect(readerRows(onD)).toEqual(byReader(inArrears, [m1, m6, m8]));
    // E by hand: m2's reminder, m3's notice and m5's visit came after D, before E: only m4 is not covered.
    const onE = await snapshotRows(E);
    expect(totals(onE)).toEqual({ inArrears: 7, covered: 6 });
    expect(readerRows(onE)).toEqual(byReader(inArrears, [m1, m2, m3, m5, m6, m8]));

    // Taking a day again replaces it: the same rows.
    await takeCoverageSnapshot(t.db, D, true);
    expect(await snapshotRows(D)).toEqual(expect.arrayContaining(onD));
    expect(await snapshotRows(D)).toHaveLength(onD.length);
    expect(await backfillCoverageSnapshots(t.db, TODAY)).toEqual([]);

    // The daily job records yesterday once (unless yesterday was last month's end, already taken).
    expect(await ensureCoverageSnapshot(t.db, TODAY)).toBe(Y !== E);
    expect(await ensureCoverageSnapshot(t.db, TODAY)).toBe(false);
    const onY = await snapshotRows(Y);
    expect(totals(onY)).toEqual({ inArrears: 7, covered: 6 });
    if (Y !== E) expect(onY.every((r) => !r.derived)).toBe(true);

    // The results page: the coverage of each month at its end, next to the collection rate.
    const res = await t.as('manager')({
      method: 'GET',
      url: `/api/collections/results?period=${E.slice(0, 7)}`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    const months = body.coverage.byMonth;
    expect(months.map((m: { month: string }) => m.month)).toEqual(
      body.collection.byMonth.map((m: { key: string }) => m.key),
    );
    expect(months[10]).toMatchObject({
      month: D.slice(0, 7),
      day: D,
      inArrears: 7,
      covered: 3,
      derived: true,
    });
    expect(months[10].rate).toBeCloseTo(3 / 7, 10);
    expect(months[11]).toMatchObject({ month: E.slice(0, 7), day: E, inArrears: 7, covered: 6 });
    for (const m of months.slice(0, 10)) expect(m).toMatchObject({ day: null, rate: null });
    // Today (live): m4 has paid; the other six are covered.
    expect(body.coverage).toMatchObject({ inArrears: 6, covered: 6 });

    // Another office's figures: the same days, nobody of theirs in arrears.
    const other = await t.db
      .selectFrom('office')
      .select('office_id')
      .where('code', '=', '0102')
      .executeTakeFirstOrThrow();
    const theirs = (
      await t.as('manager2')({
        method: 'GET',
        url: `/api/collections/results?period=${E.slice(0, 7)}&officeId=${other.office_id}`,
      })
    ).json();
    expect(theirs.coverage.byMonth[10]).toMatchObject({ day: D, inArrears: 0, covered: 0, rate: null });
  });

  it('the daily job records yesterday and fills a missing month end, once', async () => {
    await t.db.deleteFrom('coverage_snapshot').where('snapshot_on', 'in', [Y, D]).execute();
    const logs: string[] = [];
    const job = new ArrearsDailyJob(t.db, (msg) => logs.push(msg));
    await job.tick();
    expect(totals(await snapshotRows(Y))).toEqual({ inArrears: 7, covered: 6 });
    expect((await snapshotRows(Y)).every((r) => !r.derived)).toBe(true);
    expect(totals(await snapshotRows(D))).toEqual({ inArrears: 7, covered: 3 });
    expect(logs.some((l) => l.includes('dunning coverage of yesterday recorded'))).toBe(true);
    expect(logs.some((l) => l.includes(D))).toBe(true);
    const taken = await t.db.selectFrom('coverage_snapshot').select('taken_at').execute();
    await job.tick();
    expect(await t.db.selectFrom('coverage_snapshot').select('taken_at').execute()).toEqual(taken);
    await job.stop();
  });
});
