import { parseArgs } from 'node:util';
import { billRunCommand, UsageError } from '@meterline/server/billing/cli';
import { lateFeesCommand } from '@meterline/server/billing/lateFees';
import { prepaidDeductCommand } from '@meterline/server/billing/prepaid';
import { ensureCalendar } from '@meterline/server/calendar/ensure';
import { dunningCommand } from '@meterline/server/collections/dunning';
import { loadConfig } from '@meterline/server/config';
import { openDatabase } from '@meterline/server/db/database';
import { takeShutdownSignals } from '@meterline/server/db/embedded';
import { seedDemoBooks } from '@meterline/server/seed/books';
import { seedCustomers } from '@meterline/server/seed/customers';
import { seedDemoOrganisation } from '@meterline/server/seed/org';
import { seedDemoPrepaid } from '@meterline/server/seed/prepaid';
import { seedDemoReadings } from '@meterline/server/seed/readings';
import { ensureReferenceData } from '@meterline/server/seed/reference';
import { ensureDefaultTariffs } from '@meterline/server/seed/tariffs';
import { startServer } from '@meterline/server/server';

const HELP = `meterline — utility customer information and revenue

Usage: meterline <command> [options]

Commands:
  start                     start the server (embedded PostgreSQL unless DATABASE_URL is set)
  migrate                   apply pending database migrations and exit
  seed --customers N        add N demo customers (creates the demo organisation if missing)
  bill-run --office CODE | --book CODE | --zone Z [--office CODE] | --all [--up-to DATE] [--dry-run]
                            bill the accepted, unbilled readings of the scope read up to DATE
                            (default today), printing progress and totals; --dry-run writes no
                            bill; --resume RUN continues a run that stopped
  late-fees [--as-of DATE]  compute the late fees (滞纳金) of overdue bills as of DATE (default
                            today); the server also does this once a day
  dunning [--as-of DATE] [--from DATE]
                            the daily dunning run (催缴) of DATE (default today), or of every day
                            from --from to DATE in order; the server also does this once a day
  prepaid-deduct [--office CODE] [--up-to YYYY-MM]
                            deduct the open bills of IC-card meters (periods up to YYYY-MM, default
                            this month) from the prepaid accounts; idempotent

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
      // The server stops in order, its embedded PostgreSQL last (not at once on the signal).
      takeShutdownSignals();
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
        await ensureDefaultTariffs(database.db);
        await seedDemoPrepaid(database.db);
        log(
          `seeded ${result.customers} customers in ${result.seconds.toFixed(1)} s (peak RSS ${result.peakRssMb} MB)`,
        );
      } finally {
        await database.close();
      }
      return 0;
    }
    case 'bill-run': {
      const { values } = parseArgs({
        args: rest,
        options: {
          office: { type: 'string' },
          book: { type: 'string' },
          zone: { type: 'string' },
          all: { type: 'boolean', default: false },
          'up-to': { type: 'string' },
          'dry-run': { type: 'boolean', default: false },
          resume: { type: 'string' },
        },
      });
      const database = await openDatabase(loadConfig(), { log });
      try {
        await ensureReferenceData(database.db);
        const { exitCode } = await billRunCommand(
          database,
          {
            office: values.office,
            book: values.book,
            zone: values.zone,
            all: values.all,
            upTo: values['up-to'],
            dryRun: values['dry-run'],
            resume: values.resume === undefined ? undefined : Number(values.resume),
          },
          { write: (text) => process.stdout.write(text), isTTY: process.stdout.isTTY === true },
        );
        return exitCode;
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        console.error(error.message);
        return 2;
      } finally {
        await database.close();
      }
    }
    case 'prepaid-deduct': {
      const { values } = parseArgs({
        args: rest,
        options: { office: { type: 'string' }, 'up-to': { type: 'string' } },
      });
      const database = await openDatabase(loadConfig(), { log });
      try {
        await ensureReferenceData(database.db);
        return await prepaidDeductCommand(
          database.db,
          { office: values.office, upTo: values['up-to'] },
          (text) => process.stdout.write(text),
        );
      } finally {
        await database.close();
      }
    }
    case 'late-fees': {
      const { values } = parseArgs({ args: rest, options: { 'as-of': { type: 'string' } } });
      const database = await openDatabase(loadConfig(), { log });
      try {
        await ensureReferenceData(database.db);
        return await lateFeesCommand(
          database.db,
          { asOf: values['as-of'] },
          {
            write: (text) => process.stdout.write(text),
          },
        );
      } finally {
        await database.close();
      }
    }
    case 'dunning': {
      const { values } = parseArgs({
        args: rest,
        options: { 'as-of': { type: 'string' }, from: { type: 'string' } },
      });
      const database = await openDatabase(loadConfig(), { log });
      try {
        await ensureReferenceData(database.db);
        return await dunningCommand(
          database.db,
          { asOf: values['as-of'], from: values.from },
          { write: (text) => process.stdout.write(text) },
        );
      } finally {
        await database.close();
      }
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
