import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { completeLadder, freeCustomers, insertBill, newKey } from './escalationTesting.ts';

/**
 * Shut-off and restore orders and re-checks on the handheld through the HTTP API on real
 * PostgreSQL (DOMAIN.md §6: "The meter number is checked before shut-off. Obstruction goes to the
 * inspectors." "Readers re-check shut-off customers for self-reconnection."; docs/escalation.md
 * "On the handheld"): the download, a wrong meter number refused, the right one applied by the back
 * office's rules (the customer sealed), retries and a second phone stored once, a late result for a
 * closed order kept as a conflict, obstruction referred, the restore after payment, and re-checks.
 */

let t: TestApp;
/** Test customers: organisations (one month behind is enough), then individuals (two months). */
let pool: { accountId: number; kind: 'organisation' | 'person' }[] = [];
const take = () => {
  const a = pool.shift();
  if (a === undefined) throw new Error('out of test customers');
  return a;
};
const jpeg = `data:image/jpeg;base64,${Buffer.from([0xff, 0xd8, 0xff, 0xe0, 9, 8, 7, 6, 5, 4, 3, 2]).toString('base64')}`;
const post = (user: string, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.as(user)({ method: 'POST', url, payload, headers });
const get = (user: string, url: string) => t.as(user)({ method: 'GET', url });
const upload = (
  results: Record<string, unknown>[],
  user = 'collector',
  headers: Record<string, string> = {},
) => post(user, '/api/field/orders/results', { deviceId: 'phone-1', results }, headers);
const orderOf = async (accountId: number, orderId: number) =>
  t.db
    .selectFrom('collection_work_order')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('order_id', '=', orderId)
    .executeTakeFirstOrThrow();
const stateOf = async (accountId: number) =>
  (
    await t.db
      .selectFrom('customer')
      .select('state')
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow()
  ).state;
const storedResults = (accountId: number) =>
  t.db
    .selectFrom('field_order_result')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('result_id')
    .execute();

/** An organisation a month behind, through the ladder, its shut-off approved: the order is dispatched. */
async function dispatchedShutoff(): Promise<{ accountId: number; orderId: number; meterNo: string }> {
  const { accountId, kind } = take();
  if (kind === 'organisation') await insertBill(t, accountId, 12_300, 40);
  else {
    await insertBill(t, accountId, 6_150, 70);
    await insertBill(t, accountId, 6_150, 40);
  }
  await completeLadder(t, accountId);
  const req = await post(
    'manager',
    `/api/customers/${accountId}/shutoff-requests`,
    { reason: '欠费' },
    {
      'idempotency-key': newKey(),
    },
  );
  expect(req.statusCode, req.body).toBe(201);
  const approved = await post(
    'deputy',
    `/api/customers/${accountId}/shutoff-requests/${req.json().requestId}/decision`,
    { approve: true },
  );
  expect(approved.statusCode, approved.body).toBe(200);
  const orderId = approved.json().orderId as number;
  const o = await orderOf(accountId, orderId);
  return { accountId, orderId, meterNo: o.meter_no };
}

const done = (
  clientResultId: string,
  o: { accountId: number; orderId: number },
  confirmedMeterNo: string,
  extra: Record<string, unknown> = {},
) => ({
  clientResultId,
  kind: 'order',
  accountId: o.accountId,
  orderId: o.orderId,
  outcome: 'done',
  action: 'valve_closed',
  confirmedMeterNo,
  note: '',
  recordedAt: new Date(Date.now() - 3 * 3_600_000).toISOString(),
  latitude: 34.2658,
  longitude: 108.9541,
  accuracyM: 8,
  photo: jpeg,
  ...extra,
});

beforeAll(async () => {
  t = await createTestApp({ customers: 300, metering: true });
  pool = [
    ...(await freeCustomers(t, 'water', 'organisation')).map((accountId) => ({
      accountId,
      kind: 'organisation' as const,
    })),
    ...(await freeCustomers(t, 'water', 'person')).map((accountId) => ({
      accountId,
      kind: 'person' as const,
    })),
  ];
  expect(pool.length).toBeGreaterThanOrEqual(7);
}, 300_000);

afterAll(async () => {
  await t?.close();
});

describe('work orders on the handheld', () => {
  it('downloads the open order with what is needed on site; a wrong meter number is refused, the right one seals the customer once', async () => {
    const o = await dispatchedShutoff();
    const list = await get('collector', '/api/field/orders?deviceId=phone-1');
    expect(list.statusCode, list.body).toBe(200);
    const mine = list.json().orders.find((x: { orderId: number }) => x.orderId === o.orderId);
    expect(mine).toMatchObject({
      accountId: o.accountId,
      kind: 'shutoff',
      meterNo: o.meterNo,
      arrearsFen: 12_300,
      status: 'dispatched',
    });
    expect(mine.address.length).toBeGreaterThan(0);
    expect(mine.orderNo).toMatch(/^TS\d{4}-\d{6}$/);

    // The meter on site is another one: refused field by field, nothing stored, nothing shut off.
    const wrong = await upload([done('r-wrong', o, `${o.meterNo}9`)]);
    expect(wrong.statusCode, wrong.body).toBe(200);
    expect(wrong.json().results[0]).toMatchObject({
      result: 'rejected',
      error: {
        code: 'RESULT_INVALID',
        fields: [
          {
            path: 'confirmedMeterNo',
            code: 'ORDER_METER_NO_MISMATCH',
            message: '与工单表号不符：不得停水，请登记为“表号不符”',
          },
        ],
      },
    });
    const wrongEn = await upload([done('r-wrong', o, 'X1')], 'collector', { 'accept-language': 'en' });
    expect(wrongEn.json().results[0].error.fields[0].message).toContain('record a mismatch');
    expect(await storedResults(o.accountId)).toEqual([]);
    expect((await orderOf(o.accountId, o.orderId)).status).toBe('dispatched');

    // The order went out yesterday.
    await t.pool.query(
      `update collection_work_order set dispatched_at = now() - interval '1 day' where account_id = $1 and order_id = $2`,
      [o.accountId, o.orderId],
    );
    // The right number (typed with a space and in lower case): done, the customer sealed.
    const typed = ` ${o.meterNo.toLowerCase()}`;
    const first = done('r-right', o, typed);
    const ok = await upload([first]);
    expect(ok.json().results[0]).toMatchObject({ result: 'accepted', orderStatus: 'done', conflict: false });
    const order = await orderOf(o.accountId, o.orderId);
    expect(order).toMatchObject({ status: 'done', action: 'valve_closed' });
    // Completed when the worker was there (three hours ago), not when the phone found a network.
    expect(order.completed_at!.toISOString()).toBe(first.recordedAt);
    expect(await stateOf(o.accountId)).toBe('sealed');

    // A retry after a lost answer, and the same queue from a second phone at the same time: stored once.
    const [retry, phone2] = await Promise.all([
      upload([first]),
      post('collector', '/api/field/orders/results', { deviceId: 'phone-2', results: [first] }),
    ]);
    for (const r of [retry, phone2])
      expect(r.json().results[0]).toMatchObject({
        result: 'duplicate',
        conflict: false,
        orderStatus: 'done',
      });
    const stored = await storedResults(o.accountId);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      status: 'applied',
      outcome: 'done',
      confirmed_meter_no: typed.trim(),
      latitude: 34.2658,
      device_id: 'phone-1',
    });
    const changes = await t.db
      .selectFrom('customer_state_change')
      .select('to_state')
      .where('account_id', '=', o.accountId)
      .execute();
    expect(changes.filter((c) => c.to_state === 'sealed')).toHaveLength(1);

    // The photo is served to the back office.
    const photo = await get(
      'manager',
      `/api/customers/${o.accountId}/field-results/${stored[0]!.result_id}/photo`,
    );
    expect(photo.statusCode).toBe(200);
    expect(photo.headers['content-type']).toBe('image/jpeg');
    expect(photo.rawPayload.equals(Buffer.from(jpeg.split(',')[1]!, 'base64'))).toBe(true);

    // No longer open: not downloaded again.
    const after = await get('collector', '/api/field/orders');
    expect(after.json().orders.map((x: { orderId: number }) => x.orderId)).not.toContain(o.orderId);
  });

  it('a second worker’s result for an order already done is kept and flagged as a conflict, not applied', async () => {
    const o = await dispatchedShutoff();
    expect((await upload([done('c-1', o, o.meterNo)])).json().results[0].result).toBe('accepted');
    const late = await upload(
      [{ ...done('c-2', o, o.meterNo), outcome: 'obstructed', action: null, note: '用户阻挠' }],
      'reader',
    );
    expect(late.json().results[0]).toMatchObject({ result: 'conflict', conflict: true, orderStatus: 'done' });
    const stored = await storedResults(o.accountId);
    expect(stored.map((s) => [s.client_result_id, s.status])).toEqual([
      ['c-1', 'applied'],
      ['c-2', 'conflict'],
    ]);
    expect((await orderOf(o.accountId, o.orderId)).status).toBe('done');
    const referrals = await t.db
      .selectFrom('inspection_referral')
      .select('referral_id')
      .where('account_id', '=', o.accountId)
      .execute();
    expect(referrals).toHaveLength(0);
    // The office sees it flagged.
    const flagged = await get(
      'manager',
      `/api/collections/field-results?conflictOnly=true&accountId=${o.accountId}`,
    );
    expect(flagged.json().items).toHaveLength(1);
    expect(flagged.json().items[0]).toMatchObject({
      status: 'conflict',
      outcome: 'obstructed',
      orderId: o.orderId,
    });
  });

  it('obstruction goes to the inspectors (with the note); mismatch shuts nothing off', async () => {
    const a = await dispatchedShutoff();
    const b = await dispatchedShutoff();
    const noNote = await upload([{ ...done('o-0', a, ''), outcome: 'obstructed', action: null }]);
    expect(noNote.json().results[0].error.fields).toEqual([
      { path: 'note', code: 'ORDER_NOTE_REQUIRED', message: '请说明受阻情况，转稽查处理' },
    ]);
    const res = await upload([
      { ...done('o-1', a, ''), outcome: 'obstructed', action: null, note: '表井被车辆压住', photo: null },
      { ...done('o-2', b, 'W-OTHER'), outcome: 'mismatch', action: null },
    ]);
    expect(res.json().results.map((r: { result: string }) => r.result)).toEqual(['accepted', 'accepted']);
    const obstructed = await orderOf(a.accountId, a.orderId);
    expect(obstructed.status).toBe('obstructed');
    // Recorded "three hours ago" by a phone, but dispatched just now: not completed before its dispatch.
    expect(obstructed.completed_at!.getTime()).toBe(obstructed.dispatched_at.getTime());
    expect((await orderOf(b.accountId, b.orderId)).status).toBe('mismatch');
    const referrals = await get('manager', '/api/collections/referrals');
    expect(
      referrals.json().items.filter((r: { accountId: number }) => r.accountId === a.accountId),
    ).toMatchObject([{ reason: 'obstruction', note: '表井被车辆压住' }]);
    expect(await stateOf(a.accountId)).toBe('active');
    expect(await stateOf(b.accountId)).toBe('active');
  });

  it('the restore after payment is downloaded with its deadline and, done on the handheld, gives supply back', async () => {
    const o = await dispatchedShutoff();
    await upload([done('s-1', o, o.meterNo)]);
    const paid = await post(
      'clerk',
      `/api/customers/${o.accountId}/payments`,
      { amountFen: 12_300, channel: 'cash' },
      { 'idempotency-key': newKey() },
    );
    expect(paid.statusCode, paid.body).toBe(201);
    const list = (await get('collector', '/api/field/orders')).json();
    const restore = list.orders.find((x: { accountId: number; kind: string }) => x.accountId === o.accountId);
    expect(restore).toMatchObject({ kind: 'restore', meterNo: o.meterNo, status: 'dispatched' });
    const hours = (new Date(restore.dueAt).getTime() - new Date(restore.dispatchedAt).getTime()) / 3_600_000;
    expect(hours).toBeCloseTo(24, 1);
    // A restore is "done" only.
    const bad = await upload([
      { ...done('s-2', restore, ''), outcome: 'obstructed', action: null, note: 'x' },
    ]);
    expect(bad.json().results[0].error.fields[0]).toMatchObject({
      path: 'outcome',
      code: 'ORDER_OUTCOME_UNKNOWN',
    });
    const ok = await upload([
      { ...done('s-3', restore, ''), action: null, recordedAt: new Date().toISOString(), photo: null },
    ]);
    expect(ok.json().results[0]).toMatchObject({ result: 'accepted', orderStatus: 'done' });
    expect(await stateOf(o.accountId)).toBe('active');
  });
});

describe('re-checks for self-reconnection on the handheld', () => {
  it('the due re-check is on the book’s reader’s phone; a reconnection is referred, a late one for a restored customer is a conflict', async () => {
    const o = await dispatchedShutoff();
    await upload([done('k-0', o, o.meterNo)]);
    // Shut off 40 days ago, on a book read by the demo reader.
    await t.pool.query(
      `update collection_work_order set completed_at = now() - interval '40 days' where account_id = $1 and order_id = $2`,
      [o.accountId, o.orderId],
    );
    await t.pool.query(
      `update book set reader_id = (select staff_id from staff where username = 'reader')
        where book_id = (select m.book_id from meter m join collection_work_order w on w.account_id = m.account_id
                          and w.meter_id = m.meter_id where w.account_id = $1 and w.order_id = $2)`,
      [o.accountId, o.orderId],
    );
    const list = (await get('reader', '/api/field/orders')).json();
    const task = list.rechecks.find((r: { accountId: number }) => r.accountId === o.accountId);
    expect(task).toMatchObject({ orderId: o.orderId, meterNo: o.meterNo, due: true });
    // Not on another worker's phone (not their book).
    const other = (await get('reader2', '/api/field/orders')).json();
    expect(other.rechecks.map((r: { accountId: number }) => r.accountId)).not.toContain(o.accountId);

    const recheck = (id: string, outcome: string) => ({
      clientResultId: id,
      kind: 'recheck',
      accountId: o.accountId,
      orderId: o.orderId,
      outcome,
      note: '阀门铅封被剪断',
      recordedAt: new Date().toISOString(),
      photo: jpeg,
    });
    const unknown = await upload([recheck('k-x', 'maybe')], 'reader');
    expect(unknown.json().results[0].error.fields[0].code).toBe('RECHECK_FINDING_UNKNOWN');
    const res = await upload([recheck('k-1', 'reconnected')], 'reader');
    expect(res.json().results[0]).toMatchObject({ result: 'accepted' });
    expect((await upload([recheck('k-1', 'reconnected')], 'reader')).json().results[0].result).toBe(
      'duplicate',
    );
    const checks = await t.db
      .selectFrom('reconnection_check')
      .select(['outcome', 'note'])
      .where('account_id', '=', o.accountId)
      .execute();
    expect(checks).toEqual([{ outcome: 'reconnected', note: '阀门铅封被剪断' }]);
    const referral = await t.db
      .selectFrom('inspection_referral')
      .select('reason')
      .where('account_id', '=', o.accountId)
      .executeTakeFirstOrThrow();
    expect(referral.reason).toBe('self_reconnection');
    // Checked today: not due any more.
    const again = (await get('reader', '/api/field/orders')).json();
    expect(again.rechecks.map((r: { accountId: number }) => r.accountId)).not.toContain(o.accountId);

    // The customer pays and is restored; a re-check recorded offline before that arrives late: kept, flagged.
    await post(
      'clerk',
      `/api/customers/${o.accountId}/payments`,
      { amountFen: 12_300, channel: 'cash' },
      { 'idempotency-key': newKey() },
    );
    const late = await upload([recheck('k-2', 'still_off')], 'reader');
    expect(late.json().results[0]).toMatchObject({ result: 'conflict' });
    expect(
      await t.db
        .selectFrom('reconnection_check')
        .select('check_id')
        .where('account_id', '=', o.accountId)
        .execute(),
    ).toHaveLength(1);
  });

  it('a reader of another office (reader3, 0102) cannot record for this customer', async () => {
    const o = await dispatchedShutoff();
    const res = await upload([done('x-1', o, o.meterNo)], 'reader3');
    expect(res.json().results[0]).toMatchObject({ result: 'rejected', error: { code: 'NOT_FOUND' } });
    expect((await orderOf(o.accountId, o.orderId)).status).toBe('dispatched');
  });
});
