import { todayInChina } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { generateTasks } from './tasks.ts';
import { bookWith, customersWithMeters, officeId, overdueBills, staffId } from './tasksFixtures.ts';

/**
 * The handheld's collection day on real PostgreSQL (DOMAIN.md §6): download the day's list, upload
 * visits idempotently by client visit id (a retry or a second phone records nothing twice; a
 * different second visit for a task is kept and flagged), visits validated field by field, photos
 * and signatures stored and served to the back office.
 */

let t: TestApp;
let office: number;
let collector: number;
let accounts: number[];
let taskOf: Map<number, number>;
const today = todayInChina();
/** A JPEG is recognised by its magic number; the rest of the bytes are the test's. */
const jpeg = `data:image/jpeg;base64,${Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]).toString('base64')}`;
const png = `data:image/png;base64,${Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]).toString('base64')}`;

const upload = (visits: unknown[], deviceId = 'phone-1', user = 'collector') =>
  t.as(user)({ method: 'POST', url: '/api/field/collection/visits', payload: { deviceId, visits } });

beforeAll(async () => {
  t = await createTestApp({ customers: 40 });
  office = await officeId(t.db, '0101');
  collector = await staffId(t.db, 'collector');
  accounts = (await customersWithMeters(t.db, office)).slice(0, 4);
  await bookWith(t.db, office, 'C-01', accounts, { collectorId: collector });
  for (const a of accounts) await overdueBills(t.db, a, 2, { dueOn: '2026-01-31' });
  // Accounts 0 and 1 have a phone on record, 2 and 3 none.
  await t.db.deleteFrom('contact').where('account_id', 'in', accounts.slice(2)).execute();
  await generateTasks(t.db, null, office, today);
  // Every customer on today's list, by hand where the quota left them off.
  for (const a of accounts) {
    await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${a}/collection-tasks`,
      payload: { assigneeId: collector, date: today },
    });
  }
  const tasks = await t.db
    .selectFrom('collection_task')
    .select(['account_id', 'task_id'])
    .where('task_date', '=', today)
    .execute();
  taskOf = new Map(tasks.map((x) => [x.account_id, x.task_id]));
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('the handheld list', () => {
  it('downloads the caller’s customers with arrears bill by bill, meters and phones', async () => {
    const res = await t.as('collector')({
      method: 'GET',
      url: `/api/field/collection?date=${today}&deviceId=p1`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.customers.map((c: { accountId: number }) => c.accountId).sort()).toEqual(
      [...accounts].sort(),
    );
    const first = body.customers.find((c: { accountId: number }) => c.accountId === accounts[0]);
    expect(first.bills).toHaveLength(2);
    expect(first.arrearsFen).toBe(10000);
    expect(first.bills.reduce((s: number, b: { owedFen: number }) => s + b.owedFen, 0)).toBe(10000);
    expect(first.meters.length).toBeGreaterThan(0);
    expect(first.phones.length).toBeGreaterThan(0);
    // A reader has no collection tasks today; a clerk may not use the handheld list.
    const reader = await t.as('reader')({ method: 'GET', url: `/api/field/collection?date=${today}` });
    expect(reader.json().customers).toEqual([]);
    const clerk = await t.as('clerk')({ method: 'GET', url: `/api/field/collection?date=${today}` });
    expect(clerk.statusCode).toBe(403);
  });
});

describe('visit upload', () => {
  const refused = (clientVisitId: string, accountId: number) => ({
    clientVisitId,
    accountId,
    taskId: taskOf.get(accountId),
    method: 'notice_posted',
    outcome: 'refused',
    reason: '对上月水量有异议',
    photo: jpeg,
    visitedAt: new Date().toISOString(),
    latitude: 30.27,
    longitude: 120.15,
    site: { kind: 'residential', topFloor: 6, units: 2, households: 24 },
  });

  it('a refused visit with photo and reason is stored once, however often it is sent', async () => {
    const v = refused('cv-1', accounts[0]!);
    const first = await upload([v]);
    expect(first.statusCode, first.body).toBe(200);
    const [answer] = first.json().results;
    expect(answer).toMatchObject({ clientVisitId: 'cv-1', result: 'accepted' });
    // A retry, and the same queue sent from a second phone, at the same time.
    const [again, second] = await Promise.all([upload([v]), upload([v], 'phone-2')]);
    expect(again.json().results[0]).toMatchObject({ result: 'duplicate', visitId: answer.visitId });
    expect(second.json().results[0]).toMatchObject({ result: 'duplicate', visitId: answer.visitId });
    const rows = await t.db
      .selectFrom('collection_visit')
      .selectAll()
      .where('client_visit_id', '=', 'cv-1')
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      outcome: 'refused',
      reason: '对上月水量有异议',
      conflict: false,
      device_id: 'phone-1',
    });
    expect(rows[0]!.site).toEqual({ kind: 'residential', topFloor: 6, units: 2, households: 24 });
    const task = await t.db
      .selectFrom('collection_task')
      .select('status')
      .where('task_id', '=', taskOf.get(accounts[0]!)!)
      .executeTakeFirstOrThrow();
    expect(task.status).toBe('visited');
    // The photo is served to the back office, byte for byte.
    const photo = await t.as('manager')({
      method: 'GET',
      url: `/api/customers/${accounts[0]}/collection-visits/${answer.visitId}/photo`,
    });
    expect(photo.statusCode).toBe(200);
    expect(photo.headers['content-type']).toBe('image/jpeg');
    expect(photo.rawPayload.equals(Buffer.from(jpeg.split(',')[1]!, 'base64'))).toBe(true);
    // Audited once.
    const audits = await t.db
      .selectFrom('audit_log')
      .select('entity_id')
      .where('entity_type', '=', 'collection_visit')
      .where('entity_id', '=', `${accounts[0]}/${answer.visitId}`)
      .execute();
    expect(audits).toHaveLength(1);
  });

  it('a different second visit for the same task is kept and flagged as a conflict', async () => {
    const res = await upload([{ ...refused('cv-2', accounts[0]!), reason: '第二次走访' }], 'phone-2');
    expect(res.json().results[0]).toMatchObject({ result: 'conflict' });
    const rows = await t.db
      .selectFrom('collection_visit')
      .select(['client_visit_id', 'conflict'])
      .where('task_id', '=', taskOf.get(accounts[0]!)!)
      .orderBy('visit_id')
      .execute();
    expect(rows).toEqual([
      { client_visit_id: 'cv-1', conflict: false },
      { client_visit_id: 'cv-2', conflict: true },
    ]);
  });

  it('refuses, field by field in the caller’s language, a visit that breaks the rules', async () => {
    const res = await upload([
      { ...refused('bad-1', accounts[1]!), photo: null, reason: ' ' },
      // Nobody found at a customer with a phone on record: the call must be logged.
      { ...refused('bad-2', accounts[1]!), outcome: 'nobody_found', reason: '' },
      // Signed needs the signature.
      { ...refused('bad-3', accounts[1]!), method: 'account_confirmation', outcome: 'signed', photo: null },
      // A photo that is not a JPEG.
      { ...refused('bad-4', accounts[1]!), photo: 'data:image/jpeg;base64,AAAAAAAA' },
    ]);
    const results = res.json().results;
    const fields = (i: number) => results[i].error.fields.map((f: { path: string }) => f.path);
    expect(results.map((r: { result: string }) => r.result)).toEqual([
      'rejected',
      'rejected',
      'rejected',
      'rejected',
    ]);
    expect(fields(0)).toEqual(['photo', 'reason']);
    expect(results[0].error.fields[1].message).toBe('请填写拒签原因');
    expect(fields(1)).toEqual(['phoneCall']);
    expect(fields(2)).toEqual(['signature', 'signerName']);
    expect(fields(3)).toEqual(['photo']);
    const en = await t.as('collector')({
      method: 'POST',
      url: '/api/field/collection/visits',
      headers: { 'accept-language': 'en' },
      payload: { deviceId: 'p', visits: [{ ...refused('bad-5', accounts[1]!), reason: '' }] },
    });
    expect(en.json().results[0].error.fields[0].message).toBe('Enter the reason the customer refused');
    const stored = await t.db
      .selectFrom('collection_visit')
      .select('client_visit_id')
      .where('client_visit_id', 'like', 'bad-%')
      .execute();
    expect(stored).toEqual([]);
  });

  it('nobody found: with a call logged, or without where no phone is known; signed with a signature', async () => {
    const res = await upload([
      {
        ...refused('ok-1', accounts[1]!),
        outcome: 'nobody_found',
        reason: '',
        phoneCall: { phone: '13800138000', result: 'promised', note: '周五来缴' },
      },
      { ...refused('ok-2', accounts[2]!), outcome: 'nobody_found', reason: '' },
      {
        ...refused('ok-3', accounts[3]!),
        method: 'account_confirmation',
        outcome: 'signed',
        photo: null,
        signature: png,
        signerName: '王五',
        site: {
          kind: 'non_residential',
          community: '工业园',
          buildings: 3,
          households: 0,
          expectedUseM3: 800,
          secondarySupply: true,
          secondarySupplyType: 'pump_station',
        },
      },
    ]);
    expect(res.json().results.map((r: { result: string }) => r.result)).toEqual([
      'accepted',
      'accepted',
      'accepted',
    ]);
    const sig = await t.as('manager')({
      method: 'GET',
      url: `/api/customers/${accounts[3]}/collection-visits/${res.json().results[2].visitId}/signature`,
    });
    expect(sig.headers['content-type']).toBe('image/png');
  });

  it('another office’s customer is not found; the visit list shows each visit once, to its office only', async () => {
    const other = await t.db
      .selectFrom('customer')
      .select('account_id')
      .where('office_id', '=', await officeId(t.db, '0102'))
      .executeTakeFirstOrThrow();
    const res = await upload([{ ...refused('x-1', other.account_id), taskId: null }]);
    expect(res.json().results[0]).toMatchObject({ result: 'rejected', error: { code: 'NOT_FOUND' } });
    const list = await t.as('manager')({
      method: 'GET',
      url: `/api/collections/visits?from=${today}&to=${today}`,
    });
    expect(list.statusCode).toBe(200);
    const ids = list
      .json()
      .items.map((v: { clientVisitId: string }) => v.clientVisitId)
      .sort();
    expect(ids).toEqual(['cv-1', 'cv-2', 'ok-1', 'ok-2', 'ok-3']);
    const refusedOnly = await t.as('manager')({
      method: 'GET',
      url: `/api/collections/visits?from=${today}&to=${today}&outcome=refused`,
    });
    expect(
      refusedOnly
        .json()
        .items.map((v: { clientVisitId: string }) => v.clientVisitId)
        .sort(),
    ).toEqual(['cv-1', 'cv-2']);
    const b = await t.as('manager2')({
      method: 'GET',
      url: `/api/collections/visits?from=${today}&to=${today}`,
    });
    expect(b.json().items).toEqual([]);
    // The back-office list of tasks shows the progress.
    const tasks = await t.as('manager')({ method: 'GET', url: `/api/collections/tasks?date=${today}` });
    const list1 = tasks.json().lists.find((l: { assigneeId: number }) => l.assigneeId === collector);
    expect(list1).toMatchObject({ total: 4, visited: 4 });
  });
});
