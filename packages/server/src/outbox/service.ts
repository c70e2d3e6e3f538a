import { DomainError, OUTBOX_EXPIRED, OUTBOX_MESSAGES } from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { OutboxChannel, OutboxStatus } from '../db/schemaBilling.ts';
import { audit } from '../platform/audit.ts';
import type { Caller, RequestContext } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import { officeCondition } from '../readings/service.ts';

/** Reading the outbox and the admin actions on one message (docs/outbox.md). */

/** Days the status chart covers at most. */
export const OUTBOX_CHART_MAX_DAYS = 92;
/** Voice-list rows one download holds at most. */
export const VOICE_LIST_MAX_ROWS = 200_000;

export interface OutboxQuery {
  status?: OutboxStatus;
  channel?: OutboxChannel;
  template?: string;
  /** Why a cancelled message was not sent: stale ('expired', docs/outbox.md "Stale messages") or its bill was paid. */
  reason?: 'expired' | 'paid';
  /** Created on or after / on or before (China dates). */
  from?: string;
  to?: string;
  officeId?: number;
  accountId?: number;
  page: number;
  pageSize: number;
}

export interface OutboxItem {
  accountId: number;
  messageId: number;
  officeId: number;
  customerCode: string;
  customerName: string;
  channel: OutboxChannel;
  recipient: string;
  template: string;
  purpose: string;
  body: string;
  status: OutboxStatus;
  attempts: number;
  lastError: string;
  notBefore: string;
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  deliveryStatus: string | null;
  segments: number;
  billId: number | null;
  callListDate: string | null;
}

interface Row {
  account_id: number;
  message_id: number;
  office_id: number;
  customer_code: string;
  name: string;
  channel: OutboxChannel;
  recipient: string;
  template: string;
  purpose: string;
  body: string;
  status: OutboxStatus;
  attempts: number;
  last_error: string;
  not_before: Date;
  created_at: Date;
  sent_at: Date | null;
  delivered_at: Date | null;
  delivery_status: string | null;
  segments: number;
  bill_id: number | null;
  call_list_date: string | null;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function item(r: Row): OutboxItem {
  return {
    accountId: r.account_id,
    messageId: r.message_id,
    officeId: r.office_id,
    customerCode: r.customer_code,
    customerName: r.name,
    channel: r.channel,
    recipient: r.recipient,
    template: r.template,
    purpose: r.purpose,
    body: r.body,
    status: r.status,
    attempts: r.attempts,
    lastError: r.last_error,
    notBefore: iso(r.not_before)!,
    createdAt: iso(r.created_at)!,
    sentAt: iso(r.sent_at),
    deliveredAt: iso(r.delivered_at),
    deliveryStatus: r.delivery_status,
    segments: r.segments,
    billId: r.bill_id,
    callListDate: r.call_list_date,
  };
}

const SELECT = sql`
  select m.account_id, m.message_id, c.office_id, c.customer_code, c.name, m.channel, m.recipient, m.template,
         m.purpose, m.body, m.status, m.attempts, m.last_error, m.not_before, m.created_at, m.sent_at,
         m.delivered_at, m.delivery_status, m.segments, m.bill_id, m.call_list_date::text as call_list_date
    from outbox_message m join customer c on c.account_id = m.account_id`;

function where(caller: Caller, q: Omit<OutboxQuery, 'page' | 'pageSize'>) {
  const parts = [officeCondition(caller, sql`c.office_id`, q.officeId)];
  if (q.status) parts.push(sql`m.status = ${q.status}`);
  if (q.channel) parts.push(sql`m.channel = ${q.channel}`);
  if (q.template) parts.push(sql`m.template = ${q.template}`);
  if (q.reason) parts.push(sql`m.status = 'cancelled' and m.last_error = ${q.reason}`);
  if (q.accountId) parts.push(sql`m.account_id = ${q.accountId}`);
  if (q.from) parts.push(sql`m.created_at >= (${q.from}::date)::timestamp at time zone 'Asia/Shanghai'`);
  if (q.to) parts.push(sql`m.created_at < (${q.to}::date + 1)::timestamp at time zone 'Asia/Shanghai'`);
  return sql.join(parts, sql` and `);
}

/** Messages in the caller's offices, newest first. */
export async function listMessages(
  db: Kysely<DB>,
  caller: Caller,
  q: OutboxQuery,
): Promise<{ items: OutboxItem[]; total: number; page: number; pageSize: number }> {
  const cond = where(caller, q);
  const [rows, count] = await Promise.all([
    sql<Row>`${SELECT} where ${cond} order by m.created_at desc, m.message_id desc
             limit ${q.pageSize} offset ${(q.page - 1) * q.pageSize}`.execute(db),
    sql<{
      n: number;
    }>`select count(*)::int as n from outbox_message m join customer c on c.account_id = m.account_id
                       where ${cond}`.execute(db),
  ]);
  return { items: rows.rows.map(item), total: count.rows[0]?.n ?? 0, page: q.page, pageSize: q.pageSize };
}

/** Messages created per day (China) and status, for the stacked chart; and totals by status. */
export async function outboxStats(
  db: Kysely<DB>,
  caller: Caller,
  q: { from: string; to: string; officeId?: number; channel?: OutboxChannel },
): Promise<{
  byDay: { day: string; status: OutboxStatus; count: number }[];
  totals: Record<string, number>;
}> {
  const cond = where(caller, q);
  const rows = await sql<{ day: string; status: OutboxStatus; n: number; expired: number }>`
    select to_char(m.created_at at time zone 'Asia/Shanghai', 'YYYY-MM-DD') as day, m.status, count(*)::int as n,
           count(*) filter (where m.status = 'cancelled' and m.last_error = ${OUTBOX_EXPIRED})::int as expired
      from outbox_message m join customer c on c.account_id = m.account_id
     where ${cond}
     group by 1, 2 order by 1, 2`.execute(db);
  // `expired`: of the cancelled, those the sender found stale (docs/outbox.md "Stale messages");
  // like the statuses, absent when there are none.
  const totals: Record<string, number> = {};
  for (const r of rows.rows) {
    totals[r.status] = (totals[r.status] ?? 0) + r.n;
    if (r.expired > 0) totals.expired = (totals.expired ?? 0) + r.expired;
  }
  return { byDay: rows.rows.map((r) => ({ day: r.day, status: r.status, count: r.n })), totals };
}

/** One customer's messages with every attempt (the delivery audit). */
export async function customerMessages(db: Kysely<DB>, accountId: number, limit: number) {
  const rows = await sql<Row>`${SELECT} where m.account_id = ${accountId}
                              order by m.created_at desc, m.message_id desc limit ${limit}`.execute(db);
  const attempts = await db
    .selectFrom('outbox_attempt')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('message_id', 'in', rows.rows.length ? rows.rows.map((r) => r.message_id) : [0])
    .orderBy('attempt_no')
    .execute();
  return {
    items: rows.rows.map((r) => ({
      ...item(r),
      attemptLog: attempts
        .filter((a) => a.message_id === r.message_id)
        .map((a) => ({
          attemptNo: a.attempt_no,
          at: iso(a.at),
          outcome: a.outcome,
          error: a.error,
          smscMessageId: a.smsc_message_id,
        })),
    })),
  };
}

async function lockMessage(trx: Kysely<DB>, accountId: number, messageId: number) {
  const row = await trx
    .selectFrom('outbox_message')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('message_id', '=', messageId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw notFound('message', messageId);
  return row;
}

async function officeOf(trx: Kysely<DB>, accountId: number): Promise<number> {
  const c = await trx
    .selectFrom('customer')
    .select('office_id')
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  return c.office_id;
}

/**
 * Sends a failed or cancelled message again: back to pending now, with a fresh set of tries
 * (its earlier attempts stay in the log). Audited.
 */
export async function retryMessage(
  db: Kysely<DB>,
  ctx: RequestContext,
  accountId: number,
  messageId: number,
) {
  return db.transaction().execute(async (trx) => {
    const before = await lockMessage(trx, accountId, messageId);
    if (before.status !== 'failed' && before.status !== 'cancelled')
      throw new DomainError(
        'MESSAGE_NOT_RETRYABLE',
        { status: before.status },
        OUTBOX_MESSAGES.MESSAGE_NOT_RETRYABLE,
      );
    await trx
      .updateTable('outbox_message')
      .set({ status: 'pending', attempts: 0, not_before: new Date(), last_error: '', lease_until: null })
      .where('account_id', '=', accountId)
      .where('message_id', '=', messageId)
      .execute();
    await audit(trx, ctx, {
      entityType: 'outbox_message',
      entityId: messageId,
      action: 'outbox_retry',
      accountId,
      officeId: await officeOf(trx, accountId),
      before: { status: before.status, attempts: before.attempts, lastError: before.last_error },
      after: { status: 'pending', attempts: 0 },
    });
    return { accountId, messageId, status: 'pending' as const };
  });
}

/** Cancels a pending message (it will not be sent). Audited. */
export async function cancelMessage(
  db: Kysely<DB>,
  ctx: RequestContext,
  accountId: number,
  messageId: number,
  reason: string,
) {
  return db.transaction().execute(async (trx) => {
    const before = await lockMessage(trx, accountId, messageId);
    if (before.status !== 'pending')
      throw new DomainError(
        'MESSAGE_NOT_CANCELLABLE',
        { status: before.status },
        OUTBOX_MESSAGES.MESSAGE_NOT_CANCELLABLE,
      );
    const lastError = `cancelled by ${ctx.caller?.username ?? 'staff'}${reason ? `: ${reason}` : ''}`;
    await trx
      .updateTable('outbox_message')
      .set({ status: 'cancelled', last_error: lastError })
      .where('account_id', '=', accountId)
      .where('message_id', '=', messageId)
      .execute();
    await audit(trx, ctx, {
      entityType: 'outbox_message',
      entityId: messageId,
      action: 'outbox_cancel',
      accountId,
      officeId: await officeOf(trx, accountId),
      before: { status: before.status },
      after: { status: 'cancelled', reason },
    });
    return { accountId, messageId, status: 'cancelled' as const };
  });
}

export interface VoiceListItem {
  callListDate: string;
  accountId: number;
  messageId: number;
  officeId: number;
  customerCode: string;
  customerName: string;
  phone: string;
  template: string;
  body: string;
  billId: number | null;
}

/** The voice-call list (语音催款) of a day in the caller's offices, in customer-code order. */
export async function voiceList(
  db: Kysely<DB>,
  caller: Caller,
  q: { date: string; officeId?: number },
): Promise<VoiceListItem[]> {
  const rows = await sql<{
    account_id: number;
    message_id: number;
    office_id: number;
    customer_code: string;
    name: string;
    recipient: string;
    template: string;
    body: string;
    bill_id: number | null;
  }>`
    select m.account_id, m.message_id, c.office_id, c.customer_code, c.name, m.recipient, m.template, m.body, m.bill_id
      from outbox_message m join customer c on c.account_id = m.account_id
     where m.channel = 'voice' and m.call_list_date = ${q.date}::date
       and ${officeCondition(caller, sql`c.office_id`, q.officeId)}
     order by c.customer_code, m.message_id
     limit ${VOICE_LIST_MAX_ROWS}`.execute(db);
  return rows.rows.map((r) => ({
    callListDate: q.date,
    accountId: r.account_id,
    messageId: r.message_id,
    officeId: r.office_id,
    customerCode: r.customer_code,
    customerName: r.name,
    phone: r.recipient,
    template: r.template,
    body: r.body,
    billId: r.bill_id,
  }));
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The list as UTF-8 CSV with a BOM (Excel opens it with the Chinese intact). */
export function voiceListCsv(items: VoiceListItem[], lang: string): string {
  const head =
    lang === 'en'
      ? ['Date', 'Customer code', 'Name', 'Phone', 'Message', 'Bill', 'Message id']
      : ['日期', '客户编号', '户名', '电话', '播报内容', '账单', '消息编号'];
  const lines = [
    head,
    ...items.map((i) => [
      i.callListDate,
      i.customerCode,
      i.customerName,
      i.phone,
      i.body,
      i.billId,
      `${i.accountId}-${i.messageId}`,
    ]),
  ];
  return `\ufeff${lines.map((l) => l.map(csvCell).join(',')).join('\r\n')}\r\n`;
}
