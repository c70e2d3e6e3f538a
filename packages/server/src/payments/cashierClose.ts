import {
  addDays,
  type CloseFigures,
  cashierCloseFigures,
  closeNeedsReason,
  todayInChina,
} from '@meterline/domain';
import { sql } from 'kysely';
import { audit } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldErrors, notFound } from '../platform/errors.ts';
import type { Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';

/**
 * The cashier's close (日结, DOMAIN.md §5; docs/payments.md "Cashier close"): the clerk's payments
 * since their last close, by channel; the cash counted set against the system's cash; the handover
 * to the bank with its voucher number. A difference is recorded with its reason, never hidden.
 * The daily collection report sums payments by day and channel.
 */

/** Days the collection report covers at most. */
export const MAX_REPORT_DAYS = 92;

export interface ClosePreview extends CloseFigures {
  staffId: number;
  staffName: string;
  businessDay: string;
  officeId: number | null;
  firstAt: string | null;
  lastAt: string | null;
  payments: number;
  list: {
    accountId: number;
    paymentId: number;
    paymentNo: string;
    channel: string;
    amountFen: number;
    status: string;
    createdAt: string;
    customerCode: string;
  }[];
}

async function unclosed(db: Db, staffId: number) {
  return db
    .selectFrom('payment as p')
    .innerJoin('customer as c', 'c.account_id', 'p.account_id')
    .select([
      'p.account_id',
      'p.payment_id',
      'p.payment_no',
      'p.channel',
      'p.amount_fen',
      'p.status',
      'p.created_at',
      'p.office_id',
      'c.customer_code',
    ])
    .where('p.received_by', '=', staffId)
    .where('p.close_id', 'is', null)
    .where('p.source', '=', 'counter')
    .orderBy('p.created_at')
    .limit(20_000)
    .execute();
}

export async function closePreview(db: Db, caller: Caller, countedCashFen = 0): Promise<ClosePreview> {
  const rows = await unclosed(db, caller.staffId);
  const figures = cashierCloseFigures(
    rows.map((r) => ({
      channel: r.channel,
      amountFen: Number(r.amount_fen),
      reversed: r.status === 'reversed',
    })),
    countedCashFen,
  );
  return {
    ...figures,
    staffId: caller.staffId,
    staffName: caller.fullName,
    businessDay: todayInChina(),
    officeId: rows[0]?.office_id ?? caller.homeOfficeId,
    firstAt: rows[0]?.created_at.toISOString() ?? null,
    lastAt: rows.at(-1)?.created_at.toISOString() ?? null,
    list: rows.map((r) => ({
      accountId: Number(r.account_id),
      paymentId: Number(r.payment_id),
      paymentNo: r.payment_no,
      channel: r.channel,
      amountFen: Number(r.amount_fen),
      status: r.status,
      createdAt: r.created_at.toISOString(),
      customerCode: r.customer_code,
    })),
  };
}

export interface CloseInput {
  countedCashFen: number;
  bankVoucherNo: string;
  handedOverFen: number;
  differenceReason?: string;
  note?: string;
}

export interface CloseView {
  closeId: number;
  officeId: number;
  officeName: string;
  staffId: number;
  staffName: string;
  businessDay: string;
  byChannelFen: Record<string, number>;
  payments: number;
  systemCashFen: number;
  countedCashFen: number;
  differenceFen: number;
  differenceReason: string;
  bankVoucherNo: string;
  handedOverFen: number;
  note: string;
  closedAt: string;
}

/** Closes the caller's day: every unclosed counter payment of theirs is stamped with the close, once. */
export async function closeDay(trx: Db, ctx: RequestContext, input: CloseInput): Promise<CloseView> {
  const caller = requireCaller(ctx);
  // One close at a time per clerk.
  await sql`select pg_advisory_xact_lock(hashtext(${`cashier_close:${caller.staffId}`}))`.execute(trx);
  const preview = await closePreview(trx, caller, input.countedCashFen);
  const problems: { path: string; code: string; messages: { 'zh-CN': string; en: string } }[] = [];
  if (preview.list.length === 0)
    problems.push({
      path: 'countedCashFen',
      code: 'NOTHING_TO_CLOSE',
      messages: { 'zh-CN': '自上次日结以来没有收费记录', en: 'No payments since your last close' },
    });
  if (closeNeedsReason(preview) && !input.differenceReason?.trim())
    problems.push({
      path: 'differenceReason',
      code: 'REQUIRED',
      messages: {
        'zh-CN': '实点现金与系统现金不符，请填写差异原因',
        en: 'The cash counted differs from the system’s cash: give the reason',
      },
    });
  if (input.handedOverFen > 0 && !input.bankVoucherNo.trim())
    problems.push({
      path: 'bankVoucherNo',
      code: 'REQUIRED',
      messages: {
        'zh-CN': '解款须填写银行进账单号',
        en: 'A handover to the bank needs the bank voucher number',
      },
    });
  if (input.handedOverFen > input.countedCashFen)
    problems.push({
      path: 'handedOverFen',
      code: 'ABOVE_COUNTED',
      messages: { 'zh-CN': '解款金额不能超过实点现金', en: 'The handover cannot exceed the cash counted' },
    });
  if (problems.length) throw fieldErrors(problems);
  const officeId = preview.officeId ?? 0;
  const row = await trx
    .insertInto('cashier_close')
    .values({
      office_id: officeId,
      staff_id: caller.staffId,
      business_day: preview.businessDay,
      system_by_channel: JSON.stringify(preview.byChannelFen),
      payments: preview.payments,
      system_cash_fen: preview.systemCashFen,
      counted_cash_fen: input.countedCashFen,
      difference_fen: preview.differenceFen,
      difference_reason: input.differenceReason?.trim() ?? '',
      bank_voucher_no: input.bankVoucherNo.trim(),
      handed_over_fen: input.handedOverFen,
      note: input.note?.trim() ?? '',
    })
    .returning('close_id')
    .executeTakeFirstOrThrow();
  const closeId = Number(row.close_id);
  const stamped = await sql`
    update payment p set close_id = ${closeId}
    from unnest(${preview.list.map((l) => l.accountId)}::bigint[], ${preview.list.map((l) => l.paymentId)}::bigint[]) as t(a, x)
    where p.account_id = t.a and p.payment_id = t.x and p.close_id is null`.execute(trx);
  if (Number(stamped.numAffectedRows ?? 0) !== preview.list.length)
    throw new Error('a payment in the close was closed by another transaction');
  await audit(trx, ctx, {
    entityType: 'cashier_close',
    entityId: closeId,
    action: 'cashier_close',
    officeId,
    after: {
      byChannelFen: preview.byChannelFen,
      payments: preview.payments,
      systemCashFen: preview.systemCashFen,
      countedCashFen: input.countedCashFen,
      differenceFen: preview.differenceFen,
      bankVoucherNo: input.bankVoucherNo,
      handedOverFen: input.handedOverFen,
    },
  });
  return closeView(trx, closeId);
}

export async function closeView(db: Db, closeId: number): Promise<CloseView> {
  const rows = await listCloses(db, null, { closeId });
  if (!rows[0]) throw notFound('cashier_close', closeId);
  return rows[0];
}

export async function listCloses(
  db: Db,
  caller: Caller | null,
  q: { closeId?: number; from?: string; to?: string; officeId?: number },
): Promise<CloseView[]> {
  const parts = [caller ? officeCondition(caller, sql`k.office_id`, q.officeId) : sql`true`];
  if (q.closeId !== undefined) parts.push(sql`k.close_id = ${q.closeId}`);
  if (q.from) parts.push(sql`k.business_day >= ${q.from}`);
  if (q.to) parts.push(sql`k.business_day <= ${q.to}`);
  const { rows } = await sql<{
    close_id: string;
    office_id: string;
    office_name: string | null;
    staff_id: string;
    staff_name: string;
    business_day: string;
    system_by_channel: Record<string, number>;
    payments: number;
    system_cash_fen: string;
    counted_cash_fen: string;
    difference_fen: string;
    difference_reason: string;
    bank_voucher_no: string;
    handed_over_fen: string;
    note: string;
    closed_at: Date;
  }>`
    select k.*, o.name as office_name, s.full_name as staff_name
    from cashier_close k join staff s on s.staff_id = k.staff_id left join office o on o.office_id = k.office_id
    where ${sql.join(parts, sql` and `)}
    order by k.closed_at desc limit 500`.execute(db);
  return rows.map((r) => ({
    closeId: Number(r.close_id),
    officeId: Number(r.office_id),
    officeName: r.office_name ?? '',
    staffId: Number(r.staff_id),
    staffName: r.staff_name,
    businessDay: r.business_day,
    byChannelFen: r.system_by_channel,
    payments: r.payments,
    systemCashFen: Number(r.system_cash_fen),
    countedCashFen: Number(r.counted_cash_fen),
    differenceFen: Number(r.difference_fen),
    differenceReason: r.difference_reason,
    bankVoucherNo: r.bank_voucher_no,
    handedOverFen: Number(r.handed_over_fen),
    note: r.note,
    closedAt: r.closed_at.toISOString(),
  }));
}

export interface CollectionReport {
  from: string;
  to: string;
  channels: string[];
  days: { day: string; byChannelFen: Record<string, number>; totalFen: number; payments: number }[];
  totals: { byChannelFen: Record<string, number>; totalFen: number; payments: number; reversedFen: number };
  closes: CloseView[];
}

/** Payments standing (not reversed) by business day and channel, in the caller's offices. */
export async function collectionReport(
  db: Db,
  caller: Caller,
  q: { from?: string; to?: string; officeId?: number },
): Promise<CollectionReport> {
  const to = q.to ?? todayInChina();
  let from = q.from ?? addDays(to, -29);
  if (from > to) from = to;
  if (addDays(from, MAX_REPORT_DAYS) < to) from = addDays(to, -MAX_REPORT_DAYS);
  const scope = officeCondition(caller, sql`p.office_id`, q.officeId);
  const { rows } = await sql<{ day: string; channel: string; status: string; fen: string; n: string }>`
    select p.business_day::text as day, p.channel, p.status, sum(p.amount_fen)::text as fen, count(*)::text as n
    from payment p
    where ${scope} and p.business_day between ${from} and ${to}
    group by 1, 2, 3`.execute(db);
  const days = new Map<
    string,
    { day: string; byChannelFen: Record<string, number>; totalFen: number; payments: number }
  >();
  for (let d = from; d <= to; d = addDays(d, 1))
    days.set(d, { day: d, byChannelFen: {}, totalFen: 0, payments: 0 });
  const totals = { byChannelFen: {} as Record<string, number>, totalFen: 0, payments: 0, reversedFen: 0 };
  const channels = new Set<string>();
  for (const r of rows) {
    const fen = Number(r.fen);
    if (r.status === 'reversed') {
      totals.reversedFen += fen;
      continue;
    }
    const day = days.get(r.day);
    if (!day) continue;
    channels.add(r.channel);
    day.byChannelFen[r.channel] = (day.byChannelFen[r.channel] ?? 0) + fen;
    day.totalFen += fen;
    day.payments += Number(r.n);
    totals.byChannelFen[r.channel] = (totals.byChannelFen[r.channel] ?? 0) + fen;
    totals.totalFen += fen;
    totals.payments += Number(r.n);
  }
  return {
    from,
    to,
    channels: [...channels].sort(),
    days: [...days.values()],
    totals,
    closes: await listCloses(db, caller, {
      from,
      to,
      ...(q.officeId !== undefined ? { officeId: q.officeId } : {}),
    }),
  };
}
