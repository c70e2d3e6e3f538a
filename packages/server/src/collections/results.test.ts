import { addDays, todayInChina } from '@meterline/domain';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';

/**
 * Collection results (docs/arrears.md "Results") on real PostgreSQL: the collection rate of a
 * period and the dunning coverage equal a hand count of bills, messages and visits.
 */

let t: TestApp;
const TODAY = todayInChina();
let billSeq = 0;
let msgSeq = 0;
let meters: { account_id: number; meter_id: number; reader_id: number | null }[] = [];
let collector: number;

function lastMonth(): string {
  const [y, m] = TODAY.split('-').map(Number) as [number, number];
  const total = y * 12 + (m - 1) - 1;
  return `${Math.floor(total / 12)}-${String((total % 12) + 1).padStart(2, '0')}`;
}
const PERIOD = lastMonth();

async function insertBill(
  m: { account_id: number; meter_id: number },
  amountFen: number,
  dueOn: string,
  paidFen = 0,
  status: 'open' | 'cancelled' = 'open',
): Promise<number> {
  billSeq += 1;
  const row = await t.db
    .insertInto('bill')
    .values({
      account_id: m.account_id,
      bill_no: `${PERIOD.replace('-', '')}-RS${String(billSeq).padStart(6, '0')}`,
      meter_id: m.meter_id,
      reading_id: null,
      run_id: null,
      usage_type_code: 'W_RES',
      period: PERIOD,
      period_from: `${PERIOD}-01`,
      period_to: `${PERIOD}-08`,
      amount_fen: amountFen,
      due_on: dueOn,
      created_by: null,
      status,
      cancelled_at: status === 'cancelled' ? new Date() : null,
      cancelled_by: null,
      replaces_bill_id: null,
    })
    .returning('bill_id')
    .executeTakeFirstOrThrow();
  if (paidFen)
    await t.db
      .updateTable('bill')
      .set({ paid_fen: paidFen })
      .where('account_id', '=', m.account_id)
      .where('bill_id', '=', row.bill_id)
      .execute();
  return Number(row.bill_id);
}

async function message(
  accountId: number,
  billId: number,
  status: 'sent' | 'failed' | 'cancelled' | 'pending',
) {
  await t.db
    .insertInto('outbox_message')
    .values({
      account_id: accountId,
      channel: 'sms',
      recipient: '13812345678',
      template: 'bill_notice',
      body: 'x',
      dedupe_key: `results-${++msgSeq}`,
      not_before: new Date(Date.now() - 86_400_000),
      status,
      bill_id: billId,
      purpose: 'notice',
    })
    .execute();
}

beforeAll(async () => {
  t = await createTestApp({ customers: 30, metering: true });
  const rows = await sql<{ account_id: number; meter_id: number; reader_id: number | null }>`
    select distinct on (m.account_id) m.account_id, m.meter_id, b.reader_id
      from meter m join book b on b.book_id = m.book_id join customer c on c.account_id = m.account_id
      join office o on o.office_id = c.office_id
     where o.code = '0101' order by m.account_id, m.meter_id`.execute(t.db);
  meters = rows.rows.map((r) => ({ ...r, account_id: Number(r.account_id), meter_id: Number(r.meter_id) }));
  expect(meters.length).toBeGreaterThanOrEqual(4);
  collector = (
    await t.db
      .selectFrom('staff')
      .select('staff_id')
      .where('username', '=', 'collector')
      .executeTakeFirstOrThrow()
  ).staff_id;
});

afterAll(async () => {
  await t.close();
});

describe('collection results', () => {
  it('collection rate = collected ÷ billed for the bills of the period, cancelled ones left out', async () => {
    const [m1, m2, m3, m4] = meters as [
      (typeof meters)[0],
      (typeof meters)[0],
      (typeof meters)[0],
      (typeof meters)[0],
    ];
    // Paid in full (not in arrears), partly paid and 20 days overdue, unpaid and 100 days overdue.
    await insertBill(m1, 10_000, addDays(TODAY, -30), 10_000);
    const b2 = await insertBill(m2, 5_000, addDays(TODAY, -20), 2_000);
    const b3 = await insertBill(m3, 3_000, addDays(TODAY, -100));
    const b4 = await insertBill(m4, 1_000, addDays(TODAY, -5));
    await insertBill(m1, 99_000, addDays(TODAY, -30), 0, 'cancelled');
    // m2: its notice was sent → covered (1 cycle behind, no visit due).
    await message(m2.account_id, b2, 'sent');
    // m3: notice sent, but 100 days overdue (2+ cycles) and never visited → not covered.
    await message(m3.account_id, b3, 'sent');
    // m4: one message sent, one failed → not covered; a cancelled one does not count.
    await message(m4.account_id, b4, 'sent');
    await message(m4.account_id, b4, 'failed');
    await message(m4.account_id, b4, 'cancelled');

    const res = await t.as('manager')({ method: 'GET', url: `/api/collections/results?period=${PERIOD}` });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    // Twelve months ending with the period, months without bills shown as nothing billed.
    expect(body.collection.byMonth).toHaveLength(12);
    expect(body.collection.byMonth[11].key).toBe(PERIOD);
    expect(body.collection.byMonth[0]).toMatchObject({ billedFen: 0, rate: null });
    const month = body.collection.byMonth.find((m: { key: string }) => m.key === PERIOD);
    expect(month).toMatchObject({ billedFen: 19_000, collectedFen: 12_000 });
    expect(month.rate).toBeCloseTo(12 / 19, 10);
    expect(body.collection.byOffice).toHaveLength(1);
    expect(body.collection.byOffice[0]).toMatchObject({ billedFen: 19_000, collectedFen: 12_000 });
    const readerSum = body.collection.byReader.reduce(
      (s: number, r: { billedFen: number }) => s + r.billedFen,
      0,
    );
    expect(readerSum).toBe(19_000);

    expect(body.coverage).toMatchObject({ inArrears: 3, covered: 1 });
    expect(body.coverage.rate).toBeCloseTo(1 / 3, 10);

    // A visit to m3 after its bill fell due covers it; m4's failed message still does not.
    await t.db
      .insertInto('collection_visit')
      .values({
        account_id: m3.account_id,
        task_id: null,
        office_id: (
          await t.db
            .selectFrom('customer')
            .select('office_id')
            .where('account_id', '=', m3.account_id)
            .executeTakeFirstOrThrow()
        ).office_id,
        client_visit_id: 'results-visit',
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
        visited_at: new Date(),
        visited_on: TODAY,
        device_id: 'x',
        staff_id: collector,
      })
      .execute();
    const after = (
      await t.as('manager')({ method: 'GET', url: `/api/collections/results?period=${PERIOD}` })
    ).json();
    expect(after.coverage).toMatchObject({ inArrears: 3, covered: 2 });
  });
});
