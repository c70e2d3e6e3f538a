import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '../platform/context.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { billAcceptedReadings } from './engine.ts';

/**
 * Bill corrections, cancel-and-rebill (docs/billing.md "Corrections (cancel-and-rebill)"): a
 * clerk's request with a reason, a manager's decision (never their own), the block-year chain
 * rebilled in one transaction, an index correction's bills rebilled with it, and no double rebill.
 */

let t: TestApp;
const ctx = (): RequestContext => ({
  caller: null,
  lang: 'zh-CN',
  requestId: 'corrections-test',
  ip: '127.0.0.1',
  audited: 0,
});

interface BillRow {
  bill_id: number;
  bill_no: string;
  reading_id: number;
  period_to: string;
  status: string;
  amount_fen: number;
  block_used_before_m3: string;
  block_year: number;
  replaces_bill_id: number | null;
  cancel_reason: string;
}

const billsOf = async (accountId: number) =>
  (
    await t.pool.query<BillRow>(
      `select bill_id::int, bill_no, reading_id::int, period_to::text, status, amount_fen::int,
              block_used_before_m3, block_year, replaces_bill_id::int, cancel_reason
       from bill where account_id = $1 order by period_to, bill_id`,
      [accountId],
    )
  ).rows;

/** Accepted residential water readings with a consumption, per account of office 0101, this year. */
async function accountsWithReadings(min: number): Promise<number[]> {
  const { rows } = await t.pool.query<{ account_id: number }>(
    `select r.account_id::int from reading r
     join customer c on c.account_id = r.account_id
     join office o on o.office_id = c.office_id and o.code = '0101'
     join meter m on m.account_id = r.account_id and m.meter_id = r.meter_id and m.role <> 'master'
     join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
     where r.status = 'accepted' and r.consumption_m3 > 2 and r.kind = 'actual'
       and sp.usage_type_code = 'W_RES' and c.state = 'active' and not c.low_income
       and (select count(*) from meter m2 where m2.account_id = r.account_id) = 1
       and r.read_at >= '2026-01-01T00:00:00+08:00'
     group by r.account_id having count(*) >= $1
     order by r.account_id`,
    [min],
  );
  return rows.map((r) => r.account_id);
}

/** Bills every accepted reading of the accounts, as approval would have. */
async function billAll(accountIds: number[]) {
  const { rows } = await t.pool.query<{ account_id: number; reading_id: number }>(
    `select account_id::int, reading_id::int from reading
     where account_id = any($1::bigint[]) and status = 'accepted' and consumption_m3 is not null`,
    [accountIds],
  );
  await t.db.transaction().execute((trx) =>
    billAcceptedReadings(
      trx,
      ctx(),
      rows.map((r) => ({ accountId: r.account_id, readingId: r.reading_id })),
    ),
  );
}

/**
 * What a fresh billing of the account's readings from a day on gives today, by reading, the bills
 * before that day standing (rolled back).
 */
async function freshAmounts(accountId: number, fromDay: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  await t.db
    .transaction()
    .execute(async (trx) => {
      const { rows } = await sql<{ reading_id: number }>`update bill set status = 'cancelled'
        where account_id = ${accountId} and status = 'open' and period_to >= ${fromDay}
        returning reading_id`.execute(trx);
      const { billed } = await billAcceptedReadings(
        trx,
        ctx(),
        rows.map((r) => ({ accountId, readingId: Number(r.reading_id) })),
      );
      for (const b of billed) out.set(b.readingId, b.amountFen);
      throw new Error('rollback');
    })
    .catch((e: Error) => {
      if (e.message !== 'rollback') throw e;
    });
  return out;
}

const openBillsPerReadingAboveOne = async () =>
  (
    await t.pool.query(
      `select account_id, reading_id from bill where status = 'open' and reading_id is not null
       group by account_id, reading_id having count(*) > 1`,
    )
  ).rows.length;

let accounts: number[];

beforeAll(async () => {
  t = await createTestApp({ customers: 120, metering: true });
  // Small annual blocks (0–20, 20–40, over 40 m³), so a year's second bill lands in a higher block.
  await t.pool.query(
    `update tariff_version set body = jsonb_set(jsonb_set(jsonb_set(jsonb_set(body,
       '{charge,blocks,0,toM3}', '"20"'), '{charge,blocks,1,fromM3}', '"20"'),
       '{charge,blocks,1,toM3}', '"40"'), '{charge,blocks,2,fromM3}', '"40"')
     where usage_type_code = 'W_RES'`,
  );
  accounts = await accountsWithReadings(3);
  expect(accounts.length).toBeGreaterThanOrEqual(4);
  await billAll(accounts);
});

afterAll(async () => {
  await t?.close();
});

const request = (who: string, accountId: number, billId: number, reason: string) =>
  t.as(who)({
    method: 'POST',
    url: `/api/customers/${accountId}/bills/${billId}/corrections`,
    payload: { reason },
  });

const decide = (who: string, accountId: number, correctionId: number, approve: boolean, note = '') =>
  t.as(who)({
    method: 'POST',
    url: `/api/customers/${accountId}/bill-corrections/${correctionId}/decide`,
    payload: { approve, note },
  });

describe('requests and decisions', () => {
  it('needs a reason (field error), stays in the office, and allows one waiting request per bill', async () => {
    const accountId = accounts[0]!;
    const bill = (await billsOf(accountId)).find((b) => b.status === 'open')!;
    const empty = await request('clerk', accountId, bill.bill_id, '   ');
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.fields.map((f: { path: string }) => f.path)).toContain('reason');

    const other = await request('clerk2', accountId, bill.bill_id, '抄错');
    expect([403, 404]).toContain(other.statusCode);

    const first = await request('clerk', accountId, bill.bill_id, '用户反映水量有误');
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({
      status: 'requested',
      billId: bill.bill_id,
      reason: '用户反映水量有误',
    });
    const second = await request('clerk', accountId, bill.bill_id, '再申请一次');
    expect(second.statusCode).toBe(400);
    expect(second.json().error.fields[0]).toMatchObject({ path: 'billId', code: 'BILL_CORRECTION_PENDING' });

    // Another office's manager cannot decide it; the requester cannot decide their own.
    const foreign = await decide('manager2', accountId, first.json().correctionId, true);
    expect([403, 404]).toContain(foreign.statusCode);

    // Rejected: nothing changes, the bill stands.
    const rejected = await decide('manager', accountId, first.json().correctionId, false, '水量无误');
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect(rejected.json()).toMatchObject({
      status: 'rejected',
      decisionNote: '水量无误',
      decidedByName: '张建国',
    });
    const after = (await billsOf(accountId)).find((b) => b.bill_id === bill.bill_id)!;
    expect(after.status).toBe('open');
    const again = await decide('manager', accountId, first.json().correctionId, true);
    expect(again.statusCode).toBe(409);

    const audited = await t.pool.query(
      `select action from audit_log where entity_type = 'bill_correction' and entity_id = $1 order by audit_id`,
      [`${accountId}/${first.json().correctionId}`],
    );
    expect(audited.rows.map((r) => r.action)).toEqual(['request', 'reject']);
  });

  it('refuses self-approval', async () => {
    const accountId = accounts[1]!;
    const bill = (await billsOf(accountId)).find((b) => b.status === 'open')!;
    const asked = await request('manager', accountId, bill.bill_id, '核对表码');
    expect(asked.statusCode, asked.body).toBe(201);
    const own = await decide('manager', accountId, asked.json().correctionId, true);
    expect(own.statusCode).toBe(403);
    expect(own.json().error.code).toBe('SELF_APPROVAL');
    expect((await billsOf(accountId)).find((b) => b.bill_id === bill.bill_id)!.status).toBe('open');
    // Withdrawn by a colleague's rejection, so the bill is free for the next test.
    expect((await decide('deputy', accountId, asked.json().correctionId, false)).statusCode).toBe(200);
  });
});

describe('approval cancels and rebills the block-year chain', () => {
  it('rebills the bill and every later bill of its year, once, matching a fresh billing', async () => {
    const accountId = accounts[2]!;
    const before = await billsOf(accountId);
    const year = before.filter((b) => b.status === 'open' && b.block_year === 2026);
    expect(year.length).toBeGreaterThanOrEqual(3);
    const target = year[0]!;
    // The customer turns out to be a low-income household since the start of the year: every bill of
    // the year was too high, and the later bills' block split moves down.
    await t.pool.query(
      `update customer set low_income = true, low_income_reduction_m3 = 3, low_income_valid_until = null
       where account_id = $1`,
      [accountId],
    );
    const asked = await request('clerk', accountId, target.bill_id, '低保户未减免');
    expect(asked.statusCode, asked.body).toBe(201);
    const id = asked.json().correctionId;

    const [one, two] = await Promise.all([
      decide('manager', accountId, id, true, '同意'),
      decide('manager', accountId, id, true, '同意'),
    ]);
    expect([one.statusCode, two.statusCode].sort()).toEqual([200, 409]);
    const approved = (one.statusCode === 200 ? one : two).json();
    expect(approved.status).toBe('approved');
    const chain = before.filter(
      (b) => b.status === 'open' && b.block_year === 2026 && b.period_to >= target.period_to,
    );
    expect(approved.cancelledBillIds.sort()).toEqual(chain.map((b) => b.bill_id).sort());
    expect(approved.newBillIds).toHaveLength(chain.length);

    const after = await billsOf(accountId);
    for (const old of chain) {
      const row = after.find((b) => b.bill_id === old.bill_id)!;
      expect(row.status).toBe('cancelled');
      expect(row.cancel_reason).toBe('低保户未减免');
      const replacement = after.filter((b) => b.replaces_bill_id === old.bill_id);
      expect(replacement).toHaveLength(1);
      expect(replacement[0]!.status).toBe('open');
      expect(replacement[0]!.reading_id).toBe(old.reading_id);
    }
    // Earlier bills stand.
    for (const b of before.filter((x) => x.period_to < target.period_to && x.status === 'open'))
      expect(after.find((x) => x.bill_id === b.bill_id)!.status).toBe('open');

    // The later bill's block usage before it is lower now (the reduction moved it), and so its split.
    const secondOld = chain[1]!;
    const secondNew = after.find((b) => b.replaces_bill_id === secondOld.bill_id)!;
    expect(Number(secondNew.block_used_before_m3)).toBeLessThan(Number(secondOld.block_used_before_m3));

    // The new chain is what a fresh billing of the same readings gives.
    const fresh = await freshAmounts(accountId, target.period_to);
    const newOpen = after.filter((b) => b.status === 'open' && b.period_to >= target.period_to);
    expect(fresh.size).toBe(newOpen.length);
    for (const b of newOpen) expect(b.amount_fen).toBe(fresh.get(b.reading_id));

    // Totals and difference recorded.
    const oldTotal = chain.reduce((s, b) => s + b.amount_fen, 0);
    const newTotal = after
      .filter((b) => approved.newBillIds.includes(b.bill_id))
      .reduce((s, b) => s + b.amount_fen, 0);
    expect(approved).toMatchObject({
      oldTotalFen: oldTotal,
      newTotalFen: newTotal,
      differenceFen: newTotal - oldTotal,
    });
    expect(approved.differenceFen).toBeLessThan(0);
    expect(approved.difference.bills).toHaveLength(chain.length);
    expect(approved.difference.bills.reduce((s: number, b: { deltaFen: number }) => s + b.deltaFen, 0)).toBe(
      approved.differenceFen,
    );

    // Approving again rebills nothing.
    const third = await decide('manager', accountId, id, true);
    expect(third.statusCode).toBe(409);
    expect(await billsOf(accountId)).toHaveLength(after.length);
    expect(await openBillsPerReadingAboveOne()).toBe(0);

    // Each new bill has its own SMS notice: the dedupe key of a rebill is its own bill's.
    const sms = await t.pool.query(
      `select dedupe_key from outbox_message where account_id = $1 and dedupe_key = any($2::text[])`,
      [accountId, approved.newBillIds.map((b: number) => `bill:${b}`)],
    );
    const hasMobile = await t.pool.query(
      `select 1 from contact where account_id = $1 and phone ~ '^1[3-9][0-9]{9}$'`,
      [accountId],
    );
    expect(sms.rows).toHaveLength(hasMobile.rows.length ? approved.newBillIds.length : 0);

    // A cancelled bill cannot be corrected.
    const cancelled = await request('clerk', accountId, target.bill_id, '再更正');
    expect(cancelled.statusCode).toBe(400);
    expect(cancelled.json().error.fields[0]).toMatchObject({ path: 'billId', code: 'BILL_NOT_CORRECTABLE' });

    // Listed for the office, and on the customer.
    const listed = await t.as('manager')({ method: 'GET', url: '/api/bill-corrections?status=approved' });
    expect(listed.statusCode).toBe(200);
    expect(listed.json().items.map((i: { correctionId: number }) => i.correctionId)).toContain(id);
    const foreign = await t.as('manager2')({ method: 'GET', url: '/api/bill-corrections' });
    expect(foreign.json().items.map((i: { accountId: number }) => i.accountId)).not.toContain(accountId);
    const mine = await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountId}/bill-corrections` });
    expect(mine.json().items[0]).toMatchObject({ correctionId: id, status: 'approved' });
  });
});

describe('an approved index correction rebills the bills it made wrong', () => {
  it('cancels and rebills the reading’s bill and the next one, recording the difference', async () => {
    const accountId = accounts[3]!;
    const { rows: readings } = await t.pool.query(
      `select reading_id::int, index_value, consumption_m3 from reading
       where account_id = $1 and status = 'accepted' and kind = 'actual' and consumption_m3 > 2
       order by read_at, reading_id`,
      [accountId],
    );
    // A reading with an accepted actual reading after it.
    const target = readings[readings.length - 2]!;
    const next = readings[readings.length - 1]!;
    const before = await billsOf(accountId);
    const targetBill = before.find((b) => b.reading_id === target.reading_id && b.status === 'open')!;
    const nextBill = before.find((b) => b.reading_id === next.reading_id && b.status === 'open')!;
    expect(targetBill && nextBill).toBeTruthy();

    const newIndex = String(Number(target.index_value) - 2);
    const asked = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${accountId}/readings/${target.reading_id}/corrections`,
      payload: { newIndex, reason: '抄表员看错一位' },
    });
    expect(asked.statusCode, asked.body).toBe(201);
    const decided = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${accountId}/corrections/${asked.json().correctionId}/decide`,
      payload: { approve: true, note: '' },
    });
    expect(decided.statusCode, decided.body).toBe(200);

    const after = await billsOf(accountId);
    for (const old of [targetBill, nextBill]) {
      expect(after.find((b) => b.bill_id === old.bill_id)!.status).toBe('cancelled');
      expect(after.find((b) => b.bill_id === old.bill_id)!.cancel_reason).toBe('抄表员看错一位');
      expect(after.filter((b) => b.replaces_bill_id === old.bill_id && b.status === 'open')).toHaveLength(1);
    }
    const fresh = await t.pool.query(
      `select b.consumption_m3, r.consumption_m3 as reading_m3, b.start_index, r.previous_index
       from bill b join reading r on r.account_id = b.account_id and r.reading_id = b.reading_id
       where b.account_id = $1 and b.status = 'open' and b.reading_id = any($2::bigint[])`,
      [accountId, [target.reading_id, next.reading_id]],
    );
    expect(fresh.rows).toHaveLength(2);
    for (const r of fresh.rows) {
      expect(r.consumption_m3).toBe(r.reading_m3);
      expect(r.start_index).toBe(r.previous_index);
    }
    const recorded = await t.pool.query(
      `select * from bill_correction where account_id = $1 and reading_correction_id = $2`,
      [accountId, asked.json().correctionId],
    );
    expect(recorded.rows).toHaveLength(1);
    const x = recorded.rows[0];
    expect(x).toMatchObject({ status: 'approved', source: 'reading_correction', reason: '抄表员看错一位' });
    expect(x.cancelled_bill_ids.map(Number)).toEqual(
      expect.arrayContaining([targetBill.bill_id, nextBill.bill_id]),
    );
    expect(Number(x.difference_fen)).toBe(Number(x.new_total_fen) - Number(x.old_total_fen));
    expect(await openBillsPerReadingAboveOne()).toBe(0);
  });
});
