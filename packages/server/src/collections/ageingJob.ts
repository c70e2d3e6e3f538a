import { todayInChina } from '@meterline/domain';
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { PeriodicJob } from '../platform/periodicJob.ts';
import { backfillArrearsSnapshots, ensureTodaySnapshot } from './ageing.ts';
import { backfillCoverageSnapshots, ensureCoverageSnapshot } from './coverageHistory.ts';
import { checkInstallments } from './installments.ts';

/** How often the server checks whether the day's arrears work is done. */
export const ARREARS_DAILY_CHECK_EVERY_MS = 10 * 60_000;

/**
 * The daily arrears work (docs/arrears.md): the installment check (complete the paid agreements,
 * default those with an installment missed past its grace days — their arrears re-enter the ladder)
 * and then the day's ageing snapshot and the dunning coverage of the day before, now it is over.
 * Each part is idempotent for the day, so the check every ten minutes (and a restart) only does
 * what is left. When the server starts, past month ends without a snapshot (a new installation,
 * the demo) are reconstructed from bill and payment dates (`backfill`); missing month ends of
 * dunning coverage, from message and visit dates, on the first check of every process.
 */
export class ArrearsDailyJob extends PeriodicJob<[backfill?: boolean]> {
  private lastDay: string | null = null;
  /** Past month ends of dunning coverage are looked for once per process (an upgrade gets them too). */
  private coverageBackfilled = false;

  constructor(
    private readonly db: Kysely<DB>,
    log: (msg: string) => void = (msg) => console.log(`[arrears] ${msg}`),
  ) {
    super(log, 'daily arrears work', undefined);
  }

  start(everyMs = ARREARS_DAILY_CHECK_EVERY_MS, opts: { backfill?: boolean } = {}): void {
    this.startEvery(everyMs, opts.backfill);
  }

  protected async work(backfill = false): Promise<void> {
    const today = todayInChina();
    if (this.lastDay === today && !backfill) return;
    const check = await checkInstallments(this.db, today);
    if (check.completed || check.defaulted)
      this.log(`installments ${today}: ${check.completed} completed, ${check.defaulted} defaulted`);
    if (await ensureTodaySnapshot(this.db, today)) this.log(`arrears snapshot of ${today} taken`);
    // Dunning coverage of yesterday, now that it is over (docs/arrears.md "Coverage over time").
    if (await ensureCoverageSnapshot(this.db, today)) this.log('dunning coverage of yesterday recorded');
    if (backfill) {
      const n = await backfillArrearsSnapshots(this.db, today);
      if (n) this.log(`past ageing reconstructed from bill and payment dates (${n} rows)`);
    }
    if (backfill || !this.coverageBackfilled) {
      const days = await backfillCoverageSnapshots(this.db, today);
      if (days.length)
        this.log(`past dunning coverage reconstructed from message and visit dates (${days.join(', ')})`);
      this.coverageBackfilled = true;
    }
    this.lastDay = today;
  }
}
