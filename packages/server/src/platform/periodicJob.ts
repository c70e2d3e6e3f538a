import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';

/**
 * Work the server process does on a timer — the daily runs (late fees, dunning, field tasks, the
 * arrears snapshot) check every few minutes whether the day's work is done. One tick at a time: a
 * tick while one is at work returns `idle` at once. A tick that fails is logged and tried again at
 * the next (each job's work is idempotent for its day). `stop` waits for the tick at work.
 */
export abstract class PeriodicJob<Args extends unknown[] = [], Result = void> {
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<unknown> | null = null;

  protected constructor(
    protected readonly log: (msg: string) => void,
    /** What a failure is logged as: '<failed> failed: <message>'. */
    private readonly what: string,
    /** What a tick answers when another is at work or its work failed. */
    private readonly idle: Result,
  ) {}

  /** One tick's work; `args` are what `tick` was called with (none from the timer). */
  protected abstract work(...args: Args | []): Promise<Result>;

  /** Ticks now (with `first`), then every `everyMs` (the timer does not keep the process alive). */
  protected startEvery(everyMs: number, ...first: Args | []): void {
    if (this.timer) return;
    void this.tick(...first);
    this.timer = setInterval(() => void this.tick(), everyMs);
    this.timer.unref();
  }

  async tick(...args: Args | []): Promise<Result> {
    if (this.busy) return this.idle;
    let result = this.idle;
    this.busy = this.work(...args)
      .then((r) => {
        result = r;
      })
      .catch((error: unknown) =>
        this.log(`${this.what} failed: ${error instanceof Error ? error.message : error}`),
      )
      .finally(() => {
        this.busy = null;
      });
    await this.busy;
    return result;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.busy;
  }
}

/**
 * A daily run under a session-level advisory lock on one connection: `work` runs while this process
 * holds `lock`; when another holds it, `busy` answers (the day's run as the other left it, say).
 */
export function underSessionLock<T>(
  db: Kysely<DB>,
  lock: number,
  work: (conn: Kysely<DB>) => Promise<T>,
  busy: (conn: Kysely<DB>) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (conn) => {
    const { rows } = await sql<{ ok: boolean }>`select pg_try_advisory_lock(${lock}) as ok`.execute(conn);
    if (!rows[0]?.ok) return busy(conn);
    try {
      return await work(conn);
    } finally {
      await sql`select pg_advisory_unlock(${lock})`.execute(conn);
    }
  });
}
