import { addDays, todayInChina } from '@meterline/domain';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * The demo's billing history: on first start, one bill run over every office bills the demo's
 * accepted readings up to the end of last month (the server's BillRunner picks the pending run up
 * as soon as it listens: `billRunner.resume()`), so a new user finds customers with bills, notices,
 * late fees on the overdue ones and prepaid deductions — and this month's readings still to bill
 * from the bill-runs page. Queued once: a database that has a run already gets none.
 */
export async function seedDemoBillRun(
  db: Kysely<DB>,
  today: string = todayInChina(),
): Promise<number | null> {
  const any = await db.selectFrom('bill_run').select('run_id').limit(1).executeTakeFirst();
  if (any) return null;
  const upTo = addDays(`${today.slice(0, 7)}-01`, -1);
  return db.transaction().execute(async (trx) => {
    const run = await trx
      .insertInto('bill_run')
      .values({ scope: 'all', office_id: null, book_id: null, zone: null, office_ids: null, up_to: upTo })
      .returning('run_id')
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('audit_log')
      .values({
        office_id: null,
        entity_type: 'bill_run',
        entity_id: String(run.run_id),
        action: 'bill_run_start',
        after: JSON.stringify({ scope: 'all', upTo, dryRun: false, via: 'demo seed' }),
        request_id: 'seed',
      })
      .execute();
    return run.run_id;
  });
}
