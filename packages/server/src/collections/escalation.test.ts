import { addDays } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { pdfPages } from '../testing/pdf.ts';
import { disputeBill, freeCustomers, insertBill, newKey, TODAY } from './escalationTesting.ts';

/**
 * The escalation ladder's letters through the HTTP API on real PostgreSQL (DOMAIN.md §6
 * "Escalation", docs/escalation.md): the next step per customer, letters numbered in a gapless
 * sequence per kind and year, the printed letter, delivery (signed for, or refused → registered
 * post), the outbox entry, held amounts, and the step order.
 */

let t: TestApp;
let persons: number[] = [];
const fresh = () => {
  const a = persons.shift();
  if (a === undefined) throw new Error('out of test customers');
  return a;
};

const issue = (accountId: number, kind: string, user = 'manager', key = newKey()) =>
  t.as(user)({
    method: 'POST',
    url: `/api/customers/${accountId}/collection-letters`,
    payload: { kind },
    headers: { 'idempotency-key': key },
  });
const deliver = (accountId: number, letterId: number, payload: Record<string, unknown>, user = 'manager') =>
  t.as(user)({
    method: 'POST',
    url: `/api/customers/${accountId}/collection-letters/${letterId}/delivery`,
    payload,
  });

beforeAll(async () => {
  t = await createTestApp({ customers: 120 });
  persons = await freeCustomers(t, 'water', 'person');
  expect(persons.length).toBeGreaterThan(8);
}, 300_000);

afterAll(async () => {
  await t?.close();
});

describe('the escalation list and the formal letter', () => {
  it('lists a customer in arrears with the formal letter due; numbers are gapless per kind and year', async () => {
    const a = fresh();
    const b = fresh();
    const c = fresh();
    await insertBill(t, a, 12_345, 40);
    await insertBill(t, a, 6_000, 10);
    await insertBill(t, b, 5_000, 45);
    // c owes nothing overdue (due in the future): no letter.
    await insertBill(t, c, 5_000, -5);

    const list = await t.as('manager')({ method: 'GET', url: '/api/collections/escalation?dueOnly=true' });
    expect(list.statusCode, list.body).toBe(200);
    const items = list.json().items as { accountId: number; arrearsFen: number; next: { step: string } }[];
    const rowA = items.find((i) => i.accountId === a)!;
    expect(rowA.arrearsFen).toBe(18_345);
    expect(rowA.next.step).toBe('formal_letter');
    expect(items.some((i) => i.accountId === c)).toBe(false);

    const year = TODAY.slice(0, 4);
    const first = await issue(a, 'formal');
    expect(first.statusCode, first.body).toBe(201);
    const la = first.json();
    expect(la.letterNo).toMatch(new RegExp(`^CJ${year}-\\d{6}$`));
    expect(la.arrearsFen).toBe(18_345);
    expect(la.bills).toHaveLength(2);
    expect(la.deadlineOn).toBe(addDays(TODAY, 7));

    // A refused letter takes no number: the lawyer's letter is not due for b, nor any letter for c.
    expect((await issue(b, 'lawyer')).statusCode).toBe(409);
    const none = await issue(c, 'formal');
    expect(none.statusCode).toBe(409);
    expect(none.json().error.code).toBe('LETTER_NOT_DUE');

    const second = await issue(b, 'formal');
    expect(second.statusCode, second.body).toBe(201);
    const seqA = Number(la.letterNo.slice(-6));
    expect(Number(second.json().letterNo.slice(-6))).toBe(seqA + 1);

    // A retry with the same key returns the same letter, no new number.
    const key = newKey();
    const d = fresh();
    await insertBill(t, d, 3_000, 50);
    const r1 = await issue(d, 'formal', 'manager', key);
    const r2 = await issue(d, 'formal', 'manager', key);
    expect(r2.json().letterNo).toBe(r1.json().letterNo);
    expect(Number(r1.json().letterNo.slice(-6))).toBe(seqA + 2);
    // And a second formal letter for the same customer is refused while the first is undelivered.
    expect((await issue(d, 'formal')).statusCode).toBe(409);

    // The letter goes on the outbox as a printed letter.
    const { rows } = await t.pool.query(
      `select channel, purpose, status, body from outbox_message where account_id = $1 and dedupe_key = $2`,
      [a, `letter:${la.letterId}`],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ channel: 'letter', purpose: 'letter', status: 'sent' });
    expect(rows[0].body).toContain(la.letterNo);
  });

  it('prints the letter with the arrears bill by bill, total, deadline and the stamp place', async () => {
    const a = fresh();
    await insertBill(t, a, 8_800, 40);
    const letter = (await issue(a, 'formal')).json();
    const pdf = await t.as('clerk')({
      method: 'GET',
      url: `/api/customers/${a}/collection-letters/${letter.letterId}/pdf`,
    });
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    const text = pdfPages(pdf.rawPayload).join('\n');
    expect(text).toContain('催缴公函');
    expect(text).toContain(letter.letterNo);
    expect(text).toContain(letter.bills[0].billNo);
    expect(text).toContain('88.00');
    expect(text).toContain(letter.deadlineOn);
    expect(text).toContain('营业所公章');
  });

  it('records delivery: signed for needs who; refused needs the registered-post number', async () => {
    const a = fresh();
    await insertBill(t, a, 5_000, 40);
    const letter = (await issue(a, 'formal')).json();
    const noName = await deliver(a, letter.letterId, { outcome: 'signed' });
    expect(noName.statusCode).toBe(400);
    expect(noName.json().error.fields[0].path).toBe('signedByName');
    const noTracking = await deliver(a, letter.letterId, { outcome: 'refused' });
    expect(noTracking.statusCode).toBe(400);
    expect(noTracking.json().error.fields[0].path).toBe('trackingNo');
    const ok = await deliver(a, letter.letterId, {
      outcome: 'refused',
      trackingNo: 'XA000111222CN',
      note: '拒收',
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({
      delivery: 'registered_post',
      trackingNo: 'XA000111222CN',
      deliveredOn: TODAY,
    });
    expect((await deliver(a, letter.letterId, { outcome: 'signed', signedByName: 'x' })).statusCode).toBe(
      409,
    );
    const { rows } = await t.pool.query(
      `select status from outbox_message where account_id = $1 and dedupe_key = $2`,
      [a, `letter:${letter.letterId}`],
    );
    expect(rows[0].status).toBe('delivered');
    const audit = await t.pool.query(
      `select action from audit_log where entity_type = 'collection_letter' and entity_id = $1 order by audit_id`,
      [`${a}/${letter.letterId}`],
    );
    expect(audit.rows.map((r) => r.action)).toEqual(['issue_formal', 'record_delivery']);
  });
});

describe('the ladder: formal letter → lawyer’s letter → shut-off request', () => {
  it('the lawyer’s letter only after the formal letter is delivered and its days have passed', async () => {
    const a = fresh();
    await insertBill(t, a, 9_000, 50);
    const formal = (await issue(a, 'formal')).json();
    const early = await issue(a, 'lawyer');
    expect(early.json()).toMatchObject({ error: { code: 'LETTER_NOT_DUE', reason: 'AWAITING_DELIVERY' } });
    await deliver(a, formal.letterId, { outcome: 'signed', signedByName: '张三' });
    const tooSoon = await issue(a, 'lawyer');
    expect(tooSoon.json()).toMatchObject({ error: { code: 'LETTER_NOT_DUE', reason: 'TOO_EARLY' } });
    await t.pool.query(
      'update collection_letter set issued_on = $2, delivered_on = $2 where letter_id = $1',
      [formal.letterId, addDays(TODAY, -15)],
    );
    const lawyer = await issue(a, 'lawyer');
    expect(lawyer.statusCode, lawyer.body).toBe(201);
    expect(lawyer.json().letterNo).toMatch(/^LS\d{4}-000001$/);
    const list = await t.as('manager')({ method: 'GET', url: '/api/collections/escalation' });
    const row = list.json().items.find((i: { accountId: number }) => i.accountId === a);
    expect(row.next).toEqual({ step: null, reason: 'AWAITING_DELIVERY' });
  });

  it('a disputed amount is held out of escalation', async () => {
    const a = fresh();
    const bill = await insertBill(t, a, 7_000, 45);
    await disputeBill(t, a, bill, 7_000);
    const refused = await issue(a, 'formal');
    expect(refused.json()).toMatchObject({ error: { code: 'LETTER_NOT_DUE', reason: 'NOT_IN_ARREARS' } });
    const list = await t.as('manager')({ method: 'GET', url: '/api/collections/escalation' });
    expect(list.json().items.some((i: { accountId: number }) => i.accountId === a)).toBe(false);
  });

  it('letters need collection.manage to issue; the collector may record delivery; other offices see nothing', async () => {
    const a = fresh();
    await insertBill(t, a, 4_000, 45);
    expect((await issue(a, 'formal', 'collector')).statusCode).toBe(403);
    const letter = (await issue(a, 'formal')).json();
    const byCollector = await deliver(
      a,
      letter.letterId,
      { outcome: 'signed', signedByName: '李四' },
      'collector',
    );
    expect(byCollector.statusCode, byCollector.body).toBe(200);
    const other = await t.as('manager2')({ method: 'GET', url: '/api/collections/letters' });
    expect(other.json().items.some((l: { accountId: number }) => l.accountId === a)).toBe(false);
    const own = await t.as('manager')({ method: 'GET', url: `/api/collections/letters?accountId=${a}` });
    expect(own.json().items).toHaveLength(1);
  });
});
