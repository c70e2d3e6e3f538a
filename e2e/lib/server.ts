import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../../packages/server/src/app.ts';
import { loadConfig } from '../../packages/server/src/config.ts';
import { RegisterBillingScheduler } from '../../packages/server/src/readings/registerBilling.ts';
import { seedDemoBooks } from '../../packages/server/src/seed/books.ts';
import { seedCustomers } from '../../packages/server/src/seed/customers.ts';
import { seedDemoOrganisation } from '../../packages/server/src/seed/org.ts';
import { seedDemoReadings } from '../../packages/server/src/seed/readings.ts';
import { demoSmartMeters, seedDemoRegisterReads } from '../../packages/server/src/seed/registers.ts';
import {
  createTestDatabase,
  stopEmbedded,
  type TestDatabase,
} from '../../packages/server/src/testing/harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_DIST = path.join(ROOT, 'packages/web/dist');
export const FIELD_DIST = path.join(ROOT, 'packages/field/dist');

export interface RunningMeterline {
  /** http://127.0.0.1:PORT */
  url: string;
  database: TestDatabase;
  dataDir: string;
  close(): Promise<void>;
}

/** Fails early, with the fix, when the back office has not been built. */
export function requireBuiltWeb(): void {
  if (!existsSync(path.join(WEB_DIST, 'index.html'))) {
    throw new Error(
      `${path.join(WEB_DIST, 'index.html')} is missing: build the back office first (npm run build), ` +
        'then run the browser tests.',
    );
  }
}

/** Fails early, with the fix, when the handheld app has not been built. */
export function requireBuiltField(): void {
  if (!existsSync(path.join(FIELD_DIST, 'index.html'))) {
    throw new Error(
      `${path.join(FIELD_DIST, 'index.html')} is missing: build the apps first (npm run build), ` +
        'then run the browser tests.',
    );
  }
}

/**
 * A meterline server on a free port against a fresh database (DATABASE_URL's server, else an embedded
 * PostgreSQL), with the demo organisation and `customers` demo customers, serving the built back office
 * (and the built handheld app at /field/ when it is there). `metering` also seeds the demo books,
 * routes, reading plan and reading history.
 */
export async function startMeterline(opts: {
  customers: number;
  metering?: boolean;
  /** The test opens the back office (default); false: it may be missing (the handheld's test). */
  web?: boolean;
  /**
   * With `metering`, the demo's smart meters as its first start has them (server.ts): not read by
   * hand this month, daily register reads, and the days planned before today settled from them by
   * the daily job's first check.
   */
  smartMeters?: boolean;
}): Promise<RunningMeterline> {
  if (opts.web !== false) requireBuiltWeb();
  const database = await createTestDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'meterline-e2e-'));
  try {
    await seedDemoOrganisation(database.db);
    await seedCustomers(database.pool, { customers: opts.customers });
    if (opts.metering) {
      await seedDemoBooks(database.pool);
      const remoteMeters = opts.smartMeters ? await demoSmartMeters(database.pool) : undefined;
      await seedDemoReadings(database.pool, remoteMeters ? { remoteMeters } : {});
      if (opts.smartMeters) {
        await seedDemoRegisterReads(database.db, database.pool);
        await new RegisterBillingScheduler(database.db, database.pool, () => {}).tick();
      }
    }
    const config = loadConfig({
      dataDir,
      webDir: WEB_DIST,
      fieldDir: FIELD_DIST,
      databaseUrl: database.url,
      port: 0,
      host: '127.0.0.1',
      logLevel: 'warn',
    });
    const built = await buildApp(database.db, config, opts.smartMeters ? { pool: database.pool } : {});
    await built.app.listen({ port: 0, host: '127.0.0.1' });
    await built.importRunner.resume();
    const address = built.app.server.address();
    if (!address || typeof address !== 'object') throw new Error('the server has no address');
    return {
      url: `http://127.0.0.1:${address.port}`,
      database,
      dataDir,
      async close() {
        await built.app.close();
        await database.drop();
        await rm(dataDir, { recursive: true, force: true });
        await stopEmbedded();
      },
    };
  } catch (e) {
    await database.drop().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
    await stopEmbedded();
    throw e;
  }
}
