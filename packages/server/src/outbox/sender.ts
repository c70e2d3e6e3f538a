import {
  afterFailedAttempt,
  chinaDateTime,
  type DeliveryReceipt,
  EXPIRING_CHANNELS,
  EXPIRING_PURPOSES,
  isWithinCallingHours,
  OUTBOX_EXPIRED,
  OUTBOX_MESSAGES,
  outboxExpiryCutoff,
  type Settings,
  todayInChina,
  validateSmsRecipient,
} from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import { loadSettings } from '../platform/settings.ts';
import {
  type SmppConfig,
  SmppTransport,
  SmsInDoubt,
  SmsNotSent,
  SmsRejected,
  type SmsTransport,
} from './smpp.ts';

/**
 * The outbox sender (docs/outbox.md): a worker in the server process that takes due messages off
 * `outbox_message` and delivers them — SMS over SMPP, voice entries onto the day's call list —
 * recording every attempt in `outbox_attempt` (the delivery audit) and every delivery receipt.
 *
 * A batch is claimed with FOR UPDATE SKIP LOCKED (several processes may run senders), marked
 * 'sending' under a lease, and its attempts are written and committed before the SMSC is asked.
 * A stop-if-paid message whose bill is paid (or cancelled) by then is cancelled, never sent; so is
 * a stale notice or dunning message, due more than `outbox.expireAfterDays` ago (last_error
 * 'expired', an attempt with outcome 'expired').
 * Refusals retry with exponential back-off, then fail; a submit left unanswered (link dropped,
 * process died) is in doubt and is resent with the same client reference or held, per
 * `smsc.inDoubt`. Letters are left alone: the escalation part prints them.
 */

/** How often the worker looks for due messages when the last look found none. */
export const OUTBOX_POLL_MS = 1_000;
/** Batches one tick may send before it yields (bounds a tick; the next picks up the rest). */
const MAX_BATCHES_PER_TICK = 200;
/** Receipts stored per statement, and how long one waits for company before it is stored. */
const RECEIPT_FLUSH_ROWS = 1_000;
const RECEIPT_FLUSH_MS = 20;
/** Receipts applied to messages per statement. */
const RECEIPT_APPLY_ROWS = 5_000;
/** Voice entries listed per statement. */
const VOICE_BATCH = 5_000;

export type TransportFactory = (
  config: SmppConfig,
  onReceipt: (r: DeliveryReceipt) => Promise<void>,
) => SmsTransport;

export interface OutboxSenderOptions {
  log?: (msg: string) => void;
  pollMs?: number;
  /** Builds the SMS transport from the settings (default: SMPP). */
  transport?: TransportFactory;
  /** The current instant (calling hours); tests move it. */
  now?: () => Date;
  /** The in-process sandbox SMSC used instead of smsc.host while smsc.sandbox is 1 (sandboxSmsc.ts). */
  sandbox?: { port: number; systemId: string; password: string };
}

export interface TickResult {
  sent: number;
  failed: number;
  retried: number;
  cancelled: number;
  /** Of the cancelled: stale, due more than outbox.expireAfterDays ago (never sent). */
  expired: number;
  inDoubt: number;
  listed: number;
  receiptsApplied: number;
}

interface Claimed {
  account_id: number;
  message_id: number;
  recipient: string;
  body: string;
  attempts: number;
  attempt_no: number;
}

function smppConfig(s: Settings, sandbox?: OutboxSenderOptions['sandbox']): SmppConfig {
  const box = s['smsc.sandbox'] === 1 ? sandbox : undefined;
  return {
    host: box ? '127.0.0.1' : s['smsc.host'],
    port: box ? box.port : s['smsc.port'],
    systemId: box ? box.systemId : s['smsc.systemId'],
    password: box ? box.password : s['smsc.password'],
    sourceAddr: s['smsc.sourceAddr'],
    windowSize: s['smsc.windowSize'],
    responseTimeoutMs: s['smsc.responseTimeoutMs'],
    reconnectBaseMs: s['smsc.reconnectBaseMs'],
    reconnectCapMs: s['smsc.reconnectCapMs'],
  };
}

function chinaTimeHhmm(now: Date): string {
  return chinaDateTime(now).slice(11, 16);
}

export class OutboxSender {
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<TickResult> | null = null;
  private stopped = true;
  private transport: SmsTransport | null = null;
  private transportKey = '';
  private readonly receipts: { receipt: DeliveryReceipt; done: (e?: Error) => void }[] = [];
  private receiptTimer: NodeJS.Timeout | null = null;
  private receiptFlush: Promise<void> = Promise.resolve();
  private readonly log: (msg: string) => void;
  private readonly pollMs: number;
  private readonly makeTransport: TransportFactory;
  private readonly now: () => Date;
  private readonly sandbox: OutboxSenderOptions['sandbox'];

  constructor(
    private readonly db: Kysely<DB>,
    options: OutboxSenderOptions = {},
  ) {
    this.log = options.log ?? ((msg) => console.log(`[outbox] ${msg}`));
    this.pollMs = options.pollMs ?? OUTBOX_POLL_MS;
    this.makeTransport =
      options.transport ??
      ((config, onReceipt) => new SmppTransport({ ...config, onReceipt, log: this.log }));
    this.now = options.now ?? (() => new Date());
    this.sandbox = options.sandbox;
  }

  /** The SMS link in use (null while the SMSC is disabled). */
  get sms(): SmsTransport | null {
    return this.transport;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      this.timer = null;
      const result = await this.tick();
      const busyAgain = result.sent + result.failed + result.retried + result.cancelled + result.listed > 0;
      this.schedule(busyAgain ? 0 : this.pollMs);
    }, delayMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.busy;
    await this.transport?.close();
    this.transport = null;
    await this.flushReceipts();
    await this.receiptFlush;
  }

  /** One pass: voice entries, due SMS batch by batch while the SMSC is bound, receipts. */
  async tick(): Promise<TickResult> {
    if (this.busy) return this.busy;
    this.busy = this.pass()
      .catch((error: unknown) => {
        this.log(`outbox pass failed: ${error instanceof Error ? error.message : error}`);
        return emptyResult();
      })
      .finally(() => {
        this.busy = null;
      });
    return this.busy;
  }

  private async pass(): Promise<TickResult> {
    const s = await loadSettings(this.db);
    const result = emptyResult();
    await this.listVoice(s, result);
    const transport = await this.ensureTransport(s);
    await this.releaseExpiredLeases(s, result);
    for (let i = 0; i < MAX_BATCHES_PER_TICK && transport?.bound && !this.stopped; i++) {
      const n = await this.sendBatch(transport, s, result);
      if (n < s['outbox.batchSize']) break;
    }
    result.receiptsApplied += await this.applyReceipts();
    if (result.expired > 0)
      this.log(
        `${result.expired} stale message(s) not sent: due more than ${s['outbox.expireAfterDays']} days ago (outbox.expireAfterDays)`,
      );
    return result;
  }

  private async ensureTransport(s: Settings): Promise<SmsTransport | null> {
    const enabled = s['smsc.enabled'] === 1;
    const config = smppConfig(s, this.sandbox);
    const key = enabled ? JSON.stringify(config) : '';
    if (key === this.transportKey) return this.transport;
    // Disabled or reconfigured: the old link goes; SMS stay pending meanwhile.
    await this.transport?.close();
    this.transport = enabled ? this.makeTransport(config, (r) => this.takeReceipt(r)) : null;
    this.transportKey = key;
    if (enabled)
      this.log(
        `SMSC link: ${config.port === this.sandbox?.port && s['smsc.sandbox'] === 1 ? 'sandbox SMSC on ' : ''}${config.host}:${config.port} as ${config.systemId}, window ${s['smsc.windowSize']}`,
      );
    return this.transport;
  }

  // ---------------------------------------------------------------- SMS

  /**
   * Messages left 'sending' past their lease by a process that died: the SMSC may have them.
   * 'resend' puts them back to pending (they go again with the same client reference); 'hold'
   * fails them for a person to check.
   */
  private async releaseExpiredLeases(s: Settings, result: TickResult): Promise<void> {
    const hold = s['smsc.inDoubt'] === 'hold';
    const rows = await sql<{ n: number }>`
      with expired as (
        update outbox_message m
           set status = ${hold ? 'failed' : 'pending'}, lease_until = null,
               last_error = ${hold ? 'IN_DOUBT: the sender stopped before the SMSC answered; check before sending again' : 'in doubt: resent'}
         where m.status = 'sending' and m.lease_until < now()
        returning m.account_id, m.message_id
      ), marked as (
        update outbox_attempt a set outcome = 'unknown', error = 'lease expired'
          from expired e
         where a.account_id = e.account_id and a.message_id = e.message_id and a.outcome = 'submitting'
      )
      select count(*)::int as n from expired`.execute(this.db);
    result.inDoubt += rows.rows[0]?.n ?? 0;
  }

  /** Claims one batch (cancelling the paid), sends it, records the outcomes. Returns rows claimed. */
  private async sendBatch(transport: SmsTransport, s: Settings, result: TickResult): Promise<number> {
    const leaseMs = s['outbox.leaseMs'];
    const cutoff = outboxExpiryCutoff(this.now(), s['outbox.expireAfterDays']);
    const claimed = await sql<Claimed & { skipped: 'paid' | 'expired' | null }>`
      with due as (
        select m.account_id, m.message_id
          from outbox_message m
         where m.status = 'pending' and m.not_before <= now() and m.channel = 'sms'
         order by m.not_before
         limit ${s['outbox.batchSize']}
           for update skip locked
      ), paid as (
        update outbox_message m set status = 'cancelled', last_error = 'paid'
          from due d, bill b
         where m.account_id = d.account_id and m.message_id = d.message_id and m.stop_if_paid
           and b.account_id = m.account_id and b.bill_id = m.bill_id
           and (b.status = 'cancelled' or b.paid_fen >= b.amount_fen)
        returning m.account_id, m.message_id
      ), ${expireCtes(cutoff)} claimed as (
        update outbox_message m
           set status = 'sending', attempts = m.attempts + 1,
               lease_until = now() + ${leaseMs} * interval '1 millisecond'
          from due d
         where m.account_id = d.account_id and m.message_id = d.message_id
           and not exists (select 1 from paid p where p.account_id = d.account_id and p.message_id = d.message_id)
           and not exists (select 1 from expired e where e.account_id = d.account_id and e.message_id = d.message_id)
        returning m.account_id, m.message_id, m.recipient, m.body, m.attempts
      ), logged as (
        insert into outbox_attempt (account_id, message_id, attempt_no, outcome)
        select c.account_id, c.message_id,
               coalesce((select max(a.attempt_no) from outbox_attempt a
                          where a.account_id = c.account_id and a.message_id = c.message_id), 0) + 1,
               'submitting'
          from claimed c
        returning account_id, message_id, attempt_no
      )
      select c.account_id, c.message_id, c.recipient, c.body, c.attempts, l.attempt_no, null::text as skipped
        from claimed c join logged l using (account_id, message_id)
      union all
      select p.account_id, p.message_id, '', '', 0, 0, 'paid' from paid p
      union all
      select e.account_id, e.message_id, '', '', 0, 0, 'expired' from expired e`.execute(this.db);
    const rows = claimed.rows.filter((r) => r.skipped === null);
    result.cancelled += claimed.rows.length - rows.length;
    result.expired += claimed.rows.filter((r) => r.skipped === 'expired').length;
    if (rows.length === 0) return claimed.rows.length;

    const sent: { row: Claimed; ids: string[] }[] = [];
    const failures: {
      row: Claimed;
      outcome: 'rejected' | 'unknown' | 'invalid';
      error: string;
      delayMs: number;
      notAnAttempt?: boolean;
    }[] = [];
    const hold = s['smsc.inDoubt'] === 'hold';
    const policy = {
      maxAttempts: s['outbox.maxAttempts'],
      retryBaseMs: s['outbox.retryBaseMs'],
      retryCapMs: s['outbox.retryCapMs'],
    };
    await Promise.all(
      rows.map(async (row) => {
        const to = validateSmsRecipient(row.recipient);
        if (!to.ok) {
          failures.push({
            row,
            outcome: 'invalid',
            error: `${to.code}: ${OUTBOX_MESSAGES[to.code]['zh-CN']}`,
            delayMs: -1,
          });
          return;
        }
        try {
          const ids = await transport.submit({
            ref: `${row.account_id}-${row.message_id}`,
            to: to.normalized,
            text: row.body,
          });
          sent.push({ row, ids });
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (error instanceof SmsNotSent) {
            // Known not sent: back to pending at once, and it does not count as a try.
            failures.push({ row, outcome: 'rejected', error: message, delayMs: 0, notAnAttempt: true });
          } else if (error instanceof SmsInDoubt) {
            const after = afterFailedAttempt(row.attempts, policy);
            failures.push({
              row,
              outcome: 'unknown',
              error: hold ? `IN_DOUBT: ${message}; check before sending again` : message,
              // Resent at once with the same reference: the link's reconnect back-off paces it.
              delayMs: hold || after.action === 'fail' ? -1 : 0,
            });
          } else {
            const after = afterFailedAttempt(row.attempts, policy);
            failures.push({
              row,
              outcome: 'rejected',
              error: error instanceof SmsRejected ? message : `error: ${message}`,
              delayMs: after.action === 'fail' ? -1 : after.delayMs,
            });
          }
        }
      }),
    );
    await this.db.transaction().execute(async (trx) => {
      if (sent.length > 0) {
        const acc = sent.map((x) => x.row.account_id);
        const msg = sent.map((x) => x.row.message_id);
        await sql`
          with s as (
            select * from unnest(${acc}::bigint[], ${msg}::bigint[], ${sent.map((x) => x.row.attempt_no)}::int[],
                                 ${sent.map((x) => x.ids[0]!)}::text[], ${sent.map((x) => x.ids.length)}::int[])
                     as s(account_id, message_id, attempt_no, smsc_id, segments)
          ), upd as (
            update outbox_message m
               set status = 'sent', sent_at = now(), lease_until = null, smsc_message_id = s.smsc_id,
                   segments = s.segments, last_error = ''
              from s
             where m.account_id = s.account_id and m.message_id = s.message_id and m.status = 'sending'
          )
          update outbox_attempt a set outcome = 'submitted', smsc_message_id = s.smsc_id, at = now()
            from s
           where a.account_id = s.account_id and a.message_id = s.message_id and a.attempt_no = s.attempt_no`.execute(
          trx,
        );
        const segs = sent.flatMap((x) =>
          x.ids.map((id, i) => ({ a: x.row.account_id, m: x.row.message_id, n: i + 1, id })),
        );
        await sql`
          insert into outbox_segment (account_id, message_id, segment_no, smsc_message_id)
          select * from unnest(${segs.map((x) => x.a)}::bigint[], ${segs.map((x) => x.m)}::bigint[],
                               ${segs.map((x) => x.n)}::int[], ${segs.map((x) => x.id)}::text[])
          on conflict (account_id, message_id, segment_no)
          do update set smsc_message_id = excluded.smsc_message_id`.execute(trx);
      }
      if (failures.length > 0) {
        await sql`
          with f as (
            select * from unnest(${failures.map((x) => x.row.account_id)}::bigint[],
                                 ${failures.map((x) => x.row.message_id)}::bigint[],
                                 ${failures.map((x) => x.row.attempt_no)}::int[],
                                 ${failures.map((x) => x.outcome)}::text[],
                                 ${failures.map((x) => x.error)}::text[],
                                 ${failures.map((x) => x.delayMs)}::bigint[],
                                 ${failures.map((x) => x.notAnAttempt === true)}::boolean[])
                     as f(account_id, message_id, attempt_no, outcome, error, delay_ms, not_an_attempt)
          ), upd as (
            update outbox_message m
               set status = case when f.delay_ms < 0 then 'failed' else 'pending' end,
                   not_before = case when f.delay_ms <= 0 then m.not_before
                                     else now() + f.delay_ms * interval '1 millisecond' end,
                   attempts = m.attempts - case when f.not_an_attempt then 1 else 0 end,
                   last_error = f.error, lease_until = null
              from f
             where m.account_id = f.account_id and m.message_id = f.message_id and m.status = 'sending'
          )
          update outbox_attempt a set outcome = f.outcome, error = f.error, at = now()
            from f
           where a.account_id = f.account_id and a.message_id = f.message_id and a.attempt_no = f.attempt_no`.execute(
          trx,
        );
      }
    });
    result.sent += sent.length;
    for (const f of failures) {
      if (f.delayMs < 0) result.failed++;
      else if (f.outcome === 'unknown') result.inDoubt++;
      else result.retried++;
    }
    // Receipts that overtook their submit's response can be matched now.
    result.receiptsApplied += await this.applyReceipts();
    return claimed.rows.length;
  }

  // ---------------------------------------------------------------- receipts

  /** A receipt from the SMSC: stored with its neighbours, answered once stored. */
  private takeReceipt(receipt: DeliveryReceipt): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.receipts.push({ receipt, done: (e) => (e ? reject(e) : resolve()) });
      if (this.receipts.length >= RECEIPT_FLUSH_ROWS) void this.flushReceipts();
      else if (!this.receiptTimer) {
        this.receiptTimer = setTimeout(() => void this.flushReceipts(), RECEIPT_FLUSH_MS);
        this.receiptTimer.unref();
      }
    });
  }

  private flushReceipts(): Promise<void> {
    if (this.receiptTimer) clearTimeout(this.receiptTimer);
    this.receiptTimer = null;
    const batch = this.receipts.splice(0);
    if (batch.length === 0) return this.receiptFlush;
    // One flush at a time, in arrival order.
    this.receiptFlush = this.receiptFlush.then(async () => {
      try {
        const r = batch.map((x) => x.receipt);
        await sql`
          insert into outbox_receipt (smsc_message_id, stat, err, done_at)
          select * from unnest(${r.map((x) => x.smscMessageId)}::text[], ${r.map((x) => x.stat)}::text[],
                               ${r.map((x) => x.err)}::text[], ${r.map((x) => x.doneAt)}::timestamptz[])
          on conflict (smsc_message_id) do update
             set stat = excluded.stat, err = excluded.err, done_at = excluded.done_at,
                 received_at = now(), applied = false
           where outbox_receipt.stat is distinct from excluded.stat`.execute(this.db);
        for (const x of batch) x.done();
      } catch (error) {
        for (const x of batch) x.done(error as Error);
        return;
      }
      await this.applyReceipts().catch((error: unknown) =>
        this.log(`receipts stored, not yet applied: ${error instanceof Error ? error.message : error}`),
      );
    });
    return this.receiptFlush;
  }

  /**
   * Stored receipts onto their parts and messages: a message is delivered when every part is,
   * failed when a part finally failed (UNDELIV, EXPIRED, REJECTD, DELETED). A receipt whose part
   * is not known yet (it overtook the submit's response) waits for a later pass.
   */
  async applyReceipts(): Promise<number> {
    let total = 0;
    for (let round = 0; round < 100; round++) {
      const n = await this.db.transaction().execute(async (trx) => {
        const matched = await sql<{ account_id: number; message_id: number }>`
          with r as (
            select smsc_message_id, stat, err, done_at from outbox_receipt
             where not applied order by received_at limit ${RECEIPT_APPLY_ROWS} for update skip locked
          ), seg as (
            update outbox_segment s
               set receipt_stat = r.stat, receipt_err = r.err, receipt_at = coalesce(r.done_at, now())
              from r
             where s.smsc_message_id = r.smsc_message_id
               -- Ids can come round again (another SMSC, a reset counter): only a part still
               -- waiting for its final receipt takes one.
               and (s.receipt_stat is null or s.receipt_stat not in ('DELIVRD', 'UNDELIV', 'EXPIRED', 'DELETED', 'REJECTD'))
            returning s.account_id, s.message_id, s.smsc_message_id
          ), mark as (
            update outbox_receipt x set applied = true
              from seg where x.smsc_message_id = seg.smsc_message_id
          )
          select distinct account_id, message_id from seg`.execute(trx);
        if (matched.rows.length === 0) return 0;
        await sql`
          with k as (
            select * from unnest(${matched.rows.map((r) => r.account_id)}::bigint[],
                                 ${matched.rows.map((r) => r.message_id)}::bigint[]) as k(account_id, message_id)
          ), agg as (
            select s.account_id, s.message_id,
                   count(*) filter (where s.receipt_stat = 'DELIVRD') as delivered,
                   count(*) filter (where s.receipt_stat in ('UNDELIV', 'EXPIRED', 'DELETED', 'REJECTD')) as failed,
                   max(s.receipt_at) as last_at,
                   (array_agg(s.receipt_stat order by s.receipt_stat = 'DELIVRD', s.receipt_at desc nulls last))[1] as stat,
                   (array_agg(s.receipt_err order by s.receipt_stat = 'DELIVRD', s.receipt_at desc nulls last))[1] as err
              from outbox_segment s join k using (account_id, message_id)
             group by s.account_id, s.message_id
          )
          update outbox_message m
             set status = case when agg.failed > 0 then 'failed'
                               when agg.delivered >= m.segments then 'delivered' else m.status end,
                 delivered_at = case when agg.failed = 0 and agg.delivered >= m.segments then agg.last_at
                                     else m.delivered_at end,
                 delivery_status = agg.stat,
                 last_error = case when agg.failed > 0 then 'receipt ' || agg.stat || ' err:' || coalesce(agg.err, '')
                                   else m.last_error end
            from agg
           where m.account_id = agg.account_id and m.message_id = agg.message_id and m.status = 'sent'`.execute(
          trx,
        );
        return matched.rows.length;
      });
      total += n;
      if (n === 0) break;
    }
    return total;
  }

  // ---------------------------------------------------------------- voice

  /**
   * Voice entries (语音催款) due now go onto today's call list, within calling hours only; the list
   * is downloaded by the call centre (GET /api/outbox/voice-list). Paid ones are cancelled, and so
   * are stale ones (due more than outbox.expireAfterDays ago: a week-old amount is not read out).
   */
  private async listVoice(s: Settings, result: TickResult): Promise<void> {
    const now = this.now();
    let inHours: boolean;
    try {
      inHours = isWithinCallingHours(chinaTimeHhmm(now), s['voice.callFrom'], s['voice.callUntil']);
    } catch {
      // A calling-hours setting that is not HH:MM: no calls rather than calls at any hour.
      this.log(
        `voice.callFrom / voice.callUntil are not HH:MM (${s['voice.callFrom']}, ${s['voice.callUntil']}): voice list paused`,
      );
      return;
    }
    if (!inHours) return;
    const today = todayInChina(now);
    const cutoff = outboxExpiryCutoff(now, s['outbox.expireAfterDays']);
    for (let i = 0; i < MAX_BATCHES_PER_TICK; i++) {
      const rows = await sql<{ listed: number; cancelled: number; expired: number }>`
        with due as (
          select m.account_id, m.message_id from outbox_message m
           where m.status = 'pending' and m.not_before <= ${now} and m.channel = 'voice'
           order by m.not_before limit ${VOICE_BATCH} for update skip locked
        ), paid as (
          update outbox_message m set status = 'cancelled', last_error = 'paid'
            from due d, bill b
           where m.account_id = d.account_id and m.message_id = d.message_id and m.stop_if_paid
             and b.account_id = m.account_id and b.bill_id = m.bill_id
             and (b.status = 'cancelled' or b.paid_fen >= b.amount_fen)
          returning m.account_id, m.message_id
        ), ${expireCtes(cutoff)} listed as (
          update outbox_message m
             set status = 'sent', sent_at = now(), attempts = m.attempts + 1, call_list_date = ${today}::date
            from due d
           where m.account_id = d.account_id and m.message_id = d.message_id
             and not exists (select 1 from paid p where p.account_id = d.account_id and p.message_id = d.message_id)
             and not exists (select 1 from expired e where e.account_id = d.account_id and e.message_id = d.message_id)
          returning m.account_id, m.message_id
        ), logged as (
          insert into outbox_attempt (account_id, message_id, attempt_no, outcome)
          select l.account_id, l.message_id,
                 coalesce((select max(a.attempt_no) from outbox_attempt a
                            where a.account_id = l.account_id and a.message_id = l.message_id), 0) + 1,
                 'listed'
            from listed l
        )
        select (select count(*) from listed)::int as listed, (select count(*) from paid)::int as cancelled,
               (select count(*) from expired)::int as expired`.execute(this.db);
      const { listed = 0, cancelled = 0, expired = 0 } = rows.rows[0] ?? {};
      result.listed += listed;
      result.cancelled += cancelled + expired;
      result.expired += expired;
      if (listed + cancelled + expired < VOICE_BATCH) break;
    }
  }
}

function emptyResult(): TickResult {
  return {
    sent: 0,
    failed: 0,
    retried: 0,
    cancelled: 0,
    expired: 0,
    inDoubt: 0,
    listed: 0,
    receiptsApplied: 0,
  };
}

/**
 * The stale part of a claim (domain isMessageExpired, set-based): of the due rows `due` not already
 * cancelled as paid (`paid`), those of an expiring channel and purpose due before the cutoff are
 * cancelled with last_error 'expired', and the decision is logged as an attempt. A fragment of the
 * claim statement: it defines the CTEs `expired` and `expired_logged` and ends with a comma.
 */
function expireCtes(cutoff: Date | null) {
  if (!cutoff)
    return sql`expired as (select null::bigint as account_id, null::bigint as message_id where false),`;
  return sql`
      expired as (
        update outbox_message m set status = 'cancelled', last_error = ${OUTBOX_EXPIRED}, lease_until = null
          from due d
         where m.account_id = d.account_id and m.message_id = d.message_id
           and m.channel = any(${[...EXPIRING_CHANNELS]}::text[]) and m.purpose = any(${[...EXPIRING_PURPOSES]}::text[])
           and m.not_before < ${cutoff}::timestamptz
           and not exists (select 1 from paid p where p.account_id = d.account_id and p.message_id = d.message_id)
        returning m.account_id, m.message_id, m.not_before
      ), expired_logged as (
        insert into outbox_attempt (account_id, message_id, attempt_no, outcome, error)
        select e.account_id, e.message_id,
               coalesce((select max(a.attempt_no) from outbox_attempt a
                          where a.account_id = e.account_id and a.message_id = e.message_id), 0) + 1,
               ${OUTBOX_EXPIRED},
               'due ' || to_char(e.not_before at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') ||
               ', before ' || to_char(${cutoff}::timestamptz at time zone 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI') ||
               ' (outbox.expireAfterDays): not sent'
          from expired e
      ),`;
}
