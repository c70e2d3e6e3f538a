import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { accountLedgerProblems } from './ledger.ts';

/**
 * Payments under concurrency on real PostgreSQL: CLIENTS clients send PAYMENTS payments at once —
 * the same Idempotency-Key from several clients (a double click, a retry after a lost answer),
 * different keys on the same account, different accounts, two clerks — each client retrying some of
 * what it sent. Then every payment must be posted exactly once (none lost, none doubled), every
 * answer for a key must name the same payment, the ledger must balance and every bill's paid_fen
 * must equal its receivable credits.
 */

const CLIENTS = 8;
const PAYMENTS = 80;
const ACCOUNTS = 5;
const MAX_SENDS_PER_PAYMENT = 4;
const RETRY_CHANCE = 0.3;
const BURST_CHANCE = 0.25;

let t: TestApp;
let accounts: number[];

/** A small deterministic generator (mulberry32), so a failing run can be repeated. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4_294_967_296;
  };
}

beforeAll(async () => {
  t = await createTestApp({ customers: 40 });
  const { rows } = await t.pool.query<{ account_id: string }>(
    `select c.account_id from customer c join office o on o.office_id = c.office_id
     where c.state = 'active' and o.code = '0101' order by c.account_id limit ${ACCOUNTS}`,
  );
  accounts = rows.map((r) => Number(r.account_id));
  expect(accounts).toHaveLength(ACCOUNTS);
  // Each account owes a few bills, so payments are allocated and some leave credit.
  let n = 0;
  for (const a of accounts)
    for (let m = 1; m <= 4; m += 1) {
      n += 1;
      const amount = 3_000 + ((a * 7 + m * 1_301) % 9_000);
      const { rows: b } = await t.pool.query<{ bill_id: string }>(
        `insert into bill (account_id, bill_no, period, period_from, period_to, amount_fen, due_on, usage_type_code)
         values ($1, $2, $3, ($3 || '-01')::date, ($3 || '-08')::date, $4, ($3 || '-20')::date, 'W_RES') returning bill_id`,
        [a, `2026C${String(n).padStart(6, '0')}`, `2026-0${m}`, amount],
      );
      await t.pool.query(
        `insert into bill_line (account_id, bill_id, line_no, kind, code, description_zh, description_en, amount_fen)
         values ($1, $2, 1, 'charge', 'charge', '水费', 'Water', $3)`,
        [a, b[0]!.bill_id, amount],
      );
    }
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('concurrent payments with retries', () => {
  it('posts every payment exactly once and keeps the ledger whole', async () => {
    const rnd = random(20261123);
    const staff = ['clerk', 'manager'] as const;
    const intended = Array.from({ length: PAYMENTS }, (_, i) => ({
      key: `cc-${Date.now().toString(36)}-${i}`,
      user: staff[i % 2]!,
      accountId: accounts[Math.floor(rnd() * ACCOUNTS)]!,
      amountFen: 1 + Math.floor(rnd() * 12_000),
      channel: rnd() < 0.7 ? 'cash' : 'wechat',
    }));
    // Each payment is sent 1–4 times from whichever clients pick it up, in a shuffled order.
    const queue: (typeof intended)[number][] = [];
    for (const p of intended) {
      const sends = 1 + Math.floor(rnd() * MAX_SENDS_PER_PAYMENT);
      for (let s = 0; s < sends; s += 1) queue.push(p);
    }
    for (let i = queue.length - 1; i > 0; i -= 1) {
      const j = Math.floor(rnd() * (i + 1));
      [queue[i], queue[j]] = [queue[j]!, queue[i]!];
    }
    const counts = { operations: 0, sends: queue.length, retries: 0, replays: 0, created: 0, errors: 0 };
    const answers = new Map<string, Set<number>>();
    const send = async (p: (typeof intended)[number]): Promise<LightMyRequestResponse> => {
      counts.operations += 1;
      const res = await t.as(p.user)({
        method: 'POST',
        url: `/api/customers/${p.accountId}/payments`,
        payload: { amountFen: p.amountFen, channel: p.channel },
        headers: { 'idempotency-key': p.key },
      });
      if (res.statusCode === 201) {
        if (res.headers['idempotent-replay'] === 'true') counts.replays += 1;
        else counts.created += 1;
        const ids = answers.get(p.key) ?? new Set<number>();
        ids.add(res.json().paymentId);
        answers.set(p.key, ids);
      } else {
        counts.errors += 1;
        console.log('unexpected answer', res.statusCode, res.body);
      }
      return res;
    };
    // Log in every user before the race (sessions are cached by the harness).
    for (const u of staff) await t.as(u)({ method: 'GET', url: '/api/auth/me' });
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (next < queue.length) {
          const p = queue[next++]!;
          // A double (or triple) click: the same key sent several times at the same moment.
          const burst = rnd() < BURST_CHANCE ? 3 : 1;
          counts.retries += burst - 1;
          const res = (await Promise.all(Array.from({ length: burst }, () => send(p))))[0]!;
          // A lost answer: the client sends the same payment again with the same key.
          if (res.statusCode !== 201 || rnd() < RETRY_CHANCE) {
            counts.retries += 1;
            await send(p);
          }
        }
      }),
    );
    // Last, one payment sent by every client at once.
    const all = {
      key: `cc-${Date.now().toString(36)}-all`,
      user: 'clerk' as const,
      accountId: accounts[0]!,
      amountFen: 4_321,
      channel: 'cash',
    };
    intended.push(all);
    counts.retries += CLIENTS - 1;
    await Promise.all(Array.from({ length: CLIENTS }, () => send(all)));
    const seconds = (Date.now() - started) / 1000;

    // Violations: payments lost or doubled, answers naming different payments, wrong amounts,
    // unbalanced ledgers, bills whose paid_fen is not their receivable credits, clearing ≠ taken.
    const violations: string[] = [];
    const { rows } = await t.pool.query<{ idempotency_key: string; n: number; fen: string; ids: string[] }>(
      `select idempotency_key, count(*)::int as n, sum(amount_fen)::text as fen, array_agg(payment_id::text) as ids
       from payment where account_id = any($1::bigint[]) group by idempotency_key`,
      [accounts],
    );
    const byKey = new Map(rows.map((r) => [r.idempotency_key, r]));
    let lost = 0;
    let doubled = 0;
    for (const p of intended) {
      const r = byKey.get(p.key);
      if (!r) {
        lost += 1;
        violations.push(`lost ${p.key}`);
        continue;
      }
      if (r.n !== 1) {
        doubled += 1;
        violations.push(`doubled ${p.key} ×${r.n}`);
      }
      if (Number(r.fen) !== p.amountFen * r.n || r.n !== 1) violations.push(`amount ${p.key}`);
      const ids = answers.get(p.key) ?? new Set();
      if (ids.size !== 1 || !ids.has(Number(r.ids[0]))) violations.push(`answers ${p.key}: ${[...ids]}`);
    }
    if (rows.length !== intended.length) violations.push(`payments ${rows.length} ≠ ${intended.length}`);
    for (const a of accounts)
      for (const p of await accountLedgerProblems(t.db, a))
        violations.push(`ledger ${a} ${p.code} ${p.detail}`);
    const mismatch = await t.pool.query(
      `select b.account_id, b.bill_id from bill b
       left join (select account_id, bill_id, sum(credit_fen - debit_fen) as paid from ledger_line
                  where ledger_account = 'receivable' and part = 'principal' group by 1, 2) l
         on l.account_id = b.account_id and l.bill_id = b.bill_id
       where b.account_id = any($1::bigint[]) and b.paid_fen <> coalesce(l.paid, 0)`,
      [accounts],
    );
    for (const m of mismatch.rows) violations.push(`paid_fen ${m.account_id}/${m.bill_id}`);
    const clearing = await t.pool.query<{ fen: string }>(
      `select coalesce(sum(debit_fen - credit_fen), 0)::text as fen from ledger_line
       where account_id = any($1::bigint[]) and ledger_account in ('cash', 'bank', 'gateway')`,
      [accounts],
    );
    const takenFen = intended.reduce((s, p) => s + p.amountFen, 0);
    if (Number(clearing.rows[0]!.fen) !== takenFen)
      violations.push(`clearing ${clearing.rows[0]!.fen} ≠ taken ${takenFen}`);
    // Receipt numbers are gapless: as many slips as payments, numbered 1..n this year.
    const slips = await t.pool.query<{ n: number; max: number }>(
      `select count(*)::int as n, max(right(receipt_no, 8)::int) as max from receipt where kind = 'slip'`,
    );
    if (slips.rows[0]!.n !== intended.length || slips.rows[0]!.max !== intended.length)
      violations.push(`slips ${slips.rows[0]!.n} numbered to ${slips.rows[0]!.max}`);

    console.log(
      JSON.stringify({
        clients: CLIENTS,
        payments: intended.length,
        ...counts,
        lost,
        doubled,
        violations: violations.length,
        seconds,
      }),
    );
    expect(violations).toEqual([]);
    expect(counts.errors).toBe(0);
    expect(counts.created).toBe(intended.length);
    expect(counts.replays).toBe(counts.operations - intended.length);
  }, 120_000);
});
