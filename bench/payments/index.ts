/**
 * bench/payments — counter-style posting throughput: payments a second, each allocated to the
 * customer's oldest bills (late fee rules, credit), posted to the double-entry ledger, given a
 * numbered slip, audited and checked, as POST /api/customers/:id/payments does it.
 *
 *   npm run bench -- payments [--size 100000] [--payments 20000] [--clients 8] [--via http|service]
 *                             [--seed 1] [--reseed]
 *
 * Uses the database meterline_bench_payments: --size seeded customers, each owing three open bills
 * (20–120 yuan); reused when it holds --size customers, and reset before each run (payments, ledger
 * entries, receipts removed, bills unpaid again). Then --clients clients post --payments payments
 * of 0.01–150 yuan to random customers, each with its own Idempotency-Key:
 *   --via http     (default) through the HTTP API of the real server in a child process, as `admin`;
 *   --via service  takePayment in this process, one transaction per payment, --clients at a time.
 * Afterwards the whole ledger is checked set-based (every bill's paid_fen against its receivable
 * lines, postings balanced, credit ≥ 0, clearing accounts = payments standing) and the payments
 * counted (none lost, none doubled). Last line: one JSON object.
 */
import { todayInChina } from '@meterline/domain';
import { takePayment } from '@meterline/server/payments/service';
import type { RequestContext } from '@meterline/server/platform/context';
import { benchOptions, count } from '../lib/args.ts';
import { openBenchServer } from '../lib/database.ts';
import { cpuBusyPercent, machine, machineCpuMs, processCpuMs } from '../lib/machine.ts';
import { peakRssMb, summarise } from '../lib/stats.ts';
import {
  ledgerCheck,
  login,
  paymentsDatabase,
  random,
  startServerProcess,
  stopServerProcess,
} from './shared.ts';

const DATABASE = 'meterline_bench_payments';
const log = (msg: string) => console.log(`[bench:payments] ${msg}`);
const MAX_AMOUNT_FEN = 15_000;
const PROGRESS_EVERY_MS = 5_000;

async function main(): Promise<void> {
  const opts = benchOptions({
    size: { type: 'string' },
    payments: { type: 'string' },
    clients: { type: 'string' },
    via: { type: 'string' },
    seed: { type: 'string' },
    reseed: { type: 'boolean' },
  });
  const customers = count(opts.size, 100_000, 'size');
  const total = count(opts.payments, 20_000, 'payments');
  const clients = Math.max(1, count(opts.clients, 8, 'clients'));
  const via = opts.via ?? 'http';
  if (via !== 'http' && via !== 'service') throw new Error('--via is http or service');
  const rnd = random(count(opts.seed, 1, 'seed'));

  const othersBefore = await cpuBusyPercent(1000);
  const server = await openBenchServer(log);
  const { database, seeded } = await paymentsDatabase(server, DATABASE, customers, {
    reseed: opts.reseed ?? false,
    log,
    poolSize: via === 'service' ? clients + 2 : 4,
  });
  const { rows } = await database.pool.query<{ account_id: string }>(
    `select account_id::text from customer where state = 'active' order by account_id`,
  );
  const accounts = rows.map((r) => Number(r.account_id));
  log(
    `${accounts.length} active customers with open bills; ${total} payments from ${clients} clients via ${via}`,
  );

  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let sent = 0;
  let done = 0;
  let okFen = 0;
  let serverPid: number | null = null;
  let post: (accountId: number, amountFen: number, key: string) => Promise<number>;
  let stop = async () => {};

  if (via === 'http') {
    const proc = await startServerProcess(database.url, 'meterline-bench-payments-server');
    serverPid = proc.child.pid ?? null;
    stop = () => stopServerProcess(proc);
    const cookie = await login(proc.baseUrl, 'admin');
    post = async (accountId, amountFen, key) => {
      const res = await fetch(`${proc.baseUrl}/api/customers/${accountId}/payments`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, 'idempotency-key': key },
        body: JSON.stringify({ amountFen, channel: 'cash' }),
      });
      await res.arrayBuffer();
      return res.status;
    };
  } else {
    const staff = await database.db
      .selectFrom('staff')
      .select(['staff_id', 'full_name'])
      .where('username', '=', 'admin')
      .executeTakeFirstOrThrow();
    const ctx = (): RequestContext => ({
      caller: {
        staffId: Number(staff.staff_id),
        username: 'admin',
        fullName: staff.full_name,
        roleCode: 'admin',
        permissions: new Set(),
        officeIds: null,
        homeOfficeId: null,
        mustChangePassword: false,
      },
      lang: 'zh-CN',
      requestId: 'bench-payments',
      ip: '127.0.0.1',
      audited: 0,
    });
    post = async (accountId, amountFen, key) => {
      await database.db
        .transaction()
        .execute((trx) =>
          takePayment(trx, ctx(), accountId, { amountFen, channel: 'cash', idempotencyKey: key }),
        );
      return 201;
    };
  }

  const cpuServer0 = serverPid ? processCpuMs(serverPid) : null;
  const cpuMachine0 = machineCpuMs();
  const cpuSelf0 = process.cpuUsage();
  const started = performance.now();
  const progress = setInterval(() => {
    const s = (performance.now() - started) / 1000;
    log(`  ${done}/${total} payments, ${Math.round(done / s)}/s`);
  }, PROGRESS_EVERY_MS);
  const runId = Date.now().toString(36);
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (sent < total) {
        const i = sent++;
        const accountId = accounts[Math.floor(rnd() * accounts.length)]!;
        const amountFen = 1 + Math.floor(rnd() * MAX_AMOUNT_FEN);
        const t0 = performance.now();
        let status: number;
        try {
          status = await post(accountId, amountFen, `bench-${runId}-${i}`);
        } catch (error) {
          status = 599;
          if (statuses.get(599) === undefined) log(`error: ${(error as Error).message}`);
        }
        if (status !== 201 && status !== 599 && !statuses.has(status)) log(`answer ${status}`);
        latencies.push(performance.now() - t0);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status === 201) okFen += amountFen;
        done += 1;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  clearInterval(progress);
  const cpuServer1 = serverPid ? processCpuMs(serverPid) : null;
  const cpuMachine1 = machineCpuMs();
  const cpuSelf = process.cpuUsage(cpuSelf0);
  await stop();

  const created = statuses.get(201) ?? 0;
  log(`checking the ledger…`);
  const check = await ledgerCheck(database);
  const { rows: pr } = await database.pool.query<{ n: string; keys: string; fen: string }>(
    `select count(*)::text as n, count(distinct idempotency_key)::text as keys, coalesce(sum(amount_fen), 0)::text as fen
     from payment where business_day = $1`,
    [todayInChina()],
  );
  const paymentRows = Number(pr[0]!.n);
  const doubled = paymentRows - Number(pr[0]!.keys);
  const lost = created - Number(pr[0]!.keys);
  const { rows: splits } = await database.pool.query<{ allocated: string; credit: string }>(
    `select coalesce(sum(credit_fen) filter (where ledger_account = 'receivable'), 0)::text as allocated,
            coalesce(sum(credit_fen - debit_fen) filter (where ledger_account = 'prepayment'), 0)::text as credit
     from ledger_line`,
  );
  const violations =
    check.bill_paid_mismatch +
    check.late_fee_paid_mismatch +
    check.unbalanced_postings +
    check.negative_credit +
    (check.clearing_fen === check.payments_fen ? 0 : 1) +
    (Number(pr[0]!.fen) === okFen ? 0 : 1) +
    Math.abs(doubled) +
    Math.abs(lost);
  const busyMs = cpuMachine0 && cpuMachine1 ? cpuMachine1.busy - cpuMachine0.busy : null;
  const serverCpuMs = cpuServer0 !== null && cpuServer1 !== null ? cpuServer1 - cpuServer0 : null;
  const selfCpuMs = (cpuSelf.user + cpuSelf.system) / 1000;
  const latency = summarise(latencies);
  const result = {
    bench: 'payments',
    via,
    customers,
    clients,
    payments: created,
    seconds: Math.round(seconds * 100) / 100,
    payments_per_s: Math.round(created / seconds),
    ...latency,
    errors: total - created,
    statuses: Object.fromEntries(statuses),
    lost,
    doubled,
    violations,
    allocated_fen: Number(splits[0]!.allocated),
    credit_fen: Number(splits[0]!.credit),
    check,
    cpu: {
      server_ms_per_payment: serverCpuMs === null ? null : Math.round((serverCpuMs / created) * 100) / 100,
      // The machine's busy time per payment less this process and the server: PostgreSQL mostly.
      rest_ms_per_payment:
        busyMs === null
          ? null
          : Math.round(((busyMs - (serverCpuMs ?? 0) - selfCpuMs) / created) * 100) / 100,
      bench_ms_per_payment: Math.round((selfCpuMs / created) * 100) / 100,
      busy_before_pct: othersBefore,
    },
    peak_rss_mb: peakRssMb(),
    machine: machine(),
    database: server.where,
    ...(seeded ? { seeded } : {}),
  };
  log(
    `${created} payments in ${result.seconds} s = ${result.payments_per_s}/s, p50 ${latency.p50_ms} ms, p99 ${latency.p99_ms} ms; ` +
      `lost ${lost}, doubled ${doubled}, violations ${violations}`,
  );
  await database.close();
  await server.stop();
  console.log(JSON.stringify(result));
  if (violations > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
