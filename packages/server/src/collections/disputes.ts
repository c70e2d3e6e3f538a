import {
  DISPUTE_MESSAGES,
  type DisputeAction,
  type DisputeCategory,
  DomainError,
  disputedAmountProblems,
  disputeTransition,
  formatMessage,
} from '@meterline/domain';
import { sql } from 'kysely';
import { yuanText } from '../billing/engine.ts';
import type { DisputeStatus } from '../db/schemaCollectionHolds.ts';
import { lockAccount } from '../payments/ledger.ts';
import { audit } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldErrors, notFound } from '../platform/errors.ts';
import type { Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';

/**
 * Disputes (水费异议, DOMAIN.md §6, docs/arrears.md "Disputes"): recorded by the counter
 * (collection.dispute) with a classification, a description, the customer's claim and the disputed
 * amount on named bills; reviewed by the office manager (collection.manage), who passes it on to the
 * next department, upholds or rejects it with a note. While undecided, the amount is held out of
 * escalation (the view collection_hold, read by the escalation ladder).
 */

export interface DisputeInput {
  category: DisputeCategory;
  description: string;
  claim: string;
  /** The disputed bills and the amount on each (at most what the bill still owes). */
  bills?: { billId: number; disputedFen: number }[];
  /** A dispute naming no bill: the amount held on the whole account. */
  disputedFen?: number;
}

export interface ReviewInput {
  action: DisputeAction;
  note: string;
  /** pass_on: the department it goes to. */
  passedTo?: string;
}

export interface DisputeView {
  accountId: number;
  disputeId: number;
  officeId: number;
  customerCode: string;
  customerName: string;
  category: string;
  categoryName: { 'zh-CN': string; en: string };
  description: string;
  claim: string;
  disputedFen: number;
  bills: { billId: number; billNo: string; period: string; disputedFen: number }[];
  status: DisputeStatus;
  held: boolean;
  passedTo: string;
  recordedBy: string;
  recordedAt: string;
  reviewedBy: string | null;
  reviewedAt: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  reviewNote: string;
}

function fieldMessage(code: keyof typeof DISPUTE_MESSAGES, data: Record<string, unknown> = {}) {
  const m = DISPUTE_MESSAGES[code];
  return { 'zh-CN': formatMessage(m['zh-CN'], data), en: formatMessage(m.en, data) };
}

export async function createDispute(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  input: DisputeInput,
): Promise<DisputeView> {
  const caller = requireCaller(ctx);
  const account = await lockAccount(trx, accountId);
  if (!account) throw notFound('customer', accountId);
  const bills = input.bills ?? [];
  let disputedFen: number;
  if (bills.length) {
    // What each bill still owes, less what other undecided disputes already hold on it.
    const { rows } = await sql<{ bill_id: number; outstanding: number }>`
      select b.bill_id,
             case when b.status = 'open' then b.amount_fen - b.paid_fen else 0 end
             - coalesce((select sum(db.disputed_fen) from dispute_bill db
                          join dispute d on d.account_id = db.account_id and d.dispute_id = db.dispute_id
                         where db.account_id = b.account_id and db.bill_id = b.bill_id
                           and d.status in ('open', 'passed_on')), 0) as outstanding
        from bill b
       where b.account_id = ${accountId} and b.bill_id = any(${bills.map((b) => b.billId)}::bigint[])`.execute(
      trx,
    );
    const owed = new Map(rows.map((r) => [Number(r.bill_id), Number(r.outstanding)]));
    const missing = bills.findIndex((b) => !owed.has(b.billId));
    if (missing !== -1) throw notFound('bill', bills[missing]!.billId);
    const problems = disputedAmountProblems(
      bills.map((b) => ({ ...b, outstandingFen: owed.get(b.billId)! })),
    );
    if (problems.size)
      throw fieldErrors(
        [...problems].map(([i, code]) => ({
          path: `bills.${i}.disputedFen`,
          code,
          messages: fieldMessage(code, { yuan: yuanText(Math.max(0, owed.get(bills[i]!.billId)!)) }),
        })),
      );
    disputedFen = bills.reduce((s, b) => s + b.disputedFen, 0);
  } else {
    if (input.disputedFen === undefined)
      throw fieldErrors([
        { path: 'disputedFen', code: 'REQUIRED', messages: fieldMessage('AMOUNT_REQUIRED') },
      ]);
    if (!Number.isSafeInteger(input.disputedFen) || input.disputedFen <= 0)
      throw fieldErrors([
        { path: 'disputedFen', code: 'AMOUNT_NOT_POSITIVE', messages: fieldMessage('AMOUNT_NOT_POSITIVE') },
      ]);
    disputedFen = input.disputedFen;
  }
  const row = await trx
    .insertInto('dispute')
    .values({
      account_id: accountId,
      office_id: account.officeId,
      category: input.category,
      description: input.description.trim(),
      claim: input.claim.trim(),
      disputed_fen: disputedFen,
      recorded_by: caller.staffId,
    })
    .returning('dispute_id')
    .executeTakeFirstOrThrow();
  const disputeId = Number(row.dispute_id);
  if (bills.length)
    await trx
      .insertInto('dispute_bill')
      .values(
        bills.map((b) => ({
          account_id: accountId,
          dispute_id: disputeId,
          bill_id: b.billId,
          disputed_fen: b.disputedFen,
        })),
      )
      .execute();
  await audit(trx, ctx, {
    entityType: 'dispute',
    entityId: `${accountId}/${disputeId}`,
    action: 'record',
    accountId,
    officeId: account.officeId,
    after: {
      category: input.category,
      description: input.description,
      claim: input.claim,
      disputedFen,
      bills,
    },
  });
  return disputeView(trx, accountId, disputeId);
}

export async function reviewDispute(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  disputeId: number,
  input: ReviewInput,
): Promise<DisputeView> {
  const caller = requireCaller(ctx);
  const d = await trx
    .selectFrom('dispute')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('dispute_id', '=', disputeId)
    .forUpdate()
    .executeTakeFirst();
  if (!d) throw notFound('dispute', disputeId);
  const note = input.note.trim();
  const passedTo = (input.passedTo ?? '').trim();
  const missing: { path: string; code: string; messages: { 'zh-CN': string; en: string } }[] = [];
  if (!note) missing.push({ path: 'note', code: 'REQUIRED', messages: fieldMessage('NOTE_REQUIRED') });
  if (input.action === 'pass_on' && !passedTo)
    missing.push({ path: 'passedTo', code: 'REQUIRED', messages: fieldMessage('PASSED_TO_REQUIRED') });
  if (missing.length) throw fieldErrors(missing);
  const next = disputeTransition(d.status, input.action);
  if (!next) {
    const zh = { open: '待审核', passed_on: '已转交', upheld: '已认可', rejected: '已驳回' }[d.status];
    const en = { open: 'open', passed_on: 'passed on', upheld: 'upheld', rejected: 'rejected' }[d.status];
    throw new DomainError(
      'DISPUTE_NOT_OPEN',
      { status: d.status },
      {
        'zh-CN': d.status === 'passed_on' ? '该异议已转交，不能再次转交' : `该异议${zh}，不能再处理`,
        en:
          d.status === 'passed_on'
            ? 'This dispute was passed on already'
            : `This dispute is ${en}; it cannot change`,
      },
    );
  }
  const decided = next === 'upheld' || next === 'rejected';
  await trx
    .updateTable('dispute')
    .set({
      status: next,
      passed_to: input.action === 'pass_on' ? passedTo : d.passed_to,
      reviewed_by: d.reviewed_by ?? caller.staffId,
      reviewed_at: d.reviewed_at ?? new Date(),
      decided_by: decided ? caller.staffId : null,
      decided_at: decided ? new Date() : null,
      review_note: d.review_note ? `${d.review_note}\n${note}` : note,
    })
    .where('account_id', '=', accountId)
    .where('dispute_id', '=', disputeId)
    .execute();
  await audit(trx, ctx, {
    entityType: 'dispute',
    entityId: `${accountId}/${disputeId}`,
    action: input.action,
    accountId,
    officeId: d.office_id,
    before: { status: d.status },
    after: { status: next, note, passedTo: input.action === 'pass_on' ? passedTo : undefined },
  });
  return disputeView(trx, accountId, disputeId);
}

export async function disputeView(db: Db, accountId: number, disputeId: number): Promise<DisputeView> {
  const rows = await disputeRows(db, sql`d.account_id = ${accountId} and d.dispute_id = ${disputeId}`, 1, 0);
  if (!rows[0]) throw notFound('dispute', disputeId);
  return rows[0];
}

export interface DisputeFilter {
  officeId?: number;
  status?: DisputeStatus | 'undecided';
  accountId?: number;
  page?: number;
  pageSize?: number;
}

export async function listDisputes(
  db: Db,
  caller: Caller,
  f: DisputeFilter,
): Promise<{ items: DisputeView[]; total: number }> {
  const parts = [officeCondition(caller, sql`d.office_id`, f.officeId)];
  if (f.status === 'undecided') parts.push(sql`d.status in ('open', 'passed_on')`);
  else if (f.status) parts.push(sql`d.status = ${f.status}`);
  if (f.accountId !== undefined) parts.push(sql`d.account_id = ${f.accountId}`);
  const where = sql.join(parts, sql` and `);
  const pageSize = f.pageSize ?? 50;
  const offset = ((f.page ?? 1) - 1) * pageSize;
  const items = await disputeRows(db, where, pageSize, offset);
  const total = await sql<{ n: number }>`select count(*)::int as n from dispute d where ${where}`.execute(db);
  return { items, total: Number(total.rows[0]?.n ?? 0) };
}

async function disputeRows(
  db: Db,
  where: ReturnType<typeof sql>,
  limit: number,
  offset: number,
): Promise<DisputeView[]> {
  const { rows } = await sql<{
    account_id: number;
    dispute_id: number;
    office_id: number;
    customer_code: string;
    customer_name: string;
    category: string;
    name_zh: string;
    name_en: string;
    description: string;
    claim: string;
    disputed_fen: number;
    status: DisputeStatus;
    passed_to: string;
    recorded_by: string;
    recorded_at: Date;
    reviewed_by: string | null;
    reviewed_at: Date | null;
    decided_by: string | null;
    decided_at: Date | null;
    review_note: string;
    bills: { billId: number; billNo: string; period: string; disputedFen: number }[];
  }>`
    select d.account_id, d.dispute_id, d.office_id, c.customer_code, c.name as customer_name, d.category,
           k.name_zh, k.name_en, d.description, d.claim, d.disputed_fen, d.status, d.passed_to,
           rs.full_name as recorded_by, d.recorded_at, vs.full_name as reviewed_by, d.reviewed_at,
           ds.full_name as decided_by, d.decided_at, d.review_note,
           coalesce((select json_agg(json_build_object('billId', b.bill_id, 'billNo', b.bill_no, 'period', b.period,
                                                       'disputedFen', db.disputed_fen) order by b.period)
                       from dispute_bill db join bill b on b.account_id = db.account_id and b.bill_id = db.bill_id
                      where db.account_id = d.account_id and db.dispute_id = d.dispute_id), '[]') as bills
      from dispute d
      join customer c on c.account_id = d.account_id
      join dispute_category k on k.code = d.category
      join staff rs on rs.staff_id = d.recorded_by
      left join staff vs on vs.staff_id = d.reviewed_by
      left join staff ds on ds.staff_id = d.decided_by
     where ${where}
     order by d.recorded_at desc, d.dispute_id desc
     limit ${limit} offset ${offset}`.execute(db);
  return rows.map((r) => ({
    accountId: Number(r.account_id),
    disputeId: Number(r.dispute_id),
    officeId: Number(r.office_id),
    customerCode: r.customer_code,
    customerName: r.customer_name,
    category: r.category,
    categoryName: { 'zh-CN': r.name_zh, en: r.name_en },
    description: r.description,
    claim: r.claim,
    disputedFen: Number(r.disputed_fen),
    bills: r.bills.map((b) => ({ ...b, billId: Number(b.billId), disputedFen: Number(b.disputedFen) })),
    status: r.status,
    held: r.status === 'open' || r.status === 'passed_on',
    passedTo: r.passed_to,
    recordedBy: r.recorded_by,
    recordedAt: r.recorded_at.toISOString(),
    reviewedBy: r.reviewed_by,
    reviewedAt: r.reviewed_at?.toISOString() ?? null,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at?.toISOString() ?? null,
    reviewNote: r.review_note,
  }));
}

export async function listCategories(db: Db) {
  const rows = await db.selectFrom('dispute_category').selectAll().orderBy('sort').execute();
  return rows.map((r) => ({ code: r.code, name: { 'zh-CN': r.name_zh, en: r.name_en } }));
}

/** What the view collection_hold holds for one account (the customer page, the tests). */
export async function accountHolds(db: Db, accountId: number) {
  const rows = await db
    .selectFrom('collection_hold')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('kind')
    .orderBy('ref_id')
    .execute();
  return rows.map((r) => ({
    billId: r.bill_id === null ? null : Number(r.bill_id),
    heldFen: Number(r.held_fen),
    kind: r.kind,
    refId: Number(r.ref_id),
  }));
}
