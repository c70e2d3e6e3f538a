import { DomainError } from '@meterline/domain';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { invalidateSettings } from '../platform/settings.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { enqueueMessage } from './enqueue.ts';
import { OutboxSender } from './sender.ts';
import type { SmppTransport } from './smpp.ts';
import { SmppTestPeer } from './testPeer.ts';

/**
 * The outbox sender on real PostgreSQL against the local SMPP peer: messages go out and are
 * delivered, long texts are concatenated, a dropped link loses and doubles nothing, a down SMSC
 * keeps messages pending until it is up, a paid bill's message is cancelled, a bad number is
 * refused, refusals retry with back-off and then fail, voice entries go onto the call list.
 */

let t: TestApp;
let accounts: number[];
let peer: SmppTestPeer;
let sender: OutboxSender | null = null;
let seq = 0;

async function setSettings(values: Record<string, number | string>): Promise<void> {
  for (const [key, value] of Object.entries(values))
    await t.db
      .insertInto('setting')
      .values({ key, effective_from: '2000-01-01', value: JSON.stringify(value) })
      .onConflict((oc) => oc.columns(['key', 'effective_from']).doUpdateSet({ value: JSON.stringify(value) }))
      .execute();
  invalidateSettings();
}

async function sms(
  accountId: number,
  body: string,
  over: Partial<Parameters<typeof enqueueMessage>[1]> = {},
) {
  const m = await enqueueMessage(t.db, {
    accountId,
    channel: 'sms',
    recipient: '13812345678',
    template: 'test',
    body,
    dedupeKey: `test:${++seq}`,
    ...over,
  });
  return m.messageId;
}

async function messages(ids: number[]) {
  return t.db
    .selectFrom('outbox_message')
    .selectAll()
    .where('message_id', 'in', ids)
    .orderBy('message_id')
    .execute();
}

async function until(what: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const allIn = (ids: number[], status: string) => async () =>
  (await messages(ids)).every((m) => m.status === status);

function startSender(now?: () => Date): OutboxSender {
  sender = new OutboxSender(t.db, {
    pollMs: 20,
    log: process.env.OUTBOX_DEBUG ? (m) => console.log(m) : () => {},
    now,
  });
  sender.start();
  return sender;
}

beforeAll(async () => {
  t = await createTestApp({ customers: 12 });
  accounts = (await t.db.selectFrom('customer').select('account_id').orderBy('account_id').execute()).map(
    (c) => c.account_id,
  );
});

afterAll(async () => {
  await t.close();
});

beforeEach(async () => {
  // Each test starts with nothing due and its own SMSC.
  await sql`update outbox_message set status = 'cancelled' where status in ('pending', 'sending')`.execute(
    t.db,
  );
  peer = new SmppTestPeer();
  await peer.start(0);
  await setSettings({
    'smsc.enabled': 1,
    'smsc.port': peer.port,
    'smsc.password': 'secret',
    'smsc.reconnectBaseMs': 20,
    'smsc.reconnectCapMs': 200,
    'smsc.responseTimeoutMs': 3_000,
    'smsc.inDoubt': 'resend',
    'outbox.maxAttempts': 8,
    'outbox.retryBaseMs': 60_000,
    'outbox.batchSize': 500,
    'outbox.leaseMs': 120_000,
    'smsc.windowSize': 20,
    'outbox.expireAfterDays': 7,
  });
});

afterEach(async () => {
  await sender?.stop();
  sender = null;
  await peer.stop();
});

describe('outbox sender', () => {
  it('sends SMS and records their delivery receipts; a long Chinese text goes as concatenated parts', async () => {
    const short = await sms(accounts[0]!, '【供水】您本期水费 56.30 元，请按时缴纳。');
    const longText = `${'尊敬的用户，您的水费已逾期未缴，请尽快到营业厅或通过线上渠道缴纳。'.repeat(5)}`;
    const long = await sms(accounts[1]!, longText);
    startSender();
    await until(allIn([short, long], 'delivered'));
    const [a, b] = await messages([short, long]);
    expect(a).toMatchObject({ status: 'delivered', delivery_status: 'DELIVRD', segments: 1, attempts: 1 });
    expect(a!.delivered_at).not.toBeNull();
    expect(b).toMatchObject({ status: 'delivered', segments: 3 });
    expect(peer.delivered().get(`${accounts[1]}-${long}`)?.text).toBe(longText);
    const attempts = await t.db
      .selectFrom('outbox_attempt')
      .selectAll()
      .where('message_id', 'in', [short, long])
      .execute();
    expect(attempts.map((x) => x.outcome)).toEqual(['submitted', 'submitted']);
    expect(attempts.find((x) => x.message_id === short)!.smsc_message_id).toBe(a!.smsc_message_id);
    const segments = await t.db
      .selectFrom('outbox_segment')
      .selectAll()
      .where('message_id', '=', long)
      .execute();
    expect(segments.map((s) => s.receipt_stat)).toEqual(['DELIVRD', 'DELIVRD', 'DELIVRD']);
  });

  it('a peer that drops the link mid-batch: every message delivered exactly once', async () => {
    await setSettings({ 'smsc.windowSize': 5, 'outbox.batchSize': 20 });
    const ids: number[] = [];
    for (let i = 0; i < 60; i++) ids.push(await sms(accounts[i % accounts.length]!, `催缴提醒 第${i}条`));
    peer.dropOnSubmit(7);
    peer.dropOnSubmit(31);
    peer.dropOnSubmit(50);
    startSender();
    await until(allIn(ids, 'delivered'), 30_000);
    const delivered = peer.delivered();
    // Each message reached the handset once, by its client reference…
    for (const [i, id] of ids.entries()) {
      const account = accounts[i % accounts.length]!;
      expect(delivered.get(`${account}-${id}`)?.text).toBe(`催缴提醒 第${i}条`);
    }
    expect(delivered.size).toBe(60);
    // …although some crossed the wire twice (the submits the peer took before dropping the link).
    expect(peer.duplicates).toBeGreaterThanOrEqual(3);
    const unknown = await t.db
      .selectFrom('outbox_attempt')
      .select(({ fn }) => fn.countAll<number>().as('n'))
      .where('message_id', 'in', ids)
      .where('outcome', '=', 'unknown')
      .executeTakeFirstOrThrow();
    expect(Number(unknown.n)).toBeGreaterThanOrEqual(3);
    // Every receipt was taken and answered (one resent after a drop is stored once).
    await until(async () => peer.receiptsSent >= 60);
    const segments = await t.db
      .selectFrom('outbox_segment')
      .select('smsc_message_id')
      .where('message_id', 'in', ids)
      .execute();
    expect(new Set(segments.map((x) => x.smsc_message_id)).size).toBe(60);
  });

  it('"hold" in doubt: a dropped submit is failed for a person to check, never sent twice', async () => {
    await setSettings({ 'smsc.inDoubt': 'hold', 'smsc.windowSize': 1 });
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(await sms(accounts[i]!, `短信 ${i}`));
    peer.dropOnSubmit(3);
    startSender();
    await until(async () =>
      (await messages(ids)).every((m) => m.status === 'delivered' || m.status === 'failed'),
    ).catch(async (e) => {
      console.log(
        JSON.stringify((await messages(ids)).map((m) => [m.status, m.attempts, m.last_error, m.not_before])),
        peer.submits.map((x) => x.ref),
      );
      throw e;
    });
    const rows = await messages(ids);
    const failed = rows.filter((m) => m.status === 'failed');
    expect(failed, JSON.stringify(rows.map((r) => [r.status, r.last_error]))).toHaveLength(1);
    expect(failed[0]!.last_error).toMatch(/^IN_DOUBT/);
    expect(peer.duplicates).toBe(0);
    expect(peer.delivered().size).toBe(5); // the SMSC did have it: exactly why it is held, not resent
  });

  it('an SMSC that is down: messages stay pending, the link retries with back-off, they go once it is up', async () => {
    const port = peer.port;
    await peer.stop();
    const ids = [await sms(accounts[0]!, '停机期间的短信'), await sms(accounts[1]!, '第二条')];
    const s = startSender();
    const link = () => s.sms as SmppTransport | null;
    await until(async () => (link()?.stats.reconnectDelaysMs.length ?? 0) >= 4);
    const delays = link()!.stats.reconnectDelaysMs;
    expect(delays.slice(0, 4)).toEqual([20, 40, 80, 160]);
    for (const m of await messages(ids)) expect(m).toMatchObject({ status: 'pending', attempts: 0 });
    await peer.start(port);
    await until(allIn(ids, 'delivered'));
    expect(peer.delivered().size).toBe(2);
  });

  it('a disabled SMSC leaves SMS pending', async () => {
    await setSettings({ 'smsc.enabled': 0 });
    const id = await sms(accounts[0]!, '不发送');
    const s = startSender();
    await s.tick();
    await s.tick();
    expect((await messages([id]))[0]).toMatchObject({ status: 'pending', attempts: 0 });
    expect(peer.submits).toHaveLength(0);
  });

  it('a stop-if-paid message whose bill is paid is cancelled, not sent', async () => {
    const account = accounts[2]!;
    const bill = await t.db
      .insertInto('bill')
      .values({
        account_id: account,
        bill_no: `202610-9${String(++seq).padStart(7, '0')}`,
        meter_id: null,
        reading_id: null,
        run_id: null,
        usage_type_code: 'W_RES',
        period: '2026-10',
        period_from: '2026-09-01',
        period_to: '2026-09-30',
        start_index: null,
        end_index: null,
        amount_fen: 5630,
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
    const paid = await sms(account, '您的水费尚未缴纳', {
      billId: bill.bill_id,
      stopIfPaid: true,
      purpose: 'dunning',
    });
    const unpaidToo = await sms(account, '另一条通知', { billId: bill.bill_id, stopIfPaid: false });
    // Paid after the message was queued, by a path that did not cancel it (the sender checks again).
    await t.db.updateTable('bill').set({ paid_fen: 5630 }).where('bill_id', '=', bill.bill_id).execute();
    startSender();
    await until(async () => (await messages([paid, unpaidToo]))[1]!.status === 'delivered');
    expect((await messages([paid]))[0]).toMatchObject({ status: 'cancelled', last_error: 'paid' });
    expect(peer.submits.map((s) => s.ref)).toEqual([`${account}-${unpaidToo}`]);
  });

  it('a bad phone number is refused with the reason; one written set-based fails without being sent', async () => {
    const refused = await enqueueMessage(t.db, {
      accountId: accounts[0]!,
      channel: 'sms',
      recipient: '0371-6612345',
      template: 'test',
      body: '测试',
      dedupeKey: 'bad-phone',
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DomainError);
    expect((refused as DomainError).code).toBe('VALIDATION');
    expect((refused as DomainError).fields?.map((f) => [f.path, f.code])).toEqual([
      ['recipient', 'MOBILE_FORMAT'],
    ]);
    // A call may go to a landline; not to nonsense.
    const landline = await enqueueMessage(t.db, {
      accountId: accounts[0]!,
      channel: 'voice',
      recipient: '0371 66123456',
      template: 'voice_dunning',
      body: '语音',
      dedupeKey: `voice-landline:${++seq}`,
    });
    expect((await messages([landline.messageId]))[0]!.recipient).toBe('0371-66123456');
    const badVoice = await enqueueMessage(t.db, {
      accountId: accounts[0]!,
      channel: 'voice',
      recipient: 'x12',
      template: 'voice_dunning',
      body: '语音',
      dedupeKey: `voice-bad:${++seq}`,
    }).catch((e: unknown) => e as DomainError);
    expect((badVoice as DomainError).fields?.map((f) => [f.path, f.code])).toEqual([
      ['recipient', 'PHONE_FORMAT'],
    ]);
    await sql`update outbox_message set status = 'cancelled' where message_id = ${landline.messageId}`.execute(
      t.db,
    );
    const row = await t.db
      .insertInto('outbox_message')
      .values({
        account_id: accounts[0]!,
        channel: 'sms',
        recipient: '12345',
        template: 't',
        body: '测试',
        dedupe_key: `raw:${++seq}`,
      })
      .returning('message_id')
      .executeTakeFirstOrThrow();
    startSender();
    await until(allIn([row.message_id], 'failed'));
    expect((await messages([row.message_id]))[0]!.last_error).toMatch(/^MOBILE_FORMAT/);
    expect(peer.submits).toHaveLength(0);
  });

  it('enqueueing is idempotent on the dedupe key', async () => {
    const a = await enqueueMessage(t.db, {
      accountId: accounts[3]!,
      channel: 'sms',
      recipient: '+86 139 1234 5678',
      template: 't',
      body: '一',
      dedupeKey: 'same',
    });
    const b = await enqueueMessage(t.db, {
      accountId: accounts[3]!,
      channel: 'sms',
      recipient: '13912345678',
      template: 't',
      body: '二',
      dedupeKey: 'same',
    });
    expect(a.created).toBe(true);
    expect(b).toEqual({ messageId: a.messageId, created: false, status: 'pending' });
    expect((await messages([a.messageId]))[0]).toMatchObject({ recipient: '13912345678', body: '一' });
  });

  it('refusals retry with exponential back-off, then the message fails after the last attempt', async () => {
    await peer.stop();
    peer = new SmppTestPeer({ rejectTo: ['8613500000000'] });
    await peer.start(0);
    await setSettings({
      'smsc.port': peer.port,
      'outbox.maxAttempts': 3,
      'outbox.retryBaseMs': 150,
      'outbox.retryCapMs': 10_000,
    });
    const id = await sms(accounts[4]!, '会被拒绝', { recipient: '13500000000' });
    startSender();
    await until(allIn([id], 'failed'));
    const attempts = await t.db
      .selectFrom('outbox_attempt')
      .selectAll()
      .where('message_id', '=', id)
      .orderBy('attempt_no')
      .execute();
    expect(attempts.map((a) => a.outcome)).toEqual(['rejected', 'rejected', 'rejected']);
    const gaps = attempts.slice(1).map((a, i) => a.at.getTime() - attempts[i]!.at.getTime());
    expect(gaps[0]).toBeGreaterThanOrEqual(140);
    expect(gaps[1]).toBeGreaterThanOrEqual(290); // doubled
    const row = (await messages([id]))[0]!;
    expect(row).toMatchObject({ status: 'failed', attempts: 3 });
    expect(row.last_error).toMatch(/0x0000000b/);
    expect(peer.submits).toHaveLength(3);
  });

  it('a failed receipt fails the message with the receipt stat', async () => {
    await peer.stop();
    peer = new SmppTestPeer({ receiptStat: (to) => (to.endsWith('0001') ? 'UNDELIV' : 'DELIVRD') });
    await peer.start(0);
    await setSettings({ 'smsc.port': peer.port });
    const bad = await sms(accounts[5]!, '无法送达', { recipient: '13600000001' });
    const good = await sms(accounts[5]!, '送达', { recipient: '13600000002' });
    startSender();
    await until(async () =>
      (await messages([bad, good])).every(
        (m) => m.status !== 'pending' && m.status !== 'sending' && m.status !== 'sent',
      ),
    );
    const [b, g] = await messages([bad, good]);
    expect(b).toMatchObject({ status: 'failed', delivery_status: 'UNDELIV' });
    expect(g).toMatchObject({ status: 'delivered', delivery_status: 'DELIVRD' });
  });

  it('voice entries go onto the call list within calling hours only; letters are left alone', async () => {
    let now = new Date('2026-11-23T13:30:00Z'); // 21:30 in China: after hours
    const voice = (
      await enqueueMessage(t.db, {
        accountId: accounts[6]!,
        channel: 'voice',
        recipient: '13712345678',
        template: 'voice_dunning',
        body: '语音催款',
        dedupeKey: `v:${++seq}`,
        notBefore: '2026-11-23T00:00:00Z',
      })
    ).messageId;
    const letter = (
      await enqueueMessage(t.db, {
        accountId: accounts[6]!,
        channel: 'letter',
        recipient: '幸福小区3栋',
        template: 'formal_letter',
        body: '催缴公函',
        dedupeKey: `l:${++seq}`,
      })
    ).messageId;
    const s = new OutboxSender(t.db, { log: () => {}, now: () => now });
    sender = s;
    await s.tick();
    expect((await messages([voice]))[0]!.status).toBe('pending');
    now = new Date('2026-11-24T01:30:00Z'); // 09:30 in China
    await s.tick();
    const [v, l] = await messages([voice, letter]);
    expect(v).toMatchObject({ status: 'sent', call_list_date: '2026-11-24', attempts: 1 });
    expect(l!.status).toBe('pending');
    expect(peer.submits).toHaveLength(0);
  });

  it('a stale notice or dunning message is cancelled as expired and never reaches the SMSC; a fresh one does', async () => {
    const day = 86_400_000;
    const ago = (days: number) => new Date(Date.now() - days * day).toISOString();
    // A customer of the manager's office (0101), so the manager may retry its message below.
    const stale = Number(
      (
        await t.db
          .selectFrom('customer as c')
          .innerJoin('office as o', 'o.office_id', 'c.office_id')
          .select('c.account_id')
          .where('o.code', '=', '0101')
          .orderBy('c.account_id', 'desc')
          .executeTakeFirstOrThrow()
      ).account_id,
    );
    // A year of bill notices loaded by a migration, and a dunning reminder the SMSC outage held 8 days.
    const staleNotice = await sms(stale, '【供水】您 2025-10 水费 30.00 元', {
      purpose: 'notice',
      notBefore: ago(365),
    });
    const staleDunning = await sms(stale, '您的水费已逾期 10 天', { purpose: 'dunning', notBefore: ago(8) });
    // Due 6 days ago (under outbox.expireAfterDays = 7): still sent.
    const fresh = await sms(accounts[9]!, '您的水费已逾期，请尽快缴纳', {
      purpose: 'dunning',
      notBefore: ago(6),
    });
    // Not a notice or dunning message: never expires.
    const other = await sms(accounts[9]!, '您的业务已办结', { purpose: 'service', notBefore: ago(30) });
    const letter = (
      await enqueueMessage(t.db, {
        accountId: accounts[9]!,
        channel: 'letter',
        recipient: '幸福小区3栋',
        template: 'formal_letter',
        body: '催缴公函',
        dedupeKey: `l:${++seq}`,
        purpose: 'letter',
        notBefore: ago(60),
      })
    ).messageId;
    startSender();
    await until(allIn([fresh, other], 'delivered'));
    const [n, d, f, o, l] = await messages([staleNotice, staleDunning, fresh, other, letter]);
    expect(n).toMatchObject({ status: 'cancelled', last_error: 'expired', attempts: 0, sent_at: null });
    expect(d).toMatchObject({ status: 'cancelled', last_error: 'expired', attempts: 0 });
    expect(f).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(o!.status).toBe('delivered');
    expect(l!.status).toBe('pending'); // letters are the escalation part's, never expired
    // The SMSC saw only the fresh ones.
    expect(peer.submits.map((x) => x.ref).sort()).toEqual(
      [`${accounts[9]}-${fresh}`, `${accounts[9]}-${other}`].sort(),
    );
    expect(peer.delivered().has(`${stale}-${staleNotice}`)).toBe(false);
    // The decision is in the delivery audit.
    const attempts = await t.db
      .selectFrom('outbox_attempt')
      .selectAll()
      .where('message_id', 'in', [staleNotice, staleDunning])
      .orderBy('message_id')
      .execute();
    expect(attempts.map((a) => [a.message_id, a.attempt_no, a.outcome])).toEqual([
      [staleNotice, 1, 'expired'],
      [staleDunning, 1, 'expired'],
    ]);
    expect(attempts[1]!.error).toMatch(/^due \d{4}-\d{2}-\d{2} \d{2}:\d{2}, before .*not sent$/);

    // Staff may still send one on purpose: a retry makes it due now, and it goes.
    const retried = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${stale}/messages/${staleDunning}/retry`,
    });
    expect(retried.statusCode, retried.body).toBe(200);
    await until(allIn([staleDunning], 'delivered'));
    expect((await messages([staleNotice]))[0]!.status).toBe('cancelled');
  });

  it('expiry follows the setting: 0 sends even a year-old notice; a stale voice entry is not listed', async () => {
    const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    await setSettings({ 'outbox.expireAfterDays': 0 });
    const old = await sms(accounts[10]!, '旧通知', { purpose: 'notice', notBefore: ago(365) });
    startSender();
    await until(allIn([old], 'delivered'));
    await sender!.stop();
    sender = null;

    await setSettings({ 'outbox.expireAfterDays': 3 });
    const now = new Date('2026-11-24T02:00:00Z'); // 10:00 in China, within calling hours
    const voice = async (days: number) =>
      (
        await enqueueMessage(t.db, {
          accountId: accounts[10]!,
          channel: 'voice',
          recipient: '13712345678',
          template: 'voice_dunning',
          body: '语音催款',
          dedupeKey: `v:${++seq}`,
          purpose: 'dunning',
          notBefore: new Date(now.getTime() - days * 86_400_000),
        })
      ).messageId;
    const staleVoice = await voice(4);
    const freshVoice = await voice(2);
    const s = new OutboxSender(t.db, { log: () => {}, now: () => now });
    sender = s;
    const r = await s.tick();
    const [sv, fv] = await messages([staleVoice, freshVoice]);
    expect(sv).toMatchObject({ status: 'cancelled', last_error: 'expired', call_list_date: null });
    expect(fv).toMatchObject({ status: 'sent', call_list_date: '2026-11-24' });
    expect(r.expired).toBe(1);
  });

  it('a message left sending by a process that died is taken up again after its lease', async () => {
    await setSettings({ 'outbox.leaseMs': 50 });
    const id = await sms(accounts[7]!, '进程中断');
    // As a crashed sender leaves it: claimed, attempt written, never answered.
    await sql`update outbox_message set status = 'sending', attempts = 1, lease_until = now() - interval '1 second' where message_id = ${id}`.execute(
      t.db,
    );
    await t.db
      .insertInto('outbox_attempt')
      .values({
        account_id: accounts[7]!,
        message_id: id,
        attempt_no: 1,
        outcome: 'submitting',
        smsc_message_id: null,
      })
      .execute();
    startSender();
    await until(allIn([id], 'delivered'));
    const attempts = await t.db
      .selectFrom('outbox_attempt')
      .selectAll()
      .where('message_id', '=', id)
      .orderBy('attempt_no')
      .execute();
    expect(attempts.map((a) => a.outcome)).toEqual(['unknown', 'submitted']);
  });
});
