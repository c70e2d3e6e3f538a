import { todayInChina } from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import { generateTasks } from '../collections/tasks.ts';
import type { DB } from '../db/schema.ts';

/** Books of office 0101 the demo collector looks after (those with the most customers in arrears). */
export const DEMO_COLLECTOR_BOOKS = 4;

/**
 * Field collection demo (docs/field-collection.md): the demo collector (`collector`, office 0101)
 * becomes the dedicated collector of the office's books with the most customers in arrears, and
 * today's tasks of office 0101 are generated, so the handheld shows a list on the first day.
 * Idempotent: books already given a collector are kept, tasks are generated once per customer and day.
 */
export async function seedDemoCollections(
  db: Kysely<DB>,
  log: (msg: string) => void = () => {},
  today: string = todayInChina(),
): Promise<number> {
  const office = await db
    .selectFrom('office')
    .select('office_id')
    .where('code', '=', '0101')
    .executeTakeFirst();
  const collector = await db
    .selectFrom('staff')
    .select('staff_id')
    .where('username', '=', 'collector')
    .executeTakeFirst();
  if (!office || !collector) return 0;
  await sql`
    update book set collector_id = ${collector.staff_id}
    where book_id in (
      select b.book_id
      from book b
      join meter m on m.book_id = b.book_id and m.state = 'in_service'
      join bill x on x.account_id = m.account_id and x.status = 'open' and x.paid_fen < x.amount_fen
                 and x.due_on < ${today}::date
      where b.office_id = ${office.office_id} and b.active
        and not exists (select 1 from book c where c.collector_id = ${collector.staff_id})
      group by b.book_id
      order by count(distinct m.account_id) desc, b.book_id
      limit ${DEMO_COLLECTOR_BOOKS})`.execute(db);
  const result = await generateTasks(db, null, office.office_id, today);
  const made = result.carried + result.readingDay + result.repeat + result.collectionDay;
  log(
    `field collection: ${made} tasks for office 0101 on ${today} (collector's list ${result.collectionDay}, ` +
      `reading day ${result.readingDay}; ${result.workingDaysLeft} working days left)`,
  );
  return made;
}
