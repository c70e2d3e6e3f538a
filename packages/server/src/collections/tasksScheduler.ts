import { chinaDateTime, todayInChina } from '@meterline/domain';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { PeriodicJob } from '../platform/periodicJob.ts';
import { loadSettings } from '../platform/settings.ts';
import { generateTasks } from './tasks.ts';

/** How often the server looks whether today's field collection tasks are made. */
export const FIELD_TASKS_CHECK_EVERY_MS = 10 * 60_000;

/** The time of day in China, 'HH:MM'. */
function chinaClock(now: Date): string {
  return chinaDateTime(now).slice(11, 16);
}

/**
 * Makes each office's field collection tasks of the day once a day, from `collection.tasksAt`
 * (China time), so readers and collectors find their lists in the morning (docs/field-collection.md).
 * Generation is idempotent per customer and day: a restart, a second server or the office manager
 * generating too makes nothing twice; an office that failed is tried again at the next check.
 */
export class FieldTaskScheduler extends PeriodicJob<[now?: Date], number> {
  /** Offices done today (by this process). */
  private done = new Set<number>();
  private doneOn = '';

  constructor(
    private readonly db: Kysely<DB>,
    log: (msg: string) => void = (msg) => console.log(`[field-tasks] ${msg}`),
  ) {
    super(log, 'field tasks', 0);
  }

  start(everyMs = FIELD_TASKS_CHECK_EVERY_MS): void {
    this.startEvery(everyMs);
  }

  /** Tasks made by this tick (0 before `collection.tasksAt`, or when the offices are done today). */
  protected async work(now: Date = new Date()): Promise<number> {
    const today = todayInChina(now);
    if (this.doneOn !== today) {
      this.done.clear();
      this.doneOn = today;
    }
    const settings = await loadSettings(this.db);
    if (chinaClock(now) < settings['collection.tasksAt']) return 0;
    const offices = await this.db.selectFrom('office').select('office_id').orderBy('office_id').execute();
    let made = 0;
    for (const { office_id } of offices) {
      if (this.done.has(office_id)) continue;
      try {
        const r = await generateTasks(this.db, null, office_id, today);
        made += r.carried + r.readingDay + r.repeat + r.collectionDay;
        this.done.add(office_id);
      } catch (error) {
        this.log(`office ${office_id}: ${error instanceof Error ? error.message : error}`);
      }
    }
    if (made > 0) this.log(`field collection tasks of ${today}: ${made} made`);
    return made;
  }
}
