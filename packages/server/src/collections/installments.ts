import {
  agreementNumber,
  chinaDateTime,
  DomainError,
  formatAddress,
  formatMessage,
  INSTALLMENT_MESSAGES,
  type Installment,
  installmentProgress,
  installmentSchedule,
  type ScheduleProblem,
  scheduleProblems,
  todayInChina,
} from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import PDFDocument from 'pdfkit';
import { yuanText } from '../billing/engine.ts';
import { font, weight } from '../billing/notice.ts';
import type { DB } from '../db/schema.ts';
import type { InstallmentStatus } from '../db/schemaCollectionHolds.ts';
import { lockAccount } from '../payments/ledger.ts';
import { audit } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldErrors, notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import type { Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';
import { onInstallmentSigned } from './restore.ts';

/**
 * Installment agreements (还欠协议, DOMAIN.md §6 "Restore", docs/arrears.md "Installment
 * agreements"): a clerk (collection.dispute) requests one over the customer's overdue bills with a
 * schedule summing exactly to the debt; the deputy GM (collection.approve, never the requester)
 * approves or rejects it; once the customer signs the printed agreement it is recorded as signed,
 * the covered arrears are held out of escalation (collection_hold) and supply is restored
 * (collections/restore.ts onInstallmentSigned). Payments on the covered bills count against the
 * installments in order; a daily check completes the agreement when all is paid, or defaults it when
 * an installment is still unpaid collections.installment.graceDays after its date — the hold goes and
 * the arrears re-enter the escalation ladder.
 */

const err = (code: string, zh: string, en: string, data: Record<string, unknown> = {}) =>
  new DomainError(code, data, { 'zh-CN': zh, en });

export interface AgreementInput {
  /** The covered bills (default: every overdue bill with something unpaid). */
  billIds?: number[];
  /** Equal installments: how many, the first date, months apart. */
  count?: number;
  firstDueOn?: string;
  intervalMonths?: number;
  /** Or a schedule written by hand (amounts must sum to the debt). */
  items?: { dueOn: string; amountFen: number }[];
  reason: string;
}

export interface AgreementView {
  accountId: number;
  agreementId: number;
  agreementNo: string;
  officeId: number;
  customerCode: string;
  customerName: string;
  status: InstallmentStatus;
  debtFen: number;
  paidFen: number;
  remainingFen: number;
  installments: (Installment & { paid: boolean })[];
  bills: { billId: number; billNo: string; period: string; owedFen: number }[];
  nextDue: { seq: number; dueOn: string; stillOwedFen: number } | null;
  reason: string;
  requestedBy: string;
  requestedById: number;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string;
  signedAt: string | null;
  completedAt: string | null;
  defaultedAt: string | null;
  defaultedSeq: number | null;
}

function scheduleError(problems: ScheduleProblem[], data: Record<string, unknown>) {
  const path = (p: ScheduleProblem) =>
    p === 'COUNT_OUT_OF_RANGE' ? 'count' : p === 'INTERVAL_OUT_OF_RANGE' ? 'intervalMonths' : 'items';
  return fieldErrors(
    problems.map((p) => ({
      path: path(p),
      code: p,
      messages: {
        'zh-CN': formatMessage(INSTALLMENT_MESSAGES[p]['zh-CN'], data),
        en: formatMessage(INSTALLMENT_MESSAGES[p].en, data),
      },
    })),
  );
}

/** The next agreement number of the year (receipt_sequence row 'installment_agreement', gapless). */
async function nextAgreementNo(trx: Db, year: number): Promise<string> {
  const row = await trx
    .insertInto('receipt_sequence')
    .values({ kind: 'installment_agreement', year, last_no: 1 })
    .onConflict((oc) =>
      oc.columns(['kind', 'year']).doUpdateSet((eb) => ({ last_no: eb('receipt_sequence.last_no', '+', 1) })),
    )
    .returning('last_no')
    .executeTakeFirstOrThrow();
  return agreementNumber(year, Number(row.last_no));
}

export async function requestAgreement(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  input: AgreementInput,
): Promise<AgreementView> {
  const caller = requireCaller(ctx);
  const account = await lockAccount(trx, accountId);
  if (!account) throw notFound('customer', accountId);
  const settings = await loadSettings(trx as Kysely<DB>);
  const today = todayInChina();
  const live = await trx
    .selectFrom('installment_agreement')
    .select(['agreement_no', 'status'])
    .where('account_id', '=', accountId)
    .where('status', 'in', ['requested', 'approved', 'signed'])
    .executeTakeFirst();
  if (live)
    throw err(
      'INSTALLMENT_EXISTS',
      '该用户已有还欠协议 {no}（{status}），不能再申请',
      'The customer already has agreement {no} ({status})',
      { no: live.agreement_no, status: live.status },
    );
  const bills = await sql<{ bill_id: number; owed: number; paid: number }>`
    select b.bill_id, b.amount_fen - b.paid_fen as owed, b.paid_fen as paid
      from bill b
     where b.account_id = ${accountId} and b.status = 'open' and b.paid_fen < b.amount_fen
       and ${input.billIds?.length ? sql`b.bill_id = any(${input.billIds}::bigint[])` : sql`b.due_on < ${today}::date`}
     order by b.due_on, b.bill_id`.execute(trx);
  if (input.billIds?.length && bills.rows.length !== new Set(input.billIds).size)
    throw fieldErrors([
      {
        path: 'billIds',
        code: 'BILL_NOT_OWED',
        messages: {
          'zh-CN': '所选账单中有已缴清、已作废或不存在的账单',
          en: 'Some chosen bills are paid, cancelled or unknown',
        },
      },
    ]);
  const debtFen = bills.rows.reduce((s, b) => s + Number(b.owed), 0);
  if (debtFen <= 0)
    throw err(
      'NOTHING_OWED',
      '该用户没有逾期欠费，无需分期',
      'The customer has no overdue arrears to pay in installments',
    );
  const maxInstallments = settings['collections.installment.maxInstallments'];
  const maxMonths = settings['collections.installment.maxMonths'];
  const data = { max: maxInstallments, months: maxMonths, yuan: yuanText(debtFen) };
  let items: Installment[];
  if (input.items?.length) {
    items = input.items.map((i, k) => ({ seq: k + 1, dueOn: i.dueOn, amountFen: i.amountFen }));
  } else {
    const count = input.count ?? 0;
    const interval = input.intervalMonths ?? 1;
    if (!Number.isInteger(interval) || interval < 1 || interval > 3)
      throw scheduleError(['INTERVAL_OUT_OF_RANGE'], data);
    if (!Number.isInteger(count) || count < 1 || count > maxInstallments)
      throw scheduleError(['COUNT_OUT_OF_RANGE'], data);
    if (debtFen < count) throw scheduleError(['DEBT_BELOW_COUNT'], data);
    items = installmentSchedule({
      debtFen,
      count,
      firstDueOn: input.firstDueOn ?? today,
      intervalMonths: interval,
    });
  }
  const problems = scheduleProblems(items, debtFen, { today, maxInstallments, maxMonths });
  if (problems.length) throw scheduleError(problems, data);
  const agreementNo = await nextAgreementNo(trx, Number(today.slice(0, 4)));
  const row = await trx
    .insertInto('installment_agreement')
    .values({
      account_id: accountId,
      agreement_no: agreementNo,
      office_id: account.officeId,
      debt_fen: debtFen,
      paid_before_fen: bills.rows.reduce((s, b) => s + Number(b.paid), 0),
      installments: items.length,
      reason: input.reason.trim(),
      requested_by: caller.staffId,
    })
    .returning('agreement_id')
    .executeTakeFirstOrThrow();
  const agreementId = Number(row.agreement_id);
  await trx
    .insertInto('installment_bill')
    .values(
      bills.rows.map((b) => ({
        account_id: accountId,
        agreement_id: agreementId,
        bill_id: Number(b.bill_id),
        owed_fen: Number(b.owed),
      })),
    )
    .execute();
  await trx
    .insertInto('installment_item')
    .values(
      items.map((i) => ({
        account_id: accountId,
        agreement_id: agreementId,
        seq: i.seq,
        due_on: i.dueOn,
        amount_fen: i.amountFen,
      })),
    )
    .execute();
  await audit(trx, ctx, {
    entityType: 'installment_agreement',
    entityId: `${accountId}/${agreementId}`,
    action: 'request',
    accountId,
    officeId: account.officeId,
    after: {
      agreementNo,
      debtFen,
      items,
      bills: bills.rows.map((b) => Number(b.bill_id)),
      reason: input.reason,
    },
  });
  return agreementView(trx, accountId, agreementId);
}

async function lockAgreement(trx: Db, accountId: number, agreementId: number) {
  const a = await trx
    .selectFrom('installment_agreement')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('agreement_id', '=', agreementId)
    .forUpdate()
    .executeTakeFirst();
  if (!a) throw notFound('installment_agreement', agreementId);
  return a;
}

const wrongState = (status: string, expected: string) =>
  err(
    'INSTALLMENT_STATE',
    '该协议当前状态为 {status}，只有 {expected} 状态的协议可以这样操作',
    'The agreement is {status}; only one that is {expected} can be changed this way',
    { status, expected },
  );

/** The deputy GM's decision (collection.approve): never on an agreement they requested. */
export async function decideAgreement(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  agreementId: number,
  input: { approve: boolean; note: string },
): Promise<AgreementView> {
  const caller = requireCaller(ctx);
  const a = await lockAgreement(trx, accountId, agreementId);
  if (a.status !== 'requested') throw wrongState(a.status, 'requested');
  if (Number(a.requested_by) === caller.staffId)
    throw err('SELF_APPROVAL', '不能审批自己提交的申请', 'You cannot approve a request you made yourself');
  if (!input.approve && !input.note.trim())
    throw fieldErrors([
      {
        path: 'note',
        code: 'REQUIRED',
        messages: { 'zh-CN': '驳回须说明理由', en: 'Say why it is rejected' },
      },
    ]);
  const status = input.approve ? 'approved' : 'rejected';
  await trx
    .updateTable('installment_agreement')
    .set({ status, decided_by: caller.staffId, decided_at: new Date(), decision_note: input.note.trim() })
    .where('account_id', '=', accountId)
    .where('agreement_id', '=', agreementId)
    .execute();
  await audit(trx, ctx, {
    entityType: 'installment_agreement',
    entityId: `${accountId}/${agreementId}`,
    action: input.approve ? 'approve' : 'reject',
    accountId,
    officeId: a.office_id,
    before: { status: a.status },
    after: { status, note: input.note },
  });
  return agreementView(trx, accountId, agreementId);
}

/**
 * The customer signed the printed agreement: it is recorded, the covered arrears are held from now
 * on, and supply is restored (restore.ts, in the same transaction).
 */
export async function signAgreement(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  agreementId: number,
): Promise<AgreementView> {
  const caller = requireCaller(ctx);
  await lockAccount(trx, accountId);
  const a = await lockAgreement(trx, accountId, agreementId);
  if (a.status !== 'approved') throw wrongState(a.status, 'approved');
  await trx
    .updateTable('installment_agreement')
    .set({ status: 'signed', signed_by: caller.staffId, signed_at: new Date() })
    .where('account_id', '=', accountId)
    .where('agreement_id', '=', agreementId)
    .execute();
  await audit(trx, ctx, {
    entityType: 'installment_agreement',
    entityId: `${accountId}/${agreementId}`,
    action: 'sign',
    accountId,
    officeId: a.office_id,
    before: { status: a.status },
    after: { status: 'signed' },
  });
  await restoreOnSigning(trx, ctx, accountId);
  return agreementView(trx, accountId, agreementId);
}

/**
 * DOMAIN.md §6: "sign an installment agreement …, then supply is restored": the escalation part's
 * restore (restore.ts) dispatches a restore order for every shut-off and stands pending ones down.
 */
async function restoreOnSigning(trx: Db, ctx: RequestContext, accountId: number): Promise<void> {
  await onInstallmentSigned(trx, ctx, accountId);
}

interface AgreementRow {
  account_id: number;
  agreement_id: number;
  agreement_no: string;
  office_id: number;
  customer_code: string;
  customer_name: string;
  status: InstallmentStatus;
  debt_fen: number;
  paid_before_fen: number;
  paid_now_fen: number;
  reason: string;
  requested_by: string;
  requested_by_id: number;
  requested_at: Date;
  decided_by: string | null;
  decided_at: Date | null;
  decision_note: string;
  signed_at: Date | null;
  completed_at: Date | null;
  defaulted_at: Date | null;
  defaulted_seq: number | null;
  items: { seq: number; dueOn: string; amountFen: number }[];
  bills: { billId: number; billNo: string; period: string; owedFen: number }[];
}

/** The SQL of an agreement with its schedule, bills and what the covered bills have been paid now. */
const agreementSelect = sql`
  select a.account_id, a.agreement_id, a.agreement_no, a.office_id, c.customer_code, c.name as customer_name,
         a.status, a.debt_fen, a.paid_before_fen,
         (select coalesce(sum(b.paid_fen), 0) from installment_bill ib
            join bill b on b.account_id = ib.account_id and b.bill_id = ib.bill_id
           where ib.account_id = a.account_id and ib.agreement_id = a.agreement_id)::bigint as paid_now_fen,
         a.reason, rs.full_name as requested_by, a.requested_by as requested_by_id, a.requested_at,
         ds.full_name as decided_by, a.decided_at, a.decision_note, a.signed_at, a.completed_at, a.defaulted_at,
         a.defaulted_seq,
         (select json_agg(json_build_object('seq', i.seq, 'dueOn', i.due_on, 'amountFen', i.amount_fen) order by i.seq)
            from installment_item i where i.account_id = a.account_id and i.agreement_id = a.agreement_id) as items,
         (select json_agg(json_build_object('billId', b.bill_id, 'billNo', b.bill_no, 'period', b.period,
                                            'owedFen', ib.owed_fen) order by b.period)
            from installment_bill ib join bill b on b.account_id = ib.account_id and b.bill_id = ib.bill_id
           where ib.account_id = a.account_id and ib.agreement_id = a.agreement_id) as bills
    from installment_agreement a
    join customer c on c.account_id = a.account_id
    join staff rs on rs.staff_id = a.requested_by
    left join staff ds on ds.staff_id = a.decided_by`;

function paidOf(r: Pick<AgreementRow, 'paid_now_fen' | 'paid_before_fen' | 'debt_fen'>): number {
  return Math.min(Number(r.debt_fen), Math.max(0, Number(r.paid_now_fen) - Number(r.paid_before_fen)));
}

function toView(r: AgreementRow, today: string, graceDays: number): AgreementView {
  const items = (r.items ?? []).map((i) => ({
    seq: Number(i.seq),
    dueOn: i.dueOn,
    amountFen: Number(i.amountFen),
  }));
  const paidFen = paidOf(r);
  const progress = installmentProgress(items, paidFen, today, graceDays);
  return {
    accountId: Number(r.account_id),
    agreementId: Number(r.agreement_id),
    agreementNo: r.agreement_no,
    officeId: Number(r.office_id),
    customerCode: r.customer_code,
    customerName: r.customer_name,
    status: r.status,
    debtFen: Number(r.debt_fen),
    paidFen,
    remainingFen: Number(r.debt_fen) - paidFen,
    installments: items.map((i) => ({ ...i, paid: i.seq <= progress.paidCount })),
    bills: (r.bills ?? []).map((b) => ({ ...b, billId: Number(b.billId), owedFen: Number(b.owedFen) })),
    nextDue: progress.next
      ? { seq: progress.next.seq, dueOn: progress.next.dueOn, stillOwedFen: progress.next.stillOwedFen }
      : null,
    reason: r.reason,
    requestedBy: r.requested_by,
    requestedById: Number(r.requested_by_id),
    requestedAt: r.requested_at.toISOString(),
    decidedBy: r.decided_by,
    decidedAt: r.decided_at?.toISOString() ?? null,
    decisionNote: r.decision_note,
    signedAt: r.signed_at?.toISOString() ?? null,
    completedAt: r.completed_at?.toISOString() ?? null,
    defaultedAt: r.defaulted_at?.toISOString() ?? null,
    defaultedSeq: r.defaulted_seq === null ? null : Number(r.defaulted_seq),
  };
}

export async function agreementView(db: Db, accountId: number, agreementId: number): Promise<AgreementView> {
  const settings = await loadSettings(db as Kysely<DB>);
  const { rows } = await sql<AgreementRow>`${agreementSelect}
    where a.account_id = ${accountId} and a.agreement_id = ${agreementId}`.execute(db);
  if (!rows[0]) throw notFound('installment_agreement', agreementId);
  return toView(rows[0], todayInChina(), settings['collections.installment.graceDays']);
}

export interface AgreementFilter {
  officeId?: number;
  status?: InstallmentStatus;
  accountId?: number;
  page?: number;
  pageSize?: number;
}

export async function listAgreements(
  db: Db,
  caller: Caller,
  f: AgreementFilter,
): Promise<{ items: AgreementView[]; total: number }> {
  const settings = await loadSettings(db as Kysely<DB>);
  const parts = [officeCondition(caller, sql`a.office_id`, f.officeId)];
  if (f.status) parts.push(sql`a.status = ${f.status}`);
  if (f.accountId !== undefined) parts.push(sql`a.account_id = ${f.accountId}`);
  const where = sql.join(parts, sql` and `);
  const pageSize = f.pageSize ?? 50;
  const { rows } = await sql<AgreementRow>`${agreementSelect}
    where ${where} order by a.requested_at desc, a.agreement_id desc
    limit ${pageSize} offset ${((f.page ?? 1) - 1) * pageSize}`.execute(db);
  const total = await sql<{
    n: number;
  }>`select count(*)::int as n from installment_agreement a where ${where}`.execute(db);
  const today = todayInChina();
  const grace = settings['collections.installment.graceDays'];
  return { items: rows.map((r) => toView(r, today, grace)), total: Number(total.rows[0]?.n ?? 0) };
}

export interface InstallmentCheckResult {
  checked: number;
  completed: number;
  defaulted: number;
}

/**
 * The daily check of signed agreements as of `today`: all paid → completed; an installment unpaid
 * graceDays after its date → defaulted (the hold disappears; the arrears re-enter the ladder).
 * Idempotent (only signed agreements change, once) and chunked by agreement; safe to run any time.
 */
export async function checkInstallments(
  db: Kysely<DB>,
  today: string = todayInChina(),
  chunk = 500,
): Promise<InstallmentCheckResult> {
  const settings = await loadSettings(db, today);
  const grace = settings['collections.installment.graceDays'];
  const out = { checked: 0, completed: 0, defaulted: 0 };
  let after: [number, number] = [0, 0];
  for (;;) {
    const { rows } = await sql<AgreementRow>`${agreementSelect}
      where a.status = 'signed' and (a.account_id, a.agreement_id) > (${after[0]}, ${after[1]})
      order by a.account_id, a.agreement_id limit ${chunk}`.execute(db);
    if (!rows.length) break;
    after = [Number(rows[rows.length - 1]!.account_id), Number(rows[rows.length - 1]!.agreement_id)];
    for (const r of rows) {
      out.checked++;
      const items = (r.items ?? []).map((i) => ({
        seq: Number(i.seq),
        dueOn: i.dueOn,
        amountFen: Number(i.amountFen),
      }));
      const p = installmentProgress(items, paidOf(r), today, grace);
      if (!p.completed && !p.missed) continue;
      const changed = await db
        .updateTable('installment_agreement')
        .set(
          p.completed
            ? { status: 'completed', completed_at: new Date() }
            : { status: 'defaulted', defaulted_at: new Date(), defaulted_seq: p.missed!.seq },
        )
        .where('account_id', '=', Number(r.account_id))
        .where('agreement_id', '=', Number(r.agreement_id))
        .where('status', '=', 'signed')
        .executeTakeFirst();
      if (Number(changed.numUpdatedRows) === 0) continue;
      if (p.completed) out.completed++;
      else out.defaulted++;
      await db
        .insertInto('audit_log')
        .values({
          office_id: Number(r.office_id),
          account_id: Number(r.account_id),
          entity_type: 'installment_agreement',
          entity_id: `${r.account_id}/${r.agreement_id}`,
          action: p.completed ? 'complete' : 'default',
          before: JSON.stringify({ status: 'signed' }),
          after: JSON.stringify(
            p.completed
              ? { status: 'completed', asOf: today }
              : { status: 'defaulted', missedSeq: p.missed!.seq, missedDueOn: p.missed!.dueOn, asOf: today },
          ),
        })
        .execute();
    }
  }
  return out;
}

// ---------------------------------------------------------------- the printed agreement

const STATUS_ZH: Record<InstallmentStatus, string> = {
  requested: '待审批',
  approved: '已审批，待签订',
  signed: '已签订',
  completed: '已履行完毕',
  defaulted: '已违约',
  rejected: '已驳回',
};

/** The agreement on A4 (还欠协议书), Chinese font, with the schedule and signature lines. */
export async function renderAgreement(
  db: Db,
  accountId: number,
  agreementId: number,
): Promise<{ pdf: Buffer; no: string }> {
  const a = await agreementView(db, accountId, agreementId);
  const c = await db
    .selectFrom('customer as c')
    .innerJoin('office as o', 'o.office_id', 'c.office_id')
    .select(['c.customer_code', 'c.name', 'o.name as office_name'])
    .where('c.account_id', '=', accountId)
    .executeTakeFirstOrThrow();
  const address = await db
    .selectFrom('address')
    .selectAll()
    .where('account_id', '=', accountId)
    .orderBy('address_id')
    .executeTakeFirst();
  const settings = await loadSettings(db as Kysely<DB>);
  const doc = new PDFDocument({
    size: 'A4',
    margin: 56,
    info: { Title: `还欠协议 ${a.agreementNo}`, Creator: 'meterline', Producer: 'meterline' },
  });
  doc.registerFont('sc', font());
  const chunks: Buffer[] = [];
  doc.on('data', (ch: Buffer) => chunks.push(ch));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const left = 56;
  const width = doc.page.width - 112;
  let y = 56;
  weight(doc, true, 16).text(settings['notice.utilityName'], left, y, { width, align: 'center' });
  y += 26;
  weight(doc, true, 18).text('还 欠 协 议 书', left, y, { width, align: 'center' });
  y += 30;
  weight(doc, false, 10).text(`协议编号：${a.agreementNo}    状态：${STATUS_ZH[a.status]}`, left, y, {
    width,
    align: 'right',
  });
  y += 22;
  const line = (label: string, value: string) => {
    weight(doc, false, 11).text(`${label}：${value}`, left, y, { width });
    y += Math.max(18, doc.heightOfString(`${label}：${value}`, { width }) + 4);
  };
  line('甲方（供水单位）', `${settings['notice.utilityName']} ${c.office_name}`);
  line('乙方（用户）', `${c.name}（用户编号 ${c.customer_code}）`);
  line('用水地址', address ? formatAddress(address) : '');
  y += 6;
  const body =
    `乙方截至本协议签订之日尚欠水费共计人民币 ${yuanText(a.debtFen)} 元（明细见下表）。乙方因暂时无力一次缴清，` +
    `经甲方审批同意，乙方按下列计划分 ${a.installments.length} 期缴清上述欠费。本协议签订后，甲方暂停对上述欠费的催缴升级，` +
    `并恢复供水。乙方任一期款项逾期 ${settings['collections.installment.graceDays']} 日未缴的，视为违约，` +
    `甲方有权恢复催缴程序直至依法停止供水。本协议期间产生的新水费按期另行缴纳。`;
  weight(doc, false, 11).text(body, left, y, { width, lineGap: 4 });
  y += doc.heightOfString(body, { width, lineGap: 4 }) + 12;
  weight(doc, true, 12).text('一、所欠账单', left, y);
  y += 20;
  for (const b of a.bills) {
    weight(doc, false, 10).text(`${b.period}  账单号 ${b.billNo}`, left + 12, y, { width: width * 0.7 });
    doc.text(`${yuanText(b.owedFen)} 元`, left + width * 0.7, y, { width: width * 0.3, align: 'right' });
    y += 16;
  }
  y += 8;
  weight(doc, true, 12).text('二、分期计划', left, y);
  y += 20;
  for (const i of a.installments) {
    weight(doc, false, 10).text(`第 ${i.seq} 期  ${i.dueOn} 前`, left + 12, y, { width: width * 0.7 });
    doc.text(`${yuanText(i.amountFen)} 元`, left + width * 0.7, y, { width: width * 0.3, align: 'right' });
    y += 16;
    if (y > doc.page.height - 180) {
      doc.addPage();
      y = 56;
    }
  }
  weight(doc, true, 10).text(`合计 ${yuanText(a.debtFen)} 元`, left, y + 4, { width, align: 'right' });
  y += 40;
  if (y > doc.page.height - 140) {
    doc.addPage();
    y = 56;
  }
  weight(doc, false, 11).text('甲方（盖章）：', left, y);
  doc.text('乙方（签字）：', left + width / 2, y);
  y += 40;
  doc.text(`审批：${a.decidedBy ?? ''}`, left, y);
  doc.text('身份证号：', left + width / 2, y);
  y += 24;
  doc.text(`日期：${a.signedAt ? chinaDateTime(a.signedAt).slice(0, 10) : '    年   月   日'}`, left, y);
  doc.text('日期：    年   月   日', left + width / 2, y);
  doc.end();
  return { pdf: await done, no: a.agreementNo };
}
