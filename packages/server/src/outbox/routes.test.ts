import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { enqueueMessage } from './enqueue.ts';

/** The outbox API: list and chart, a customer's messages with attempts, retry/cancel (audited), the voice list. */

let t: TestApp;
let account: number;
let failedId: number;
let pendingId: number;
const today = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);

beforeAll(async () => {
  t = await createTestApp({ customers: 6 });
  const office = await t.db
    .selectFrom('office')
    .select('office_id')
    .where('code', '=', '0101')
    .executeTakeFirstOrThrow();
  account = (
    await t.db
      .selectFrom('customer')
      .select('account_id')
      .where('office_id', '=', office.office_id)
      .executeTakeFirstOrThrow()
  ).account_id;
  failedId = (
    await enqueueMessage(t.db, {
      accountId: account,
      channel: 'sms',
      recipient: '13812345678',
      template: 'dunning_reminder',
      body: '提醒',
      dedupeKey: 'r1',
    })
  ).messageId;
  await t.db
    .updateTable('outbox_message')
    .set({ status: 'failed', attempts: 8, last_error: 'x' })
    .where('message_id', '=', failedId)
    .execute();
  await t.db
    .insertInto('outbox_attempt')
    .values({
      account_id: account,
      message_id: failedId,
      attempt_no: 1,
      outcome: 'rejected',
      error: 'x',
      smsc_message_id: null,
    })
    .execute();
  pendingId = (
    await enqueueMessage(t.db, {
      accountId: account,
      channel: 'sms',
      recipient: '13812345678',
      template: 'bill_notice',
      body: '通知',
      dedupeKey: 'r2',
    })
  ).messageId;
  const voice = await enqueueMessage(t.db, {
    accountId: account,
    channel: 'voice',
    recipient: '13812345678',
    template: 'voice_dunning',
    body: '请缴纳水费, "欠费" 56 元',
    dedupeKey: 'r3',
  });
  await t.db
    .updateTable('outbox_message')
    .set({ status: 'sent', call_list_date: today })
    .where('message_id', '=', voice.messageId)
    .execute();
});

afterAll(async () => {
  await t.close();
});

describe('outbox API', () => {
  it('lists with filters and counts by day and status', async () => {
    const all = await t.as('manager')({ method: 'GET', url: '/api/outbox' });
    expect(all.statusCode, all.body).toBe(200);
    expect(all.json().total).toBe(3);
    const failed = await t.as('manager')({ method: 'GET', url: '/api/outbox?status=failed&channel=sms' });
    expect(failed.json().items.map((i: { messageId: number }) => i.messageId)).toEqual([failedId]);
    const stats = await t.as('manager')({ method: 'GET', url: '/api/outbox/stats' });
    expect(stats.json().totals).toEqual({ failed: 1, pending: 1, sent: 1 });
    expect(stats.json().byDay.every((d: { day: string }) => d.day === today)).toBe(true);
  });

  it('retries a failed message with a fresh set of tries, audited; refuses to retry a pending one', async () => {
    const res = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${account}/messages/${failedId}/retry`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const row = await t.db
      .selectFrom('outbox_message')
      .selectAll()
      .where('message_id', '=', failedId)
      .executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'pending', attempts: 0, last_error: '' });
    const auditRow = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'outbox_retry')
      .executeTakeFirstOrThrow();
    expect(auditRow.entity_id).toBe(String(failedId));
    const again = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${account}/messages/${pendingId}/retry`,
    });
    expect(again.statusCode).toBe(400);
    expect(again.json().error.code).toBe('MESSAGE_NOT_RETRYABLE');
    // The clerk may look but not act.
    const clerk = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${account}/messages/${failedId}/cancel`,
    });
    expect(clerk.statusCode).toBe(403);
  });

  it('cancels a pending message, audited', async () => {
    const res = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${account}/messages/${pendingId}/cancel`,
      payload: { reason: '客户已到柜台缴费' },
    });
    expect(res.statusCode, res.body).toBe(200);
    const row = await t.db
      .selectFrom('outbox_message')
      .selectAll()
      .where('message_id', '=', pendingId)
      .executeTakeFirstOrThrow();
    expect(row.status).toBe('cancelled');
    expect(row.last_error).toContain('客户已到柜台缴费');
    expect(
      await t.db.selectFrom('audit_log').select('audit_id').where('action', '=', 'outbox_cancel').execute(),
    ).toHaveLength(1);
  });

  it("shows a customer's messages with their attempts", async () => {
    const res = await t.as('clerk')({ method: 'GET', url: `/api/customers/${account}/messages` });
    expect(res.statusCode, res.body).toBe(200);
    const failed = res.json().items.find((i: { messageId: number }) => i.messageId === failedId);
    expect(failed.attemptLog).toEqual([expect.objectContaining({ attemptNo: 1, outcome: 'rejected' })]);
  });

  it('downloads the voice-call list as CSV', async () => {
    const json = await t.as('clerk')({ method: 'GET', url: `/api/outbox/voice-list?date=${today}` });
    expect(json.json().items).toHaveLength(1);
    const csv = await t.as('clerk')({
      method: 'GET',
      url: `/api/outbox/voice-list?date=${today}&format=csv`,
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body
      .replace(/^\ufeff/, '')
      .trim()
      .split('\r\n');
    expect(lines[0]).toBe('日期,客户编号,户名,电话,播报内容,账单,消息编号');
    expect(lines[1]).toContain('"请缴纳水费, ""欠费"" 56 元"');
    expect(lines).toHaveLength(2);
  });

  it('filters the cancelled by reason: the stale (expired) apart from the paid; the chart counts them', async () => {
    const stale = await enqueueMessage(t.db, {
      accountId: account,
      channel: 'sms',
      recipient: '13812345678',
      template: 'bill_notice',
      body: '旧通知',
      dedupeKey: 'r-expired',
    });
    const paid = await enqueueMessage(t.db, {
      accountId: account,
      channel: 'sms',
      recipient: '13812345678',
      template: 'dunning_reminder',
      body: '已缴',
      dedupeKey: 'r-paid',
    });
    // As the sender leaves them (sender.test.ts proves it does).
    await t.db
      .updateTable('outbox_message')
      .set({ status: 'cancelled', last_error: 'expired' })
      .where('message_id', '=', stale.messageId)
      .execute();
    await t.db
      .updateTable('outbox_message')
      .set({ status: 'cancelled', last_error: 'paid' })
      .where('message_id', '=', paid.messageId)
      .execute();
    const ids = async (url: string) => {
      const res = await t.as('manager')({ method: 'GET', url });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().items.map((i: { messageId: number }) => i.messageId);
    };
    expect(await ids('/api/outbox?reason=expired')).toEqual([stale.messageId]);
    expect(await ids('/api/outbox?status=cancelled&reason=paid')).toEqual([paid.messageId]);
    expect((await ids('/api/outbox?status=cancelled')).length).toBeGreaterThanOrEqual(3);
    const bad = await t.as('manager')({ method: 'GET', url: '/api/outbox?reason=lost' });
    expect(bad.statusCode).toBe(400);
    const stats = await t.as('manager')({ method: 'GET', url: '/api/outbox/stats' });
    expect(stats.json().totals.expired).toBe(1);
    expect(stats.json().totals.cancelled).toBeGreaterThanOrEqual(3);
  });
});
