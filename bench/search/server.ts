/**
 * The meterline HTTP server as bench/search runs it: a child process of its own, so the load
 * generator does not share its event loop. By default it is started by startServer() from
 * server.ts itself (openDatabase with its default pool, migrations, buildApp, listen), on a free
 * port of 127.0.0.1, against DATABASE_URL; BENCH_POOL_SIZE instead builds the same app with a
 * pool of that size, to compare pool sizes. Tells the parent its port over IPC.
 */
import { buildApp } from '@meterline/server/app';
import { loadConfig, type ServerConfig } from '@meterline/server/config';
import { openDatabase } from '@meterline/server/db/database';
import { startServer } from '@meterline/server/server';

async function main(): Promise<void> {
  if (!process.env.DATABASE_URL) throw new Error('bench/search/server.ts needs DATABASE_URL');
  const overrides: Partial<ServerConfig> = {
    port: 0,
    host: '127.0.0.1',
    seedCustomers: 0,
    webDir: '/nonexistent',
    // Without the daily job of billing readings from register reads: on a benchmark's database it
    // would settle the planned days in the background while the figures are taken.
    registerBillingJob: false,
  };
  const poolSize = process.env.BENCH_POOL_SIZE ? Number(process.env.BENCH_POOL_SIZE) : undefined;
  let port: number;
  let close: () => Promise<void>;
  if (poolSize === undefined) {
    const server = await startServer(overrides);
    port = Number(new URL(server.url).port);
    close = server.close;
  } else {
    const config = loadConfig(overrides);
    const database = await openDatabase(config, { poolSize });
    const { app } = await buildApp(database.db, config);
    await app.listen({ port: 0, host: config.host });
    const address = app.server.address();
    port = typeof address === 'object' && address ? address.port : 0;
    close = async () => {
      await app.close();
      await database.close();
    };
  }
  process.send?.({ port, poolSize: poolSize ?? 'default' });
  const stop = async () => {
    await close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('disconnect', () => void stop());
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
