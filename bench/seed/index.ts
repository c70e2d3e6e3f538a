/**
 * bench/seed — how long `meterline seed --customers N` takes and how much memory it holds.
 *
 *   npm run bench -- seed [--size 1000000] [--seed 1] [--keep]
 *
 * Creates a fresh database meterline_bench_seed (dropped first if present), migrates it, adds the
 * reference data and the demo organisation, then seeds --size customers with seedCustomers and
 * reports seconds, customers/s, the peak RSS of this process (generator + COPY buffers), and the
 * size of every table and index the customers fill. The database is dropped afterwards unless
 * --keep is given. Last line: one JSON object.
 */
import { SEED_CHUNK, seedCustomers } from '@meterline/server/seed/customers';
import { benchOptions, count } from '../lib/args.ts';
import { openBenchServer, prepareDatabase, relationSizes } from '../lib/database.ts';
import { peakRssMb } from '../lib/stats.ts';

const DATABASE = 'meterline_bench_seed';
const round1 = (x: number) => Math.round(x * 10) / 10;
const log = (msg: string) => console.log(`[bench:seed] ${msg}`);

async function main(): Promise<void> {
  const opts = benchOptions({
    size: { type: 'string' },
    seed: { type: 'string' },
    keep: { type: 'boolean' },
  });
  const customers = count(opts.size, 1_000_000, 'size');
  const seed = count(opts.seed, 1, 'seed');
  if (customers < 1) throw new Error('--size must be at least 1');

  const server = await openBenchServer(log);
  try {
    log(`creating database ${DATABASE} on ${server.where}`);
    await server.recreate(DATABASE);
    const database = await prepareDatabase(server.urlOf(DATABASE));
    const rssBeforeMb = Math.round(process.memoryUsage().rss / 1024 / 1024);
    try {
      log(
        `seeding ${customers.toLocaleString('en')} customers (chunks of ${SEED_CHUNK.toLocaleString('en')})…`,
      );
      const result = await seedCustomers(database.pool, { customers, seed, log });
      const counts = await database.pool.query<Record<string, string>>(
        `select (select count(*) from customer) as customer, (select count(*) from contact) as contact,
                (select count(*) from address) as address, (select count(*) from meter) as meter,
                (select count(*) from meter_registry) as meter_registry,
                (select count(*) from blacklist_entry) as blacklist_entry`,
      );
      const rows = Object.fromEntries(Object.entries(counts.rows[0]!).map(([k, v]) => [k, Number(v)]));
      if (rows.customer !== customers)
        throw new Error(`expected ${customers} customers, found ${rows.customer}`);
      const sizes = await relationSizes(database.pool);
      for (const [table, s] of Object.entries(sizes.tables)) {
        log(
          `  ${table.padEnd(24)} table ${String(s.table_mb).padStart(8)} MB  indexes ${String(s.indexes_mb).padStart(8)} MB`,
        );
      }
      log(`  database ${sizes.database_mb} MB`);
      const figures = {
        bench: 'seed',
        customers,
        where: server.where,
        seconds: Math.round(result.seconds * 10) / 10,
        customers_per_s: Math.round(customers / result.seconds),
        peak_rss_mb: peakRssMb(),
        rss_before_seed_mb: rssBeforeMb,
        seed_peak_rss_mb: result.peakRssMb,
        rows_seconds: round1(result.stages.rowsSeconds),
        indexes_seconds: round1(result.stages.indexesSeconds),
        foreign_keys_seconds: round1(result.stages.foreignKeysSeconds),
        vacuum_seconds: round1(result.stages.vacuumSeconds),
        chunk: SEED_CHUNK,
        rows,
        database_mb: sizes.database_mb,
        tables: sizes.tables,
      };
      log(
        `${customers.toLocaleString('en')} customers in ${figures.seconds} s (${figures.customers_per_s}/s), peak RSS ${figures.peak_rss_mb} MB`,
      );
      console.log(JSON.stringify(figures));
    } finally {
      await database.close();
      if (!opts.keep) await server.drop(DATABASE);
    }
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
