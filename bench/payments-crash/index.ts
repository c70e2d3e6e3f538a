/**
 * bench/payments-crash — a bank result file import killed midway, restarted and resumed: nothing
 * lost, nothing posted twice. And how fast an uninterrupted import posts.
 *
 *   npm run bench -- payments-crash [--size 100000] [--customers 50000] [--kills 3] [--seed 1]
 *                                   [--stream-payments 2000] [--stream-clients 8] [--reseed] [--no-clean]
 *
 * Uses the database meterline_bench_paycrash (--customers seeded customers with three open bills
 * each; reused when it holds that many, reset before each run). Writes a result file of the demo
 * bank CCB (UTF-8 CSV, amounts in yuan) with --size detail lines for random customers: 2% failed
 * debits, 0.2% lines repeating an earlier bank reference, 0.1% unknown customer codes. Then:
 *
 * 0. stream (unless --stream-payments 0): counter payments with Idempotency-Keys from
 *    --stream-clients clients while the server is killed --kills times (paymentStream below).
 * 1. crash: starts the real server in a child process and uploads the file to
 *    POST /api/bank-files/imports as admin (answered 202: settled in the background); when
 *    k/(kills+1) of the lines are settled it kills the server with SIGKILL, starts it again (which
 *    resumes the import by itself) and uploads the same file again, --kills times, then lets it finish. Then it uploads the same file once more (a
 *    byte-identical file: answered with its first report) and a copy with another batch number (a
 *    different file with the same bank references: every line already posted), and counts, per bank
 *    reference, the payments posted: `lost` (a debited line of a known customer with no payment) and
 *    `doubled` (a reference with more than one) must both be 0, the ledger check clean.
 * 2. clean (unless --no-clean): another file of --size lines, fresh references, imported without
 *    interruption: `clean.seconds`, `clean.rows_per_s` — the "100,000-row bank file" figure at the
 *    default size.
 *
 * Last line: one JSON object.
 */
import http from 'node:http';
import { todayInChina } from '@meterline/domain';
import {
  type BankResultRow,
  EXAMPLE_BANK_FORMATS,
  renderResultFile,
} from '@meterline/domain/payments/bankFiles';
import { benchOptions, count } from '../lib/args.ts';
import type { BenchDatabase } from '../lib/database.ts';
import { openBenchServer } from '../lib/database.ts';
import { machine, processCpuMs } from '../lib/machine.ts';
import { peakRssMb } from '../lib/stats.ts';
import {
  ledgerCheck,
  login,
  paymentsDatabase,
  random,
  type ServerProcess,
  startServerProcess,
  stopServerProcess,
} from '../payments/shared.ts';

const DATABASE = 'meterline_bench_paycrash';
const BANK = 'CCB';
const LOG_NAME = 'meterline-bench-payments-crash-server';
const POLL_MS = 250;
/** Longest wait for one upload (a 100,000-line file at a few hundred lines a second). */
const UPLOAD_TIMEOUT_MS = 4 * 3600_000;
const log = (msg: string) => console.log(`[bench:payments-crash] ${msg}`);
const round2 = (x: number) => Math.round(x * 100) / 100;
/** Sends of one counter payment at most (a retry every 50 ms across a restart of a few seconds). */
const MAX_SENDS_PER_PAYMENT = 1_000;

interface Line {
  row: BankResultRow;
  debited: boolean;
  known: boolean;
}

/** A result file of `size` lines over the given customers, and what each line should do. */
function resultFile(
  customers: { code: string; name: string }[],
  size: number,
  batchNo: string,
  refPrefix: string,
  rnd: () => number,
): { content: Buffer; lines: Line[] } {
  const lines: Line[] = [];
  for (let i = 0; i < size; i += 1) {
    const r = rnd();
    if (r < 0.002 && lines.length > 0) {
      // The bank repeats a line it sent already (same reference): posted once.
      lines.push(lines[Math.floor(rnd() * lines.length)]!);
      continue;
    }
    const unknown = r > 0.999;
    const c = customers[Math.floor(rnd() * customers.length)]!;
    const debited = rnd() >= 0.02;
    lines.push({
      row: {
        accountRef: unknown ? `9999${String(i).padStart(8, '0')}` : c.code,
        bankAccountNo: `6217${String(i).padStart(15, '0')}`,
        holderName: c.name,
        amountFen: 100 + Math.floor(rnd() * 15_000),
        bankTxnRef: `${refPrefix}${String(i).padStart(9, '0')}`,
        resultCode: debited ? '0000' : '3001',
        reason: debited ? '' : '余额不足',
      },
      debited,
      known: !unknown,
    });
  }
  const text = renderResultFile(
    EXAMPLE_BANK_FORMATS.CCB,
    { bankCode: BANK, fileDate: todayInChina().replaceAll('-', ''), batchNo },
    lines.map((l) => l.row),
  );
  return { content: Buffer.from(text, 'utf8'), lines };
}

/** POST the file as multipart/form-data (node:http: no client-side timeout on a long import). */
function upload(
  baseUrl: string,
  cookie: string,
  fileName: string,
  content: Buffer,
): Promise<{ status: number; body: string }> {
  const boundary = `----meterline${Date.now().toString(16)}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\n` +
        'Content-Type: text/plain\r\n\r\n',
    ),
    content,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  const url = new URL(`${baseUrl}/api/bank-files/imports?bankCode=${BANK}`);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: 'POST',
        headers: {
          cookie,
          'content-type': `multipart/form-data; boundary=${boundary}`,
          'content-length': body.length,
        },
        timeout: UPLOAD_TIMEOUT_MS,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('upload timed out')));
    req.end(body);
  });
}

async function fileStatus(database: BenchDatabase, fileName: string): Promise<string | null> {
  const { rows } = await database.pool.query<{ status: string }>(
    `select status from bank_file where file_name = $1 and direction = 'import' order by file_id limit 1`,
    [fileName],
  );
  return rows[0]?.status ?? null;
}

/** Waits until the import of `fileName` is settled, then its report (as an upload that settled before answering). */
async function settledReport(
  baseUrl: string,
  cookie: string,
  database: BenchDatabase,
  fileName: string,
): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + UPLOAD_TIMEOUT_MS;
  while ((await fileStatus(database, fileName)) === 'processing') {
    if (Date.now() > deadline) throw new Error(`the import of ${fileName} did not finish in time`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const { rows } = await database.pool.query<{ file_id: string }>(
    `select file_id::text from bank_file where file_name = $1 and direction = 'import' order by file_id limit 1`,
    [fileName],
  );
  const res = await fetch(`${baseUrl}/api/bank-files/${rows[0]!.file_id}`, { headers: { cookie } });
  return { status: res.ok ? 201 : res.status, body: await res.text() };
}

async function settled(database: BenchDatabase, fileName: string): Promise<number> {
  const { rows } = await database.pool.query<{ n: string }>(
    `select count(*)::text as n from bank_file_row r join bank_file f on f.file_id = r.file_id
     where f.file_name = $1 and r.outcome is not null`,
    [fileName],
  );
  return Number(rows[0]!.n);
}

/**
 * Counter payments from `clients` clients, each with its own Idempotency-Key, while the server is
 * killed (SIGKILL) `kills` times and restarted: a request cut off is sent again with the same key
 * until it is answered. Then every key is sent once more (each must be a replay), and the payments
 * are counted per key: lost (none) and doubled (more than one) must be 0.
 */
async function paymentStream(
  database: BenchDatabase,
  first: ServerProcess,
  opts: { payments: number; clients: number; kills: number; tag: string; rnd: () => number },
): Promise<{ proc: ServerProcess; figures: Record<string, unknown>; violations: number }> {
  const { rows } = await database.pool.query<{ account_id: string }>(
    `select account_id::text from customer where state = 'active' order by account_id`,
  );
  const accounts = rows.map((r) => Number(r.account_id));
  let proc = first;
  let cookie = await login(proc.baseUrl, 'admin');
  let restarting: Promise<void> | null = null;
  const planned = Array.from({ length: opts.payments }, (_, i) => ({
    key: `crash-${opts.tag}-${i}`,
    accountId: accounts[Math.floor(opts.rnd() * accounts.length)]!,
    amountFen: 1 + Math.floor(opts.rnd() * 15_000),
  }));
  const counts = { sends: 0, retries: 0, cut_off: 0, server_errors: 0, replays: 0, created: 0, gave_up: 0 };
  const post = async (p: (typeof planned)[number]) => {
    const res = await fetch(`${proc.baseUrl}/api/customers/${p.accountId}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'idempotency-key': p.key },
      body: JSON.stringify({ amountFen: p.amountFen, channel: 'cash' }),
    });
    const body = (await res.json()) as { paymentId?: number };
    return { status: res.status, replay: res.headers.get('idempotent-replay') === 'true', body };
  };
  const answered = new Map<string, number>();
  let next = 0;
  let done = 0;
  const t0 = performance.now();
  const clients = Array.from({ length: opts.clients }, async () => {
    while (next < planned.length) {
      const p = planned[next++]!;
      for (let attempt = 0; ; attempt += 1) {
        if (attempt >= MAX_SENDS_PER_PAYMENT) {
          counts.gave_up += 1;
          break;
        }
        if (restarting) await restarting;
        counts.sends += 1;
        if (attempt > 0) counts.retries += 1;
        try {
          const r = await post(p);
          if (r.status === 201) {
            if (r.replay) counts.replays += 1;
            else counts.created += 1;
            answered.set(p.key, r.body.paymentId ?? -1);
            break;
          }
          counts.server_errors += 1;
        } catch {
          counts.cut_off += 1;
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      done += 1;
    }
  });
  const killedAt: number[] = [];
  const killer = (async () => {
    for (let k = 1; k <= opts.kills; k += 1) {
      const target = Math.floor((opts.payments * k) / (opts.kills + 1));
      while (done < target) await new Promise((resolve) => setTimeout(resolve, 20));
      let release = () => {};
      restarting = new Promise<void>((resolve) => {
        release = resolve;
      });
      const exited = new Promise((resolve) => proc.child.once('exit', resolve));
      proc.child.kill('SIGKILL');
      await exited;
      killedAt.push(done);
      log(`stream kill ${k}: SIGKILL after ${done}/${opts.payments} payments answered`);
      proc = await startServerProcess(database.url, LOG_NAME);
      cookie = await login(proc.baseUrl, 'admin');
      restarting = null;
      release();
    }
  })();
  await Promise.all([...clients, killer]);
  const seconds = (performance.now() - t0) / 1000;
  // Every key once more: each must come back as the payment it made.
  let finalReplays = 0;
  let finalMismatch = 0;
  for (const p of planned) {
    const r = await post(p);
    if (r.status === 201 && r.replay) finalReplays += 1;
    if (r.status !== 201 || r.body.paymentId !== answered.get(p.key)) finalMismatch += 1;
  }
  const { rows: got } = await database.pool.query<{ key: string; n: number; fen: string }>(
    `select idempotency_key as key, count(*)::int as n, sum(amount_fen)::text as fen from payment
     where idempotency_key like $1 group by idempotency_key`,
    [`crash-${opts.tag}-%`],
  );
  const byKey = new Map(got.map((g) => [g.key, g]));
  let lost = 0;
  let doubled = 0;
  let wrongAmount = 0;
  for (const p of planned) {
    const g = byKey.get(p.key);
    if (!g) lost += 1;
    else if (g.n > 1) doubled += g.n - 1;
    else if (Number(g.fen) !== p.amountFen) wrongAmount += 1;
  }
  const figures = {
    payments: opts.payments,
    clients: opts.clients,
    kills: killedAt.length,
    killed_after: killedAt,
    seconds: round2(seconds),
    ...counts,
    final_replays: finalReplays,
    final_mismatch: finalMismatch,
    lost,
    doubled,
    wrong_amount: wrongAmount,
  };
  log(`stream: ${JSON.stringify(figures)}`);
  return { proc, figures, violations: lost + doubled + wrongAmount + finalMismatch + counts.gave_up };
}

async function main(): Promise<void> {
  const opts = benchOptions({
    size: { type: 'string' },
    customers: { type: 'string' },
    kills: { type: 'string' },
    seed: { type: 'string' },
    reseed: { type: 'boolean' },
    'no-clean': { type: 'boolean' },
    'stream-payments': { type: 'string' },
    'stream-clients': { type: 'string' },
  });
  const size = count(opts.size, 100_000, 'size');
  const customerCount = count(opts.customers, Math.max(1_000, Math.round(size / 2)), 'customers');
  const kills = count(opts.kills, 3, 'kills');
  const streamPayments = count(opts['stream-payments'], 2_000, 'stream-payments');
  const streamClients = Math.max(1, count(opts['stream-clients'], 8, 'stream-clients'));
  const rnd = random(count(opts.seed, 1, 'seed'));

  const server = await openBenchServer(log);
  const { database, seeded } = await paymentsDatabase(server, DATABASE, customerCount, {
    reseed: opts.reseed ?? false,
    log,
  });
  const { rows: cs } = await database.pool.query<{ code: string; name: string }>(
    `select customer_code as code, name from customer where state = 'active' order by account_id`,
  );
  const runTag = Date.now().toString(36).toUpperCase();
  const crashFile = resultFile(cs, size, `C${runTag}`.slice(0, 10), `X${runTag}`, rnd);
  const crashName = `crash-${runTag}.csv`;
  log(
    `result file: ${size} lines, ${(crashFile.content.length / 1024 / 1024).toFixed(1)} MB; ${kills} kills`,
  );

  let proc: ServerProcess = await startServerProcess(database.url, LOG_NAME);
  // ---------------------------------------------------------------- 0. counter payments, killed
  let stream: Awaited<ReturnType<typeof paymentStream>> | null = null;
  if (streamPayments > 0) {
    stream = await paymentStream(database, proc, {
      payments: streamPayments,
      clients: streamClients,
      kills,
      tag: runTag,
      rnd,
    });
    proc = stream.proc;
  }

  // ---------------------------------------------------------------- 1. killed midway, resumed
  let cookie = await login(proc.baseUrl, 'admin');
  const crashStarted = performance.now();
  const restartSeconds: number[] = [];
  const killedAt: number[] = [];
  let final: { status: number; body: string } | null = null;
  for (let k = 1; k <= kills + 1 && !final; k += 1) {
    // The upload is answered at once (202: settled in the background; a restarted server resumes it
    // by itself, and the same file uploaded again continues it).
    const answer = await upload(proc.baseUrl, cookie, crashName, crashFile.content);
    if (![200, 201, 202].includes(answer.status))
      throw new Error(`upload ${k} answered ${answer.status}: ${answer.body}`);
    if (k <= kills) {
      const target = Math.floor((size * k) / (kills + 1));
      let at = 0;
      let finished = false;
      while (!finished && at < target) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        at = await settled(database, crashName);
        finished = (await fileStatus(database, crashName)) !== 'processing';
      }
      if (finished) {
        final = await settledReport(proc.baseUrl, cookie, database, crashName);
        log(`the import finished before kill ${k} (${at} lines settled)`);
        break;
      }
      const exited = new Promise((resolve) => proc.child.once('exit', resolve));
      proc.child.kill('SIGKILL');
      await exited;
      killedAt.push(at);
      log(`kill ${k}: SIGKILL at ${at}/${size} lines settled`);
      const t0 = performance.now();
      proc = await startServerProcess(database.url, LOG_NAME);
      cookie = await login(proc.baseUrl, 'admin');
      restartSeconds.push(round2((performance.now() - t0) / 1000));
    } else {
      final = await settledReport(proc.baseUrl, cookie, database, crashName);
    }
  }
  const crashSeconds = (performance.now() - crashStarted) / 1000;
  if (final?.status !== 201) throw new Error(`the last upload answered ${final?.status}: ${final?.body}`);
  const report = JSON.parse(final.body) as {
    counts: Record<string, number>;
    amounts: Record<string, number>;
    status: string;
  };
  log(`resumed import done in ${crashSeconds.toFixed(1)} s in all: ${JSON.stringify(report.counts)}`);

  // The same bytes again, then the same lines under another batch number: nothing may post.
  const postedBefore = Number(
    (
      await database.pool.query<{ n: string }>(
        `select count(*)::text as n from payment where source = 'bank_file'`,
      )
    ).rows[0]!.n,
  );
  const same = await upload(proc.baseUrl, cookie, crashName, crashFile.content);
  const copyText = crashFile.content
    .toString('utf8')
    .replace(/^H,CCB,(\d+),[^\r\n]*/, `H,CCB,$1,R${runTag}`.slice(0, 30));
  const copy = await upload(proc.baseUrl, cookie, `again-${crashName}`, Buffer.from(copyText, 'utf8'));
  // A large copy is settled in the background: count what it posted once it is done.
  if (copy.status === 202) await settledReport(proc.baseUrl, cookie, database, `again-${crashName}`);
  const postedAfter = Number(
    (
      await database.pool.query<{ n: string }>(
        `select count(*)::text as n from payment where source = 'bank_file'`,
      )
    ).rows[0]!.n,
  );
  log(
    `same file again: ${same.status}; a copy with another batch: ${copy.status}; posted by them: ${postedAfter - postedBefore}`,
  );

  // Lost and doubled, per bank reference.
  const expected = new Map<string, number>();
  for (const l of crashFile.lines)
    if (l.debited && l.known) expected.set(`${BANK}:${l.row.bankTxnRef}`, l.row.amountFen);
  const { rows: posted } = await database.pool.query<{ ref: string; n: number; fen: string }>(
    `select external_ref as ref, count(*)::int as n, sum(amount_fen)::text as fen from payment
     where source = 'bank_file' and external_ref like $1 group by external_ref`,
    [`${BANK}:X${runTag}%`],
  );
  const got = new Map(posted.map((p) => [p.ref, p]));
  let lost = 0;
  let doubled = 0;
  let wrongAmount = 0;
  let unexpected = 0;
  for (const [ref, fen] of expected) {
    const p = got.get(ref);
    if (!p) lost += 1;
    else if (p.n > 1) doubled += p.n - 1;
    else if (Number(p.fen) !== fen) wrongAmount += 1;
  }
  for (const ref of got.keys()) if (!expected.has(ref)) unexpected += 1;
  const pendingRows = Number(
    (
      await database.pool.query<{ n: string }>(
        `select count(*)::text as n from bank_file_row where outcome is null`,
      )
    ).rows[0]!.n,
  );

  // ---------------------------------------------------------------- 2. uninterrupted
  let clean: Record<string, unknown> | null = null;
  if (!opts['no-clean']) {
    const cleanFile = resultFile(cs, size, `N${runTag}`.slice(0, 10), `N${runTag}`, rnd);
    const cpu0 = proc.child.pid ? processCpuMs(proc.child.pid) : null;
    const t0 = performance.now();
    let res = await upload(proc.baseUrl, cookie, `clean-${runTag}.csv`, cleanFile.content);
    if (res.status === 202) res = await settledReport(proc.baseUrl, cookie, database, `clean-${runTag}.csv`);
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = proc.child.pid ? processCpuMs(proc.child.pid) : null;
    if (res.status !== 201) throw new Error(`clean import answered ${res.status}: ${res.body}`);
    const r = JSON.parse(res.body) as { counts: Record<string, number> };
    clean = {
      lines: size,
      seconds: round2(seconds),
      rows_per_s: Math.round(size / seconds),
      posted_per_s: Math.round((r.counts.posted ?? 0) / seconds),
      counts: r.counts,
      server_cpu_ms_per_row: cpu0 !== null && cpu1 !== null ? round2((cpu1 - cpu0) / size) : null,
    };
    log(`clean import: ${size} lines in ${clean.seconds} s = ${clean.rows_per_s} lines/s`);
  }
  await stopServerProcess(proc);

  const check = await ledgerCheck(database);
  const violations =
    (stream?.violations ?? 0) +
    lost +
    doubled +
    wrongAmount +
    unexpected +
    pendingRows +
    (postedAfter - postedBefore) +
    check.bill_paid_mismatch +
    check.late_fee_paid_mismatch +
    check.unbalanced_postings +
    check.negative_credit +
    (check.clearing_fen === check.payments_fen ? 0 : 1);
  const result = {
    bench: 'payments-crash',
    lines: size,
    customers: customerCount,
    kills: killedAt.length,
    killed_at_lines: killedAt,
    restart_seconds: restartSeconds,
    crash_seconds: round2(crashSeconds),
    expected_postings: expected.size,
    posted: posted.length,
    lost,
    doubled,
    wrong_amount: wrongAmount,
    unexpected,
    pending_rows: pendingRows,
    reimport: { same_file_status: same.status, copy_status: copy.status, posted: postedAfter - postedBefore },
    report_counts: report.counts,
    violations,
    check,
    ...(clean ? { clean } : {}),
    ...(stream ? { stream: stream.figures } : {}),
    peak_rss_mb: peakRssMb(),
    machine: machine(),
    database: server.where,
    server_log: proc.logFile,
    ...(seeded ? { seeded } : {}),
  };
  log(`lost ${lost}, doubled ${doubled}, violations ${violations}`);
  await database.close();
  await server.stop();
  console.log(JSON.stringify(result));
  if (violations > 0) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
