import { addDays, todayInChina } from '@meterline/domain';
import type { TestApp } from '../testing/harness.ts';

/** Helpers shared by the escalation and shut-off tests (test code only). */

let billSeq = 0;
let keySeq = 0;
const RUN = Date.now().toString(36);
export const TODAY = todayInChina();
export const newKey = (): string => `esc-${RUN}-${++keySeq}`;

/** A bill inserted directly, due `daysAgo` days before today, with one charge line (the ledger balances). */
export async function insertBill(
  t: TestApp,
  accountId: number,
  amountFen: number,
  daysAgo: number,
): Promise<number> {
  billSeq += 1;
  const dueOn = addDays(TODAY, -daysAgo);
  const period = addDays(dueOn, -30).slice(0, 7);
  const row = await t.db
    .insertInto('bill')
    .values({
      account_id: accountId,
      bill_no: `${period.replace('-', '')}-E${RUN.slice(-4)}${String(billSeq).padStart(5, '0')}`,
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

/** Active customers of office 0101 with a meter and no bills, by utility and kind. */
export async function freeCustomers(
  t: TestApp,
  utility: string,
  kind: 'person' | 'organisation',
): Promise<number[]> {
  const { rows } = await t.pool.query<{ account_id: string }>(
    `select c.account_id from customer c join office o on o.office_id = c.office_id
      where o.code = '0101' and c.state = 'active' and c.utility = $1 and c.kind = $2
        and exists (select 1 from meter m where m.account_id = c.account_id)
        and not exists (select 1 from bill b where b.account_id = c.account_id)
      order by c.account_id`,
    [utility, kind],
  );
  return rows.map((r) => Number(r.account_id));
}

/** Holds a bill out of escalation with an undecided dispute (0019's tables). */
export async function disputeBill(t: TestApp, accountId: number, billId: number, fen: number): Promise<void> {
  const { rows } = await t.pool.query<{ dispute_id: string }>(
    `insert into dispute (account_id, office_id, category, description, claim, disputed_fen, recorded_by)
     select account_id, office_id, 'reading', '读数有误', '用户称未用这么多水', $2, 1 from customer where account_id = $1
     returning dispute_id`,
    [accountId, fen],
  );
  await t.pool.query(
    'insert into dispute_bill (account_id, dispute_id, bill_id, disputed_fen) values ($1, $2, $3, $4)',
    [accountId, rows[0]!.dispute_id, billId, fen],
  );
}

/**
 * Walks the ladder for an account through the API (formal letter, signed for; lawyer's letter,
 * refused → registered post), moving each letter's dates back as if the days had passed.
 */
export async function completeLadder(t: TestApp, accountId: number, manager = 'manager'): Promise<void> {
  const as = t.as(manager);
  const formal = await as({
    method: 'POST',
    url: `/api/customers/${accountId}/collection-letters`,
    payload: { kind: 'formal' },
    headers: { 'idempotency-key': newKey() },
  });
  if (formal.statusCode !== 201) throw new Error(`formal letter: ${formal.body}`);
  const f = formal.json() as { letterId: number };
  const d1 = await as({
    method: 'POST',
    url: `/api/customers/${accountId}/collection-letters/${f.letterId}/delivery`,
    payload: { outcome: 'signed', signedByName: '用户本人' },
  });
  if (d1.statusCode !== 200) throw new Error(`formal delivery: ${d1.body}`);
  await t.pool.query(
    `update collection_letter set issued_on = $3, delivered_on = $3 where account_id = $1 and letter_id = $2`,
    [accountId, f.letterId, addDays(TODAY, -30)],
  );
  const lawyer = await as({
    method: 'POST',
    url: `/api/customers/${accountId}/collection-letters`,
    payload: { kind: 'lawyer' },
    headers: { 'idempotency-key': newKey() },
  });
  if (lawyer.statusCode !== 201) throw new Error(`lawyer letter: ${lawyer.body}`);
  const l = lawyer.json() as { letterId: number };
  const d2 = await as({
    method: 'POST',
    url: `/api/customers/${accountId}/collection-letters/${l.letterId}/delivery`,
    payload: { outcome: 'refused', trackingNo: 'XA123456789CN' },
  });
  if (d2.statusCode !== 200) throw new Error(`lawyer delivery: ${d2.body}`);
  await t.pool.query(
    `update collection_letter set issued_on = $3, delivered_on = $3 where account_id = $1 and letter_id = $2`,
    [accountId, l.letterId, addDays(TODAY, -10)],
  );
}
