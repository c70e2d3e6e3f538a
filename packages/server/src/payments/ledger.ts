import {
  type Allocation,
  type LedgerEvent,
  type LedgerLine,
  type Posting,
  postingFor,
} from '@meterline/domain';
import { sql } from 'kysely';
import type { Db } from '../readings/repository.ts';

/**
 * The account ledger in the database (docs/payments.md "The ledger"): postings and their lines,
 * what they do to bill.paid_fen and late_fee.paid_fen, and the check that runs after every posting.
 * Every function here runs inside the caller's transaction, after the account row is locked
 * (lockAccount), so postings of one account never interleave.
 */

/** Locks the customer row: postings to one account are serialised, different accounts run side by side. */
export async function lockAccount(trx: Db, accountId: number): Promise<{ officeId: number } | null> {
  const row = await trx
    .selectFrom('customer')
    .select('office_id')
    .where('account_id', '=', accountId)
    .forUpdate()
    .executeTakeFirst();
  return row ? { officeId: row.office_id } : null;
}

export interface PostingMeta {
  paymentId?: number | null;
  reason?: string;
  createdBy: number | null;
  approvedBy?: number | null;
}

/**
 * Writes one posting: the domain's postingFor turns the event into balanced lines (or refuses it),
 * the lines are stored, and the bills' paid amounts follow the receivable lines. Returns the id.
 */
export async function post(
  trx: Db,
  accountId: number,
  event: DistributiveOmit<LedgerEvent, 'postingId'>,
  meta: PostingMeta,
): Promise<{ postingId: number; posting: Posting; billIds: number[] }> {
  // Validate before anything is written.
  postingFor({ ...event, postingId: 'new' } as LedgerEvent);
  const reverses = event.kind === 'reversal' ? Number(event.reverses.postingId) : null;
  const { posting_id } = await trx
    .insertInto('ledger_posting')
    .values({
      account_id: accountId,
      kind: event.kind,
      reverses_posting_id: reverses,
      payment_id: meta.paymentId ?? null,
      reason: meta.reason ?? '',
      created_by: meta.createdBy,
      approved_by: meta.approvedBy ?? null,
    })
    .returning('posting_id')
    .executeTakeFirstOrThrow();
  const postingId = Number(posting_id);
  const posting = postingFor({ ...event, postingId: String(postingId) } as LedgerEvent);
  await trx
    .insertInto('ledger_line')
    .values(
      posting.lines.map((l, i) => ({
        account_id: accountId,
        posting_id: postingId,
        line_no: i + 1,
        ledger_account: l.ledgerAccount,
        debit_fen: l.debitFen,
        credit_fen: l.creditFen,
        bill_id: l.billId === undefined ? null : Number(l.billId),
        part: l.part ?? null,
        code: l.code ?? null,
      })),
    )
    .execute();
  await applyToBills(trx, accountId, posting.lines);
  const billIds = [
    ...new Set(posting.lines.filter((l) => l.billId !== undefined).map((l) => Number(l.billId))),
  ];
  return { postingId, posting, billIds };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** bill.paid_fen and late_fee.paid_fen move by the receivable credits (less debits) of the lines. */
async function applyToBills(trx: Db, accountId: number, lines: readonly LedgerLine[]): Promise<void> {
  const principal = new Map<number, number>();
  const lateFee = new Map<number, number>();
  for (const l of lines) {
    if (l.ledgerAccount !== 'receivable' || l.billId === undefined) continue;
    const m = l.part === 'late_fee' ? lateFee : principal;
    const id = Number(l.billId);
    m.set(id, (m.get(id) ?? 0) + l.creditFen - l.debitFen);
  }
  if (principal.size)
    await sql`
      update bill b set paid_fen = b.paid_fen + t.fen
      from unnest(${[...principal.keys()]}::bigint[], ${[...principal.values()]}::bigint[]) as t(bill_id, fen)
      where b.account_id = ${accountId} and b.bill_id = t.bill_id`.execute(trx);
  if (lateFee.size)
    await sql`
      update late_fee f set paid_fen = f.paid_fen + t.fen
      from unnest(${[...lateFee.keys()]}::bigint[], ${[...lateFee.values()]}::bigint[]) as t(bill_id, fen)
      where f.account_id = ${accountId} and f.bill_id = t.bill_id`.execute(trx);
}

/** A posting's lines as stored, in line order (for reversals). */
export async function loadPosting(trx: Db, accountId: number, postingId: number): Promise<Posting | null> {
  const p = await trx
    .selectFrom('ledger_posting')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('posting_id', '=', postingId)
    .executeTakeFirst();
  if (!p) return null;
  const lines = await trx
    .selectFrom('ledger_line')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('posting_id', '=', postingId)
    .orderBy('line_no')
    .execute();
  return {
    postingId: String(postingId),
    kind: p.kind as Posting['kind'],
    reversesPostingId: p.reverses_posting_id === null ? null : String(p.reverses_posting_id),
    lines: lines.map((l) => ({
      ledgerAccount: l.ledger_account as LedgerLine['ledgerAccount'],
      debitFen: Number(l.debit_fen),
      creditFen: Number(l.credit_fen),
      ...(l.bill_id !== null ? { billId: String(l.bill_id) } : {}),
      ...(l.part !== null ? { part: l.part } : {}),
      ...(l.code !== null ? { code: l.code } : {}),
    })),
  };
}

/** The allocations of a posting's receivable credits, by bill. */
export function allocationsOf(posting: Posting): Allocation[] {
  const byBill = new Map<string, Allocation>();
  for (const l of posting.lines) {
    if (l.ledgerAccount !== 'receivable' || l.billId === undefined) continue;
    const a = byBill.get(l.billId) ?? { billId: l.billId, principalFen: 0, lateFeeFen: 0 };
    if (l.part === 'late_fee') a.lateFeeFen += l.creditFen - l.debitFen;
    else a.principalFen += l.creditFen - l.debitFen;
    byBill.set(l.billId, a);
  }
  return [...byBill.values()];
}

/** The customer's credit (预存余额) held on the ledger's prepayment account (IC-card prepayments apart). */
export async function creditFen(trx: Db, accountId: number): Promise<number> {
  const { rows } = await sql<{ fen: string | null }>`
    select sum(credit_fen - debit_fen) as fen from ledger_line
    where account_id = ${accountId} and ledger_account = 'prepayment'`.execute(trx);
  return Number(rows[0]?.fen ?? 0);
}

/** Deposits held on the ledger. */
export async function depositHeldFen(trx: Db, accountId: number): Promise<number> {
  const { rows } = await sql<{ fen: string | null }>`
    select sum(credit_fen - debit_fen) as fen from ledger_line
    where account_id = ${accountId} and ledger_account = 'deposit_held'`.execute(trx);
  return Number(rows[0]?.fen ?? 0);
}

export interface LedgerProblem {
  code:
    | 'POSTING_UNBALANCED'
    | 'LEDGER_UNBALANCED'
    | 'BILL_PAID_MISMATCH'
    | 'LATE_FEE_PAID_MISMATCH'
    | 'CREDIT_NEGATIVE';
  ref: string;
  detail: string;
}

/**
 * The account's ledger checked whole (docs/payments.md "The invariant"): every posting balances,
 * debits equal credits over the account, each standing bill's principal and late fee on the
 * receivable equal what the bill and its late fee say is unpaid, and credit and deposits are
 * never below zero. Empty when all holds.
 */
export async function accountLedgerProblems(trx: Db, accountId: number): Promise<LedgerProblem[]> {
  const problems: LedgerProblem[] = [];
  const { rows: unbalanced } = await sql<{ posting_ref: string; d: string; c: string }>`
    select posting_ref, sum(debit_fen)::text as d, sum(credit_fen)::text as c
    from account_ledger where account_id = ${accountId}
    group by posting_ref having sum(debit_fen) <> sum(credit_fen)`.execute(trx);
  for (const r of unbalanced)
    problems.push({ code: 'POSTING_UNBALANCED', ref: r.posting_ref, detail: `debit ${r.d} credit ${r.c}` });
  const { rows: bills } = await sql<{
    bill_id: string;
    unpaid: string;
    fee_owed: string;
    net: string;
    fee_net: string;
  }>`
    with r as (
      select bill_id, sum(debit_fen - credit_fen) filter (where part = 'principal') as net,
             sum(debit_fen - credit_fen) filter (where part = 'late_fee') as fee_net
      from account_ledger where account_id = ${accountId} and ledger_account = 'receivable'
      group by bill_id)
    select b.bill_id::text, (b.amount_fen - b.paid_fen)::text as unpaid,
           coalesce(f.accrued_fen - f.waived_fen - f.paid_fen, 0)::text as fee_owed,
           coalesce(r.net, 0)::text as net, coalesce(r.fee_net, 0)::text as fee_net
    from bill b
    left join r on r.bill_id = b.bill_id
    left join late_fee f on f.account_id = b.account_id and f.bill_id = b.bill_id
    where b.account_id = ${accountId} and b.status = 'open'
      and (b.amount_fen - b.paid_fen <> coalesce(r.net, 0)
           or coalesce(f.accrued_fen - f.waived_fen - f.paid_fen, 0) <> coalesce(r.fee_net, 0))`.execute(trx);
  for (const b of bills) {
    if (b.unpaid !== b.net)
      problems.push({
        code: 'BILL_PAID_MISMATCH',
        ref: `bill:${b.bill_id}`,
        detail: `unpaid ${b.unpaid} ledger ${b.net}`,
      });
    if (b.fee_owed !== b.fee_net)
      problems.push({
        code: 'LATE_FEE_PAID_MISMATCH',
        ref: `bill:${b.bill_id}`,
        detail: `owed ${b.fee_owed} ledger ${b.fee_net}`,
      });
  }
  const credit = await creditFen(trx, accountId);
  if (credit < 0)
    problems.push({ code: 'CREDIT_NEGATIVE', ref: `account:${accountId}`, detail: `credit ${credit}` });
  const deposit = await depositHeldFen(trx, accountId);
  if (deposit < 0)
    problems.push({ code: 'CREDIT_NEGATIVE', ref: `account:${accountId}`, detail: `deposit ${deposit}` });
  return problems;
}

/**
 * The check after each posting, narrowed to what a posting can change — the bills it touched, the
 * account's credit and deposits — in one query on the ledger's own tables (the whole-account view
 * check, accountLedgerProblems, costs more to plan than a payment does to post). Each standing bill
 * touched: paid_fen equals the receivable credits of the ledger plus the prepaid deductions, and lies
 * between 0 and the bill's amount; its late fee's paid_fen equals the late-fee credits. Debits =
 * credits per posting is the database's own deferred check (ledger_line_balanced).
 */
export async function postingEffectProblems(
  trx: Db,
  accountId: number,
  billIds: readonly number[],
): Promise<LedgerProblem[]> {
  const { rows } = await sql<{ kind: string; ref: string; detail: string }>`
    with touched as (select unnest(${[...billIds]}::bigint[]) as bill_id),
    ledger as (
      select l.bill_id,
             coalesce(sum(l.credit_fen - l.debit_fen) filter (where l.part = 'principal'), 0) as principal,
             coalesce(sum(l.credit_fen - l.debit_fen) filter (where l.part = 'late_fee'), 0) as late_fee
      from ledger_line l join touched t on t.bill_id = l.bill_id
      where l.account_id = ${accountId}
      group by l.bill_id),
    prepaid as (
      select e.bill_id, -sum(e.amount_fen) as paid
      from prepaid_entry e join touched t on t.bill_id = e.bill_id
      where e.account_id = ${accountId} and e.kind = 'deduction'
      group by e.bill_id)
    select 'BILL_PAID_MISMATCH' as kind, 'bill:' || b.bill_id as ref,
           'paid ' || b.paid_fen || ' ledger ' || coalesce(l.principal, 0) || ' prepaid ' || coalesce(p.paid, 0) as detail
    from bill b join touched t on t.bill_id = b.bill_id
    left join ledger l on l.bill_id = b.bill_id
    left join prepaid p on p.bill_id = b.bill_id
    where b.account_id = ${accountId} and b.status = 'open'
      and (b.paid_fen <> coalesce(l.principal, 0) + coalesce(p.paid, 0)
           or b.paid_fen < 0 or b.paid_fen > greatest(b.amount_fen, 0))
    union all
    select 'LATE_FEE_PAID_MISMATCH', 'bill:' || f.bill_id, 'paid ' || f.paid_fen || ' ledger ' || coalesce(l.late_fee, 0)
    from late_fee f join touched t on t.bill_id = f.bill_id
    left join ledger l on l.bill_id = f.bill_id
    where f.account_id = ${accountId} and f.paid_fen <> coalesce(l.late_fee, 0)
    union all
    select 'CREDIT_NEGATIVE', 'account:' || ${accountId}::text, x.ledger_account || ' ' || x.fen
    from (select ledger_account, sum(credit_fen - debit_fen) as fen from ledger_line
          where account_id = ${accountId} and ledger_account in ('prepayment', 'deposit_held')
          group by ledger_account) x
    where x.fen < 0`.execute(trx);
  return rows.map((r) => ({ code: r.kind as LedgerProblem['code'], ref: r.ref, detail: r.detail }));
}

/** Refuses the transaction when a posting left the bills it touched, the credit or deposits inconsistent. */
export async function assertPostingEffects(
  trx: Db,
  accountId: number,
  billIds: readonly number[],
): Promise<void> {
  const problems = await postingEffectProblems(trx, accountId, billIds);
  if (problems.length)
    throw new Error(
      `ledger check failed for account ${accountId}: ${problems.map((p) => `${p.code} ${p.ref} ${p.detail}`).join('; ')}`,
    );
}

/**
 * Runs the check and refuses the transaction if anything a payment posting could break is wrong:
 * nothing unbalanced is ever committed. A bill whose lines do not add up to it is the bill engine's
 * fault, not this posting's: it is reported by the ledger view (GET …/ledger) but does not stop the
 * customer from paying.
 */
export async function assertAccountLedger(trx: Db, accountId: number): Promise<void> {
  const problems = (await accountLedgerProblems(trx, accountId)).filter(
    (p) => !(p.code === 'POSTING_UNBALANCED' && /^(bill|cancel):/.test(p.ref)),
  );
  if (problems.length)
    throw new Error(
      `ledger check failed for account ${accountId}: ${problems.map((p) => `${p.code} ${p.ref} ${p.detail}`).join('; ')}`,
    );
}
