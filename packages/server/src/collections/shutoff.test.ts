import { addDays, DEFAULT_SETTINGS, PERMISSIONS, restoreDeadline, todayInChina } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkingCalendar } from '../calendar/load.ts';
import type { RequestContext } from '../platform/context.ts';
import { hashPassword } from '../platform/passwords.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { pdfPages } from '../testing/pdf.ts';
import {
  completeLadder,
  disputeBill,
  freeCustomers,
  insertBill,
  newKey,
  TODAY,
} from './escalationTesting.ts';
import { onInstallmentSigned } from './restore.ts';

/**
 * Shut-off and restore through the HTTP API on real PostgreSQL (DOMAIN.md §6 "Shut-off",
 * "Restore", docs/escalation.md): eligibility by customer kind and utility, held amounts ignored,
 * approval by another person, the work order and its field results, the customer's state, the
 * restore order dispatched by a counter payment exactly once with the right deadline, late
 * restores reported, and the readers' re-checks.
 */

let t: TestApp;
let persons: number[] = [];
let orgs: number[] = [];
let gas: number[] = [];
const take = (list: number[]) => {
  const a = list.shift();
  if (a === undefined) throw new Error('out of test customers');
  return a;
};

const post = (user: string, url: string, payload: unknown, key?: string) =>
  t.as(user)({ method: 'POST', url, payload, headers: key ? { 'idempotency-key': key } : {} });
const get = (user: string, url: string) => t.as(user)({ method: 'GET', url });
const requestShutoff = (accountId: number, user = 'manager') =>
  post(user, `/api/customers/${accountId}/shutoff-requests`, { reason: '长期欠费' }, newKey());
const decide = (accountId: number, requestId: number, user = 'deputy', approve = true) =>
  post(user, `/api/customers/${accountId}/shutoff-requests/${requestId}/decision`, { approve, note: '同意' });
const result = (accountId: number, orderId: number, payload: Record<string, unknown>, user = 'collector') =>
  post(user, `/api/customers/${accountId}/work-orders/${orderId}/result`, payload);
const pay = (accountId: number, amountFen: number, key = newKey()) =>
  post('clerk', `/api/customers/${accountId}/payments`, { amountFen, channel: 'cash' }, key);
const stateOf = async (accountId: number) =>
  (
    await t.db
      .selectFrom('customer')
      .select('state')
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow()
  ).state;
const restoresOf = (accountId: number) =>
  t.db
    .selectFrom('collection_work_order')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('kind', '=', 'restore')
    .execute();

/** A customer shut off through the whole process: ladder, request, approval, work order done. */
async function shutOff(accountId: number, action: 'valve_closed' | 'meter_removed' = 'valve_closed') {
  await completeLadder(t, accountId);
  const req = await requestShutoff(accountId);
  expect(req.statusCode, req.body).toBe(201);
  const approved = await decide(accountId, req.json().requestId);
  expect(approved.statusCode, approved.body).toBe(200);
  const orderId = approved.json().orderId as number;
  const order = (await get('collector', `/api/customers/${accountId}/work-orders/${orderId}`)).json();
  const done = await result(accountId, orderId, { outcome: 'done', action, confirmedMeterNo: order.meterNo });
  expect(done.statusCode, done.body).toBe(200);
  return { orderId, order };
}

beforeAll(async () => {
  t = await createTestApp({ customers: 400, metering: true });
  persons = await freeCustomers(t, 'water', 'person');
  orgs = await freeCustomers(t, 'water', 'organisation');
  gas = await freeCustomers(t, 'gas', 'person');
  expect(persons.length).toBeGreaterThan(10);
  expect(orgs.length).toBeGreaterThanOrEqual(4);
  expect(gas.length).toBeGreaterThan(1);
  // A person holding both collection.manage and collection.approve, to try approving their own request.
  await t.db
    .insertInto('role')
    .values({ role_code: 'esc_both', name_zh: '双权', name_en: 'Both', org_wide: false })
    .execute();
  await t.db
    .insertInto('role_permission')
    .values(
      PERMISSIONS.filter((p) => p.startsWith('collection.') || p === 'customer.read').map((permission) => ({
        role_code: 'esc_both',
        permission,
      })),
    )
    .execute();
  const office = await t.db
    .selectFrom('office')
    .select('office_id')
    .where('code', '=', '0101')
    .executeTakeFirstOrThrow();
  const staff = await t.db
    .insertInto('staff')
    .values({
      username: 'esc_both',
      full_name: '双权测试',
      role_code: 'esc_both',
      home_office_id: office.office_id,
      password_hash: await hashPassword('meterline'),
    })
    .returning('staff_id')
    .executeTakeFirstOrThrow();
  await t.db
    .insertInto('staff_office')
    .values({ staff_id: staff.staff_id, office_id: office.office_id })
    .execute();
}, 300_000);

afterAll(async () => {
  await t?.close();
});

describe('eligibility (water: individuals two months or more, organisations one month or more)', () => {
  it('an individual one month behind is refused with the reason; an organisation is not', async () => {
    const person = take(persons);
    const org = take(orgs);
    await insertBill(t, person, 6_000, 40);
    await insertBill(t, org, 6_000, 40);
    const e = (await get('manager', `/api/customers/${person}/shutoff-eligibility`)).json();
    expect(e.eligibility).toMatchObject({ eligible: false, reason: 'TOO_FEW_MONTHS', monthsNeeded: 2 });
    await completeLadder(t, person);
    await completeLadder(t, org);
    const refused = await requestShutoff(person);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({
      code: 'SHUTOFF_NOT_ELIGIBLE',
      reason: 'TOO_FEW_MONTHS',
      monthsNeeded: 2,
    });
    expect(refused.json().error.message).toContain('2');
    const ok = await requestShutoff(org);
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json()).toMatchObject({ status: 'pending', arrearsFen: 6_000, arrearsMonths: 1 });
    // One live request per customer.
    expect((await requestShutoff(org)).json().error.reason).toBe('ALREADY_REQUESTED');
  });

  it('an individual two months behind is eligible only after the ladder', async () => {
    const person = take(persons);
    await insertBill(t, person, 9_000, 70);
    expect((await requestShutoff(person)).json().error.reason).toBe('LADDER_INCOMPLETE');
    await completeLadder(t, person);
    expect((await requestShutoff(person)).statusCode).toBe(201);
  });

  it('held amounts (an undecided dispute) do not count', async () => {
    const person = take(persons);
    const old = await insertBill(t, person, 9_000, 70);
    await insertBill(t, person, 4_000, 40);
    await completeLadder(t, person);
    await disputeBill(t, person, old, 9_000);
    const refused = await requestShutoff(person);
    expect(refused.json().error).toMatchObject({ code: 'SHUTOFF_NOT_ELIGIBLE', reason: 'TOO_FEW_MONTHS' });
    const e = (await get('manager', `/api/customers/${person}/shutoff-eligibility`)).json();
    expect(e.arrears.arrearsFen).toBe(4_000);
  });

  it('gas: the notice posted, then no earlier than 3 days after it', async () => {
    const g = take(gas);
    await insertBill(t, g, 5_000, 40);
    expect((await requestShutoff(g)).json().error.reason).toBe('GAS_NOTICE_NOT_POSTED');
    const notice = await post(
      'manager',
      `/api/customers/${g}/collection-letters`,
      { kind: 'gas_notice' },
      newKey(),
    );
    expect(notice.statusCode, notice.body).toBe(201);
    expect(notice.json().letterNo).toMatch(/^TQ/);
    const posted = await post(
      'collector',
      `/api/customers/${g}/collection-letters/${notice.json().letterId}/delivery`,
      {
        outcome: 'posted',
      },
    );
    expect(posted.statusCode, posted.body).toBe(200);
    const early = await requestShutoff(g);
    expect(early.json().error).toMatchObject({
      reason: 'GAS_NOTICE_TOO_RECENT',
      earliestOn: addDays(TODAY, 3),
    });
    await t.pool.query(
      'update collection_letter set issued_on = $2, delivered_on = $2 where letter_id = $1',
      [notice.json().letterId, addDays(TODAY, -3)],
    );
    expect((await requestShutoff(g)).statusCode).toBe(201);
  });
});

describe('approval and the shut-off work order', () => {
  it('self-approval is refused; collection.approve is needed; another person approves', async () => {
    const org = take(orgs);
    await insertBill(t, org, 7_000, 40);
    await completeLadder(t, org, 'esc_both');
    const req = (await requestShutoff(org, 'esc_both')).json();
    expect((await decide(org, req.requestId, 'esc_both')).statusCode).toBe(403);
    expect((await decide(org, req.requestId, 'esc_both')).json().error.code).toBe('SELF_APPROVAL');
    expect((await decide(org, req.requestId, 'manager')).statusCode).toBe(403);
    const ok = await decide(org, req.requestId, 'deputy');
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'approved', decidedBy: '孙卫东' });
    expect(ok.json().orderNo).toMatch(/^TS\d{4}-\d{6}$/);
    expect((await decide(org, req.requestId, 'deputy')).json().error.code).toBe('REQUEST_NOT_PENDING');
  });

  it('an amount disputed after the request is not shut off for: the approval is refused', async () => {
    const person = take(persons);
    const bill = await insertBill(t, person, 6_600, 70);
    await completeLadder(t, person);
    const req = (await requestShutoff(person)).json();
    await disputeBill(t, person, bill, 6_600);
    const refused = await decide(person, req.requestId);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error).toMatchObject({ code: 'SHUTOFF_NOT_ELIGIBLE', reason: 'NOT_IN_ARREARS' });
    const orders = await t.db
      .selectFrom('collection_work_order')
      .select('order_id')
      .where('account_id', '=', person)
      .execute();
    expect(orders).toHaveLength(0);
  });

  it('the work order shows the meter to check; mismatch and obstruction do not shut off; done seals', async () => {
    const org = take(orgs);
    await insertBill(t, org, 7_500, 40);
    await completeLadder(t, org);
    const req = (await requestShutoff(org)).json();
    const orderId = (await decide(org, req.requestId)).json().orderId;
    const order = (await get('collector', `/api/customers/${org}/work-orders/${orderId}`)).json();
    const meter = await t.db
      .selectFrom('meter')
      .select('meter_no')
      .where('account_id', '=', org)
      .executeTakeFirstOrThrow();
    expect(order).toMatchObject({
      kind: 'shutoff',
      status: 'dispatched',
      meterNo: meter.meter_no,
      arrearsFen: 7_500,
    });
    const pdf = await get('collector', `/api/customers/${org}/work-orders/${orderId}/pdf`);
    expect(pdf.statusCode).toBe(200);
    const text = pdfPages(pdf.rawPayload).join('\n');
    expect(text).toContain(meter.meter_no);
    expect(text).toContain(order.orderNo);
    expect(text).toContain('75.00');

    // The number on site is not the one on the order: refused as "done", recorded as a mismatch.
    const wrong = await result(org, orderId, {
      outcome: 'done',
      action: 'valve_closed',
      confirmedMeterNo: 'X0000',
    });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().error.fields[0].path).toBe('confirmedMeterNo');
    const mismatch = await result(org, orderId, {
      outcome: 'mismatch',
      confirmedMeterNo: 'X0000',
      note: '表号不符',
    });
    expect(mismatch.json()).toMatchObject({ status: 'mismatch' });
    expect(await stateOf(org)).toBe('active');
    expect((await result(org, orderId, { outcome: 'obstructed' })).statusCode).toBe(409);
  });

  it('obstruction is referred to the inspectors; done closes the valve and seals the customer', async () => {
    const [a, b] = [take(orgs), take(persons)];
    await insertBill(t, a, 5_000, 40);
    await completeLadder(t, a);
    const ra = (await requestShutoff(a)).json();
    const oa = (await decide(a, ra.requestId)).json().orderId;
    const obstructed = await result(a, oa, { outcome: 'obstructed', note: '用户阻挠' });
    expect(obstructed.json().status).toBe('obstructed');
    const referrals = await get('inspector', '/api/collections/referrals?status=open');
    expect(referrals.statusCode).toBe(200);
    expect(referrals.json().items.find((r: { accountId: number }) => r.accountId === a)).toMatchObject({
      reason: 'obstruction',
      note: '用户阻挠',
    });
    expect(await stateOf(a)).toBe('active');

    await insertBill(t, b, 8_000, 70);
    await shutOff(b);
    expect(await stateOf(b)).toBe('sealed');
    const change = await t.db
      .selectFrom('customer_state_change')
      .selectAll()
      .where('account_id', '=', b)
      .executeTakeFirstOrThrow();
    expect(change).toMatchObject({ from_state: 'active', to_state: 'sealed' });
  });
});

describe('restore', () => {
  it('a partial payment restores nothing; paying the arrears at the counter dispatches one restore order due in 24 h', async () => {
    const a = take(persons);
    await insertBill(t, a, 8_000, 70);
    await insertBill(t, a, 3_000, 40);
    await shutOff(a);
    const partial = await pay(a, 5_000);
    expect(partial.statusCode, partial.body).toBe(201);
    expect(await restoresOf(a)).toHaveLength(0);

    const before = Date.now();
    const key = newKey();
    const full = await pay(a, 6_000, key);
    expect(full.statusCode, full.body).toBe(201);
    const restores = await restoresOf(a);
    expect(restores).toHaveLength(1);
    const r = restores[0]!;
    expect(r).toMatchObject({ status: 'dispatched', cause: 'payment' });
    expect(r.order_no).toMatch(/^FS\d{4}-\d{6}$/);
    const hours = (r.due_at!.getTime() - r.dispatched_at.getTime()) / 3_600_000;
    expect(hours).toBe(DEFAULT_SETTINGS['shutoff.restoreHours']);
    expect(r.dispatched_at.getTime()).toBeGreaterThanOrEqual(before - 1000);

    // The retry of the payment, and a later payment, dispatch nothing more.
    expect((await pay(a, 6_000, key)).headers['idempotent-replay']).toBe('true');
    expect((await pay(a, 1_000)).statusCode).toBe(201);
    expect(await restoresOf(a)).toHaveLength(1);

    // The page's list shows it dispatched with its deadline; done → the customer is active again.
    const list = (await get('manager', `/api/collections/work-orders?kind=restore&accountId=${a}`)).json()
      .items;
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ status: 'dispatched', late: false, hoursAllowed: 24 });
    const done = await result(a, r.order_id, { outcome: 'done' });
    expect(done.statusCode, done.body).toBe(200);
    expect(await stateOf(a)).toBe('active');
  });

  it('a removed meter is due by the end of the 2nd working day (China calendar)', async () => {
    const a = take(persons);
    await insertBill(t, a, 8_000, 70);
    await shutOff(a, 'meter_removed');
    const paidAt = new Date();
    expect((await pay(a, 8_000)).statusCode).toBe(201);
    const [r] = await restoresOf(a);
    const today = todayInChina(paidAt);
    const calendar = await loadWorkingCalendar(t.db, today, addDays(today, 60));
    const expected = restoreDeadline(paidAt, true, calendar, DEFAULT_SETTINGS);
    expect(r!.due_at!.toISOString()).toBe(expected.toISOString());
    expect(r!.due_at!.toISOString()).toMatch(/T16:00:00.000Z$/);
    expect(calendar.isWorkingDay(addDays(r!.due_at!.toISOString().slice(0, 10), 0))).toBe(true);
  });

  it('a late restore is reported and highlighted', async () => {
    const a = take(persons);
    await insertBill(t, a, 8_000, 70);
    await shutOff(a);
    await pay(a, 8_000);
    const [r] = await restoresOf(a);
    await t.pool.query(
      `update collection_work_order set dispatched_at = now() - interval '30 hours', due_at = now() - interval '6 hours'
        where account_id = $1 and order_id = $2`,
      [a, r!.order_id],
    );
    const late = (await get('manager', '/api/collections/work-orders?lateOnly=true')).json().items;
    expect(late.find((o: { accountId: number }) => o.accountId === a)).toMatchObject({
      late: true,
      status: 'dispatched',
    });
    const report1 = (await get('manager', '/api/collections/restores/report')).json();
    expect(report1.openOverdue).toBeGreaterThanOrEqual(1);
    await result(a, r!.order_id, { outcome: 'done' });
    const report2 = (await get('manager', '/api/collections/restores/report')).json();
    expect(report2.doneLate).toBe(report1.doneLate + 1);
    expect(report2.openOverdue).toBe(report1.openOverdue - 1);
    const point = report2.points.find((p: { orderNo: string }) => p.orderNo === r!.order_no);
    expect(point.late).toBe(true);
    expect(point.hoursTaken).toBeGreaterThan(point.hoursAllowed);
  });

  it('a payment before the shut-off is carried out cancels it; a pending request is withdrawn', async () => {
    const [a, b] = [take(persons), take(persons)];
    for (const x of [a, b]) {
      await insertBill(t, x, 4_000, 70);
      await completeLadder(t, x);
    }
    const ra = (await requestShutoff(a)).json();
    const oa = (await decide(a, ra.requestId)).json().orderId;
    const rb = (await requestShutoff(b)).json();
    await pay(a, 4_000);
    await pay(b, 4_000);
    expect((await get('manager', `/api/customers/${a}/work-orders/${oa}`)).json().status).toBe('cancelled');
    const reqB = (await get('manager', `/api/collections/shutoff-requests?accountId=${b}`)).json().items[0];
    expect(reqB).toMatchObject({ requestId: rb.requestId, status: 'withdrawn' });
    expect(await restoresOf(a)).toHaveLength(0);
  });

  it('an installment agreement signed restores supply (onInstallmentSigned)', async () => {
    const a = take(persons);
    await insertBill(t, a, 8_000, 70);
    await shutOff(a);
    const deputy = await t.db
      .selectFrom('staff')
      .select('staff_id')
      .where('username', '=', 'deputy')
      .executeTakeFirstOrThrow();
    const ctx: RequestContext = {
      caller: {
        staffId: deputy.staff_id,
        username: 'deputy',
        fullName: '孙卫东',
        roleCode: 'deputy_gm',
        permissions: new Set(),
        officeIds: null,
        homeOfficeId: null,
        mustChangePassword: false,
      },
      lang: 'zh-CN',
      requestId: 'test',
      ip: '127.0.0.1',
      audited: 0,
    };
    const orders = await t.db.transaction().execute((trx) => onInstallmentSigned(trx, ctx, a));
    expect(orders).toHaveLength(1);
    const again = await t.db.transaction().execute((trx) => onInstallmentSigned(trx, ctx, a));
    expect(again).toHaveLength(0);
    const [r] = await restoresOf(a);
    expect(r).toMatchObject({ cause: 'installment', status: 'dispatched' });
  });
});

describe('re-checks for self-reconnection', () => {
  it('lists shut-off customers for the book’s reader every N days; a reconnection goes to the inspectors', async () => {
    const a = take(persons);
    await insertBill(t, a, 8_000, 70);
    await shutOff(a);
    const reader = await t.db
      .selectFrom('meter as m')
      .innerJoin('book as b', 'b.book_id', 'm.book_id')
      .innerJoin('staff as s', 's.staff_id', 'b.reader_id')
      .select(['s.username', 'b.code'])
      .where('m.account_id', '=', a)
      .executeTakeFirst();
    const all = (await get('manager', '/api/collections/rechecks')).json().items;
    const task = all.find((x: { accountId: number }) => x.accountId === a);
    expect(task).toMatchObject({ shutOffOn: TODAY, dueOn: addDays(TODAY, 30), due: false });
    if (reader) {
      const mine = (await get(reader.username, '/api/collections/rechecks?mine=true')).json().items;
      expect(mine.some((x: { accountId: number }) => x.accountId === a)).toBe(true);
      expect(task.bookCode).toBe(reader.code);
    }
    // A month later the check is due; the reader finds it reconnected.
    await t.pool.query(
      `update collection_work_order set completed_at = now() - interval '31 days' where account_id = $1 and kind = 'shutoff'`,
      [a],
    );
    const due = (await get('manager', '/api/collections/rechecks?dueOnly=true')).json().items;
    expect(due.some((x: { accountId: number }) => x.accountId === a)).toBe(true);
    const check = await post('collector', `/api/customers/${a}/rechecks`, {
      outcome: 'reconnected',
      note: '私自接通',
    });
    expect(check.statusCode, check.body).toBe(201);
    expect(check.json().referralId).not.toBeNull();
    const after = (await get('manager', '/api/collections/rechecks'))
      .json()
      .items.find((x: { accountId: number }) => x.accountId === a);
    expect(after).toMatchObject({
      lastCheckOn: TODAY,
      lastOutcome: 'reconnected',
      dueOn: addDays(TODAY, 30),
    });
    const referrals = (await get('inspector', '/api/collections/referrals')).json().items;
    expect(referrals.find((r: { accountId: number }) => r.accountId === a).reason).toBe('self_reconnection');
  });
});
