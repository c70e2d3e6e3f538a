import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueMessage } from '../outbox/enqueue.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { freeCustomers, insertBill, newKey } from './escalationTesting.ts';

/**
 * A customer's collection history (GET /api/customers/:accountId/collection-history) on real
 * PostgreSQL: the dunning messages, a field visit, a letter, a shut-off request and its work order,
 * a dispute and an installment agreement come back in one call, newest first, each with its date,
 * status, reference, amount and who did it; messages that are not about collecting (a letter's
 * outbox entry, a service message) stay out; another office's staff get 404, a role without a
 * collections permission 403.
 */

let t: TestApp;
let account: number;
let other: number;
let billId: number;
const ids: Record<string, number> = {};

/** 2026-10-DD at hh:00 China time, as an instant. */
const at = (day: string, hh = 10) => `${day}T${String(hh).padStart(2, '0')}:00:00+08:00`;

beforeAll(async () => {
  t = await createTestApp({ customers: 80 });
  const free = await freeCustomers(t, 'water', 'person');
  expect(free.length).toBeGreaterThanOrEqual(2);
  account = free[0]!;
  other = free[1]!;
  billId = await insertBill(t, account!, 12_300, 60);
  const q = (text: string, params: unknown[]) => t.pool.query(text, params);

  // Messages: the bill notice (delivered) and a dunning reminder (expired), a letter's outbox entry
  // and a service message (not collection history).
  const notice = await enqueueMessage(t.db, {
    accountId: account!,
    channel: 'sms',
    recipient: '13812345678',
    template: 'bill_notice',
    body: '【供水】您本期水费 123.00 元',
    dedupeKey: `h:notice`,
    billId,
    purpose: 'notice',
  });
  ids.notice = notice.messageId;
  await q(
    `update outbox_message set status = 'delivered', not_before = $2, sent_at = $3, delivered_at = $4
      where account_id = $1 and message_id = $5`,
    [account, at('2026-09-02', 9), at('2026-09-02', 9), at('2026-09-02', 10), notice.messageId],
  );
  const reminder = await enqueueMessage(t.db, {
    accountId: account!,
    channel: 'sms',
    recipient: '13812345678',
    template: 'dunning_reminder',
    body: '您的水费已逾期',
    dedupeKey: `h:reminder`,
    billId,
    purpose: 'dunning',
    notBefore: at('2026-09-11', 9),
  });
  ids.reminder = reminder.messageId;
  await q(
    `update outbox_message set status = 'cancelled', last_error = 'expired' where account_id = $1 and message_id = $2`,
    [account, reminder.messageId],
  );
  for (const [purpose, channel] of [
    ['letter', 'letter'],
    ['service', 'sms'],
  ] as const)
    await enqueueMessage(t.db, {
      accountId: account!,
      channel,
      recipient: channel === 'sms' ? '13812345678' : '幸福小区3栋',
      template: purpose,
      body: '不属于催缴记录',
      dedupeKey: `h:${purpose}`,
      purpose,
      notBefore: at('2026-10-30'),
    });

  // A field visit: refused, by the collector.
  const collector = await t.db
    .selectFrom('staff')
    .select('staff_id')
    .where('username', '=', 'collector')
    .executeTakeFirstOrThrow();
  const visit = await q(
    `insert into collection_visit (account_id, office_id, client_visit_id, method, outcome, reason, visited_at,
                                   visited_on, device_id, staff_id)
     select account_id, office_id, 'h-visit-1', 'notice_posted', 'refused', '用户称下月再缴', $2::timestamptz, $3::date,
            'dev-1', $4::bigint
       from customer where account_id = $1 returning visit_id`,
    [account, at('2026-09-20', 15), '2026-09-20', collector.staff_id],
  );
  ids.visit = Number(visit.rows[0].visit_id);

  // A dispute through the API (the clerk), recorded on 2026-10-05.
  const dispute = await t.as('clerk')({
    method: 'POST',
    url: `/api/customers/${account}/disputes`,
    payload: {
      category: 'reading',
      description: '读数偏高',
      claim: '请复核读数',
      bills: [{ billId, disputedFen: 3000 }],
    },
    headers: { 'idempotency-key': newKey() },
  });
  if (dispute.statusCode !== 201) throw new Error(`dispute: ${dispute.body}`);
  ids.dispute = Number(dispute.json().disputeId);
  // The manager rejects it, so the letter below is not held.
  const review = await t.as('manager')({
    method: 'POST',
    url: `/api/customers/${account}/disputes/${ids.dispute}/review`,
    payload: { action: 'reject', note: '读数经复核无误' },
  });
  if (review.statusCode !== 200) throw new Error(`review: ${review.body}`);
  await q(`update dispute set recorded_at = $2 where account_id = $1 and dispute_id = $3`, [
    account,
    at('2026-10-05'),
    ids.dispute,
  ]);

  // A formal letter through the API (the manager), issued on 2026-10-12 and signed for.
  const letter = await t.as('manager')({
    method: 'POST',
    url: `/api/customers/${account}/collection-letters`,
    payload: { kind: 'formal' },
    headers: { 'idempotency-key': newKey() },
  });
  if (letter.statusCode !== 201) throw new Error(`letter: ${letter.body}`);
  ids.letter = Number(letter.json().letterId);
  const delivered = await t.as('manager')({
    method: 'POST',
    url: `/api/customers/${account}/collection-letters/${ids.letter}/delivery`,
    payload: { outcome: 'signed', signedByName: '用户本人' },
  });
  if (delivered.statusCode !== 200) throw new Error(`delivery: ${delivered.body}`);
  await q(
    `update collection_letter set issued_at = $2, issued_on = $3 where account_id = $1 and letter_id = $4`,
    [account, at('2026-10-12'), '2026-10-12', ids.letter],
  );

  // A shut-off request (approved) and its work order, and an installment agreement asked for later.
  const manager = await t.db
    .selectFrom('staff')
    .select('staff_id')
    .where('username', '=', 'manager')
    .executeTakeFirstOrThrow();
  const request = await q(
    `insert into shutoff_request (account_id, office_id, reason, bills, arrears_fen, arrears_months, status,
                                  requested_by, requested_at, decided_at)
     select account_id, office_id, '欠费两月以上', $2::jsonb, 12300, 2, 'approved', $3::bigint, $4::timestamptz,
            $5::timestamptz
       from customer where account_id = $1
     returning request_id`,
    [account, JSON.stringify([billId]), manager.staff_id, at('2026-10-20'), at('2026-10-21')],
  );
  ids.request = Number(request.rows[0].request_id);
  const order = await q(
    `insert into collection_work_order (account_id, kind, order_no, office_id, request_id, meter_no, arrears_fen,
                                        dispatched_at, dispatched_by)
     select account_id, 'shutoff', 'TS-2026-000001', office_id, $2::bigint, 'M-001', 12300, $3::timestamptz, $4::bigint
       from customer where account_id = $1
     returning order_id`,
    [account, ids.request, at('2026-10-22'), manager.staff_id],
  );
  ids.order = Number(order.rows[0].order_id);
  const agreement = await q(
    `insert into installment_agreement (account_id, agreement_no, office_id, debt_fen, installments, reason,
                                        requested_by, requested_at)
     select account_id, 'HQ-2026-000001', office_id, 12300, 3, '家庭困难', $2::bigint, $3::timestamptz
       from customer where account_id = $1
     returning agreement_id`,
    [account, manager.staff_id, at('2026-10-25')],
  );
  ids.agreement = Number(agreement.rows[0].agreement_id);
}, 300_000);

afterAll(async () => {
  await t?.close();
});

interface Entry {
  kind: string;
  id: number;
  subKind: string;
  at: string;
  date: string;
  status: string;
  ref: string;
  detail: string;
  amountFen: number | null;
  staffName: string | null;
  closedAt: string | null;
  open: boolean;
}

describe('collection history', () => {
  it('gathers every kind of collection step in one call, newest first, with dates and statuses', async () => {
    const res = await t.as('clerk')({ method: 'GET', url: `/api/customers/${account}/collection-history` });
    expect(res.statusCode, res.body).toBe(200);
    const items = res.json().items as Entry[];
    expect(items.map((e) => [e.kind, e.id, e.date])).toEqual([
      ['agreement', ids.agreement, '2026-10-25'],
      ['work_order', ids.order, '2026-10-22'],
      ['shutoff_request', ids.request, '2026-10-20'],
      ['letter', ids.letter, '2026-10-12'],
      ['dispute', ids.dispute, '2026-10-05'],
      ['visit', ids.visit, '2026-09-20'],
      ['message', ids.reminder, '2026-09-11'],
      ['message', ids.notice, '2026-09-02'],
    ]);
    expect(res.json().truncated).toBe(false);
    const byKind = (kind: string, id: number) => items.find((e) => e.kind === kind && e.id === id)!;
    expect(byKind('message', ids.notice!)).toMatchObject({
      subKind: 'sms',
      status: 'delivered',
      ref: 'bill_notice',
      detail: '【供水】您本期水费 123.00 元',
      closedAt: new Date(at('2026-09-02', 10)).toISOString(),
      open: false,
    });
    expect(byKind('message', ids.reminder!)).toMatchObject({ status: 'expired', ref: 'dunning_reminder' });
    expect(byKind('visit', ids.visit!)).toMatchObject({
      subKind: 'notice_posted',
      status: 'refused',
      detail: '用户称下月再缴',
      staffName: '陈刚',
    });
    const letter = byKind('letter', ids.letter!);
    expect(letter).toMatchObject({
      subKind: 'formal',
      status: 'signed',
      amountFen: 12_300,
      staffName: '张建国',
    });
    expect(letter.ref).toMatch(/\d/);
    expect(letter.detail).toContain('用户本人');
    expect(byKind('dispute', ids.dispute!)).toMatchObject({
      subKind: 'reading',
      status: 'rejected',
      amountFen: 3000,
      staffName: '王丽',
      open: false,
    });
    expect(byKind('dispute', ids.dispute!).detail).toBe('抄表读数 · 读数偏高 · 读数经复核无误');
    expect(byKind('shutoff_request', ids.request!)).toMatchObject({ status: 'approved', amountFen: 12_300 });
    expect(byKind('work_order', ids.order!)).toMatchObject({
      subKind: 'shutoff',
      status: 'dispatched',
      ref: 'TS-2026-000001',
      open: true,
    });
    expect(byKind('agreement', ids.agreement!)).toMatchObject({
      status: 'requested',
      ref: 'HQ-2026-000001',
      amountFen: 12_300,
      open: true,
    });
  });

  it('answers in English with the English category; a limit keeps the newest', async () => {
    const res = await t.as('clerk')({
      method: 'GET',
      url: `/api/customers/${account}/collection-history?limit=3`,
      headers: { 'accept-language': 'en' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().items.map((e: Entry) => e.kind)).toEqual([
      'agreement',
      'work_order',
      'shutoff_request',
    ]);
    expect(res.json().truncated).toBe(true);
    const all = await t.as('clerk')({
      method: 'GET',
      url: `/api/customers/${account}/collection-history`,
      headers: { 'accept-language': 'en' },
    });
    expect(all.json().items.find((e: Entry) => e.kind === 'dispute').detail).toMatch(/^Meter reading · /);
  });

  it('is empty for a customer with no collection steps', async () => {
    const res = await t.as('manager')({ method: 'GET', url: `/api/customers/${other}/collection-history` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ items: [], truncated: false });
  });

  it("is scoped to the caller's offices and to the collections permissions", async () => {
    // clerk2 works in office 0102: the customer of 0101 does not exist for them.
    const elsewhere = await t.as('clerk2')({
      method: 'GET',
      url: `/api/customers/${account}/collection-history`,
    });
    expect(elsewhere.statusCode).toBe(404);
    // A reader collects on the handheld but does not read the back office's collection records.
    const reader = await t.as('reader')({
      method: 'GET',
      url: `/api/customers/${account}/collection-history`,
    });
    expect(reader.statusCode).toBe(403);
    const bad = await t.as('clerk')({
      method: 'GET',
      url: `/api/customers/${account}/collection-history?limit=0`,
    });
    expect(bad.statusCode).toBe(400);
  });
});
