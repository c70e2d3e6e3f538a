import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';

/** One active customer in this many signs a direct debit mandate in the demo. */
const DEMO_MANDATE_EVERY = 7;

/**
 * Demo direct debit mandates (代扣协议, docs/bank-files.md): about one active customer in seven
 * has signed one, with ICBC or CCB (the banks migration 0013 seeds), in the customer's own name.
 * Organisations debit the account on file; people get a demo card number. Adds nothing when any
 * mandate exists already; returns the mandates added.
 */
export async function seedDemoMandates(db: Kysely<DB>): Promise<number> {
  const any = await db.selectFrom('debit_mandate').select('account_id').limit(1).executeTakeFirst();
  if (any) return 0;
  const { rows } = await sql<{ n: number }>`
    with added as (
      insert into debit_mandate (account_id, bank_code, bank_account_no, holder_name, signed_on)
      select c.account_id,
             case when c.account_id % 2 = 0 then 'ICBC' else 'CCB' end,
             case when c.bank_account ~ '^[0-9]{6,30}$' then c.bank_account
                  else (case when c.account_id % 2 = 0 then '622202' else '621700' end)
                       || lpad(c.account_id::text, 13, '0') end,
             c.name,
             (current_date - (c.account_id % 700)::int)
      from customer c
      where c.state = 'active' and c.account_id % ${DEMO_MANDATE_EVERY} = 0
      returning 1)
    select count(*)::int as n from added`.execute(db);
  return rows[0]?.n ?? 0;
}
