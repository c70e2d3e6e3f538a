import { parseArgs } from 'node:util';
import { ensureCalendar } from '@meterline/server/calendar/ensure';
import { loadConfig } from '@meterline/server/config';
import { openDatabase } from '@meterline/server/db/database';
import { seedDemoBooks } from '@meterline/server/seed/books';
import { seedCustomers } from '@meterline/server/seed/customers';
import { seedDemoOrganisation } from '@meterline/server/seed/org';
import { seedDemoReadings } from '@meterline/server/seed/readings';
import { ensureReferenceData } from '@meterline/server/seed/reference';
import { startServer } from '@meterline/server/server';

const HELP = `meterline — utility customer information and revenue

Usage: meterline <command> [options]

Commands:
  start                     start the server (embedded PostgreSQL unless DATABASE_URL is set)
  migrate                   apply pending database migrations and exit
  seed --customers N        add N demo customers (creates the demo organisation if missing)

Environment:
  DATABASE_URL              use this PostgreSQL (≥ 15) instead of the embedded one
  PORT                      HTTP port (default 8080)
  METERLINE_DATA_DIR        data directory (default ./data)
  METERLINE_SEED_CUSTOMERS  customers seeded on first start (default 5000, 0 for none)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(HELP);
    return command ? 0 : 1;
  }
  const log = (msg: string) => console.log(`[meterline] ${msg}`);
  switch (command) {
    case 'start': {
      const server = await startServer();
      const stop = async (signal: string) => {
        log(`${signal}: shutting down`);
        await server.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      return -1;
    }
    case 'migrate': {
      const database = await openDatabase(loadConfig(), { log });
      await ensureReferenceData(database.db);
      await ensureCalendar(database.db);
      log(`database is up to date (${database.where})`);
      await database.close();
      return 0;
    }
    case 'seed': {
      const { values } = parseArgs({
        args: rest,
        options: { customers: { type: 'string', default: '5000' }, seed: { type: 'string', default: '1' } },
      });
      const customers = Number(values.customers);
      if (!Number.isInteger(customers) || customers < 1 || customers > 10_000_000) {
        console.error('--customers must be a whole number between 1 and 10,000,000');
        return 2;
      }
      const database = await openDatabase(loadConfig(), { log });
      try {
        await ensureReferenceData(database.db);
        await seedDemoOrganisation(database.db);
        await ensureCalendar(database.db);
        const result = await seedCustomers(database.pool, { customers, seed: Number(values.seed), log });
        await seedDemoBooks(database.pool, { log });
        await seedDemoReadings(database.pool, { log });
        log(
          `seeded ${result.customers} customers in ${result.seconds.toFixed(1)} s (peak RSS ${result.peakRssMb} MB)`,
        );
      } finally {
        await database.close();
      }
      return 0;
    }
    default:
      console.error(`unknown command "${command}"\n`);
      console.log(HELP);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
