import { buildApp } from './app.ts';
import { LateFeeScheduler } from './billing/lateFees.ts';
import { startPrepaidTimer } from './billing/prepaid.ts';
import { ensureCalendar } from './calendar/ensure.ts';
import { ArrearsDailyJob } from './collections/ageingJob.ts';
import { DunningScheduler } from './collections/dunning.ts';
import { FieldTaskScheduler } from './collections/tasksScheduler.ts';
import { loadConfig, type ServerConfig } from './config.ts';
import { openDatabase } from './db/database.ts';
import { startSandboxSmsc } from './outbox/sandboxSmsc.ts';
import { OutboxSender } from './outbox/sender.ts';
import { resumeBankImports } from './payments/bankFiles.ts';
import { RegisterBillingScheduler } from './readings/registerBilling.ts';
import { seedDemoMandates } from './seed/bankDebit.ts';
import { seedDemoBillRun } from './seed/billing.ts';
import { seedDemoBooks } from './seed/books.ts';
import { seedDemoCollections } from './seed/collections.ts';
import { seedCustomers } from './seed/customers.ts';
import { enableDemoSandboxSmsc, seedDemoDunning } from './seed/dunning.ts';
import { DEMO_PASSWORD, DEMO_STAFF, seedDemoOrganisation } from './seed/org.ts';
import { seedDemoPayments } from './seed/payments.ts';
import { seedDemoPrepaid } from './seed/prepaid.ts';
import { seedDemoReadings } from './seed/readings.ts';
import { ensureReferenceData } from './seed/reference.ts';
import { demoSmartMeters, seedDemoRegisterReads } from './seed/registers.ts';
import { ensureDefaultTariffs } from './seed/tariffs.ts';

/** How often a server looks for bill runs left behind by a process that died. */
const BILL_RUN_ADOPT_EVERY_MS = 30_000;

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Starts meterline: the database (embedded unless DATABASE_URL is set), migrations, reference
 * data, the demo utility on first start, then the API and the back office on one port.
 */
export async function startServer(overrides: Partial<ServerConfig> = {}): Promise<RunningServer> {
  const config = loadConfig(overrides);
  const log = (msg: string) => console.log(`[meterline] ${msg}`);
  const database = await openDatabase(config, { log });
  await ensureReferenceData(database.db);
  await ensureCalendar(database.db);
  const firstStart = config.seedCustomers > 0 && (await seedDemoOrganisation(database.db));
  // Billing readings of smart meters from their register reads, the day after each book's planned day
  // (readings/registerBilling.ts), checked every 10 minutes.
  const registerBilling = new RegisterBillingScheduler(database.db, database.pool, log);
  if (firstStart) {
    log(`first start: seeding a demo utility with ${config.seedCustomers} customers…`);
    await seedCustomers(database.pool, { customers: config.seedCustomers, log });
    await seedDemoBooks(database.pool, { log });
    // The demo's smart meters are not read by hand this month: their register reads bill them (below).
    await seedDemoReadings(database.pool, { log, remoteMeters: await demoSmartMeters(database.pool) });
    await ensureDefaultTariffs(database.db);
    await seedDemoPrepaid(database.db);
    await seedDemoMandates(database.db);
    // SMS go to the sandbox SMSC inside the server (outbox/sandboxSmsc.ts), as online payments go to the sandbox gateway.
    await enableDemoSandboxSmsc(database.db);
    // Bills for the demo's readings up to last month: billed by the runner once it listens (below).
    await seedDemoBillRun(database.db);
    // Daily register reads of some smart meters (远传日冻结读数), up to yesterday.
    await seedDemoRegisterReads(database.db, database.pool, { log });
    // Their billing readings for the books planned this month before today.
    await registerBilling.tick();
  }
  const { app, importRunner, billRunner } = await buildApp(database.db, config, { pool: database.pool });
  await app.listen({ port: config.port, host: config.host });
  // Batches left queued or half-done by the last run continue from their last committed chunk.
  await importRunner.resume();
  // Bill runs too; a run whose process died moments ago is adopted once its heartbeat is stale.
  await billRunner.resume({ everyMs: BILL_RUN_ADOPT_EVERY_MS });
  // Bank result files a stopped server left half-settled continue in the background.
  await resumeBankImports(database.db);
  // Late fees once a day (billing/lateFees.ts): today's run unless it is done, checked every 10 minutes.
  const lateFees = new LateFeeScheduler(database.db, log);
  // Field collection tasks of the day (collections/tasksScheduler.ts), from collection.tasksAt, checked every 10 minutes.
  const fieldTasks = new FieldTaskScheduler(database.db, log);
  // Dunning once a day (collections/dunning.ts): today's run unless it is done, checked every 10 minutes.
  const dunning = new DunningScheduler(database.db, log);
  // Arrears (collections/ageingJob.ts): installment check and the ageing snapshot once a day; past
  // month ends without a snapshot are reconstructed from bill and payment dates (on first start,
  // after the demo's payment history).
  const arrearsDaily = new ArrearsDailyJob(database.db, log);
  // On first start, once the demo's bills are made (its day's run would otherwise find none).
  // The demo's payment history goes in first, so late fees fall only on the bills left unpaid.
  let demoHistory: Promise<unknown> | null = null;
  if (firstStart)
    demoHistory = billRunner
      .idle()
      .then(() => (closing ? 0 : seedDemoPayments(database.db)))
      .then((n) => n && log(`demo payment history: ${n} bills paid on time`))
      // Field collection: the demo collector's list for today (seed/collections.ts).
      .then(() => (closing ? 0 : seedDemoCollections(database.db, log)))
      // Dunning: the last month's daily runs, replayed in order (seed/dunning.ts); today's is the last.
      .then(() => (closing ? 0 : seedDemoDunning(database.db, log)))
      .then(() => closing || fieldTasks.start())
      .then(() => closing || lateFees.start())
      .then(() => closing || dunning.start())
      .then(() => closing || arrearsDaily.start(undefined, { backfill: true }))
      .then(() => closing || !config.registerBillingJob || registerBilling.start())
      .catch((error: unknown) => log(`demo history not completed: ${String(error)}`))
      .finally(() => {
        demoHistory = null;
      });
  else {
    lateFees.start();
    fieldTasks.start();
    dunning.start();
    arrearsDaily.start(undefined, { backfill: true });
    if (config.registerBillingJob) registerBilling.start();
  }
  // The outbox sender (outbox/sender.ts): SMS over SMPP when the SMSC is enabled, the voice-call list.
  const sandboxSmsc = await startSandboxSmsc(database.db);
  const outbox = new OutboxSender(database.db, {
    log: (msg) => log(`outbox: ${msg}`),
    ...(sandboxSmsc ? { sandbox: sandboxSmsc.sender } : {}),
  });
  outbox.start();
  // Prepaid IC-card accounts: the day's consumption bills are deducted once a day (idempotent).
  const prepaidTimer = startPrepaidTimer(database.db, { log });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://localhost:${port}`;
  log(
    `demo logins (password "${DEMO_PASSWORD}"): ${DEMO_STAFF.map((s) => `${s.username} (${s.role})`).join(', ')}`,
  );
  log(`ready at ${url}  (API docs: ${url}/api/docs, database: ${database.where})`);
  let closing = false;
  return {
    url,
    async close() {
      if (closing) return;
      closing = true;
      await importRunner.stop();
      await billRunner.stop();
      // The first start's demo history is written step by step in the background: the step under
      // way finishes (a minute at most) before the database closes, so none is left half-written.
      if (demoHistory) {
        log('finishing the demo history of the first start before stopping (Ctrl+C again quits at once)');
        await demoHistory;
      }
      await lateFees.stop();
      await fieldTasks.stop();
      await outbox.stop();
      await sandboxSmsc?.stop();
      await dunning.stop();
      await arrearsDaily.stop();
      await registerBilling.stop();
      await prepaidTimer.stop();
      await app.close();
      await database.close();
    },
  };
}
