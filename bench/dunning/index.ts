/**
 * bench/dunning — the daily dunning run (docs/dunning.md) over a utility's bills.
 *
 *   npm run bench -- dunning [--size 1000000] [--chunk 5000] [--down-days 0] [--spread-days 60] [--reseed]
 *
 * Uses the database meterline_bench_dunning: reused when it holds --size accounts generated for
 * today, else (or with --reseed) recreated and filled by a set-based generator (INSERT … SELECT
 * over generate_series, 100,000 accounts per transaction, secondary indexes set aside and rebuilt
 * at the end): --size accounts in the demo's five offices, each with a mobile (1 in 25 without
 * a phone, 1 in 50 with a landline only), a bill of two months ago paid, and this cycle's bill read
 * on one of the past --spread-days days (60) — paid, except for 10% of the accounts (the arrears),
 * which so sit at every step of the timeline. With --spread-days 1 every bill was read yesterday:
 * all the arrears (100,000 of 1,000,000 accounts) are at the day +1 step today — the worst day. The run of today (the server's own runDunning, in this process)
 * is timed and checked: the messages it queued are exactly the unpaid bills read 1, 10 and 15
 * days ago with a number to send to (the others exceptions), none for a paid bill. Then the same
 * day is run again from its start (cursor reset) to show it adds nothing. The run's messages and
 * exceptions are removed at the end, so the next run starts from the same state. Last line: one
 * JSON object.
 *
 * With --down-days N the server is taken to have been down the N days before today (a completed run
 * of the day before them is recorded): today's run catches up min(N, dunning.catchUpDays) days.
 */
import { addDays, todayInChina } from '@meterline/domain';
import { DUNNING_CHUNK_BILLS, runDunning } from '@meterline/server/collections/dunning';
import type pg from 'pg';
import { benchOptions, count } from '../lib/args.ts';
import { type BenchDatabase, openBenchServer, prepareDatabase } from '../lib/database.ts';
import { cpuBusyPercent, machine } from '../lib/machine.ts';
import { peakRssMb } from '../lib/stats.ts';

const DATABASE = 'meterline_bench_dunning';
const TARGET_SECONDS = 30;
const GENERATE_CHUNK = 100_000;
/** This cycle's readings are spread over this many past days (--spread-days; 1: the worst day). */
const DEFAULT_SPREAD_DAYS = 60;
const log = (msg: string) => console.log(`[bench:dunning] ${msg}`);
const round1 = (x: number) => Math.round(x * 10) / 10;

const FILLED = ['customer', 'contact', 'bill'] as const;
const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

interface SetAside {
  indexes: { name: string; definition: string }[];
  foreignKeys: { table: string; name: string; definition: string }[];
}

async function setAside(client: pg.PoolClient): Promise<SetAside> {
  const indexes = await client.query<{ name: string; definition: string }>(
    `select i.relname as name, pg_get_indexdef(x.indexrelid) as definition
     from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid
     where t.relname = any($1) and t.relnamespace = current_schema()::regnamespace
       and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)`,
    [FILLED],
  );
  const foreignKeys = await client.query<{ table: string; name: string; definition: string }>(
    `select t.relname as table, c.conname as name, pg_get_constraintdef(c.oid) as definition
     from pg_constraint c join pg_class t on t.oid = c.conrelid
     where c.contype = 'f' and t.relname = any($1) and t.relnamespace = current_schema()::regnamespace`,
    [FILLED],
  );
  for (const fk of foreignKeys.rows)
    await client.query(`alter table ${ident(fk.table)} drop constraint ${ident(fk.name)}`);
  for (const index of indexes.rows) await client.query(`drop index ${ident(index.name)}`);
  return { indexes: indexes.rows, foreignKeys: foreignKeys.rows };
}

async function restore(client: pg.PoolClient, aside: SetAside): Promise<void> {
  await client.query("set maintenance_work_mem = '512MB'");
  for (const index of aside.indexes) await client.query(index.definition);
  for (const fk of aside.foreignKeys)
    await client.query(`alter table ${ident(fk.table)} add constraint ${ident(fk.name)} ${fk.definition}`);
}

/**
 * Account g: reading day today − 1 − (⌊g/10⌋ mod spreadDays); in arrears when g mod 10 = 3; no contact when
 * ⌊g/600⌋ mod 25 = 7, a landline only when ⌊g/600⌋ mod 50 = 11 (so the arrears have both too).
 */
async function generate(
  database: BenchDatabase,
  accounts: number,
  today: string,
  spreadDays: number,
): Promise<number> {
  const started = Date.now();
  const offices = (
    await database.pool.query<{ office_id: number }>('select office_id from office order by code')
  ).rows.map((o) => o.office_id);
  const client = await database.pool.connect();
  try {
    await client.query("set work_mem = '256MB'");
    const aside = await setAside(client);
    for (let lo = 1; lo <= accounts; lo += GENERATE_CHUNK) {
      const hi = Math.min(accounts, lo + GENERATE_CHUNK - 1);
      await client.query('begin');
      await client.query(
        `insert into customer (account_id, office_id, customer_code, kind, name, state, connected_on, notice_delivery, search_key)
         select g, ($3::bigint[])[1 + g % cardinality($3::bigint[])], lpad(g::text, 12, '0'), 'person', '住户' || g,
                'active', date '2015-01-01', 'sms', ''
         from generate_series($1::bigint, $2::bigint) g`,
        [lo, hi, offices],
      );
      await client.query(
        `insert into contact (account_id, contact_id, name, relation, phone, is_primary)
         select g, 1, '住户' || g, 'self',
                case when (g / 600) % 50 = 11 then '0371-' || lpad((g % 100000000)::text, 8, '0')
                     else '13' || lpad((g % 1000000000)::text, 9, '0') end, true
         from generate_series($1::bigint, $2::bigint) g where (g / 600) % 25 <> 7`,
        [lo, hi],
      );
      // Two bills an account: last cycle's (paid) and this cycle's (unpaid for 10% of accounts).
      await client.query(
        `insert into bill (account_id, bill_id, bill_no, period, period_from, period_to, payable_m3, amount_fen,
                           paid_fen, due_on)
         select g, g * 2 + k, 'D-' || (g * 2 + k), to_char(day, 'YYYY-MM'), day - 60, day, 15 + g % 20,
                (15 + g % 20) * 410, case when k = 0 or g % 10 <> 3 then (15 + g % 20) * 410 else 0 end, day + 30
         from generate_series($1::bigint, $2::bigint) g
         cross join generate_series(0, 1) k
         cross join lateral (select $3::date - 1 - ((g / 10) % $4::int)::int - (1 - k) * 61 as day) d`,
        [lo, hi, today, spreadDays],
      );
      await client.query('commit');
      if (hi % 500_000 === 0 || hi === accounts)
        log(
          `generated ${hi.toLocaleString('en')} accounts (${Math.round(hi / ((Date.now() - started) / 1000))}/s)`,
        );
    }
    log(`rows in ${((Date.now() - started) / 1000).toFixed(1)} s; rebuilding indexes and foreign keys…`);
    await restore(client, aside);
    await client.query(
      `select setval(pg_get_serial_sequence('bill', 'bill_id'), (select coalesce(max(bill_id), 0) + 1 from bill))`,
    );
    await client.query(
      `select setval(pg_get_serial_sequence('contact', 'contact_id'), (select coalesce(max(contact_id), 0) + 1 from contact))`,
    );
    await client.query(`select setval('account_id_seq', ${accounts})`);
    await client.query(
      `create table if not exists bench_meta (generated_for date not null, spread_days integer not null)`,
    );
    await client.query('delete from bench_meta');
    await client.query('insert into bench_meta values ($1, $2)', [today, spreadDays]);
    await client.query(`vacuum (analyze) ${FILLED.join(', ')}`);
  } finally {
    client.release();
  }
  return (Date.now() - started) / 1000;
}

/** Removes what dunning runs wrote. */
async function reset(pool: pg.Pool): Promise<void> {
  await pool.query('delete from dunning_exception');
  await pool.query('delete from dunning_run');
  await pool.query('truncate outbox_message cascade');
  await pool.query('vacuum (analyze) outbox_message, dunning_run, dunning_exception');
}

async function main(): Promise<void> {
  const opts = benchOptions({
    size: { type: 'string' },
    chunk: { type: 'string' },
    'down-days': { type: 'string' },
    'spread-days': { type: 'string' },
    reseed: { type: 'boolean' },
  });
  const downDays = count(opts['down-days'], 0, 'down-days');
  const spreadDays = count(opts['spread-days'], DEFAULT_SPREAD_DAYS, 'spread-days');
  if (spreadDays < 1 || spreadDays > 60) throw new Error('--spread-days must be 1 to 60');
  const accounts = count(opts.size, 1_000_000, 'size');
  const chunk = count(opts.chunk, DUNNING_CHUNK_BILLS, 'chunk');
  if (accounts < 1000) throw new Error('--size must be at least 1000');
  const today = todayInChina();
  const server = await openBenchServer(log);
  try {
    let database: BenchDatabase | null = (await server.exists(DATABASE))
      ? await prepareDatabase(server.urlOf(DATABASE))
      : null;
    let generateSeconds: number | null = null;
    const have = database
      ? Number((await database.pool.query('select count(*) as n from customer')).rows[0].n)
      : 0;
    // Reused only when generated today with the same spread (an older bench_meta has no spread: regenerated).
    const generatedFor = database
      ? await database.pool
          .query<{ d: string; spread: number }>(
            'select generated_for::text as d, spread_days as spread from bench_meta',
          )
          .then((r) => (r.rows[0] ? `${r.rows[0].d}/${r.rows[0].spread}` : null))
          .catch(() => null)
      : null;
    if (!database || opts.reseed || have !== accounts || generatedFor !== `${today}/${spreadDays}`) {
      await database?.close();
      log(
        `creating ${DATABASE} on ${server.where} with ${accounts.toLocaleString('en')} accounts read over ${spreadDays} day(s) (it had ${have.toLocaleString('en')})`,
      );
      await server.recreate(DATABASE);
      database = await prepareDatabase(server.urlOf(DATABASE));
      generateSeconds = await generate(database, accounts, today, spreadDays);
      log(`generated in ${generateSeconds.toFixed(1)} s`);
    } else {
      log(`reusing ${DATABASE} on ${server.where}: ${have.toLocaleString('en')} accounts`);
    }
    await reset(database.pool);
    const counts = (
      await database.pool.query<{ bills: string; arrears: string }>(
        `select (select count(*) from bill) as bills,
                (select count(*) from bill where status = 'open' and paid_fen < amount_fen) as arrears`,
      )
    ).rows[0]!;
    const busyBefore = await cpuBusyPercent();
    log(
      `${Number(counts.bills).toLocaleString('en')} bills, ${Number(counts.arrears).toLocaleString('en')} unpaid; machine ${busyBefore ?? '?'}% busy before the run`,
    );

    if (downDays > 0)
      await database.pool.query(
        `insert into dunning_run (run_date, window_from, status, finished_at) values ($1, $1, 'done', now())`,
        [addDays(today, -downDays - 1)],
      );
    log(`dunning run of ${today} over every office (chunks of ${chunk.toLocaleString('en')} bills)…`);
    const started = process.hrtime.bigint();
    const { run } = await runDunning(database.db, today, {
      via: 'cli',
      chunkBills: chunk,
      afterChunk: async (n) => {
        if (n % 5 === 0) log(`  chunk ${n}`);
      },
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (run.status !== 'done') throw new Error(`the run ended ${run.status}: ${run.error}`);
    log(
      `run ${run.run_id}: ${run.bills_examined.toLocaleString('en')} bills examined, ${run.messages_queued.toLocaleString('en')} messages queued, ${run.exceptions.toLocaleString('en')} exceptions in ${seconds.toFixed(2)} s`,
    );

    // Exactly the unpaid bills read 1, 10 and 15 days ago, each step once; nothing for a paid bill.
    const check = (
      await database.pool.query<{
        expected_msgs: string;
        expected_ex: string;
        got: string;
        paid: string;
        dupes: string;
      }>(
        `with due as (
           select b.account_id, b.bill_id, s.code, s.channel from bill b
           join (values ('notice', 1, 'sms'), ('reminder', 10, 'sms'), ('voice', 15, 'voice')) s(code, offset_days, channel)
             on b.period_to between $2::date - s.offset_days and $1::date - s.offset_days
           where b.status = 'open' and b.paid_fen < b.amount_fen),
         reach as (
           select d.*, exists (select 1 from contact c where c.account_id = d.account_id
                                and (c.phone ~ '^1[3-9][0-9]{9}$' or d.channel = 'voice')) as ok
           from due d)
         select (select count(*) from reach where ok) as expected_msgs,
                (select count(*) from reach where not ok) as expected_ex,
                (select count(*) from outbox_message) as got,
                (select count(*) from outbox_message m join bill b on b.account_id = m.account_id and b.bill_id = m.bill_id
                  where b.paid_fen >= b.amount_fen) as paid,
                (select count(*) from (select 1 from outbox_message group by account_id, bill_id, template having count(*) > 1) x) as dupes`,
        [today, run.window_from],
      )
    ).rows[0]!;
    if (
      Number(check.got) !== Number(check.expected_msgs) ||
      run.messages_queued !== Number(check.expected_msgs) ||
      run.exceptions !== Number(check.expected_ex) ||
      Number(check.paid) !== 0 ||
      Number(check.dupes) !== 0
    )
      throw new Error(`the run does not add up: ${JSON.stringify({ check, run })}`);
    log(
      `checked: ${Number(check.got).toLocaleString('en')} messages = the unpaid bills at D+1/D+10/D+15 (step days ${run.window_from}…${today}) with a number, ${run.exceptions} without; none paid, none twice`,
    );

    // The same day again from its start (as if the cursor were lost): nothing new.
    await database.pool.query(
      `update dunning_run set status = 'failed', cursor_account_id = 0, cursor_bill_id = 0, chunks = 0,
         bills_examined = 0, messages_queued = 0, already_queued = 0, exceptions = 0, counts = '{}' where run_id = $1`,
      [run.run_id],
    );
    const againStarted = process.hrtime.bigint();
    const again = await runDunning(database.db, today, { via: 'cli', chunkBills: chunk });
    const againSeconds = Number(process.hrtime.bigint() - againStarted) / 1e9;
    const after = Number((await database.pool.query('select count(*) as n from outbox_message')).rows[0].n);
    if (again.run.messages_queued !== 0 || after !== Number(check.got))
      throw new Error(`the second run added messages: ${again.run.messages_queued}, ${after}`);
    log(
      `the same day from its start again: 0 new messages, ${again.run.already_queued.toLocaleString('en')} already queued, in ${againSeconds.toFixed(2)} s`,
    );
    await reset(database.pool);

    const figures = {
      bench: 'dunning',
      accounts,
      where: server.where,
      seconds: Math.round(seconds * 100) / 100,
      bills: Number(counts.bills),
      arrears_bills: Number(counts.arrears),
      bills_examined: run.bills_examined,
      messages_queued: run.messages_queued,
      exceptions: run.exceptions,
      counts_by_step: run.counts,
      window_from: run.window_from,
      down_days: downDays,
      spread_days: spreadDays,
      chunks: run.chunks,
      chunk_bills: chunk,
      rerun_seconds: Math.round(againSeconds * 100) / 100,
      peak_rss_mb: peakRssMb(),
      machine_busy_before_pct: busyBefore,
      targets: { seconds: TARGET_SECONDS, met: seconds <= TARGET_SECONDS },
      ...(generateSeconds !== null ? { generate_seconds: round1(generateSeconds) } : {}),
      machine: machine(),
    };
    await database.close();
    console.log(JSON.stringify(figures));
  } finally {
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
