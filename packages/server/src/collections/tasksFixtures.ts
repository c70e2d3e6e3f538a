import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * Test fixtures of field collection (tasks.test.ts, visits.test.ts): books of office 0101 with
 * the given customers in route order, and overdue bills.
 */

export async function officeId(db: Kysely<DB>, code: string): Promise<number> {
  return (
    await db.selectFrom('office').select('office_id').where('code', '=', code).executeTakeFirstOrThrow()
  ).office_id;
}

export async function staffId(db: Kysely<DB>, username: string): Promise<number> {
  return (
    await db.selectFrom('staff').select('staff_id').where('username', '=', username).executeTakeFirstOrThrow()
  ).staff_id;
}

/** The office's customers that have a meter, in account order. */
export async function customersWithMeters(db: Kysely<DB>, office: number): Promise<number[]> {
  const rows = await db
    .selectFrom('customer as c')
    .innerJoin('meter as m', 'm.account_id', 'c.account_id')
    .select('c.account_id')
    .distinct()
    .where('c.office_id', '=', office)
    .orderBy('c.account_id')
    .execute();
  return rows.map((r) => r.account_id);
}

/** A book of the office holding the customers' meters in the given route order. */
export async function bookWith(
  db: Kysely<DB>,
  office: number,
  code: string,
  accounts: number[],
  opts: { readerId?: number | null; collectorId?: number | null } = {},
): Promise<number> {
  const book = await db
    .insertInto('book')
    .values({
      office_id: office,
      code,
      name: code,
      zone: 'C',
      reader_id: opts.readerId ?? null,
      reader_since: '2025-01-01',
      collector_id: opts.collectorId ?? null,
    })
    .returning('book_id')
    .executeTakeFirstOrThrow();
  for (const [i, accountId] of accounts.entries()) {
    await db
      .updateTable('meter')
      .set({ book_id: book.book_id, route_seq: (i + 1) * 10, state: 'in_service' })
      .where('account_id', '=', accountId)
      .execute();
  }
  return book.book_id;
}

let billSeq = 0;

/** `cycles` overdue unpaid bills of `amountFen` each (due before `dueBefore`). */
export async function overdueBills(
  db: Kysely<DB>,
  accountId: number,
  cycles: number,
  opts: { amountFen?: number; dueOn?: string } = {},
): Promise<void> {
  for (let i = 0; i < cycles; i++) {
    billSeq++;
    const month = String(((billSeq + i) % 9) + 1).padStart(2, '0');
    await db
      .insertInto('bill')
      .values({
        account_id: accountId,
        bill_no: `T${String(billSeq).padStart(8, '0')}`,
        meter_id: null,
        reading_id: null,
        run_id: null,
        usage_type_code: 'W_RES',
        period: `2026-${month}`,
        period_from: `2026-${month}-01`,
        period_to: `2026-${month}-28`,
        start_index: null,
        end_index: null,
        amount_fen: opts.amountFen ?? 5000,
        block_year: null,
        block_used_before_m3: null,
        block_used_after_m3: null,
        due_on: opts.dueOn ?? '2026-10-31',
        replaces_bill_id: null,
        cancelled_at: null,
        cancelled_by: null,
        created_by: null,
      })
      .execute();
  }
}
