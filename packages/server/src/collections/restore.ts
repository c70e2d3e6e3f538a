import {
  addDays,
  recheckDueOn,
  restoreDeadline,
  shutoffArrearsCleared,
  todayInChina,
} from '@meterline/domain';
import { sql } from 'kysely';
import { loadWorkingCalendar } from '../calendar/load.ts';
import { audit } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import type { Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';
import { type ArrearsBill, err, loadArrears, nextDocumentNumber } from './escalationData.ts';
import { closeLettersOfClearedArrears } from './letters.ts';

/**
 * Restore (复水 / 复气, DOMAIN.md §6 "Restore", docs/escalation.md): once the customer pays what made
 * them eligible for the shut-off — or signs an installment agreement — a restore work order is
 * dispatched at once, inside the payment's (or the signing's) transaction, with its deadline
 * (restoreDeadline: 24 hours; a removed meter 2 working days). A shut-off is restored once
 * (unique restore_once). A shut-off not yet carried out is cancelled instead, a pending request
 * withdrawn. Readers re-check shut-off customers for self-reconnection every N days.
 */

type Cause = 'payment' | 'installment';

async function dispatchRestore(
  trx: Db,
  ctx: RequestContext,
  shutoff: {
    account_id: number;
    order_id: number;
    office_id: number;
    action: string | null;
    order_no: string;
  },
  cause: Cause,
): Promise<{ orderId: number; orderNo: string; dueAt: Date } | null> {
  const settings = await loadSettings(trx as never);
  const now = new Date();
  const today = todayInChina(now);
  const calendar = await loadWorkingCalendar(trx as never, today, addDays(today, 60));
  const dueAt = restoreDeadline(now, shutoff.action === 'meter_removed', calendar, settings);
  // Take the number only when the order will be made: the unique index settles a race, and the
  // savepoint-free check below keeps numbers gapless in the usual case of one payment at a time.
  const existing = await trx
    .selectFrom('collection_work_order')
    .select('order_id')
    .where('account_id', '=', shutoff.account_id)
    .where('kind', '=', 'restore')
    .where('restores_order_id', '=', shutoff.order_id)
    .executeTakeFirst();
  if (existing) return null;
  const orderNo = await nextDocumentNumber(trx, 'restore', Number(today.slice(0, 4)));
  const meter = await trx
    .selectFrom('collection_work_order')
    .select(['meter_id', 'meter_no', 'bills', 'arrears_fen'])
    .where('account_id', '=', shutoff.account_id)
    .where('order_id', '=', shutoff.order_id)
    .executeTakeFirstOrThrow();
  const row = await trx
    .insertInto('collection_work_order')
    .values({
      account_id: shutoff.account_id,
      kind: 'restore',
      order_no: orderNo,
      office_id: shutoff.office_id,
      request_id: null,
      restores_order_id: shutoff.order_id,
      cause,
      meter_id: meter.meter_id,
      meter_no: meter.meter_no,
      bills: JSON.stringify(meter.bills),
      arrears_fen: meter.arrears_fen,
      dispatched_by: ctx.caller?.staffId ?? null,
      dispatched_at: now,
      due_at: dueAt,
      action: null,
      completed_at: null,
      completed_by: null,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('order_id')
    .executeTakeFirst();
  if (!row) return null;
  await audit(trx, ctx, {
    entityType: 'collection_work_order',
    entityId: `${shutoff.account_id}/${row.order_id}`,
    action: 'dispatch_restore',
    accountId: shutoff.account_id,
    officeId: shutoff.office_id,
    after: { orderNo, cause, restores: shutoff.order_no, dueAt: dueAt.toISOString() },
  });
  return { orderId: Number(row.order_id), orderNo, dueAt };
}

/** Shut-off orders of the account carried out and not restored yet. */
async function unrestoredShutoffs(trx: Db, accountId: number) {
  const { rows } = await sql<{
    account_id: string;
    order_id: string;
    office_id: string;
    action: string | null;
    order_no: string;
    bills: ArrearsBill[];
  }>`
    select o.account_id::text, o.order_id::text, o.office_id::text, o.action, o.order_no, o.bills
      from collection_work_order o
     where o.account_id = ${accountId} and o.kind = 'shutoff' and o.status = 'done'
       and not exists (select 1 from collection_work_order r where r.account_id = o.account_id
                        and r.kind = 'restore' and r.restores_order_id = o.order_id)
     order by o.order_id`.execute(trx);
  return rows.map((r) => ({
    account_id: Number(r.account_id),
    order_id: Number(r.order_id),
    office_id: Number(r.office_id),
    action: r.action,
    order_no: r.order_no,
    bills: r.bills,
  }));
}

/** Cancels shut-offs not carried out yet and withdraws pending requests: nothing is owed that made them. */
async function standDownShutoffs(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  officeId: number,
  why: string,
) {
  const cancelled = await trx
    .updateTable('collection_work_order')
    .set({
      status: 'cancelled',
      completed_at: new Date(),
      completed_by: ctx.caller?.staffId ?? null,
      result_note: why,
    })
    .where('account_id', '=', accountId)
    .where('kind', '=', 'shutoff')
    .where('status', '=', 'dispatched')
    .returning(['order_id', 'order_no'])
    .execute();
  const withdrawn = await trx
    .updateTable('shutoff_request')
    .set({ status: 'withdrawn', decided_at: new Date(), decision_note: why })
    .where('account_id', '=', accountId)
    .where('status', '=', 'pending')
    .returning('request_id')
    .execute();
  if (cancelled.length || withdrawn.length)
    await audit(trx, ctx, {
      entityType: 'customer',
      entityId: accountId,
      action: 'shutoff_stood_down',
      accountId,
      officeId,
      after: {
        why,
        cancelledOrders: cancelled.map((c) => c.order_no),
        withdrawnRequests: withdrawn.map((w) => w.request_id),
      },
    });
}

/**
 * Called by afterAccountPaid inside every payment's transaction: when the payment cleared the
 * bills that made the customer eligible (shutoffArrearsCleared), the restore order goes out.
 */
export async function restoreAfterPayment(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  officeId: number,
): Promise<{ orderId: number; orderNo: string; dueAt: Date }[]> {
  // Most payments come from customers never escalated: one indexed look decides that.
  const { rows: any } = await sql<{ escalated: boolean }>`
    select exists (select 1 from collection_work_order where account_id = ${accountId} and kind = 'shutoff'
                     and status in ('dispatched', 'done'))
        or exists (select 1 from shutoff_request where account_id = ${accountId} and status = 'pending')
        or exists (select 1 from collection_letter where account_id = ${accountId} and not closed) as escalated`.execute(
    trx,
  );
  if (!any[0]?.escalated) return [];
  const today = todayInChina();
  const arrears = (await loadArrears(trx, [accountId], today)).get(accountId)!;
  const countableNow = new Map(arrears.bills.map((b) => [b.billId, b.countableFen]));
  const out: { orderId: number; orderNo: string; dueAt: Date }[] = [];
  for (const s of await unrestoredShutoffs(trx, accountId)) {
    if (!shutoffArrearsCleared(s.bills, countableNow)) continue;
    const order = await dispatchRestore(trx, ctx, s, 'payment');
    if (order) out.push(order);
  }
  // A shut-off not carried out yet, or a request still pending, for bills now paid: stood down.
  const { rows: open } = await sql<{ bills: ArrearsBill[] }>`
    select bills from shutoff_request where account_id = ${accountId} and status = 'pending'
    union all
    select bills from collection_work_order where account_id = ${accountId} and kind = 'shutoff' and status = 'dispatched'`.execute(
    trx,
  );
  if (open.length && open.every((o) => shutoffArrearsCleared(o.bills, countableNow)))
    await standDownShutoffs(trx, ctx, accountId, officeId, 'paid');
  await closeLettersOfClearedArrears(trx, accountId);
  return out;
}

/**
 * E's installment signing calls this in its transaction: the customer who signed an installment
 * agreement (approved by the deputy GM) gets supply back — a restore order for every shut-off not
 * restored yet, and pending shut-offs stood down.
 */
export async function onInstallmentSigned(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
): Promise<{ orderId: number; orderNo: string; dueAt: Date }[]> {
  const c = await trx
    .selectFrom('customer')
    .select('office_id')
    .where('account_id', '=', accountId)
    .executeTakeFirst();
  if (!c) throw notFound('customer', accountId);
  const out: { orderId: number; orderNo: string; dueAt: Date }[] = [];
  for (const s of await unrestoredShutoffs(trx, accountId)) {
    const order = await dispatchRestore(trx, ctx, s, 'installment');
    if (order) out.push(order);
  }
  await standDownShutoffs(trx, ctx, accountId, Number(c.office_id), 'installment');
  return out;
}

export interface RestoreReport {
  /** Restore orders in the period: all, done on time, done late, open and overdue, open in time. */
  total: number;
  onTime: number;
  doneLate: number;
  openOverdue: number;
  openInTime: number;
  /** Per completed order: hours taken against hours allowed (the chart). */
  points: { orderNo: string; hoursTaken: number; hoursAllowed: number; late: boolean }[];
}

/** Restores dispatched in [from, to] (China days) in the caller's offices, with the late ones counted. */
export async function restoreReport(
  db: Db,
  caller: Caller,
  q: { officeId?: number; from?: string; to?: string },
): Promise<RestoreReport> {
  const to = q.to ?? todayInChina();
  const from = q.from ?? addDays(to, -90);
  const { rows } = await sql<{
    order_no: string;
    status: string;
    dispatched_at: Date;
    due_at: Date;
    completed_at: Date | null;
  }>`
    select o.order_no, o.status, o.dispatched_at, o.due_at, o.completed_at
      from collection_work_order o
     where ${officeCondition(caller, sql`o.office_id`, q.officeId)}
       and o.kind = 'restore' and o.status <> 'cancelled'
       and (o.dispatched_at at time zone 'Asia/Shanghai')::date between ${from}::date and ${to}::date
     order by o.dispatched_at
     limit 5000`.execute(db);
  const now = Date.now();
  const report: RestoreReport = {
    total: rows.length,
    onTime: 0,
    doneLate: 0,
    openOverdue: 0,
    openInTime: 0,
    points: [],
  };
  for (const r of rows) {
    const due = r.due_at.getTime();
    if (r.completed_at) {
      const late = r.completed_at.getTime() > due;
      if (late) report.doneLate++;
      else report.onTime++;
      report.points.push({
        orderNo: r.order_no,
        hoursTaken: Math.round((r.completed_at.getTime() - r.dispatched_at.getTime()) / 360_000) / 10,
        hoursAllowed: Math.round((due - r.dispatched_at.getTime()) / 360_000) / 10,
        late,
      });
    } else if (now > due) report.openOverdue++;
    else report.openInTime++;
  }
  return report;
}

export interface RecheckTask {
  accountId: number;
  orderId: number;
  orderNo: string;
  officeId: number;
  customerCode: string;
  customerName: string;
  address: string;
  meterNo: string;
  bookId: number | null;
  bookCode: string | null;
  readerId: number | null;
  readerName: string | null;
  shutOffOn: string;
  lastCheckOn: string | null;
  lastOutcome: string | null;
  dueOn: string;
  due: boolean;
}

/**
 * Self-reconnection re-checks (recheckDueOn): every customer shut off and not restored, with the
 * day their next check is due, listed for the book's reader. `mine`: only the caller's books.
 */
export async function listRechecks(
  db: Db,
  caller: Caller,
  q: { officeId?: number; mine?: boolean; dueOnly?: boolean },
): Promise<RecheckTask[]> {
  const settings = await loadSettings(db as never);
  const today = todayInChina();
  const { rows } = await sql<{
    account_id: string;
    order_id: string;
    order_no: string;
    office_id: string;
    customer_code: string;
    customer_name: string;
    address: string | null;
    meter_no: string;
    book_id: string | null;
    book_code: string | null;
    reader_id: string | null;
    reader_name: string | null;
    shut_off_on: string;
    last_check_on: string | null;
    last_outcome: string | null;
  }>`
    select o.account_id::text, o.order_id::text, o.order_no, o.office_id::text, c.customer_code, c.name as customer_name,
           (select concat(a.district, a.community, nullif(a.building, '') || '栋', nullif(a.unit, '') || '单元',
                          nullif(a.door, '') || '室', a.detail)
              from address a where a.account_id = o.account_id order by a.kind = 'supply' desc, a.address_id limit 1) as address,
           o.meter_no, m.book_id::text, b.code as book_code, b.reader_id::text, st.full_name as reader_name,
           (o.completed_at at time zone 'Asia/Shanghai')::date::text as shut_off_on,
           lc.checked_on::text as last_check_on, lc.outcome as last_outcome
      from collection_work_order o
      join customer c on c.account_id = o.account_id
      left join meter m on m.account_id = o.account_id and m.meter_id = o.meter_id
      left join book b on b.book_id = m.book_id
      left join staff st on st.staff_id = b.reader_id
      left join lateral (select checked_on, outcome from reconnection_check k
                          where k.account_id = o.account_id and k.order_id = o.order_id
                          order by checked_on desc, check_id desc limit 1) lc on true
     where ${officeCondition(caller, sql`o.office_id`, q.officeId)}
       and o.kind = 'shutoff' and o.status = 'done'
       and not exists (select 1 from collection_work_order r where r.account_id = o.account_id
                        and r.kind = 'restore' and r.restores_order_id = o.order_id)
       ${q.mine ? sql`and b.reader_id = ${caller.staffId}` : sql``}
     order by b.code nulls last, m.route_seq nulls last, o.order_id
     limit 2000`.execute(db);
  const tasks = rows.map((r): RecheckTask => {
    const dueOn = recheckDueOn(r.shut_off_on, r.last_check_on, settings);
    return {
      accountId: Number(r.account_id),
      orderId: Number(r.order_id),
      orderNo: r.order_no,
      officeId: Number(r.office_id),
      customerCode: r.customer_code,
      customerName: r.customer_name,
      address: r.address ?? '',
      meterNo: r.meter_no,
      bookId: r.book_id === null ? null : Number(r.book_id),
      bookCode: r.book_code,
      readerId: r.reader_id === null ? null : Number(r.reader_id),
      readerName: r.reader_name,
      shutOffOn: r.shut_off_on,
      lastCheckOn: r.last_check_on,
      lastOutcome: r.last_outcome,
      dueOn,
      due: dueOn <= today,
    };
  });
  return q.dueOnly ? tasks.filter((t) => t.due) : tasks;
}

/** A reader's re-check of a shut-off customer: intact, or reconnected by themselves (referred on). */
export async function recordRecheck(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  input: { outcome: 'intact' | 'reconnected'; note?: string },
): Promise<{ checkId: number; checkedOn: string; referralId: number | null }> {
  const caller = requireCaller(ctx);
  const [s] = await unrestoredShutoffs(trx, accountId);
  if (!s) throw err('NOT_SHUT_OFF', '该用户不在停水（停气）状态', 'This customer is not shut off');
  const today = todayInChina();
  const row = await trx
    .insertInto('reconnection_check')
    .values({
      account_id: accountId,
      order_id: s.order_id,
      checked_on: today,
      outcome: input.outcome,
      note: input.note?.trim() ?? '',
      checked_by: caller.staffId,
    })
    .onConflict((oc) =>
      oc.columns(['account_id', 'order_id', 'checked_on']).doUpdateSet({
        outcome: input.outcome,
        note: input.note?.trim() ?? '',
        checked_by: caller.staffId,
      }),
    )
    .returning('check_id')
    .executeTakeFirstOrThrow();
  let referralId: number | null = null;
  if (input.outcome === 'reconnected') {
    // Self-reconnection is illegal use: the inspectors take it from here (one referral per order).
    const ref = await trx
      .insertInto('inspection_referral')
      .values({
        account_id: accountId,
        office_id: s.office_id,
        order_id: s.order_id,
        reason: 'self_reconnection',
        note: input.note?.trim() ?? '',
        created_by: caller.staffId,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('referral_id')
      .executeTakeFirst();
    referralId = ref ? Number(ref.referral_id) : null;
  }
  await audit(trx, ctx, {
    entityType: 'reconnection_check',
    entityId: `${accountId}/${row.check_id}`,
    action: 'recheck',
    accountId,
    officeId: s.office_id,
    after: { outcome: input.outcome, order: s.order_no, note: input.note ?? '' },
  });
  return { checkId: Number(row.check_id), checkedOn: today, referralId };
}
