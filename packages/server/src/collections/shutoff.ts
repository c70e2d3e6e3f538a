import {
  type CustomerState,
  DomainError,
  escalationRules,
  isRestoreLate,
  isShutoffEligible,
  meterNumberMatches,
  nextEscalationStep,
  type ShutoffEligibility,
  type ShutoffRefusal,
  shutoffArrearsCleared,
  todayInChina,
  transitionPermission,
} from '@meterline/domain';
import { sql } from 'kysely';
import type { ShutoffRequestStatus, WorkOrderStatus } from '../db/schemaEscalation.ts';
import { audit } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldError, notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import type { Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';
import {
  type AccountArrears,
  type ArrearsBill,
  type CustomerFacts,
  customerFacts,
  err,
  loadArrears,
  loadHistory,
  lockCustomer,
  nextDocumentNumber,
} from './escalationData.ts';

/**
 * Shut-off (停水 / 停气, DOMAIN.md §6, docs/escalation.md): a request for an eligible customer
 * (isShutoffEligible), approved by another person holding collection.approve; approval dispatches
 * the shut-off work order, which shows the meter number to check on site. Its field result: done
 * (meter number confirmed; valve closed or meter removed — the customer becomes sealed 封停, the
 * customers context's own transition), meter number mismatch (not shut off), or obstruction
 * (referred to the inspectors).
 */

export const REFUSAL_TEXT: Record<ShutoffRefusal, [string, string]> = {
  NOT_ACTIVE: ['用户不在正常供水（供气）状态', 'The customer is not in active supply'],
  NOT_IN_ARREARS: [
    '用户没有计入催缴的欠费（已缴清，或欠费被异议/分期暂缓）',
    'Nothing owed counts (paid, or held by a dispute or an installment agreement)',
  ],
  TOO_FEW_MONTHS: [
    '欠费未满 {monthsNeeded} 个月，不能停止供应',
    'In arrears for less than {monthsNeeded} months: supply cannot be shut off',
  ],
  GAS_NOTICE_NOT_POSTED: ['尚未张贴停气通知', 'The gas shut-off notice has not been posted'],
  GAS_NOTICE_TOO_RECENT: [
    '停气通知张贴未满期限，{earliestOn} 起方可停气',
    'The gas notice was posted too recently: not before {earliestOn}',
  ],
  LADDER_INCOMPLETE: [
    '须先送达催缴公函和律师函并届满期限',
    'The formal letter and the lawyer’s letter must be delivered and their time passed first',
  ],
  ALREADY_REQUESTED: [
    '该用户已有停水（停气）申请或工单在办理中',
    'A shut-off request or order is already open for this customer',
  ],
};

export interface EligibilityView {
  accountId: number;
  eligibility: ShutoffEligibility;
  reasonText: string | null;
  arrears: AccountArrears;
  customer: CustomerFacts;
}

/** Whether the customer may be shut off today, and why not. */
export async function shutoffEligibility(db: Db, accountId: number): Promise<EligibilityView> {
  const today = todayInChina();
  const settings = await loadSettings(db as never);
  const customer = await customerFacts(db, accountId);
  const arrears = (await loadArrears(db, [accountId], today)).get(accountId)!;
  const history = (await loadHistory(db, [accountId])).get(accountId)!;
  const next = nextEscalationStep({ today, arrears, history }, escalationRules(settings));
  const eligibility = isShutoffEligible(
    {
      today,
      utility: customer.utility,
      customerKind: customer.kind,
      customerState: customer.state,
      arrears,
      gasNoticePostedOn: history.gasNoticeOn,
      ladderDone: next.step === 'shutoff_request' && next.due,
      openShutoff: history.openShutoff,
    },
    settings,
  );
  let reasonText: string | null = null;
  if (!eligibility.eligible) {
    const [zh, en] = REFUSAL_TEXT[eligibility.reason];
    const fill = (t: string) =>
      t
        .replace('{monthsNeeded}', String(eligibility.monthsNeeded))
        .replace('{earliestOn}', eligibility.earliestOn ?? '');
    reasonText = `${fill(zh)} / ${fill(en)}`;
  }
  return { accountId, eligibility, reasonText, arrears, customer };
}

export interface ShutoffRequestView {
  accountId: number;
  requestId: number;
  officeId: number;
  customerCode: string;
  customerName: string;
  customerKind: string;
  utility: string;
  reason: string;
  bills: ArrearsBill[];
  arrearsFen: number;
  arrearsMonths: number;
  status: ShutoffRequestStatus;
  requestedBy: string;
  requestedById: number;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string;
  orderId: number | null;
  orderNo: string | null;
}

/** A shut-off request for an eligible customer; an ineligible one is refused with the reason. */
export async function requestShutoff(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  input: { reason?: string },
): Promise<ShutoffRequestView> {
  const caller = requireCaller(ctx);
  const locked = await lockCustomer(trx, accountId);
  const e = await shutoffEligibility(trx, accountId);
  if (!e.eligibility.eligible) {
    const [zh, en] = REFUSAL_TEXT[e.eligibility.reason];
    throw err('SHUTOFF_NOT_ELIGIBLE', zh, en, {
      reason: e.eligibility.reason,
      monthsNeeded: e.eligibility.monthsNeeded,
      earliestOn: e.eligibility.earliestOn ?? '',
      months: e.arrears.months,
    });
  }
  const row = await trx
    .insertInto('shutoff_request')
    .values({
      account_id: accountId,
      office_id: locked.officeId,
      reason: input.reason?.trim() ?? '',
      bills: JSON.stringify(e.arrears.bills),
      arrears_fen: e.arrears.arrearsFen,
      arrears_months: e.arrears.months,
      requested_by: caller.staffId,
    })
    .returning('request_id')
    .executeTakeFirstOrThrow();
  await audit(trx, ctx, {
    entityType: 'shutoff_request',
    entityId: `${accountId}/${row.request_id}`,
    action: 'request_shutoff',
    accountId,
    officeId: locked.officeId,
    after: { arrearsFen: e.arrears.arrearsFen, months: e.arrears.months, reason: input.reason ?? '' },
  });
  return shutoffRequestView(trx, accountId, Number(row.request_id));
}

/** Approve (dispatches the shut-off work order) or reject; not one's own request (SELF_APPROVAL). */
export async function decideShutoff(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  requestId: number,
  decision: { approve: boolean; note?: string },
): Promise<ShutoffRequestView> {
  const caller = requireCaller(ctx);
  await lockCustomer(trx, accountId);
  const r = await trx
    .selectFrom('shutoff_request')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('request_id', '=', requestId)
    .forUpdate()
    .executeTakeFirst();
  if (!r) throw notFound('shutoff_request', requestId);
  if (r.status !== 'pending')
    throw err('REQUEST_NOT_PENDING', '该申请已处理', 'This request has been decided already');
  if (r.requested_by === caller.staffId)
    throw err('SELF_APPROVAL', '不能审批自己提交的申请', 'You cannot approve your own request');
  const note = decision.note?.trim() ?? '';
  let orderNo: string | null = null;
  if (decision.approve) {
    const facts = await customerFacts(trx, accountId);
    if (facts.state !== 'active')
      throw err('SHUTOFF_NOT_ELIGIBLE', REFUSAL_TEXT.NOT_ACTIVE[0], REFUSAL_TEXT.NOT_ACTIVE[1], {
        reason: 'NOT_ACTIVE',
      });
    // Disputed or put under an installment agreement since the request: nothing left to shut off for.
    const now = await loadArrears(trx, [accountId]);
    const countable = new Map((now.get(accountId)?.bills ?? []).map((b) => [b.billId, b.countableFen]));
    if (shutoffArrearsCleared(r.bills as ArrearsBill[], countable))
      throw err('SHUTOFF_NOT_ELIGIBLE', REFUSAL_TEXT.NOT_IN_ARREARS[0], REFUSAL_TEXT.NOT_IN_ARREARS[1], {
        reason: 'NOT_IN_ARREARS',
      });
    orderNo = await nextDocumentNumber(trx, 'shutoff', Number(todayInChina().slice(0, 4)));
    await trx
      .insertInto('collection_work_order')
      .values({
        account_id: accountId,
        kind: 'shutoff',
        order_no: orderNo,
        office_id: r.office_id,
        request_id: requestId,
        restores_order_id: null,
        cause: null,
        meter_id: facts.meterId,
        meter_no: facts.meterNo,
        bills: JSON.stringify(r.bills),
        arrears_fen: r.arrears_fen,
        dispatched_by: caller.staffId,
        action: null,
        due_at: null,
        completed_at: null,
        completed_by: null,
      })
      .execute();
  }
  await trx
    .updateTable('shutoff_request')
    .set({
      status: decision.approve ? 'approved' : 'rejected',
      decided_by: caller.staffId,
      decided_at: new Date(),
      decision_note: note,
    })
    .where('account_id', '=', accountId)
    .where('request_id', '=', requestId)
    .execute();
  await audit(trx, ctx, {
    entityType: 'shutoff_request',
    entityId: `${accountId}/${requestId}`,
    action: decision.approve ? 'approve_shutoff' : 'reject_shutoff',
    accountId,
    officeId: r.office_id,
    before: { status: 'pending' },
    after: { status: decision.approve ? 'approved' : 'rejected', note, orderNo },
  });
  return shutoffRequestView(trx, accountId, requestId);
}

/**
 * Moves the customer to another state through the customers context's transition table
 * (STATE_TRANSITIONS: active → sealed when shut off, sealed → active when restored), recorded and
 * audited like a state change at the counter. The approval of the shut-off stands for the
 * customer.seal permission the counter would need.
 */
export async function setCustomerState(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  to: CustomerState,
  reason: string,
): Promise<void> {
  const caller = requireCaller(ctx);
  const c = await trx
    .selectFrom('customer')
    .select(['state', 'office_id', 'version'])
    .where('account_id', '=', accountId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const from = c.state as CustomerState;
  if (from === to) return;
  if (transitionPermission(from, to) === null)
    throw err(
      'STATE_TRANSITION_NOT_ALLOWED',
      '用户状态不能从「{from}」变更为「{to}」',
      'A customer cannot go from {from} to {to}',
      { from, to },
    );
  await trx
    .updateTable('customer')
    .set({
      state: to,
      state_changed_at: new Date(),
      version: Number(c.version) + 1,
      updated_at: new Date(),
      updated_by: caller.staffId,
    })
    .where('account_id', '=', accountId)
    .execute();
  await trx
    .insertInto('customer_state_change')
    .values({ account_id: accountId, from_state: from, to_state: to, reason, changed_by: caller.staffId })
    .execute();
  await audit(trx, ctx, {
    entityType: 'customer',
    entityId: accountId,
    accountId,
    officeId: Number(c.office_id),
    action: 'state_change',
    before: { state: from },
    after: { state: to, reason },
  });
}

export interface WorkOrderResultInput {
  outcome: 'done' | 'mismatch' | 'obstructed';
  action?: 'valve_closed' | 'meter_removed';
  confirmedMeterNo?: string;
  note?: string;
}

/** Records the field result of a shut-off or restore work order. */
export async function recordWorkOrderResult(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  orderId: number,
  input: WorkOrderResultInput,
): Promise<WorkOrderView> {
  const caller = requireCaller(ctx);
  await lockCustomer(trx, accountId);
  const o = await trx
    .selectFrom('collection_work_order')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('order_id', '=', orderId)
    .forUpdate()
    .executeTakeFirst();
  if (!o) throw notFound('work_order', orderId);
  if (o.status !== 'dispatched')
    throw err('WORK_ORDER_CLOSED', '该工单已办结', 'This work order has been completed or cancelled already');
  const note = input.note?.trim() ?? '';
  const confirmed = input.confirmedMeterNo?.trim() ?? '';
  let status: WorkOrderStatus;
  let action: 'valve_closed' | 'meter_removed' | 'restored' | null = null;
  if (o.kind === 'restore') {
    if (input.outcome !== 'done') throw fieldError('outcome', 'FORMAT');
    status = 'done';
    action = 'restored';
    await setCustomerState(trx, ctx, accountId, 'active', `复水（复气）工单 ${o.order_no}`);
  } else if (input.outcome === 'done') {
    if (!confirmed) throw fieldError('confirmedMeterNo', 'REQUIRED');
    if (!meterNumberMatches(confirmed, o.meter_no))
      throw new DomainError(
        'METER_NUMBER_MISMATCH',
        { confirmed, expected: o.meter_no },
        {
          'zh-CN': '现场表号 {confirmed} 与工单表号 {expected} 不符：不得停水，请登记为“表号不符”',
          en: 'The meter on site, {confirmed}, is not {expected}: do not shut off; record a mismatch',
        },
        [
          {
            path: 'confirmedMeterNo',
            code: 'METER_NUMBER_MISMATCH',
            messages: { 'zh-CN': '与工单表号不符', en: 'Not the meter on the order' },
          },
        ],
      );
    if (!input.action) throw fieldError('action', 'REQUIRED');
    status = 'done';
    action = input.action;
    await setCustomerState(trx, ctx, accountId, 'sealed', `停水（停气）工单 ${o.order_no}`);
  } else if (input.outcome === 'mismatch') {
    status = 'mismatch';
  } else {
    status = 'obstructed';
    await trx
      .insertInto('inspection_referral')
      .values({
        account_id: accountId,
        office_id: o.office_id,
        order_id: orderId,
        reason: 'obstruction',
        note,
        created_by: caller.staffId,
      })
      .execute();
  }
  await trx
    .updateTable('collection_work_order')
    .set({
      status,
      action,
      confirmed_meter_no: confirmed,
      completed_at: new Date(),
      completed_by: caller.staffId,
      result_note: note,
    })
    .where('account_id', '=', accountId)
    .where('order_id', '=', orderId)
    .execute();
  await audit(trx, ctx, {
    entityType: 'collection_work_order',
    entityId: `${accountId}/${orderId}`,
    action: `result_${o.kind}`,
    accountId,
    officeId: o.office_id,
    before: { status: 'dispatched' },
    after: { status, action, confirmedMeterNo: confirmed, note },
  });
  return workOrderView(trx, accountId, orderId);
}

async function requestRows(
  db: Db,
  where: ReturnType<typeof sql>,
  limit: number,
): Promise<ShutoffRequestView[]> {
  const { rows } = await sql<{
    account_id: string;
    request_id: string;
    office_id: string;
    customer_code: string;
    customer_name: string;
    customer_kind: string;
    utility: string;
    reason: string;
    bills: ArrearsBill[];
    arrears_fen: string;
    arrears_months: number;
    status: ShutoffRequestStatus;
    requested_by: string;
    requested_by_id: string;
    requested_at: Date;
    decided_by: string | null;
    decided_at: Date | null;
    decision_note: string;
    order_id: string | null;
    order_no: string | null;
  }>`
    select r.account_id::text, r.request_id::text, r.office_id::text, c.customer_code, c.name as customer_name,
           c.kind as customer_kind, c.utility, r.reason, r.bills, r.arrears_fen::text, r.arrears_months, r.status,
           rs.full_name as requested_by, r.requested_by::text as requested_by_id, r.requested_at,
           ds.full_name as decided_by, r.decided_at, r.decision_note, o.order_id::text, o.order_no
      from shutoff_request r
      join customer c on c.account_id = r.account_id
      join staff rs on rs.staff_id = r.requested_by
      left join staff ds on ds.staff_id = r.decided_by
      left join collection_work_order o on o.account_id = r.account_id and o.kind = 'shutoff' and o.request_id = r.request_id
     where ${where}
     order by r.status = 'pending' desc, r.requested_at desc, r.request_id desc
     limit ${limit}`.execute(db);
  return rows.map((r) => ({
    accountId: Number(r.account_id),
    requestId: Number(r.request_id),
    officeId: Number(r.office_id),
    customerCode: r.customer_code,
    customerName: r.customer_name,
    customerKind: r.customer_kind,
    utility: r.utility,
    reason: r.reason,
    bills: r.bills,
    arrearsFen: Number(r.arrears_fen),
    arrearsMonths: r.arrears_months,
    status: r.status,
    requestedBy: r.requested_by,
    requestedById: Number(r.requested_by_id),
    requestedAt: r.requested_at.toISOString(),
    decidedBy: r.decided_by,
    decidedAt: r.decided_at?.toISOString() ?? null,
    decisionNote: r.decision_note,
    orderId: r.order_id === null ? null : Number(r.order_id),
    orderNo: r.order_no,
  }));
}

export async function shutoffRequestView(
  db: Db,
  accountId: number,
  requestId: number,
): Promise<ShutoffRequestView> {
  const rows = await requestRows(db, sql`r.account_id = ${accountId} and r.request_id = ${requestId}`, 1);
  if (!rows[0]) throw notFound('shutoff_request', requestId);
  return rows[0];
}

export async function listShutoffRequests(
  db: Db,
  caller: Caller,
  q: { officeId?: number; status?: ShutoffRequestStatus; accountId?: number },
): Promise<ShutoffRequestView[]> {
  const parts = [officeCondition(caller, sql`r.office_id`, q.officeId)];
  if (q.status) parts.push(sql`r.status = ${q.status}`);
  if (q.accountId !== undefined) parts.push(sql`r.account_id = ${q.accountId}`);
  return requestRows(db, sql.join(parts, sql` and `), 500);
}

export interface WorkOrderView {
  accountId: number;
  orderId: number;
  kind: 'shutoff' | 'restore';
  orderNo: string;
  officeId: number;
  officeName: string;
  customerCode: string;
  customerName: string;
  customerState: string;
  utility: string;
  address: string;
  meterNo: string;
  bills: ArrearsBill[];
  arrearsFen: number;
  status: WorkOrderStatus;
  action: string | null;
  cause: string | null;
  confirmedMeterNo: string;
  requestId: number | null;
  restoresOrderId: number | null;
  /** restore: the shut-off removed the meter (2 working days). */
  meterRemoved: boolean;
  dispatchedAt: string;
  dueAt: string | null;
  completedAt: string | null;
  completedBy: string | null;
  resultNote: string;
  late: boolean;
  /** Hours from dispatch to completion (restores), for the chart against the deadline. */
  hoursTaken: number | null;
  hoursAllowed: number | null;
}

async function orderRows(db: Db, where: ReturnType<typeof sql>, limit: number): Promise<WorkOrderView[]> {
  const { rows } = await sql<{
    account_id: string;
    order_id: string;
    kind: 'shutoff' | 'restore';
    order_no: string;
    office_id: string;
    office_name: string;
    customer_code: string;
    customer_name: string;
    customer_state: string;
    utility: string;
    address: string | null;
    meter_no: string;
    bills: ArrearsBill[];
    arrears_fen: string;
    status: WorkOrderStatus;
    action: string | null;
    cause: string | null;
    confirmed_meter_no: string;
    request_id: string | null;
    restores_order_id: string | null;
    meter_removed: boolean;
    dispatched_at: Date;
    due_at: Date | null;
    completed_at: Date | null;
    completed_by: string | null;
    result_note: string;
  }>`
    select o.account_id::text, o.order_id::text, o.kind, o.order_no, o.office_id::text, f.name as office_name,
           c.customer_code, c.name as customer_name, c.state as customer_state, c.utility,
           (select concat(a.district, a.community, nullif(a.building, '') || '栋', nullif(a.unit, '') || '单元',
                          nullif(a.door, '') || '室', a.detail)
              from address a where a.account_id = o.account_id order by a.kind = 'supply' desc, a.address_id limit 1) as address,
           o.meter_no, o.bills, o.arrears_fen::text, o.status, o.action, o.cause, o.confirmed_meter_no,
           o.request_id::text, o.restores_order_id::text,
           coalesce(s.action = 'meter_removed', false) as meter_removed,
           o.dispatched_at, o.due_at, o.completed_at, st.full_name as completed_by, o.result_note
      from collection_work_order o
      join customer c on c.account_id = o.account_id
      join office f on f.office_id = o.office_id
      left join collection_work_order s on s.account_id = o.account_id and s.order_id = o.restores_order_id
      left join staff st on st.staff_id = o.completed_by
     where ${where}
     order by o.status = 'dispatched' desc, coalesce(o.due_at, o.dispatched_at), o.order_id
     limit ${limit}`.execute(db);
  const now = new Date();
  return rows.map((r) => ({
    accountId: Number(r.account_id),
    orderId: Number(r.order_id),
    kind: r.kind,
    orderNo: r.order_no,
    officeId: Number(r.office_id),
    officeName: r.office_name,
    customerCode: r.customer_code,
    customerName: r.customer_name,
    customerState: r.customer_state,
    utility: r.utility,
    address: r.address ?? '',
    meterNo: r.meter_no,
    bills: r.bills,
    arrearsFen: Number(r.arrears_fen),
    status: r.status,
    action: r.action,
    cause: r.cause,
    confirmedMeterNo: r.confirmed_meter_no,
    requestId: r.request_id === null ? null : Number(r.request_id),
    restoresOrderId: r.restores_order_id === null ? null : Number(r.restores_order_id),
    meterRemoved: r.meter_removed,
    dispatchedAt: r.dispatched_at.toISOString(),
    dueAt: r.due_at?.toISOString() ?? null,
    completedAt: r.completed_at?.toISOString() ?? null,
    completedBy: r.completed_by,
    resultNote: r.result_note,
    late:
      r.kind === 'restore' &&
      r.due_at !== null &&
      r.status !== 'cancelled' &&
      isRestoreLate(r.due_at, r.completed_at, now),
    hoursTaken:
      r.completed_at === null
        ? null
        : Math.round((r.completed_at.getTime() - r.dispatched_at.getTime()) / 360_000) / 10,
    hoursAllowed:
      r.due_at === null ? null : Math.round((r.due_at.getTime() - r.dispatched_at.getTime()) / 360_000) / 10,
  }));
}

export async function workOrderView(db: Db, accountId: number, orderId: number): Promise<WorkOrderView> {
  const rows = await orderRows(db, sql`o.account_id = ${accountId} and o.order_id = ${orderId}`, 1);
  if (!rows[0]) throw notFound('work_order', orderId);
  return rows[0];
}

export async function listWorkOrders(
  db: Db,
  caller: Caller,
  q: {
    officeId?: number;
    kind?: 'shutoff' | 'restore';
    status?: WorkOrderStatus;
    accountId?: number;
    lateOnly?: boolean;
  },
): Promise<WorkOrderView[]> {
  const parts = [officeCondition(caller, sql`o.office_id`, q.officeId)];
  if (q.kind) parts.push(sql`o.kind = ${q.kind}`);
  if (q.status) parts.push(sql`o.status = ${q.status}`);
  if (q.accountId !== undefined) parts.push(sql`o.account_id = ${q.accountId}`);
  if (q.lateOnly)
    parts.push(
      sql`o.kind = 'restore' and o.status <> 'cancelled' and o.due_at < coalesce(o.completed_at, now())`,
    );
  return orderRows(db, sql.join(parts, sql` and `), 1_000);
}

export interface ReferralView {
  accountId: number;
  referralId: number;
  officeId: number;
  orderId: number;
  orderNo: string;
  customerCode: string;
  customerName: string;
  meterNo: string;
  reason: string;
  note: string;
  status: 'open' | 'closed';
  createdBy: string | null;
  createdAt: string;
}

/** Obstructed shut-offs referred to the inspectors (visible to the inspector role, collection.view). */
export async function listReferrals(
  db: Db,
  caller: Caller,
  q: { officeId?: number; status?: 'open' | 'closed' },
): Promise<ReferralView[]> {
  const parts = [officeCondition(caller, sql`r.office_id`, q.officeId)];
  if (q.status) parts.push(sql`r.status = ${q.status}`);
  const { rows } = await sql<{
    account_id: string;
    referral_id: string;
    office_id: string;
    order_id: string;
    order_no: string;
    customer_code: string;
    customer_name: string;
    meter_no: string;
    reason: string;
    note: string;
    status: 'open' | 'closed';
    created_by: string | null;
    created_at: Date;
  }>`
    select r.account_id::text, r.referral_id::text, r.office_id::text, r.order_id::text, o.order_no,
           c.customer_code, c.name as customer_name, o.meter_no, r.reason, r.note, r.status,
           s.full_name as created_by, r.created_at
      from inspection_referral r
      join customer c on c.account_id = r.account_id
      join collection_work_order o on o.account_id = r.account_id and o.order_id = r.order_id
      left join staff s on s.staff_id = r.created_by
     where ${sql.join(parts, sql` and `)}
     order by r.status = 'open' desc, r.created_at desc
     limit 500`.execute(db);
  return rows.map((r) => ({
    accountId: Number(r.account_id),
    referralId: Number(r.referral_id),
    officeId: Number(r.office_id),
    orderId: Number(r.order_id),
    orderNo: r.order_no,
    customerCode: r.customer_code,
    customerName: r.customer_name,
    meterNo: r.meter_no,
    reason: r.reason,
    note: r.note,
    status: r.status,
    createdBy: r.created_by,
    createdAt: r.created_at.toISOString(),
  }));
}
