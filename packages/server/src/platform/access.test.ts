import { PERMISSIONS } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { multipart } from '../testing/multipart.ts';
import { hashPassword } from './passwords.ts';

/**
 * Staff of one office must not reach another office's data through any route. This test walks the
 * whole route table, so a route added later is covered the day it is added: it either carries an
 * id the central check resolves to an office (and must answer 404 here), names an office in its
 * query or body (403), is a list that is checked below, or is on the short list of routes that hold
 * no office data. Anything else fails the test.
 */

let t: TestApp;
let officeA: number;
let officeB: number;
/** Ids of office A's things, by path parameter. */
const ids: Record<string, number | string> = {};
/** A meter of office A, for the writes that name meters rather than offices. */
let meterA: { account_id: number; meter_id: number; meter_no: string };

/** Routes that carry no office data (or only the caller's own). */
const NO_OFFICE_DATA = new Set([
  'GET /api/auth/me',
  'POST /api/auth/logout',
  'POST /api/auth/password',
  'GET /api/meta',
  'GET /api/branches',
  'GET /api/offices',
  'GET /api/roles',
  'GET /api/imports/template',
  'GET /api/calendar',
  // Tariffs: organisation-wide reference data, and a preview that computes without storing.
  'GET /api/tariffs',
  'GET /api/tariffs/:usageType',
  'POST /api/tariffs/preview',
  // The fee catalogue: organisation-wide reference data.
  'GET /api/fee-catalogue',
  // The cashier's close preview: the caller's own payments only.
  'GET /api/cashier/close',
  // Dunning policy and message templates: organisation-wide reference data.
  'GET /api/dunning/policy',
  'GET /api/dunning/templates',
  'GET /api/dunning/templates/:templateCode',
  // The classification of disputes: reference data.
  'GET /api/dispute-categories',
]);

/** Lists that need more than paging to answer (added to the unfiltered request). */
const LIST_QUERY: Record<string, string> = {
  'GET /api/field/route': '&date=2026-10-08&deviceId=x',
  'GET /api/billing/summary': '&month=2026-10',
  'GET /api/prepaid/summary': '&month=2026-10',
  'GET /api/readings/registers/billing/missing': '&day=2026-10-08',
};

/** Organisation-wide data: an office-scoped role gets 403 whatever its permissions. */
const ORG_WIDE_EXPECTED = [
  'GET /api/banks',
  'GET /api/bank-files',
  'GET /api/bank-files/exports',
  'POST /api/bank-files/exports',
  'POST /api/bank-files/imports',
  'GET /api/bank-files/:bankFileId',
  'GET /api/bank-files/:bankFileId/content',
  'POST /api/branches',
  'PUT /api/branches/:branchId',
  'POST /api/offices',
  'PUT /api/offices/:officeId',
  'POST /api/roles',
  'PUT /api/roles/:roleCode',
  'GET /api/settings',
  'PUT /api/settings/:key',
  'PUT /api/calendar/days/:day',
  'POST /api/calendar/years/:year/reload',
  'PUT /api/tariffs/:usageType',
  'POST /api/fee-catalogue',
  'PUT /api/fee-catalogue/:feeCode',
  // One late-fee run covers every office.
  'POST /api/late-fees/runs',
  // Dunning: one policy and one daily run over every office (docs/dunning.md).
  'PUT /api/dunning/policy',
  'PUT /api/dunning/templates/:templateCode',
  'GET /api/dunning/runs',
  'GET /api/dunning/runs/:dunningRunId',
  'POST /api/dunning/runs',
];

beforeAll(async () => {
  t = await createTestApp({ customers: 60 });
  const offices = await t.db.selectFrom('office').select(['office_id', 'code']).execute();
  officeA = offices.find((o) => o.code === '0101')!.office_id;
  officeB = offices.find((o) => o.code === '0102')!.office_id;

  // An office-B staff member holding every permission: only the office scope stands in the way.
  await t.db
    .insertInto('role')
    .values({
      role_code: 'office_all',
      name_zh: '营业所全权',
      name_en: 'Office, all rights',
      org_wide: false,
    })
    .execute();
  await t.db
    .insertInto('role_permission')
    .values(PERMISSIONS.map((permission) => ({ role_code: 'office_all', permission })))
    .execute();
  const staff = await t.db
    .insertInto('staff')
    .values({
      username: 'b_all',
      full_name: 'B 全权',
      role_code: 'office_all',
      home_office_id: officeB,
      password_hash: await hashPassword('meterline'),
    })
    .returning('staff_id')
    .executeTakeFirstOrThrow();
  await t.db.insertInto('staff_office').values({ staff_id: staff.staff_id, office_id: officeB }).execute();

  // Something of office A for every kind of id, so 404 means "out of scope", not "missing".
  const customer = await t.db
    .selectFrom('customer')
    .select('account_id')
    .where('office_id', '=', officeA)
    .orderBy('account_id')
    .executeTakeFirstOrThrow();
  const accountId = customer.account_id;
  const first = async <T>(q: Promise<T | undefined>) => (await q)!;
  ids.accountId = accountId;
  ids.contactId = (
    await first(
      t.db.selectFrom('contact').select('contact_id').where('account_id', '=', accountId).executeTakeFirst(),
    )
  ).contact_id;
  ids.addressId = (
    await first(
      t.db.selectFrom('address').select('address_id').where('account_id', '=', accountId).executeTakeFirst(),
    )
  ).address_id;
  ids.servicePointId = (
    await first(
      t.db
        .selectFrom('service_point')
        .select('service_point_id')
        .where('account_id', '=', accountId)
        .executeTakeFirst(),
    )
  ).service_point_id;
  const meter = await t.db
    .selectFrom('meter')
    .select('meter_id')
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  ids.meterId = meter?.meter_id ?? 1;
  const entry = await t.db
    .insertInto('blacklist_entry')
    .values({
      account_id: accountId,
      category: 'theft',
      violation: 'x',
      listed_on: '2026-01-01',
      listed_by: 1,
    })
    .returning('entry_id')
    .executeTakeFirstOrThrow();
  ids.entryId = entry.entry_id;
  // And one of office B, so the blacklist list has something to show.
  const bCustomer = await t.db
    .selectFrom('customer')
    .select('account_id')
    .where('office_id', '=', officeB)
    .executeTakeFirstOrThrow();
  await t.db
    .insertInto('blacklist_entry')
    .values({
      account_id: bCustomer.account_id,
      category: 'bypass',
      violation: 'y',
      listed_on: '2026-01-01',
      listed_by: 1,
    })
    .execute();
  const doc = await t.db
    .insertInto('document')
    .values({
      account_id: accountId,
      doc_type: 'other',
      file_name: 'a.pdf',
      mime_type: 'application/pdf',
      size_bytes: 1,
      sha256: 'x',
      storage_path: 'x',
      uploaded_by: 1,
    })
    .returning('document_id')
    .executeTakeFirstOrThrow();
  ids.documentId = doc.document_id;
  // A bill of office A (bills are sub-ids of the account, checked through the account).
  const bill = await t.db
    .insertInto('bill')
    .values({
      account_id: accountId,
      bill_no: '202610-00000001',
      meter_id: null,
      reading_id: null,
      run_id: null,
      usage_type_code: 'W_RES',
      period: '2026-10',
      period_from: '2026-09-01',
      period_to: '2026-09-30',
      start_index: null,
      end_index: null,
      amount_fen: 100,
      block_year: null,
      block_used_before_m3: null,
      block_used_after_m3: null,
      due_on: '2026-10-31',
      replaces_bill_id: null,
      cancelled_at: null,
      cancelled_by: null,
      created_by: null,
    })
    .returning('bill_id')
    .executeTakeFirstOrThrow();
  ids.billId = bill.bill_id;
  const clerkA = await t.db
    .selectFrom('staff')
    .select('staff_id')
    .where('username', '=', 'clerk')
    .executeTakeFirstOrThrow();
  ids.staffId = clerkA.staff_id;
  ids.officeId = officeA;
  ids.branchId = 1;
  ids.roleCode = 'clerk';
  ids.key = 'auth.maxFailedLogins';
  const batch = await t.db
    .insertInto('import_batch')
    .values({
      office_id: officeA,
      file_name: 'a.csv',
      sha256: 'abc',
      format: 'csv',
      storage_path: 'x',
      created_by: clerkA.staff_id,
      status: 'done',
    })
    .returning('import_id')
    .executeTakeFirstOrThrow();
  ids.importId = batch.import_id;
  // Reading: a book of each office (A's with a plan and a change), the calendar's day and year.
  const bookOf = async (officeId: number, code: string) =>
    (
      await t.db
        .insertInto('book')
        .values({ office_id: officeId, code, name: code, zone: 'C', reader_since: '2025-01-01' })
        .returning('book_id')
        .executeTakeFirstOrThrow()
    ).book_id;
  ids.bookId = await bookOf(officeA, 'A-C01');
  await bookOf(officeB, 'B-C01');
  await t.db
    .insertInto('reading_plan')
    .values({ book_id: ids.bookId, period: '2026-10', planned_on: '2026-10-08', original_on: '2026-10-08' })
    .execute();
  ids.changeId = (
    await t.db
      .insertInto('reading_plan_change')
      .values({
        book_id: ids.bookId,
        period: '2026-10',
        from_date: '2026-10-08',
        to_date: '2026-10-09',
        reason: 'x',
        requested_by: clerkA.staff_id,
      })
      .returning('change_id')
      .executeTakeFirstOrThrow()
  ).change_id;
  ids.usageType = 'W_RES';
  // Bill runs: one of each office.
  const runOf = async (officeId: number) =>
    (
      await t.db
        .insertInto('bill_run')
        .values({
          scope: 'office',
          office_id: officeId,
          office_ids: [officeId],
          up_to: '2026-10-01',
          dry_run: true,
          status: 'failed',
        })
        .returning('run_id')
        .executeTakeFirstOrThrow()
    ).run_id;
  ids.runId = await runOf(officeA);
  await runOf(officeB);
  ids.day = '2026-10-01';
  ids.year = 2026;
  ids.bankFileId = 1;
  // Readings: per office a reading in review (read today), a correction and a stuck-meter follow-up.
  const readingOf = async (office: number, readerName: string) => {
    const m = await t.db
      .selectFrom('meter as m')
      .innerJoin('customer as c', 'c.account_id', 'm.account_id')
      .select(['m.account_id', 'm.meter_id', 'm.meter_no'])
      .where('c.office_id', '=', office)
      .orderBy('m.account_id')
      .executeTakeFirstOrThrow();
    const reader = await t.db
      .selectFrom('staff')
      .select('staff_id')
      .where('username', '=', readerName)
      .executeTakeFirstOrThrow();
    const now = new Date();
    const r = await t.db
      .insertInto('reading')
      .values({
        account_id: m.account_id,
        meter_id: m.meter_id,
        period: new Date(now.getTime() + 8 * 3600_000).toISOString().slice(0, 7),
        read_at: now,
        previous_index: '10',
        index_value: '99',
        consumption_m3: '89',
        kind: 'actual',
        source: 'handheld',
        status: 'review',
        flags: ['HIGH'],
        reader_id: reader.staff_id,
      })
      .returning('reading_id')
      .executeTakeFirstOrThrow();
    const x = await t.db
      .insertInto('reading_correction')
      .values({
        account_id: m.account_id,
        reading_id: r.reading_id,
        old_index: '99',
        new_index: '98',
        reason: 'x',
        requested_by: clerkA.staff_id,
      })
      .returning('correction_id')
      .executeTakeFirstOrThrow();
    const f = await t.db
      .insertInto('followup')
      .values({
        account_id: m.account_id,
        meter_id: m.meter_id,
        reading_id: r.reading_id,
        anomaly_code: 'stopped',
        department: 'repair',
        opened_at: '2026-01-01T00:00:00Z',
      })
      .returning('followup_id')
      .executeTakeFirstOrThrow();
    return { meter: m, readingId: r.reading_id, correctionId: x.correction_id, followupId: f.followup_id };
  };
  const readingA = await readingOf(officeA, 'reader');
  await readingOf(officeB, 'reader3');
  meterA = readingA.meter;
  ids.readingId = readingA.readingId;
  ids.correctionId = readingA.correctionId;
  ids.followupId = readingA.followupId;
  // A volume adjustment work order of office A (a sub-id of the account).
  const order = await t.db
    .insertInto('volume_adjustment')
    .values({
      account_id: meterA.account_id,
      order_no: 'TL202611-000001',
      kind: 'supplement',
      meter_id: meterA.meter_id,
      bill_id: null,
      period_from: '2026-01-01',
      period_to: '2026-01-31',
      volume_m3: '1',
      billed_m3: '0',
      adjusted_m3: '1',
      basis: 'other',
      basis_note: 'x',
      amount_fen: 100,
      requested_by: clerkA.staff_id,
    })
    .returning('adjustment_id')
    .executeTakeFirstOrThrow();
  ids.adjustmentId = order.adjustment_id;
  ids.feeCode = 'ACCOUNT_OPEN';
  // A payment of office A with its slip and a reversal request on it.
  const payment = await t.as('clerk')({
    method: 'POST',
    url: `/api/customers/${accountId}/payments`,
    payload: { amountFen: 1000, channel: 'cash' },
    headers: { 'idempotency-key': 'access-test-payment' },
  });
  expect(payment.statusCode, payment.body).toBe(201);
  ids.paymentId = payment.json().paymentId;
  ids.receiptId = payment.json().receipts[0].receiptId;
  const request = await t.as('clerk')({
    method: 'POST',
    url: `/api/customers/${accountId}/payment-requests`,
    payload: { kind: 'reversal', paymentId: ids.paymentId, reason: 'access test' },
  });
  expect(request.statusCode, request.body).toBe(201);
  ids.requestId = request.json().requestId;
  ids.mandateId = 1;
  const gatewayOrder = await t.as('clerk')({
    method: 'POST',
    url: `/api/customers/${accountId}/gateway-orders`,
    payload: { amountFen: 1000 },
    headers: { 'idempotency-key': 'access-gateway-order' },
  });
  expect(gatewayOrder.statusCode, gatewayOrder.body).toBe(201);
  ids.orderId = gatewayOrder.json().orderId;
  // Outbox (docs/outbox.md): a voice entry of office A on today's call list, and one of office B, so
  // the outbox lists have something of each office to show (or hide).
  {
    const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
    const ofB = await t.db
      .selectFrom('customer')
      .select('account_id')
      .where('office_id', '=', officeB)
      .executeTakeFirstOrThrow();
    const outboxRows = await t.db
      .insertInto('outbox_message')
      .values(
        [accountId, ofB.account_id].map((account) => ({
          account_id: account,
          channel: 'voice' as const,
          recipient: '13812345678',
          template: 'voice_dunning',
          body: '语音催款',
          dedupe_key: 'access-test',
          status: 'sent' as const,
          call_list_date: today,
        })),
      )
      .returning(['account_id', 'message_id'])
      .execute();
    ids.messageId = outboxRows.find((r) => r.account_id === accountId)!.message_id;
  }
  const close = await t.as('clerk')({
    method: 'POST',
    url: '/api/cashier/close',
    payload: { countedCashFen: 1000 },
  });
  expect(close.statusCode, close.body).toBe(201);
  // Field collection (docs/field-collection.md): a task and a visit of office A.
  const collectorA = await t.db
    .selectFrom('staff')
    .select('staff_id')
    .where('username', '=', 'collector')
    .executeTakeFirstOrThrow();
  const taskA = await t.db
    .insertInto('collection_task')
    .values({
      account_id: accountId,
      office_id: officeA,
      book_id: null,
      assignee_id: collectorA.staff_id,
      task_date: '2026-10-08',
      kind: 'collection_day',
      arrears_cycles: 1,
      arrears_fen: 100,
      added_by: null,
      removed_by: null,
      reordered_by: null,
      from_task_id: null,
    })
    .returning('task_id')
    .executeTakeFirstOrThrow();
  ids.taskId = taskA.task_id;
  const visitA = await t.db
    .insertInto('collection_visit')
    .values({
      account_id: accountId,
      task_id: taskA.task_id,
      office_id: officeA,
      client_visit_id: 'access-visit',
      method: 'notice_posted',
      outcome: 'refused',
      phone_call: null,
      site: null,
      promised_on: null,
      photo_path: null,
      signature_path: null,
      latitude: null,
      longitude: null,
      accuracy_m: null,
      visited_at: new Date(),
      visited_on: '2026-10-08',
      device_id: 'x',
      staff_id: collectorA.staff_id,
    })
    .returning('visit_id')
    .executeTakeFirstOrThrow();
  ids.visitId = visitA.visit_id;
  // Collections C (docs/dunning.md): templates are organisation-wide reference data; a dunning run
  // covers every office (its routes are orgWide, refused to office staff before the id is looked at).
  ids.templateCode = 'dunning_reminder';
  ids.dunningRunId = 1;
  // Collections E (docs/arrears.md): a dispute and an installment agreement of office A (sub-ids of
  // the account); office A's overdue bill above is in its ageing and results.
  const clerkForE = await t.db
    .selectFrom('staff')
    .select('staff_id')
    .where('username', '=', 'clerk')
    .executeTakeFirstOrThrow();
  const disputeA = await t.db
    .insertInto('dispute')
    .values({
      account_id: accountId,
      office_id: officeA,
      category: 'reading',
      description: 'x',
      claim: 'x',
      disputed_fen: 50,
      recorded_by: clerkForE.staff_id,
      reviewed_by: null,
      reviewed_at: null,
      decided_by: null,
      decided_at: null,
      idempotency_key: null,
    })
    .returning('dispute_id')
    .executeTakeFirstOrThrow();
  ids.disputeId = disputeA.dispute_id;
  const agreementA = await t.db
    .insertInto('installment_agreement')
    .values({
      account_id: accountId,
      agreement_no: 'HQ2026-999999',
      office_id: officeA,
      debt_fen: 100,
      installments: 1,
      requested_by: clerkForE.staff_id,
      decided_by: null,
      decided_at: null,
      signed_by: null,
      signed_at: null,
      completed_at: null,
      defaulted_at: null,
      defaulted_seq: null,
      idempotency_key: null,
    })
    .returning('agreement_id')
    .executeTakeFirstOrThrow();
  ids.agreementId = agreementA.agreement_id;
  // Collections F (docs/escalation.md): a letter, a shut-off request, a shut-off order carried out
  // (so a re-check is listed), its restore order and a referral, all of office A.
  const escA = await t.pool.query<{ letter_id: string }>(
    `insert into collection_letter (account_id, kind, letter_no, office_id, bills, arrears_fen, issued_on,
       deadline_on, issued_by)
     values ($1, 'formal', 'CJ2026-999999', $2, '[]', 100, '2026-10-01', '2026-10-08', $3) returning letter_id`,
    [accountId, officeA, clerkForE.staff_id],
  );
  ids.letterId = escA.rows[0]!.letter_id;
  await t.pool.query(
    `insert into shutoff_request (account_id, office_id, bills, arrears_fen, arrears_months, requested_by)
     values ($1, $2, '[]', 100, 2, $3)`,
    [accountId, officeA, clerkForE.staff_id],
  );
  const shutoffA = await t.pool.query<{ order_id: string }>(
    `insert into collection_work_order (account_id, kind, order_no, office_id, status, action, completed_at, meter_no)
     values ($1, 'shutoff', 'TS2026-999999', $2, 'done', 'valve_closed', now(), 'x') returning order_id`,
    [accountId, officeA],
  );
  await t.pool.query(
    `insert into collection_work_order (account_id, kind, order_no, office_id, restores_order_id, cause, due_at)
     values ($1, 'restore', 'FS2026-999999', $2, $3, 'payment', now() - interval '1 hour')`,
    [accountId, officeA, shutoffA.rows[0]!.order_id],
  );
  await t.pool.query(
    `insert into collection_work_order (account_id, kind, order_no, office_id, status, completed_at, meter_no)
     values ($1, 'shutoff', 'TS2026-999998', $2, 'done', now(), 'x')`,
    [accountId, officeA],
  );
  await t.pool.query(
    `insert into inspection_referral (account_id, office_id, order_id) values ($1, $2, $3)`,
    [accountId, officeA, shutoffA.rows[0]!.order_id],
  );
  // Collections G (docs/escalation.md "On the handheld"): a field result of office A's shut-off order.
  const fieldResultA = await t.pool.query<{ result_id: string }>(
    `insert into field_order_result (account_id, client_result_id, office_id, kind, order_id, outcome, status,
       recorded_at, device_id, staff_id)
     values ($1, 'access-result', $2, 'order', $3, 'done', 'applied', now(), 'x', $4) returning result_id`,
    [accountId, officeA, shutoffA.rows[0]!.order_id, clerkForE.staff_id],
  );
  ids.resultId = fieldResultA.rows[0]!.result_id;
});

afterAll(async () => {
  await t.close();
});

function fill(url: string): string {
  return url.replace(/:(\w+)/g, (_, name: string) => {
    if (!(name in ids))
      throw new Error(`the access test has no office-A id for :${name}; add one in beforeAll`);
    return String(ids[name]);
  });
}

describe('office scope on every route', () => {
  it('every route needs a session unless it is public', async () => {
    for (const route of t.built.routes) {
      if (route.public) continue;
      const res = await t.app.inject({ method: route.method as 'GET', url: fill(route.url), payload: {} });
      expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
    }
  });

  it('office-B staff with every permission get 403/404 for office A on every route', async () => {
    const asB = t.as('b_all');
    const unclassified: string[] = [];
    const orgWideSeen: string[] = [];
    for (const route of t.built.routes) {
      const name = `${route.method} ${route.url}`;
      if (route.public || NO_OFFICE_DATA.has(name)) continue;
      const url = fill(route.url);
      if (route.orgWide) {
        orgWideSeen.push(name);
        const res = await asB({ method: route.method, url, payload: {} });
        expect(res.statusCode, name).toBe(403);
        continue;
      }
      if (/:(accountId|staffId|officeId|importId|bookId|changeId|runId)\b/.test(route.url)) {
        const res = await asB({ method: route.method, url, payload: {} });
        expect(res.statusCode, `${name} → ${res.body}`).toBe(404);
        continue;
      }
      if (route.method !== 'GET') {
        // Writes without an id name the office they write to, in the body or the query.
        const res = await asB({
          method: route.method,
          url: `${url}?officeId=${officeA}`,
          payload: { officeId: officeA, officeIds: [officeA] },
        });
        expect(res.statusCode, `${name} → ${res.body}`).toBe(403);
        // Writes that name meters or books instead of an office: office A's are refused all the same.
        if (name === 'POST /api/field/readings') {
          const reading = {
            clientId: 'scope-a',
            accountId: meterA.account_id,
            meterId: meterA.meter_id,
            index: '1',
          };
          const rows = await asB({
            method: 'POST',
            url,
            payload: {
              deviceId: 'x',
              readings: [{ ...reading, readAt: new Date().toISOString(), anomalyCodes: [] }],
            },
          });
          expect(rows.json().results[0].outcome, name).toBe('rejected');
        }
        if (name === 'POST /api/field/orders/results') {
          // Office A's customer, named by account in the body: that result is refused.
          const rows = await asB({
            method: 'POST',
            url,
            payload: {
              deviceId: 'x',
              results: [
                {
                  clientResultId: 'scope-a',
                  kind: 'order',
                  accountId: ids.accountId,
                  orderId: 1,
                  outcome: 'obstructed',
                  note: 'x',
                  recordedAt: new Date().toISOString(),
                },
              ],
            },
          });
          expect(rows.json().results[0], name).toMatchObject({
            result: 'rejected',
            error: { code: 'NOT_FOUND' },
          });
        }
        if (name === 'POST /api/readings/bulk' || name === 'POST /api/readings/registers') {
          const file = multipart(
            {},
            {
              name: 'a.csv',
              type: 'text/csv',
              content: `meter_no,read_at,index\n${meterA.meter_no},2026-01-01T08:00:00+08:00,1\n`,
            },
          );
          const rows = await asB({ method: 'POST', url: `${url}?officeId=${officeB}`, ...file });
          expect(rows.json(), name).toMatchObject({ rows: 1, rejected: 1 });
        }
        if (name === 'POST /api/readings/estimate') {
          const book = await asB({ method: 'POST', url, payload: { bookId: ids.bookId, period: '2026-10' } });
          expect(book.statusCode, name).toBe(404);
        }
        continue;
      }
      // Lists: asking for office A by filter is refused…
      const filtered = await asB({ method: 'GET', url: `${url}?officeId=${officeA}` });
      expect(filtered.statusCode, name).toBe(403);
      // …and the unfiltered list holds nothing of office A (checked per list below).
      const res = await asB({ method: 'GET', url: `${url}?pageSize=100${LIST_QUERY[name] ?? ''}` });
      expect(res.statusCode, name).toBe(200);
      const body = res.json();
      switch (name) {
        case 'GET /api/customers':
        case 'GET /api/blacklist':
          expect(body.items.length).toBeGreaterThan(0);
          for (const item of body.items)
            expect(
              item.officeId ?? item.office_id ?? (await officeOf(item.account_id ?? item.accountId)),
            ).toBe(officeB);
          break;
        case 'GET /api/staff':
          for (const item of body.items) expect(item.office_ids).toContain(officeB);
          expect(body.items.map((s: { username: string }) => s.username)).not.toContain('clerk');
          break;
        case 'GET /api/audit':
          for (const item of body.items) expect(item.office_id).toBe(officeB);
          break;
        case 'GET /api/stats/customers':
          expect(body.totals.customers).toBeGreaterThan(0);
          for (const item of body.byOfficeState) expect(item.officeId).toBe(officeB);
          break;
        case 'GET /api/books':
        case 'GET /api/reading-plan':
        case 'GET /api/reading-plan/changes':
        case 'GET /api/readings/bulk':
        case 'GET /api/readings/registers/files':
        case 'GET /api/readings/registers/billing':
          for (const item of body) expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/readings/registers/exceptions':
        case 'GET /api/readings/registers/billing/missing':
          for (const item of body.items) expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/workload':
          for (const reader of body.readers) expect(reader.officeIds, name).toEqual([officeB]);
          for (const book of [
            ...body.readers.flatMap((r: { books: unknown[] }) => r.books),
            ...body.unassigned,
          ])
            expect(book.officeId, name).toBe(officeB);
          break;
        case 'GET /api/readings/review':
        case 'GET /api/readings/stuck-meters':
        case 'GET /api/followups':
        case 'GET /api/corrections':
          expect(body.items.length, name).toBeGreaterThan(0);
          for (const item of body.items) expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/readings/day-monitor':
          expect(body.readers.length, name).toBeGreaterThan(0);
          for (const item of body.readers) expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/readings/stats':
          for (const item of [...body.byOffice, ...body.byBook, ...body.byReader])
            expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/field/route':
          for (const m of body.meters) expect(await officeOf(m.accountId), name).toBe(officeB);
          break;
        case 'GET /api/billing/summary':
        case 'GET /api/prepaid/summary':
          for (const item of body.byOffice) expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/bill-runs':
          expect(body.items.length, name).toBeGreaterThan(0);
          for (const item of body.items) expect(item.officeIds, name).toEqual([officeB]);
          break;
        case 'GET /api/late-fees':
        case 'GET /api/volume-adjustments':
        case 'GET /api/bill-corrections':
          for (const item of body.items) expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/payment-requests':
        case 'GET /api/cashier/closes':
        case 'GET /api/vat-invoice-requests':
          for (const item of body.items) expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/payments/report':
          for (const item of body.closes) expect(item.officeId, name).toBe(officeB);
          expect(body.totals.totalFen, name).toBe(0);
          break;
        case 'GET /api/late-fees/summary':
          // Totals only, computed over the caller's offices (lateFees.test.ts checks the figures).
          break;
        // Field collection: the handheld's list, the day's tasks and the visits.
        case 'GET /api/field/collection':
          for (const c of body.customers) expect(await officeOf(c.accountId), name).toBe(officeB);
          break;
        case 'GET /api/collections/tasks':
        case 'GET /api/collections/visits':
          for (const item of body.items) expect(item.officeId, name).toBe(officeB);
          break;
        // Collections E: disputes, agreements, ageing, its history and the results.
        case 'GET /api/collections/disputes':
        case 'GET /api/collections/installments':
          for (const item of body.items) expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/collections/ageing':
          for (const item of body.rows) expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/collections/ageing/history':
          for (const o of body.offices) expect(o, name).toBe(officeB);
          break;
        case 'GET /api/collections/results':
          for (const item of [
            ...body.coverage.byOffice,
            ...body.coverage.byReader,
            ...body.collection.byOffice,
            ...body.collection.byReader,
          ])
            expect(item.officeId, name).toBe(officeB);
          break;
        // Collections F: the escalation list, letters, shut-off requests, work orders, referrals, re-checks.
        case 'GET /api/collections/escalation':
        case 'GET /api/collections/letters':
        case 'GET /api/collections/shutoff-requests':
        case 'GET /api/collections/work-orders':
        case 'GET /api/collections/referrals':
        case 'GET /api/collections/rechecks':
          for (const item of body.items) expect(item.officeId, name).toBe(officeB);
          break;
        // Collections G: the handheld's orders and re-checks, and the field results.
        case 'GET /api/field/orders':
          for (const item of [...body.orders, ...body.rechecks]) expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/collections/field-results':
          for (const item of body.items) expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/collections/restores/report':
          // Office A's restore order (late, open) is not counted for office B.
          expect(body.total, name).toBe(0);
          break;
        case 'GET /api/imports':
          for (const item of body.items ?? body) expect(item.office_id ?? item.officeId).toBe(officeB);
          break;
        // Outbox (docs/outbox.md): messages, the status chart and the voice-call list of office B only.
        case 'GET /api/outbox':
          expect(body.items.length, name).toBeGreaterThan(0);
          for (const item of body.items) expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/outbox/voice-list':
          expect(body.items.length, name).toBeGreaterThan(0);
          for (const item of body.items) expect(item.officeId, name).toBe(officeB);
          break;
        case 'GET /api/outbox/stats':
          // Counts over the caller's offices: office B's messages of the last 30 days, not office A's.
          {
            const inB = await t.db
              .selectFrom('outbox_message as m')
              .innerJoin('customer as c', 'c.account_id', 'm.account_id')
              .select(({ fn }) => fn.countAll<string>().as('n'))
              .where('c.office_id', '=', officeB)
              .executeTakeFirstOrThrow();
            const counted = Object.values(body.totals as Record<string, number>).reduce((a, b) => a + b, 0);
            expect(counted, name).toBe(Number(inB.n));
            expect(counted, name).toBeGreaterThan(0);
          }
          break;
        default:
          unclassified.push(name);
      }
    }
    expect(
      unclassified,
      'new list routes must be added to this test with a check that office A data is absent',
    ).toEqual([]);
    expect(orgWideSeen.sort()).toEqual([...ORG_WIDE_EXPECTED].sort());
  });

  it('the same staff can reach their own office’s data', async () => {
    const own = await t.db
      .selectFrom('customer')
      .select('account_id')
      .where('office_id', '=', officeB)
      .executeTakeFirstOrThrow();
    const res = await t.as('b_all')({ method: 'GET', url: `/api/customers/${own.account_id}` });
    expect(res.statusCode).toBe(200);
  });

  it('every /api route declares its access (the app refuses to start otherwise)', async () => {
    for (const route of t.built.routes) {
      expect(route.public || route.signedIn || route.permission, `${route.method} ${route.url}`).toBeTruthy();
    }
  });
});

async function officeOf(accountId: number): Promise<number> {
  const row = await t.db
    .selectFrom('customer')
    .select('office_id')
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  return row.office_id;
}
