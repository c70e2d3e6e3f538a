import {
  escalationRules,
  gasNoticeDue,
  type LetterKind,
  letterDeadline,
  type NextStep,
  nextEscalationStep,
  todayInChina,
} from '@meterline/domain';
import { sql } from 'kysely';
import { yuanText } from '../billing/engine.ts';
import type { LetterDelivery } from '../db/schemaEscalation.ts';
import { audit } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldError, notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import type { Db } from '../readings/repository.ts';
import { officeCondition } from '../readings/service.ts';
import {
  type ArrearsBill,
  customerFacts,
  err,
  loadArrears,
  loadHistory,
  lockCustomer,
  nextDocumentNumber,
} from './escalationData.ts';

/**
 * The letters of the escalation ladder (DOMAIN.md §6 "Escalation", docs/escalation.md): the formal
 * collection letter (催缴公函), the lawyer's letter (律师函) and, for gas, the shut-off notice posted
 * on the building (停气通知). Each is numbered in its own gapless sequence per year, states the
 * arrears bill by bill, goes on the outbox as a printed letter, and is recorded as delivered:
 * signed for (who, when), or refused and sent by registered post (tracking number), or posted.
 */

export const LETTER_NAME_ZH: Record<LetterKind, string> = {
  formal: '催缴公函',
  lawyer: '律师函',
  gas_notice: '停气通知',
};

const STEP_LETTER: Record<string, LetterKind> = { formal_letter: 'formal', lawyer_letter: 'lawyer' };

export interface LetterView {
  accountId: number;
  letterId: number;
  kind: LetterKind;
  letterNo: string;
  officeId: number;
  customerCode: string;
  customerName: string;
  address: string;
  bills: ArrearsBill[];
  arrearsFen: number;
  issuedOn: string;
  deadlineOn: string;
  issuedBy: string;
  delivery: LetterDelivery;
  signedByName: string;
  deliveredOn: string | null;
  trackingNo: string;
  refusalNote: string;
  closed: boolean;
}

/** Why a letter of this kind cannot be issued today, or null. */
function letterRefusal(kind: LetterKind, next: NextStep, gasDue: boolean, utility: string) {
  if (kind === 'gas_notice') {
    if (utility !== 'gas')
      return err(
        'LETTER_NOT_DUE',
        '停气通知只适用于燃气用户',
        'A gas shut-off notice is for gas customers only',
        {
          reason: 'NOT_GAS',
        },
      );
    if (!gasDue)
      return err(
        'LETTER_NOT_DUE',
        '该用户本月不需要张贴停气通知（欠费不足或本月已张贴）',
        'No gas notice is due this month (arrears too small, or already posted this month)',
        { reason: 'GAS_NOTICE_NOT_DUE' },
      );
    return null;
  }
  if (next.step === null) {
    const zh: Record<string, string> = {
      NOT_IN_ARREARS: '该用户没有计入催缴的欠费（已缴清或金额被异议/分期暂缓）',
      BELOW_THRESHOLD: '欠费未达到发函条件',
      AWAITING_DELIVERY: '上一份函件尚未送达，请先登记送达',
      AT_TOP: '该用户已在停水（停气）流程中',
    };
    const en: Record<string, string> = {
      NOT_IN_ARREARS: 'Nothing owed counts towards escalation (paid, or held by a dispute or installment)',
      BELOW_THRESHOLD: 'The arrears do not reach this step yet',
      AWAITING_DELIVERY: 'The previous letter has not been delivered yet: record its delivery first',
      AT_TOP: 'The customer is already in the shut-off process',
    };
    return err('LETTER_NOT_DUE', zh[next.reason]!, en[next.reason]!, { reason: next.reason });
  }
  if (STEP_LETTER[next.step] !== kind)
    return err(
      'LETTER_NOT_DUE',
      '下一步应为「{expected}」，不是「{asked}」',
      'The next step is {expected}, not {asked}',
      { reason: 'WRONG_STEP', expected: next.step, asked: kind },
    );
  if (!next.due)
    return err('LETTER_NOT_DUE', '须等到 {dueOn} 才能发出', 'Not before {dueOn}', {
      reason: 'TOO_EARLY',
      dueOn: next.dueOn,
    });
  return null;
}

/** Issues the next letter of the ladder for an account: numbered, on the outbox, audited. */
export async function issueLetter(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  kind: LetterKind,
): Promise<LetterView> {
  const caller = requireCaller(ctx);
  const today = todayInChina();
  await lockCustomer(trx, accountId);
  const settings = await loadSettings(trx as never);
  const facts = await customerFacts(trx, accountId);
  const arrears = (await loadArrears(trx, [accountId], today)).get(accountId)!;
  const history = (await loadHistory(trx, [accountId])).get(accountId)!;
  const next = nextEscalationStep({ today, arrears, history }, escalationRules(settings));
  const refusal = letterRefusal(
    kind,
    next,
    gasNoticeDue(today, arrears, history.gasNoticeOn, settings),
    facts.utility,
  );
  if (refusal) throw refusal;
  const letterNo = await nextDocumentNumber(trx, kind, Number(today.slice(0, 4)));
  const deadlineOn = letterDeadline(today, settings['escalation.letterDeadlineDays']);
  const row = await trx
    .insertInto('collection_letter')
    .values({
      account_id: accountId,
      kind,
      letter_no: letterNo,
      office_id: facts.officeId,
      bills: JSON.stringify(arrears.bills),
      arrears_fen: arrears.arrearsFen,
      issued_on: today,
      deadline_on: deadlineOn,
      issued_by: caller.staffId,
    })
    .returning('letter_id')
    .executeTakeFirstOrThrow();
  const letterId = Number(row.letter_id);
  // The printed letter leaves through the outbox like every message (channel letter): it is printed
  // here, so it is "sent" at once and "delivered" when its delivery is recorded.
  const message = await trx
    .insertInto('outbox_message')
    .values({
      account_id: accountId,
      channel: 'letter',
      recipient: facts.address || facts.name,
      template: `letter_${kind}`,
      body: `${LETTER_NAME_ZH[kind]} ${letterNo}：${facts.name}，截至 ${today} 欠费 ${yuanText(arrears.arrearsFen)} 元，请于 ${deadlineOn} 前缴清。`,
      dedupe_key: `letter:${letterId}`,
      status: 'sent',
      sent_at: new Date(),
      bill_id: arrears.bills[0]?.billId ?? null,
      stop_if_paid: false,
      purpose: 'letter',
    } as never)
    .returning('message_id')
    .executeTakeFirstOrThrow();
  await trx
    .updateTable('collection_letter')
    .set({ message_id: Number(message.message_id) })
    .where('account_id', '=', accountId)
    .where('letter_id', '=', letterId)
    .execute();
  await audit(trx, ctx, {
    entityType: 'collection_letter',
    entityId: `${accountId}/${letterId}`,
    action: `issue_${kind}`,
    accountId,
    officeId: facts.officeId,
    after: {
      letterNo,
      arrearsFen: arrears.arrearsFen,
      deadlineOn,
      bills: arrears.bills.map((b) => b.billId),
    },
  });
  return letterView(trx, accountId, letterId);
}

export interface DeliveryInput {
  outcome: 'signed' | 'refused' | 'posted';
  signedByName?: string;
  deliveredOn?: string;
  trackingNo?: string;
  note?: string;
}

/** Records a letter's delivery: signed for, refused → registered post, or (gas notice) posted. */
export async function recordDelivery(
  trx: Db,
  ctx: RequestContext,
  accountId: number,
  letterId: number,
  input: DeliveryInput,
): Promise<LetterView> {
  const caller = requireCaller(ctx);
  const letter = await trx
    .selectFrom('collection_letter')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('letter_id', '=', letterId)
    .forUpdate()
    .executeTakeFirst();
  if (!letter) throw notFound('collection_letter', letterId);
  if (letter.delivery !== 'pending')
    throw err('LETTER_DELIVERED', '该函件已登记送达', 'This letter’s delivery is recorded already');
  const deliveredOn = input.deliveredOn ?? todayInChina();
  if (deliveredOn < letter.issued_on || deliveredOn > todayInChina())
    throw fieldError('deliveredOn', 'RANGE');
  let delivery: LetterDelivery;
  if (input.outcome === 'signed') {
    if (!input.signedByName?.trim()) throw fieldError('signedByName', 'REQUIRED');
    delivery = 'signed';
  } else if (input.outcome === 'refused') {
    if (!input.trackingNo?.trim()) throw fieldError('trackingNo', 'REQUIRED');
    delivery = 'registered_post';
  } else {
    if (letter.kind !== 'gas_notice') throw fieldError('outcome', 'FORMAT');
    delivery = 'posted';
  }
  await trx
    .updateTable('collection_letter')
    .set({
      delivery,
      signed_by_name: input.signedByName?.trim() ?? '',
      delivered_on: deliveredOn,
      tracking_no: input.trackingNo?.trim() ?? '',
      refusal_note: input.note?.trim() ?? '',
      delivery_recorded_by: caller.staffId,
      delivery_recorded_at: new Date(),
    })
    .where('account_id', '=', accountId)
    .where('letter_id', '=', letterId)
    .execute();
  if (letter.message_id !== null)
    await trx
      .updateTable('outbox_message')
      .set({ status: 'delivered' })
      .where('account_id', '=', accountId)
      .where('message_id', '=', letter.message_id)
      .execute();
  await audit(trx, ctx, {
    entityType: 'collection_letter',
    entityId: `${accountId}/${letterId}`,
    action: 'record_delivery',
    accountId,
    officeId: letter.office_id,
    before: { delivery: 'pending' },
    after: {
      delivery,
      deliveredOn,
      signedByName: input.signedByName ?? '',
      trackingNo: input.trackingNo ?? '',
    },
  });
  return letterView(trx, accountId, letterId);
}

async function letterRows(db: Db, where: ReturnType<typeof sql>, limit: number): Promise<LetterView[]> {
  const { rows } = await sql<{
    account_id: string;
    letter_id: string;
    kind: LetterKind;
    letter_no: string;
    office_id: string;
    customer_code: string;
    customer_name: string;
    bills: ArrearsBill[];
    arrears_fen: string;
    issued_on: string;
    deadline_on: string;
    issued_by: string;
    delivery: LetterDelivery;
    signed_by_name: string;
    delivered_on: string | null;
    tracking_no: string;
    refusal_note: string;
    closed: boolean;
    address: string | null;
  }>`
    select l.account_id::text, l.letter_id::text, l.kind, l.letter_no, l.office_id::text, c.customer_code,
           c.name as customer_name, l.bills, l.arrears_fen::text, l.issued_on::text, l.deadline_on::text,
           s.full_name as issued_by, l.delivery, l.signed_by_name, l.delivered_on::text, l.tracking_no,
           l.refusal_note, l.closed,
           (select concat(a.district, a.community, nullif(a.building, '') || '栋', nullif(a.unit, '') || '单元',
                          nullif(a.door, '') || '室', a.detail)
              from address a where a.account_id = l.account_id order by a.kind = 'supply' desc, a.address_id limit 1) as address
      from collection_letter l
      join customer c on c.account_id = l.account_id
      join staff s on s.staff_id = l.issued_by
     where ${where}
     order by l.issued_at desc, l.letter_id desc
     limit ${limit}`.execute(db);
  return rows.map((r) => ({
    accountId: Number(r.account_id),
    letterId: Number(r.letter_id),
    kind: r.kind,
    letterNo: r.letter_no,
    officeId: Number(r.office_id),
    customerCode: r.customer_code,
    customerName: r.customer_name,
    address: r.address ?? '',
    bills: r.bills,
    arrearsFen: Number(r.arrears_fen),
    issuedOn: r.issued_on,
    deadlineOn: r.deadline_on,
    issuedBy: r.issued_by,
    delivery: r.delivery,
    signedByName: r.signed_by_name,
    deliveredOn: r.delivered_on,
    trackingNo: r.tracking_no,
    refusalNote: r.refusal_note,
    closed: r.closed,
  }));
}

export async function letterView(db: Db, accountId: number, letterId: number): Promise<LetterView> {
  const rows = await letterRows(db, sql`l.account_id = ${accountId} and l.letter_id = ${letterId}`, 1);
  if (!rows[0]) throw notFound('collection_letter', letterId);
  return rows[0];
}

export async function listLetters(
  db: Db,
  caller: Caller,
  q: { officeId?: number; kind?: LetterKind; accountId?: number; pending?: boolean },
): Promise<LetterView[]> {
  const parts = [officeCondition(caller, sql`l.office_id`, q.officeId)];
  if (q.kind) parts.push(sql`l.kind = ${q.kind}`);
  if (q.accountId !== undefined) parts.push(sql`l.account_id = ${q.accountId}`);
  if (q.pending) parts.push(sql`l.delivery = 'pending'`);
  return letterRows(db, sql.join(parts, sql` and `), 500);
}

export interface EscalationCandidate {
  accountId: number;
  officeId: number;
  customerCode: string;
  customerName: string;
  customerKind: 'person' | 'organisation';
  utility: string;
  state: string;
  arrearsFen: number;
  cycles: number;
  months: number;
  oldestDueOn: string | null;
  next: NextStep;
  gasNoticeDue: boolean;
  formal: { issuedOn: string; deliveredOn: string | null } | null;
  lawyer: { issuedOn: string; deliveredOn: string | null } | null;
}

/** Ceiling on the candidates listed at once (largest arrears first). */
export const CANDIDATES_LIMIT = 500;

/**
 * Customers in the caller's offices with overdue arrears, with the ladder's next step for each
 * (due or not): the escalation page's list. Set-based: the arrears and histories of all the
 * listed accounts are read in two queries.
 */
export async function escalationCandidates(
  db: Db,
  caller: Caller,
  q: { officeId?: number; dueOnly?: boolean },
): Promise<EscalationCandidate[]> {
  const today = todayInChina();
  const settings = await loadSettings(db as never);
  const { rows } = await sql<{
    account_id: string;
    office_id: string;
    customer_code: string;
    name: string;
    kind: 'person' | 'organisation';
    utility: string;
    state: string;
  }>`
    select c.account_id::text, c.office_id::text, c.customer_code, c.name, c.kind, c.utility, c.state
      from customer c
     where ${officeCondition(caller, sql`c.office_id`, q.officeId)}
       and exists (select 1 from bill b where b.account_id = c.account_id and b.status = 'open'
                     and b.paid_fen < b.amount_fen and b.due_on < ${today}::date)
     order by (select sum(b.amount_fen - b.paid_fen) from bill b where b.account_id = c.account_id
                 and b.status = 'open' and b.due_on < ${today}::date) desc, c.account_id
     limit ${CANDIDATES_LIMIT}`.execute(db);
  const ids = rows.map((r) => Number(r.account_id));
  const [arrears, history] = await Promise.all([loadArrears(db, ids, today), loadHistory(db, ids)]);
  const rules = escalationRules(settings);
  const out: EscalationCandidate[] = [];
  for (const r of rows) {
    const id = Number(r.account_id);
    const a = arrears.get(id)!;
    const h = history.get(id)!;
    if (a.arrearsFen <= 0) continue;
    const next = nextEscalationStep({ today, arrears: a, history: h }, rules);
    const gasDue = r.utility === 'gas' && gasNoticeDue(today, a, h.gasNoticeOn, settings);
    if (q.dueOnly && !(next.step !== null && next.due) && !gasDue) continue;
    out.push({
      accountId: id,
      officeId: Number(r.office_id),
      customerCode: r.customer_code,
      customerName: r.name,
      customerKind: r.kind,
      utility: r.utility,
      state: r.state,
      arrearsFen: a.arrearsFen,
      cycles: a.cycles,
      months: a.months,
      oldestDueOn: a.oldestDueOn,
      next,
      gasNoticeDue: gasDue,
      formal: h.formal,
      lawyer: h.lawyer,
    });
  }
  return out;
}

/** Letters stating arrears that are no longer owed are closed (the ladder starts again next time). */
export async function closeLettersOfClearedArrears(trx: Db, accountId: number): Promise<number> {
  const { numAffectedRows } = await sql`
    update collection_letter l set closed = true
     where l.account_id = ${accountId} and not l.closed
       and not exists (
         select 1 from jsonb_array_elements(l.bills) e
           join bill b on b.account_id = l.account_id and b.bill_id = (e->>'billId')::bigint
          where b.status = 'open' and b.paid_fen < b.amount_fen)`.execute(trx);
  return Number(numAffectedRows ?? 0);
}
