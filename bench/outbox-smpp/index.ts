/**
 * bench/outbox-smpp — outbox throughput to an SMSC: SMS a second submitted over SMPP and delivered
 * (receipts recorded), through the server's own OutboxSender and SmppTransport, against the local
 * SMPP peer (outbox/testPeer.ts) in this process.
 *
 *   npm run bench -- outbox-smpp [--messages 20000] [--customers 2000] [--window 50] [--batch 500]
 *                                [--long-pct 10] [--drops 2] [--reseed]
 *
 * Uses the database meterline_bench_outbox (--customers seeded customers; reused when it holds
 * them). Clears the outbox, enqueues --messages SMS set-based (Chinese text, --long-pct of them
 * long enough for two concatenated parts), starts the peer and the sender, and drops the SMPP link
 * --drops times mid-run (the peer accepts a submit and never answers it). Counts at the peer by
 * client reference afterwards: every message must have reached it (`lost` 0), each under the one
 * SMSC id the database recorded for it (`id_mismatch` 0: no resend was taken as a new message),
 * and every message must be `delivered` in the database. Last line: one JSON object.
 */

import { OutboxSender } from '@meterline/server/outbox/sender';
import { SmppTestPeer } from '@meterline/server/outbox/testPeer';
import { invalidateSettings } from '@meterline/server/platform/settings';
import { seedCustomers } from '@meterline/server/seed/customers';
import { benchOptions, count } from '../lib/args.ts';
import { openBenchServer, prepareDatabase } from '../lib/database.ts';
import { cpuBusyPercent, machine } from '../lib/machine.ts';
import { peakRssMb } from '../lib/stats.ts';

const DATABASE = 'meterline_bench_outbox';
const log = (msg: string) => console.log(`[bench:outbox-smpp] ${msg}`);
const PROGRESS_EVERY_MS = 2_000;
const TIMEOUT_MS = 30 * 60_000;

async function main(): Promise<void> {
  const opts = benchOptions({
    messages: { type: 'string' },
    size: { type: 'string' },
    customers: { type: 'string' },
    window: { type: 'string' },
    batch: { type: 'string' },
    'long-pct': { type: 'string' },
    drops: { type: 'string' },
    reseed: { type: 'boolean' },
  });
  const total = count(opts.messages ?? opts.size, 20_000, 'messages');
  const customers = Math.max(1, count(opts.customers, 2_000, 'customers'));
  const window = Math.max(1, count(opts.window, 50, 'window'));
  const batch = Math.max(1, count(opts.batch, 500, 'batch'));
  const longPct = Math.min(100, count(opts['long-pct'], 10, 'long-pct'));
  const drops = count(opts.drops, 2, 'drops');

  const othersBefore = await cpuBusyPercent(1000);
  const server = await openBenchServer(log);
  let reuse = !opts.reseed && (await server.exists(DATABASE));
  if (reuse) {
    const probe = await prepareDatabase(server.urlOf(DATABASE), 2);
    const { rows } = await probe.pool.query<{ n: string }>('select count(*)::text as n from customer');
    await probe.close();
    reuse = Number(rows[0]!.n) === customers;
  }
  if (!reuse) {
    await server.recreate(DATABASE);
    const seed = await prepareDatabase(server.urlOf(DATABASE), 4);
    log(`seeding ${customers} customers…`);
    await seedCustomers(seed.pool, { customers });
    await seed.close();
  }
  const database = await prepareDatabase(server.urlOf(DATABASE), 8);
  const { pool, db } = database;
  await pool.query('truncate outbox_receipt, outbox_segment, outbox_attempt, outbox_message');

  // Enqueue set-based, as the dunning run writes its messages.
  const t0 = Date.now();
  await pool.query(
    `insert into outbox_message (account_id, channel, recipient, template, body, dedupe_key, purpose, not_before)
     select c.account_id, 'sms', '1' || (3 + g % 7)::text || lpad((g * 7919 % 1000000000)::text, 9, '0'), 'bench',
            case when g % 100 < $2
                 then '【城市供水】尊敬的用户，您的账户本期应缴水费 ' || (g % 200 + 20) || '.50 元已逾期未缴，' ||
                      '请于本月底前到营业厅、银行或通过微信、支付宝缴纳，逾期将按规定加收滞纳金并依法催缴。客服热线 96116。'
                 else '【城市供水】您本期用水 ' || (g % 30 + 3) || ' 吨，水费 ' || (g % 200 + 20) || '.50 元，请按时缴纳。' end,
            'bench:' || g, 'dunning', now()
       from generate_series(1, $1::int) g
       join (select account_id, (row_number() over (order by account_id) - 1)::int as i from customer) c
         on c.i = g % $3`,
    [total, longPct, customers],
  );
  const enqueueSeconds = (Date.now() - t0) / 1000;
  const segments = Number(
    (
      await pool.query<{ n: string }>(
        `select sum(case when char_length(body) <= 70 then 1 else ceil(char_length(body) / 67.0) end)::text as n from outbox_message`,
      )
    ).rows[0]!.n,
  );
  log(`${total} messages enqueued (${segments} SMS parts) in ${enqueueSeconds.toFixed(1)} s`);

  const peer = new SmppTestPeer({ password: 'bench' });
  await peer.start(0);
  const settings: Record<string, number | string> = {
    'smsc.enabled': 1,
    'smsc.host': '127.0.0.1',
    'smsc.port': peer.port,
    'smsc.password': 'bench',
    'smsc.windowSize': window,
    'smsc.reconnectBaseMs': 100,
    'smsc.reconnectCapMs': 1_000,
    'smsc.inDoubt': 'resend',
    'outbox.batchSize': batch,
  };
  for (const [key, value] of Object.entries(settings))
    await pool.query(
      `insert into setting (key, effective_from, value) values ($1, '2000-01-01', $2::jsonb)
       on conflict (key, effective_from) do update set value = excluded.value`,
      [key, JSON.stringify(value)],
    );
  invalidateSettings();
  // Drops spread over the run, at submit counts the peer sees.
  for (let k = 1; k <= drops; k++) peer.dropOnSubmit(Math.floor((segments * k) / (drops + 1)));

  const sender = new OutboxSender(db, { pollMs: 50, log: (m) => log(`sender: ${m}`) });
  const started = Date.now();
  sender.start();
  let submittedAt: number | null = null;
  let deliveredAt: number | null = null;
  let lastProgress = started;
  const status = async () => {
    const { rows } = await pool.query<{ status: string; n: string }>(
      'select status, count(*)::text as n from outbox_message group by status',
    );
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])) as Record<string, number>;
  };
  for (;;) {
    await new Promise((r) => setTimeout(r, 100));
    const s = await status();
    const done = (s.sent ?? 0) + (s.delivered ?? 0) + (s.failed ?? 0);
    if (submittedAt === null && done === total) submittedAt = Date.now();
    if ((s.delivered ?? 0) + (s.failed ?? 0) === total) {
      deliveredAt = Date.now();
      break;
    }
    if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = Date.now();
      log(
        `${((Date.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify(s)}, wire submits ${peer.submits.length}`,
      );
    }
    if (Date.now() - started > TIMEOUT_MS) throw new Error(`timed out: ${JSON.stringify(s)}`);
  }
  await sender.stop();
  await peer.stop();

  const final = await status();
  const delivered = peer.delivered();
  const { rows: refs } = await pool.query<{ ref: string }>(
    `select account_id || '-' || message_id as ref from outbox_message`,
  );
  const lost = refs.filter((r) => !delivered.has(r.ref)).length;
  // Each message's recorded SMSC id must be the one the peer gave its first acceptance: a resend
  // taken as a new message would have been given another id (and reached the handset twice).
  const firstIds = new Map(
    peer.submits.filter((x) => !x.duplicate && x.part === 1).map((x) => [x.ref, x.messageId]),
  );
  const { rows: recorded } = await pool.query<{ ref: string; smsc_message_id: string | null }>(
    `select account_id || '-' || message_id as ref, smsc_message_id from outbox_message`,
  );
  const idMismatch = recorded.filter((r) => firstIds.get(r.ref) !== r.smsc_message_id).length;
  const end = deliveredAt ?? Date.now();
  const submitSeconds = ((submittedAt ?? end) - started) / 1000;
  const deliverSeconds = (end - started) / 1000;
  const figures = {
    bench: 'outbox-smpp',
    messages: total,
    sms_parts: segments,
    window,
    batch,
    long_pct: longPct,
    drops,
    enqueue_seconds: Math.round(enqueueSeconds * 100) / 100,
    submit_seconds: Math.round(submitSeconds * 100) / 100,
    deliver_seconds: Math.round(deliverSeconds * 100) / 100,
    submitted_per_s: Math.round(total / submitSeconds),
    parts_per_s: Math.round(segments / submitSeconds),
    delivered_per_s: Math.round((final.delivered ?? 0) / deliverSeconds),
    delivered: final.delivered ?? 0,
    failed: final.failed ?? 0,
    wire_submits: peer.submits.length,
    wire_duplicates: peer.duplicates,
    reached_peer: delivered.size,
    lost,
    id_mismatch: idMismatch,
    receipts: peer.receiptsSent,
    peak_rss_mb: peakRssMb(),
    others_cpu_pct_before: othersBefore,
    machine: machine(),
    database: server.where,
  };
  log(
    `${total} messages: submitted in ${figures.submit_seconds} s (${figures.submitted_per_s}/s), delivered in ` +
      `${figures.deliver_seconds} s (${figures.delivered_per_s}/s); lost ${lost}, id mismatches ${idMismatch}, ` +
      `${peer.duplicates} resubmits de-duplicated by the peer after ${drops} drops`,
  );
  await database.close();
  await server.stop();
  console.log(JSON.stringify(figures));
  if (lost > 0 || idMismatch > 0 || (final.delivered ?? 0) !== total) process.exitCode = 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
