/**
 * What bench/payments and bench/payments-crash share: a database of customers who owe open bills
 * (reset to "nothing paid" before each run), the real server in a child process, and signing in.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { todayInChina } from '@meterline/domain';
import { accrueLateFees } from '@meterline/server/billing/lateFees';
import { seedCustomers } from '@meterline/server/seed/customers';
import { DEMO_PASSWORD } from '@meterline/server/seed/org';
import { type BenchDatabase, type BenchServer, prepareDatabase } from '../lib/database.ts';

/** Open bills per customer, due one month apart (the oldest first), 20–120 yuan each. */
export const BILLS_PER_CUSTOMER = 3;

/**
 * The database `name` with `customers` seeded customers, each owing BILLS_PER_CUSTOMER open bills
 * (one charge line each, so the account ledger balances). Reused when it holds that many customers
 * already, else (or with `reseed`) recreated. Either way every payment, posting, receipt and request
 * of an earlier run is removed and every bill is unpaid again, so runs start from the same state.
 */
export async function paymentsDatabase(
  server: BenchServer,
  name: string,
  customers: number,
  opts: { reseed: boolean; log: (msg: string) => void; poolSize?: number },
): Promise<{ database: BenchDatabase; seeded: Record<string, number> | null }> {
  const { log } = opts;
  let reuse = !opts.reseed && (await server.exists(name));
  if (reuse) {
    const probe = await prepareDatabase(server.urlOf(name), 2);
    const { rows } = await probe.pool.query<{ n: string; b: string }>(
      `select (select count(*) from customer)::text as n, (select count(*) from bill)::text as b`,
    );
    await probe.close();
    reuse = Number(rows[0]!.n) === customers && Number(rows[0]!.b) > 0;
    if (!reuse) log(`${name} holds ${rows[0]!.n} customers, not ${customers}: recreating it`);
  }
  let seeded: Record<string, number> | null = null;
  if (!reuse) {
    await server.recreate(name);
    const database = await prepareDatabase(server.urlOf(name), opts.poolSize ?? 4);
    const t0 = Date.now();
    log(`seeding ${customers} customers…`);
    await seedCustomers(database.pool, { customers, log: (m) => log(`  ${m}`) });
    const customersSeconds = (Date.now() - t0) / 1000;
    const t1 = Date.now();
    const billed = await insertOpenBills(database);
    seeded = {
      customers,
      customers_seconds: Math.round(customersSeconds * 10) / 10,
      bills: billed,
      bills_seconds: Math.round((Date.now() - t1) / 100) / 10,
    };
    log(
      `seeded ${customers} customers in ${seeded.customers_seconds} s, ${billed} bills in ${seeded.bills_seconds} s`,
    );
    await database.close();
  }
  const database = await prepareDatabase(server.urlOf(name), opts.poolSize ?? 4);
  await resetPayments(database);
  // Today's late fees first (the server would start the run on its own, amid the measurement).
  const t0 = Date.now();
  const { ran, run } = await accrueLateFees(database.db, todayInChina(), { via: 'cli' });
  if (ran)
    log(
      `late fees of today: ${run.bills_charged} bills charged (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
  return { database, seeded };
}

/** Three open bills for every active customer, set-based. */
async function insertOpenBills(database: BenchDatabase): Promise<number> {
  const client = await database.pool.connect();
  try {
    await client.query('begin');
    const { rowCount } = await client.query(
      `insert into bill (account_id, bill_no, period, period_from, period_to, amount_fen, due_on, usage_type_code)
       select c.account_id, 'BP' || c.account_id || '-' || k,
              to_char(date '2026-01-01' + make_interval(months => k - 1), 'YYYY-MM'),
              date '2026-01-01' + make_interval(months => k - 1),
              date '2026-01-08' + make_interval(months => k - 1),
              2000 + ((c.account_id * 7919 + k * 104729) % 10001),
              date '2026-01-28' + make_interval(months => k - 1),
              'W_RES'
       from customer c cross join generate_series(1, ${BILLS_PER_CUSTOMER}) k
       where c.state = 'active'`,
    );
    await client.query(
      `insert into bill_line (account_id, bill_id, line_no, kind, code, description_zh, description_en, amount_fen)
       select account_id, bill_id, 1, 'charge', 'charge', '水费', 'Water', amount_fen from bill`,
    );
    await client.query('commit');
    await client.query('vacuum analyze bill');
    await client.query('vacuum analyze bill_line');
    return rowCount ?? 0;
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Removes everything payments wrote (ledger entries are immutable by trigger, so triggers are set
 * aside for this one transaction: the bench's own database, superuser) and marks every bill unpaid.
 */
export async function resetPayments(database: BenchDatabase): Promise<void> {
  const client = await database.pool.connect();
  try {
    await client.query('begin');
    await client.query(`set local session_replication_role = replica`);
    for (const table of [
      'ledger_line',
      'ledger_posting',
      'payment',
      'receipt',
      'receipt_sequence',
      'deposit',
      'payment_request',
      'cashier_close',
      'idempotency_key',
      'bank_file_row',
      'bank_file',
    ])
      await client.query(`delete from ${table}`);
    await client.query(
      `delete from audit_log where entity_type in ('payment', 'ledger_posting', 'receipt', 'bank_file', 'payment_request')`,
    );
    await client.query('update bill set paid_fen = 0 where paid_fen <> 0');
    await client.query('update late_fee set paid_fen = 0 where paid_fen <> 0');
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Problems over the whole database, set-based: bills whose paid_fen is not what the ledger's
 * receivable lines say, postings that do not balance, credit below zero, and the clearing accounts
 * against the payments standing.
 */
export async function ledgerCheck(database: BenchDatabase): Promise<{
  bill_paid_mismatch: number;
  late_fee_paid_mismatch: number;
  unbalanced_postings: number;
  negative_credit: number;
  clearing_fen: number;
  payments_fen: number;
}> {
  const q = async (text: string) => Number((await database.pool.query<{ n: string }>(text)).rows[0]!.n);
  return {
    bill_paid_mismatch: await q(
      `select count(*)::text as n from bill b
       left join (select account_id, bill_id, sum(credit_fen - debit_fen) as paid from ledger_line
                  where ledger_account = 'receivable' and part = 'principal' group by 1, 2) l
         on l.account_id = b.account_id and l.bill_id = b.bill_id
       where b.paid_fen <> coalesce(l.paid, 0)`,
    ),
    late_fee_paid_mismatch: await q(
      `select count(*)::text as n from late_fee f
       left join (select account_id, bill_id, sum(credit_fen - debit_fen) as paid from ledger_line
                  where ledger_account = 'receivable' and part = 'late_fee' group by 1, 2) l
         on l.account_id = f.account_id and l.bill_id = f.bill_id
       where f.paid_fen <> coalesce(l.paid, 0)`,
    ),
    unbalanced_postings: await q(
      `select count(*)::text as n from (select 1 from ledger_line group by account_id, posting_id
       having sum(debit_fen) <> sum(credit_fen)) x`,
    ),
    negative_credit: await q(
      `select count(*)::text as n from (select 1 from ledger_line where ledger_account = 'prepayment'
       group by account_id having sum(credit_fen - debit_fen) < 0) x`,
    ),
    clearing_fen: await q(
      `select coalesce(sum(debit_fen - credit_fen), 0)::text as n from ledger_line
       where ledger_account in ('cash', 'bank', 'gateway')`,
    ),
    payments_fen: await q(
      `select coalesce(sum(amount_fen), 0)::text as n from payment where status = 'posted'`,
    ),
  };
}

export interface ServerProcess {
  child: ChildProcess;
  baseUrl: string;
  logFile: string;
}

/** The real server (bench/search/server.ts: startServer) in a child process; its log goes to a file. */
export async function startServerProcess(databaseUrl: string, logName: string): Promise<ServerProcess> {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const logFile = path.join(os.tmpdir(), `${logName}.log`);
  const child = fork(path.join(here, '..', 'search', 'server.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, DATABASE_URL: databaseUrl },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const out = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const ready = await new Promise<{ port: number }>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m));
    child.once('exit', (code, signal) =>
      reject(new Error(`the server exited (${code ?? signal}) before it was ready; see ${logFile}`)),
    );
  });
  return { child, baseUrl: `http://127.0.0.1:${ready.port}`, logFile };
}

export async function stopServerProcess(server: ServerProcess): Promise<void> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  await exited;
}

export async function login(baseUrl: string, username: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: DEMO_PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login ${username}: ${res.status} ${await res.text()}`);
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ml_session='));
  if (!cookie) throw new Error(`login ${username}: no session cookie`);
  return cookie.split(';')[0]!;
}

/** A small deterministic generator (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}
