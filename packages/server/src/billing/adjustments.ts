import {
  type Bilingual,
  DomainError,
  priceVolumeAdjustment,
  todayInChina,
  type VolumeAdjustment,
  type VolumeAdjustmentKind,
} from '@meterline/domain';
import { type RawBuilder, sql, type Updateable } from 'kysely';
import type {
  VolumeAdjustmentBasis,
  VolumeAdjustmentStatus,
  VolumeAdjustmentTable,
} from '../db/schemaVolumeAdjustments.ts';
import { audit } from '../platform/audit.ts';
import { type RequestContext, requireCaller } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import type { Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';
import { billNumber, loadPreparedTariffs, reserveBillIds, shiftDay, type Tx } from './engine.ts';

/**
 * Volume adjustments and supplementary volumes (调量 / 补量, DOMAIN.md §3, docs/billing.md "Volume
 * adjustments"): a work order (调整量工作单) with its basis, checked by the reading specialist
 * (reading.review) and signed by the department manager (billing.approve) — three different
 * people. When signed, the difference (the period priced with the adjusted volume less the period
 * as billed: priceVolumeAdjustment) becomes a bill of kind 'adjustment', negative for a reduction.
 */

export const ADJUSTMENT_BASES: readonly VolumeAdjustmentBasis[] = [
  'original_record',
  'regulation',
  'meter_test',
  'site_check',
  'other',
];

export interface AdjustmentRequest {
  kind: VolumeAdjustmentKind;
  meterId: number;
  billId?: number | null;
  periodFrom?: string | null;
  periodTo?: string | null;
  volumeM3: string;
  basis: VolumeAdjustmentBasis;
  basisNote: string;
}

export interface AdjustmentLineView {
  code: string;
  blockNo: number | null;
  description: Bilingual;
  volumeM3: string;
  unitPriceFen: string | null;
  amountFen: number;
  from: string;
  to: string;
  tariffVersion: string;
}

export interface AdjustmentPricing {
  periodFrom: string;
  periodTo: string;
  /** Payable volume billed for the period before this adjustment (earlier adjustments included). */
  billedM3: string;
  adjustedM3: string;
  beforeFen: number;
  afterFen: number;
  amountFen: number;
  lines: AdjustmentLineView[];
  explanation: Bilingual[];
}

export interface AdjustmentView {
  accountId: number;
  adjustmentId: number;
  orderNo: string;
  kind: VolumeAdjustmentKind;
  status: VolumeAdjustmentStatus;
  customerCode: string;
  customerName: string;
  officeId: number;
  officeName: string;
  meterId: number;
  meterNo: string;
  billId: number | null;
  billNo: string | null;
  periodFrom: string;
  periodTo: string;
  volumeM3: string;
  billedM3: string;
  adjustedM3: string;
  basis: VolumeAdjustmentBasis;
  basisNote: string;
  amountFen: number;
  requestedBy: number;
  requestedByName: string;
  requestedAt: string;
  checkedBy: number | null;
  checkedByName: string | null;
  checkedAt: string | null;
  checkNote: string;
  decidedBy: number | null;
  decidedByName: string | null;
  decidedAt: string | null;
  decisionNote: string;
  resultBillId: number | null;
  resultBillNo: string | null;
}

// ------------------------------------------------------------------ messages

const conflict = (code: string, data: Record<string, unknown>, messages: Bilingual) =>
  new DomainError(code, data, messages);

const notPending = (status: string, step: string) =>
  conflict(
    'ADJUSTMENT_NOT_PENDING',
    { status, step },
    {
      'zh-CN': '该工单当前状态（{status}）不能进行此步骤（{step}）',
      en: 'The work order is {status}: it cannot be {step} now',
    },
  );

const samePerson = () =>
  conflict(
    'ADJUSTMENT_SAME_PERSON',
    {},
    {
      'zh-CN': '申请、审核、签字须由不同人员完成',
      en: 'Request, check and signature are made by three different people',
    },
  );

const openForBill = (orderNo: string) =>
  conflict(
    'ADJUSTMENT_OPEN_FOR_BILL',
    { orderNo },
    {
      'zh-CN': '该账单已有在办的调整工单 {orderNo}',
      en: 'This bill already has a work order in progress: {orderNo}',
    },
  );

const billNotOpen = () =>
  conflict(
    'ADJUSTMENT_BILL_NOT_OPEN',
    {},
    {
      'zh-CN': '被调整的账单已作废，请按新账单重新申请',
      en: 'The bill adjusted has been cancelled: request again against its replacement',
    },
  );

const fieldMessage = (path: string, code: string, messages: Bilingual, data: Record<string, unknown> = {}) =>
  new DomainError(
    'VALIDATION',
    data,
    { 'zh-CN': '提交的内容有误，请检查标出的字段', en: 'Some fields are not valid; see the marked fields' },
    [{ path, code, messages }],
  );

// ------------------------------------------------------------------ pricing

interface Basis {
  officeId: number;
  usageType: string;
  meterId: number;
  billId: number | null;
  periodFrom: string;
  periodTo: string;
  billedM3: string;
  blockUsed: { year: number; volumeM3: string } | null;
}

/** What the adjustment rests on: the meter, the bill (with earlier signed adjustments), the period. */
async function loadBasis(
  db: Db,
  accountId: number,
  req: AdjustmentRequest,
  excludeId?: number,
): Promise<Basis> {
  const meter = await db
    .selectFrom('meter as m')
    .innerJoin('customer as c', 'c.account_id', 'm.account_id')
    .innerJoin('service_point as sp', (j) =>
      j.onRef('sp.account_id', '=', 'm.account_id').onRef('sp.service_point_id', '=', 'm.service_point_id'),
    )
    .select(['m.meter_id', 'c.office_id', 'sp.usage_type_code'])
    .where('m.account_id', '=', accountId)
    .where('m.meter_id', '=', req.meterId)
    .executeTakeFirst();
  if (!meter)
    throw fieldMessage('meterId', 'NOT_FOUND', {
      'zh-CN': '该用户没有这块水表',
      en: 'The customer has no such meter',
    });
  if (req.billId) {
    const bill = await db
      .selectFrom('bill')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('bill_id', '=', req.billId)
      .executeTakeFirst();
    if (bill?.kind !== 'consumption' || bill.meter_id !== req.meterId)
      throw fieldMessage('billId', 'ADJUSTMENT_BILL', {
        'zh-CN': '请选择该水表的水费账单',
        en: 'Pick a consumption bill of this meter',
      });
    if (bill.status !== 'open') throw billNotOpen();
    // Signed adjustments of the same bill count: a second reduction starts from what the first left.
    const billed = await sql<{ m3: string }>`
      select greatest(0, ${bill.payable_m3}::numeric + coalesce(sum(
        case when kind = 'supplement' then volume_m3 else -volume_m3 end), 0))::numeric(12, 3)::text as m3
      from volume_adjustment
      where account_id = ${accountId} and bill_id = ${req.billId} and status = 'approved'
        ${excludeId ? sql`and adjustment_id <> ${excludeId}` : sql``}`.execute(db);
    return {
      officeId: meter.office_id,
      usageType: bill.usage_type_code ?? meter.usage_type_code,
      meterId: req.meterId,
      billId: bill.bill_id,
      periodFrom: bill.period_from,
      periodTo: bill.period_to,
      billedM3: billed.rows[0]!.m3,
      blockUsed:
        bill.block_year === Number(bill.period_from.slice(0, 4)) && bill.block_used_before_m3 !== null
          ? { year: bill.block_year, volumeM3: bill.block_used_before_m3 }
          : // A bill reaching over New Year stores the end year's usage: the start year's is the bill before's.
            await blockUsedBefore(db, accountId, bill.period_from),
    };
  }
  if (req.kind === 'reduce')
    throw fieldMessage('billId', 'REQUIRED', {
      'zh-CN': '调量须选择被调整的账单',
      en: 'A volume adjustment names the bill it adjusts',
    });
  const problems: { path: string; code: string; messages: Bilingual }[] = [];
  const required = { 'zh-CN': '补量须填写所补水量的起止日期', en: 'A supplement gives the period it covers' };
  if (!req.periodFrom) problems.push({ path: 'periodFrom', code: 'REQUIRED', messages: required });
  if (!req.periodTo) problems.push({ path: 'periodTo', code: 'REQUIRED', messages: required });
  if (req.periodFrom && req.periodTo && req.periodTo < req.periodFrom)
    problems.push({
      path: 'periodTo',
      code: 'PERIOD_ORDER',
      messages: { 'zh-CN': '结束日期早于开始日期', en: 'The period ends before it starts' },
    });
  if (req.periodTo && req.periodTo > todayInChina())
    problems.push({
      path: 'periodTo',
      code: 'PERIOD_FUTURE',
      messages: { 'zh-CN': '不能补收未来的水量', en: 'A supplement covers days already past' },
    });
  if (problems.length)
    throw new DomainError(
      'VALIDATION',
      {},
      { 'zh-CN': '提交的内容有误，请检查标出的字段', en: 'Some fields are not valid; see the marked fields' },
      problems,
    );
  const periodFrom = req.periodFrom!;
  const periodTo = req.periodTo!;
  return {
    officeId: meter.office_id,
    usageType: meter.usage_type_code,
    meterId: req.meterId,
    billId: null,
    periodFrom,
    periodTo,
    billedM3: '0.000',
    blockUsed: await blockUsedBefore(db, accountId, periodFrom),
  };
}

/** The year's annual-block usage before a day: the account's last bill ending before it, that year. */
async function blockUsedBefore(db: Db, accountId: number, day: string) {
  const before = await db
    .selectFrom('bill')
    .select(['block_year', 'block_used_after_m3'])
    .where('account_id', '=', accountId)
    .where('status', '=', 'open')
    .where('kind', '=', 'consumption')
    .where('block_year', '=', Number(day.slice(0, 4)))
    .where('period_to', '<', day)
    .orderBy('period_to', 'desc')
    .orderBy('bill_id', 'desc')
    .executeTakeFirst();
  return before?.block_year != null && before.block_used_after_m3 !== null
    ? { year: before.block_year, volumeM3: before.block_used_after_m3 }
    : null;
}

function price(
  basis: Basis,
  req: AdjustmentRequest,
  tariffs: Awaited<ReturnType<typeof loadPreparedTariffs>>,
) {
  const tariff = tariffs.get(basis.usageType);
  if (!tariff)
    throw fieldMessage(
      'meterId',
      'NO_TARIFF',
      {
        'zh-CN': '用水性质 {usageType} 没有水价方案，无法计价',
        en: 'Usage type {usageType} has no tariff to price the volume with',
      },
      { usageType: basis.usageType },
    );
  return priceVolumeAdjustment({
    tariff,
    kind: req.kind,
    periodFrom: basis.periodFrom,
    periodTo: basis.periodTo,
    billedM3: basis.billedM3,
    annualBlockUsed: basis.blockUsed,
    volumeM3: req.volumeM3,
  });
}

function pricingView(basis: Basis, a: VolumeAdjustment): AdjustmentPricing {
  return {
    periodFrom: basis.periodFrom,
    periodTo: basis.periodTo,
    billedM3: basis.billedM3,
    adjustedM3: a.after.payableM3,
    beforeFen: a.before?.totalFen ?? 0,
    afterFen: a.after.totalFen,
    amountFen: a.totalFen,
    lines: a.lines.map((l) => ({
      code: l.code,
      blockNo: l.blockNo,
      description: l.description,
      volumeM3: l.volumeM3,
      unitPriceFen: l.unitPriceFen,
      amountFen: l.amountFen,
      from: l.from,
      to: l.to,
      tariffVersion: l.tariffVersion,
    })),
    explanation: a.explanation,
  };
}

/** What a work order would come to, without saving it (the form's preview). */
export async function previewAdjustment(
  db: Db,
  accountId: number,
  req: AdjustmentRequest,
): Promise<AdjustmentPricing> {
  const basis = await loadBasis(db, accountId, req);
  return pricingView(basis, price(basis, req, await loadPreparedTariffs(db)));
}

// ------------------------------------------------------------------ views

const VIEW_SELECT = sql`
  select x.*, c.customer_code, c.name as customer_name, c.office_id, o.name as office_name, m.meter_no,
         b.bill_no, rb.bill_no as result_bill_no,
         rq.full_name as requested_by_name, ck.full_name as checked_by_name, dc.full_name as decided_by_name
  from volume_adjustment x
  join customer c on c.account_id = x.account_id
  join office o on o.office_id = c.office_id
  join meter m on m.account_id = x.account_id and m.meter_id = x.meter_id
  left join bill b on b.account_id = x.account_id and b.bill_id = x.bill_id
  left join bill rb on rb.account_id = x.account_id and rb.bill_id = x.result_bill_id
  left join staff rq on rq.staff_id = x.requested_by
  left join staff ck on ck.staff_id = x.checked_by
  left join staff dc on dc.staff_id = x.decided_by`;

// biome-ignore lint/suspicious/noExplicitAny: a joined row, mapped field by field below
function toView(r: any): AdjustmentView {
  const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());
  return {
    accountId: Number(r.account_id),
    adjustmentId: Number(r.adjustment_id),
    orderNo: r.order_no,
    kind: r.kind,
    status: r.status,
    customerCode: r.customer_code,
    customerName: r.customer_name,
    officeId: Number(r.office_id),
    officeName: r.office_name,
    meterId: Number(r.meter_id),
    meterNo: r.meter_no,
    billId: r.bill_id === null ? null : Number(r.bill_id),
    billNo: r.bill_no ?? null,
    periodFrom: r.period_from,
    periodTo: r.period_to,
    volumeM3: r.volume_m3,
    billedM3: r.billed_m3,
    adjustedM3: r.adjusted_m3,
    basis: r.basis,
    basisNote: r.basis_note,
    amountFen: Number(r.amount_fen),
    requestedBy: Number(r.requested_by),
    requestedByName: r.requested_by_name ?? '',
    requestedAt: iso(r.requested_at)!,
    checkedBy: r.checked_by === null ? null : Number(r.checked_by),
    checkedByName: r.checked_by_name ?? null,
    checkedAt: iso(r.checked_at),
    checkNote: r.check_note,
    decidedBy: r.decided_by === null ? null : Number(r.decided_by),
    decidedByName: r.decided_by_name ?? null,
    decidedAt: iso(r.decided_at),
    decisionNote: r.decision_note,
    resultBillId: r.result_bill_id === null ? null : Number(r.result_bill_id),
    resultBillNo: r.result_bill_no ?? null,
  };
}

async function views(
  db: Db,
  where: RawBuilder<unknown>,
  page?: { limit: number; offset: number },
): Promise<AdjustmentView[]> {
  const { rows } = await sql`${VIEW_SELECT} where ${where}
    order by case x.status when 'requested' then 0 when 'checked' then 1 else 2 end, x.requested_at desc,
             x.adjustment_id desc
    ${page ? sql`limit ${page.limit} offset ${page.offset}` : sql``}`.execute(db);
  return rows.map(toView);
}

async function oneView(db: Db, accountId: number, adjustmentId: number): Promise<AdjustmentView> {
  const [view] = await views(db, sql`x.account_id = ${accountId} and x.adjustment_id = ${adjustmentId}`);
  if (!view) throw notFound('volume_adjustment', adjustmentId);
  return view;
}

/** Work orders of the caller's offices: those waiting first, then the newest. */
export async function listAdjustments(
  db: Db,
  ctx: RequestContext,
  q: { officeId?: number; status?: VolumeAdjustmentStatus; page: number; pageSize: number },
) {
  const caller = requireCaller(ctx);
  const where = sql`${officeCondition(caller, sql`c.office_id`, q.officeId)}
    and ${q.status ? sql`x.status = ${q.status}` : sql`true`}`;
  const [count, items] = await Promise.all([
    sql<{ n: number }>`select count(*)::int as n from volume_adjustment x
      join customer c on c.account_id = x.account_id where ${where}`.execute(db),
    views(db, where, { limit: q.pageSize, offset: (q.page - 1) * q.pageSize }),
  ]);
  return { items, total: count.rows[0]?.n ?? 0, page: q.page, pageSize: q.pageSize };
}

export function customerAdjustments(db: Db, accountId: number): Promise<AdjustmentView[]> {
  return views(db, sql`x.account_id = ${accountId}`);
}

/** One work order with what it comes to: the signed bill's lines, or the pricing as it stands now. */
export async function adjustmentDetail(db: Db, accountId: number, adjustmentId: number) {
  const view = await oneView(db, accountId, adjustmentId);
  let pricing: AdjustmentPricing | null = null;
  if (view.status === 'requested' || view.status === 'checked') {
    try {
      pricing = await previewAdjustment(db, accountId, requestOf(view));
    } catch (error) {
      // The bill was cancelled meanwhile, say: the work order shows without a price, and signing refuses.
      if (!(error instanceof DomainError)) throw error;
    }
  }
  return { ...view, pricing };
}

const requestOf = (v: AdjustmentView): AdjustmentRequest => ({
  kind: v.kind,
  meterId: v.meterId,
  billId: v.billId,
  periodFrom: v.periodFrom,
  periodTo: v.periodTo,
  volumeM3: v.volumeM3,
  basis: v.basis,
  basisNote: v.basisNote,
});

// ------------------------------------------------------------------ the work order's steps

/** The request (申请): priced now, so the checker and the signer see what it comes to. */
export async function requestAdjustment(
  db: Db,
  ctx: RequestContext,
  accountId: number,
  req: AdjustmentRequest,
): Promise<AdjustmentView> {
  const caller = requireCaller(ctx);
  const adjustmentId = await db.transaction().execute(async (trx) => {
    const basis = await loadBasis(trx, accountId, req);
    const priced = price(basis, req, await loadPreparedTariffs(trx));
    if (basis.billId !== null) {
      const open = await trx
        .selectFrom('volume_adjustment')
        .select('order_no')
        .where('account_id', '=', accountId)
        .where('bill_id', '=', basis.billId)
        .where('status', 'in', ['requested', 'checked'])
        .executeTakeFirst();
      if (open) throw openForBill(open.order_no);
    }
    const seq = await sql<{ n: string }>`select nextval('volume_adjustment_no_seq')::text as n`.execute(trx);
    const today = todayInChina();
    const orderNo = `${req.kind === 'reduce' ? 'TL' : 'BL'}${today.slice(0, 4)}${today.slice(5, 7)}-${seq.rows[0]!.n.padStart(6, '0')}`;
    const row = await trx
      .insertInto('volume_adjustment')
      .values({
        account_id: accountId,
        order_no: orderNo,
        kind: req.kind,
        meter_id: req.meterId,
        bill_id: basis.billId,
        period_from: basis.periodFrom,
        period_to: basis.periodTo,
        volume_m3: req.volumeM3,
        billed_m3: basis.billedM3,
        adjusted_m3: priced.after.payableM3,
        basis: req.basis,
        basis_note: req.basisNote,
        amount_fen: priced.totalFen,
        requested_by: caller.staffId,
      })
      .returning('adjustment_id')
      .executeTakeFirstOrThrow();
    await audit(trx, ctx, {
      entityType: 'volume_adjustment',
      entityId: `${accountId}/${row.adjustment_id}`,
      accountId,
      officeId: basis.officeId,
      action: 'request',
      after: { orderNo, ...req, billId: basis.billId, amountFen: priced.totalFen },
    });
    return row.adjustment_id;
  });
  return oneView(db, accountId, adjustmentId);
}

async function lockOrder(trx: Tx, accountId: number, adjustmentId: number) {
  const x = await trx
    .selectFrom('volume_adjustment')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('adjustment_id', '=', adjustmentId)
    .forUpdate()
    .executeTakeFirst();
  if (!x) throw notFound('volume_adjustment', adjustmentId);
  const customer = await trx
    .selectFrom('customer')
    .select('office_id')
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  return { x, officeId: customer.office_id };
}

type OrderUpdate = Updateable<VolumeAdjustmentTable>;

/** One step of a work order: the row updated and the step audited, in the step's transaction. */
async function recordStep(
  trx: Tx,
  ctx: RequestContext,
  key: { accountId: number; adjustmentId: number; officeId: number },
  set: OrderUpdate,
  entry: { action: string; before: unknown; after: unknown },
): Promise<void> {
  await trx
    .updateTable('volume_adjustment')
    .set(set)
    .where('account_id', '=', key.accountId)
    .where('adjustment_id', '=', key.adjustmentId)
    .execute();
  await audit(trx, ctx, {
    entityType: 'volume_adjustment',
    entityId: `${key.accountId}/${key.adjustmentId}`,
    accountId: key.accountId,
    officeId: key.officeId,
    ...entry,
  });
}

/** The reading specialist's check (审核): passed on to the signer, or rejected. */
export async function checkAdjustment(
  db: Db,
  ctx: RequestContext,
  accountId: number,
  adjustmentId: number,
  body: { approve: boolean; note: string },
): Promise<AdjustmentView> {
  const caller = requireCaller(ctx);
  await db.transaction().execute(async (trx) => {
    const { x, officeId } = await lockOrder(trx, accountId, adjustmentId);
    if (x.status !== 'requested') throw notPending(x.status, 'checked');
    if (x.requested_by === caller.staffId) throw samePerson();
    const now = new Date();
    const set = body.approve
      ? { status: 'checked' as const, checked_by: caller.staffId, checked_at: now, check_note: body.note }
      : {
          status: 'rejected' as const,
          checked_by: caller.staffId,
          checked_at: now,
          check_note: body.note,
          decided_by: caller.staffId,
          decided_at: now,
          decision_note: body.note,
        };
    await recordStep(trx, ctx, { accountId, adjustmentId, officeId }, set, {
      action: body.approve ? 'check' : 'reject',
      before: { status: x.status },
      after: { status: set.status, note: body.note },
    });
  });
  return oneView(db, accountId, adjustmentId);
}

/**
 * The department manager's signature (签字): priced again as things stand (the bill may have been
 * adjusted since), billed as a bill of kind 'adjustment' with the difference lines — or rejected.
 */
export async function signAdjustment(
  db: Db,
  ctx: RequestContext,
  accountId: number,
  adjustmentId: number,
  body: { approve: boolean; note: string },
): Promise<AdjustmentView> {
  const caller = requireCaller(ctx);
  await db.transaction().execute(async (trx) => {
    const { x, officeId } = await lockOrder(trx, accountId, adjustmentId);
    if (x.status !== 'checked') throw notPending(x.status, 'signed');
    if (x.requested_by === caller.staffId || x.checked_by === caller.staffId) throw samePerson();
    const now = new Date();
    if (!body.approve) {
      await recordStep(
        trx,
        ctx,
        { accountId, adjustmentId, officeId },
        { status: 'rejected', decided_by: caller.staffId, decided_at: now, decision_note: body.note },
        { action: 'reject', before: { status: x.status }, after: { status: 'rejected', note: body.note } },
      );
      return;
    }
    const req: AdjustmentRequest = {
      kind: x.kind,
      meterId: x.meter_id,
      billId: x.bill_id,
      periodFrom: x.period_from,
      periodTo: x.period_to,
      volumeM3: x.volume_m3,
      basis: x.basis,
      basisNote: x.basis_note,
    };
    if (x.bill_id !== null) {
      // The adjusted bill is locked while its adjustment is billed.
      await sql`select 1 from bill where account_id = ${accountId} and bill_id = ${x.bill_id} for update`.execute(
        trx,
      );
    }
    const basis = await loadBasis(trx, accountId, req, adjustmentId);
    const priced = price(basis, req, await loadPreparedTariffs(trx));
    const settings = await loadSettings(trx);
    const today = todayInChina();
    const [{ billId, seq }] = (await reserveBillIds(trx, 1)) as [{ billId: number; seq: number }];
    const billNo = billNumber(today, seq);
    const sign = x.kind === 'reduce' ? '-' : '';
    const volume = `${sign}${x.volume_m3}`;
    const adjustedBill = x.bill_id
      ? await trx
          .selectFrom('bill')
          .select('bill_no')
          .where('account_id', '=', accountId)
          .where('bill_id', '=', x.bill_id)
          .executeTakeFirst()
      : undefined;
    const head: Bilingual = {
      'zh-CN': `${x.kind === 'reduce' ? '调量' : '补量'}工单 ${x.order_no}${adjustedBill ? `，调整账单 ${adjustedBill.bill_no}` : ''}；依据：${x.basis_note}`,
      en: `${x.kind === 'reduce' ? 'Volume adjustment' : 'Supplementary volume'} work order ${x.order_no}${adjustedBill ? `, adjusting bill ${adjustedBill.bill_no}` : ''}; basis: ${x.basis_note}`,
    };
    await trx
      .insertInto('bill')
      .values({
        account_id: accountId,
        bill_id: billId,
        bill_no: billNo,
        kind: 'adjustment',
        meter_id: x.meter_id,
        reading_id: null,
        run_id: null,
        usage_type_code: basis.usageType,
        period: today.slice(0, 7),
        period_from: basis.periodFrom,
        period_to: basis.periodTo,
        consumption_m3: volume,
        payable_m3: volume,
        amount_fen: priced.totalFen,
        due_on: shiftDay(today, settings['billing.dueDays']),
        explanation: JSON.stringify([head, ...priced.explanation]),
        created_by: caller.staffId,
      })
      .execute();
    if (priced.lines.length)
      await trx
        .insertInto('bill_line')
        .values(
          priced.lines.map((l, n) => ({
            account_id: accountId,
            bill_id: billId,
            line_no: n + 1,
            kind: l.kind,
            code: l.code,
            block_no: l.blockNo,
            description_zh: l.description['zh-CN'],
            description_en: l.description.en,
            volume_m3: l.volumeM3,
            unit_price_fen: l.unitPriceFen,
            amount_fen: l.amountFen,
            from_date: l.from,
            to_date: l.to,
            tariff_version: l.tariffVersion,
          })),
        )
        .execute();
    await recordStep(
      trx,
      ctx,
      { accountId, adjustmentId, officeId },
      {
        status: 'approved',
        decided_by: caller.staffId,
        decided_at: now,
        decision_note: body.note,
        amount_fen: priced.totalFen,
        billed_m3: basis.billedM3,
        adjusted_m3: priced.after.payableM3,
        result_bill_id: billId,
      },
      {
        action: 'sign',
        before: { status: x.status, amountFen: x.amount_fen },
        after: { status: 'approved', amountFen: priced.totalFen, billNo, note: body.note },
      },
    );
    await audit(trx, ctx, {
      entityType: 'bill',
      entityId: `${accountId}/${billId}`,
      accountId,
      officeId,
      action: 'bill_adjustment',
      after: { billNo, orderNo: x.order_no, volumeM3: volume, amountFen: priced.totalFen },
    });
  });
  return oneView(db, accountId, adjustmentId);
}

/** The work order as its PDF takes it: the signed bill's lines, else the pricing as it stands. */
export async function workOrderData(db: Db, accountId: number, adjustmentId: number) {
  const detail = await adjustmentDetail(db, accountId, adjustmentId);
  const customer = await db
    .selectFrom('customer')
    .select('utility')
    .where('account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  let pricing = detail.pricing;
  if (detail.resultBillId !== null) {
    const lines = await db
      .selectFrom('bill_line')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('bill_id', '=', detail.resultBillId)
      .orderBy('line_no')
      .execute();
    const bill = await db
      .selectFrom('bill')
      .select(['amount_fen', 'payable_m3'])
      .where('account_id', '=', accountId)
      .where('bill_id', '=', detail.resultBillId)
      .executeTakeFirstOrThrow();
    pricing = {
      periodFrom: detail.periodFrom,
      periodTo: detail.periodTo,
      billedM3: detail.billedM3,
      adjustedM3: detail.adjustedM3,
      beforeFen: 0,
      afterFen: 0,
      amountFen: Number(bill.amount_fen),
      explanation: [],
      lines: lines.map((l) => ({
        code: l.code,
        blockNo: l.block_no,
        description: { 'zh-CN': l.description_zh, en: l.description_en },
        volumeM3: l.volume_m3,
        unitPriceFen: l.unit_price_fen,
        amountFen: Number(l.amount_fen),
        from: l.from_date ?? detail.periodFrom,
        to: l.to_date ?? detail.periodTo,
        tariffVersion: l.tariff_version ?? '',
      })),
    };
  }
  const settings = await loadSettings(db);
  return {
    order: detail as AdjustmentView,
    utility: customer.utility,
    utilityName: settings['notice.utilityName'],
    pricing,
    printedAt: new Date(),
  };
}
