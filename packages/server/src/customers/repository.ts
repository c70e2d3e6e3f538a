import { customerSearchKey, doubleCjk, formatAddress, planSearch } from '@meterline/domain';
import { type Kysely, type RawBuilder, sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { SearchQuery } from './schemas.ts';

type Db = Kysely<DB> | Transaction<DB>;

/** Fragment searches stop collecting after this many matches; the user is asked to narrow down. */
export const SEARCH_MATCH_LIMIT = 500;

/** Recomputes the search key of the given accounts from their current rows. */
export async function refreshSearchKeys(db: Db, accountIds: number[]): Promise<void> {
  if (accountIds.length === 0) return;
  const [customers, contacts, addresses, meters] = await Promise.all([
    db
      .selectFrom('customer')
      .select(['account_id', 'name', 'customer_code', 'id_card_no', 'credit_code'])
      .where('account_id', 'in', accountIds)
      .execute(),
    db.selectFrom('contact').select(['account_id', 'phone']).where('account_id', 'in', accountIds).execute(),
    db.selectFrom('address').selectAll().where('account_id', 'in', accountIds).execute(),
    db.selectFrom('meter').select(['account_id', 'meter_no']).where('account_id', 'in', accountIds).execute(),
  ]);
  for (const c of customers) {
    const key = customerSearchKey({
      name: c.name,
      customerCode: c.customer_code,
      idCardNo: c.id_card_no,
      creditCode: c.credit_code,
      phones: contacts.filter((x) => x.account_id === c.account_id).map((x) => x.phone),
      meterNos: meters.filter((x) => x.account_id === c.account_id).map((x) => x.meter_no),
      addresses: addresses.filter((x) => x.account_id === c.account_id),
    });
    await db
      .updateTable('customer')
      .set({ search_key: key })
      .where('account_id', '=', c.account_id)
      .execute();
  }
}

export interface CustomerHit {
  accountId: number;
  customerCode: string;
  name: string;
  kind: string;
  state: string;
  utility: string;
  officeId: number;
  officeName: string;
  address: string;
  phone: string;
  meterNos: string[];
  blacklisted: boolean;
  lowIncome: boolean;
  exact: boolean;
}

export interface SearchResult {
  items: CustomerHit[];
  /** Matches found, up to the limit. */
  total: number;
  /** True when there are more matches than the limit: narrow the search. */
  more: boolean;
  page: number;
  pageSize: number;
}

/**
 * Customer search by name, phone, ID number, credit code, customer code, meter number or a fragment
 * of the address. Exact matches of codes and numbers come first. Always limited to the caller's offices.
 *
 * One statement finds the matches, counts them (up to the cap) and loads the page's rows. A
 * fragment is looked up in the trigram index by its rarer trigrams only (see indexPatternFor) and
 * checked in full on each candidate row, so the matches are exactly the rows whose search key
 * contains the fragment.
 */
export async function searchCustomers(
  db: Db,
  query: SearchQuery,
  officeIds: readonly number[] | null,
): Promise<SearchResult> {
  const plan = planSearch(query.q);
  const filters = [
    officeIds === null ? sql`true` : sql`c.office_id = any(${[...officeIds]}::bigint[])`,
    query.officeId ? sql`c.office_id = ${query.officeId}` : sql`true`,
    query.state ? sql`c.state = ${query.state}` : sql`true`,
    query.kind ? sql`c.kind = ${query.kind}` : sql`true`,
    query.blacklisted ? sql`c.blacklisted = ${query.blacklisted === 'true'}` : sql`true`,
    query.lowIncome ? sql`c.low_income = ${query.lowIncome === 'true'}` : sql`true`,
  ];
  const where = sql.join(filters, sql` and `);
  const limit = SEARCH_MATCH_LIMIT + 1;
  const term = plan.kind === 'empty' ? '' : plan.kind === 'namePrefix' ? plan.prefix : plan.term;
  const upper = term.toUpperCase();

  let matches: RawBuilder<unknown>;
  if (plan.kind === 'empty') {
    matches = sql`select c.account_id, false as exact from customer c where ${where} order by c.account_id limit ${limit}`;
  } else {
    const branches: RawBuilder<unknown>[] = [];
    // Codes, meter numbers, phones, ID numbers and credit codes hold no Chinese characters.
    if (!HAS_CJK.test(term)) {
      branches.push(sql`
        select c.account_id, true as exact
        from (select account_id from customer_code_registry where customer_code in (${term}, ${upper})
              union all select account_id from meter_registry where meter_no in (${term}, ${upper})
              union all select account_id from contact where phone = ${term}
              union all select account_id from customer where id_card_no = ${upper}
              union all select account_id from customer where credit_code = ${upper}) e
        join customer c on c.account_id = e.account_id
        where ${where}`);
    }
    if (plan.kind === 'fragment') {
      const indexPattern = await indexPatternFor(db, plan);
      const key = doubleCjk(plan.term);
      branches.push(sql`
        (select c.account_id, false as exact from customer c
         where c.search_key like ${indexPattern} and strpos(c.search_key, ${key}) > 0 and ${where}
         limit ${limit})`);
    } else if (plan.kind === 'namePrefix') {
      branches.push(sql`
        (select c.account_id, false as exact from customer c
         where c.name like ${`${plan.prefix}%`} and ${where}
         limit ${limit})`);
    }
    matches =
      branches.length === 0
        ? sql`select null::bigint as account_id, false as exact where false`
        : sql`select h.account_id, bool_or(h.exact) as exact
              from (${sql.join(branches, sql` union all `)}) h
              group by h.account_id`;
  }

  const offset = (query.page - 1) * query.pageSize;
  const rows = await sql<HitRow & { exact: boolean; total: number }>`
    with m as materialized (${matches}),
    page as (select account_id, exact from m order by exact desc, account_id limit ${query.pageSize} offset ${offset})
    select p.exact, (select count(*) from m)::int as total, ${hitColumns}
    from page p
    join customer c on c.account_id = p.account_id
    join office o on o.office_id = c.office_id
    order by p.exact desc, p.account_id`.execute(db);
  const total = rows.rows[0]?.total ?? (offset > 0 ? await countOnly(db, matches) : 0);
  return {
    items: rows.rows.map((r) => ({ ...toHit(r), exact: r.exact })),
    total: Math.min(total, SEARCH_MATCH_LIMIT),
    more: total > SEARCH_MATCH_LIMIT,
    page: query.page,
    pageSize: query.pageSize,
  };
}

const HAS_CJK = /[\u3400-\u9fff\uf900-\ufaff]/;

async function countOnly(db: Db, matches: RawBuilder<unknown>): Promise<number> {
  const r = await sql<{ total: number }>`select count(*)::int as total from (${matches}) m`.execute(db);
  return r.rows[0]?.total ?? 0;
}

// ------------------------------------------------------------------ choosing the trigrams to look up

/**
 * Why a fragment is looked up by some of its trigrams only: the GIN index answers a LIKE by
 * reading the posting list of every trigram of the pattern, and some trigrams are in nearly every
 * search key (单元 of every flat, the 4101 of every local ID number, the 0101 of an office's
 * customer codes, the zeros of padded meter numbers). Reading those lists costs tens of
 * milliseconds at a million customers and narrows nothing. So the index is asked for the
 * trigrams worth their cost, and strpos() checks the whole fragment on each candidate row: the
 * matches are exactly the same.
 *
 * How common a trigram is, is estimated from a sample of search keys, refreshed now and then.
 */
const GRAM_SAMPLE_KEYS = 5_000;
const GRAM_STATS_TTL_MS = 10 * 60_000;
/** Below this many customers every trigram is looked up: the index is small and cheap to read. */
const GRAM_STATS_MIN_CUSTOMERS = 20_000;
/** A trigram in more than this share of search keys is never worth reading. */
const COMMON_GRAM_SHARE = 0.3;
/** At most this many trigrams are chosen (windows may hold a few more). */
const MAX_INDEX_GRAMS = 8;
/**
 * Fetching and checking one candidate row costs about as much as reading this many posting-list
 * entries (measured at a million customers: ~25 µs a row whose page is not in shared buffers,
 * ~25 ns an entry).
 */
const CANDIDATE_ROW_COST = 1_000;
/**
 * How much a further fact of the same window narrows: a fact in 1% of keys keeps 0.01^0.3 ≈ 25%
 * of the rows (a door number after its unit is far from independent of it).
 */
const CORRELATED_NARROWING = 0.3;

interface GramStats {
  /** Search keys sampled (0: too few customers to bother; look up every trigram). */
  keys: number;
  /** Trigram → number of sampled keys that contain it. */
  keysWith: Map<string, number>;
  at: number;
}

const gramStats = new WeakMap<object, { stats: Promise<GramStats>; refreshing: boolean }>();

/** The characters pg_trgm makes trigrams of: letters and digits; anything else separates words. */
const WORD_RUN = /[\p{L}\p{N}]+/gu;

interface Gram {
  gram: string;
  /** Which word of the text, and where in it (in characters). */
  run: number;
  at: number;
}

function trigramsOf(text: string): Gram[] {
  const out: Gram[] = [];
  let run = 0;
  for (const m of text.matchAll(WORD_RUN)) {
    const chars = [...m[0]];
    for (let i = 0; i + 3 <= chars.length; i++)
      out.push({ gram: chars.slice(i, i + 3).join(''), run, at: i });
    run++;
  }
  return out;
}

async function sampleGramStats(db: Db): Promise<GramStats> {
  const est = await sql<{ n: number }>`
    select greatest(reltuples, 0)::float8 as n from pg_class where oid = 'customer'::regclass`.execute(db);
  const customers = Number(est.rows[0]?.n ?? 0);
  if (customers < GRAM_STATS_MIN_CUSTOMERS) return { keys: 0, keysWith: new Map(), at: Date.now() };
  const percent = Math.min(100, (GRAM_SAMPLE_KEYS / customers) * 100 * 1.2);
  const sample = await sql<{ search_key: string }>`
    select search_key from customer tablesample system (${percent}) limit ${GRAM_SAMPLE_KEYS}`.execute(db);
  const keysWith = new Map<string, number>();
  for (const [i, { search_key }] of sample.rows.entries()) {
    const seen = new Set<string>();
    for (const { gram } of trigramsOf(search_key)) seen.add(gram);
    for (const gram of seen) keysWith.set(gram, (keysWith.get(gram) ?? 0) + 1);
    // Counting takes a few hundred milliseconds in all: let other requests through meanwhile.
    if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
  return { keys: sample.rows.length, keysWith, at: Date.now() };
}

async function currentGramStats(db: Db): Promise<GramStats> {
  // Statistics belong to a database, and a Kysely instance to one database.
  let entry = gramStats.get(db);
  if (!entry) {
    entry = { stats: sampleGramStats(db), refreshing: false };
    gramStats.set(db, entry);
    entry.stats.catch(() => gramStats.delete(db));
  }
  const stats = await entry.stats;
  if (Date.now() - stats.at > GRAM_STATS_TTL_MS && !entry.refreshing) {
    // Stale: keep answering with these while a fresh sample is taken.
    const e = entry;
    e.refreshing = true;
    sampleGramStats(db).then(
      (fresh) => {
        e.stats = Promise.resolve(fresh);
        e.refreshing = false;
      },
      () => {
        e.refreshing = false;
      },
    );
  }
  return stats;
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

interface Window {
  run: number;
  from: number;
  to: number;
}

/** Chosen trigrams (in text order) as windows: trigrams of one word that overlap share one. */
function windowsOf(chosen: Gram[]): Window[] {
  const windows: Window[] = [];
  for (const g of chosen) {
    const last = windows[windows.length - 1];
    if (last && last.run === g.run && g.at < last.to) last.to = Math.max(last.to, g.at + 3);
    else windows.push({ run: g.run, from: g.at, to: g.at + 3 });
  }
  return windows;
}

const IS_CJK_CHAR = /^[\u3400-\u9fff\uf900-\ufaff]$/;

/**
 * What a trigram tells about a key. In doubled Chinese text a pair of trigrams tells the same:
 * 幸幸福 and 幸福福 both say "幸 then 福" (the 福 after 幸幸福 is always doubled).
 */
function factOf(gram: string): string {
  const [a, b, c] = [...gram] as [string, string, string];
  if (a === b && IS_CJK_CHAR.test(a)) return a + c;
  if (b === c && IS_CJK_CHAR.test(b)) return a + b;
  return gram;
}

/**
 * What asking the index with these windows costs, in posting-list entries per customer: every
 * trigram in a window is read, and every candidate row is fetched and checked. A window's share
 * of keys is estimated from its rarest fact, each further (overlapping, so correlated) fact
 * narrowing by its share to the power CORRELATED_NARROWING; separate windows narrow independently.
 */
function costOf(windows: Window[], grams: (Gram & { share: number })[]): number {
  let postings = 0;
  let rows = 1;
  for (const w of windows) {
    const facts = new Map<string, number>();
    for (const g of grams) {
      if (g.run !== w.run || g.at < w.from || g.at + 3 > w.to) continue;
      postings += g.share;
      const fact = factOf(g.gram);
      facts.set(fact, Math.min(facts.get(fact) ?? 1, g.share));
    }
    const shares = [...facts.values()].sort((a, b) => a - b);
    rows *= shares.reduce((share, s, i) => (i === 0 ? s : share * s ** CORRELATED_NARROWING), 1);
  }
  return postings + CANDIDATE_ROW_COST * rows;
}

/**
 * The LIKE pattern the trigram index is asked with for a fragment: windows of the (doubled)
 * fragment, in order, joined by %, chosen greedily to minimise costOf. Any row whose key contains
 * the fragment matches it, so it only narrows the candidates; the full fragment is checked after.
 */
export function chooseIndexPattern(
  key: string,
  fullPattern: string,
  shareOf: (gram: string) => number,
  sampledKeys: number,
): string {
  // A trigram the sample never saw is rarer than one key in the sample.
  const floor = 0.5 / Math.max(1, sampledKeys);
  const grams = trigramsOf(key).map((g) => ({ ...g, share: Math.max(floor, shareOf(g.gram)) }));
  const candidates = grams.map((g, index) => ({ g, index })).filter(({ g }) => g.share <= COMMON_GRAM_SHARE);
  const chosen = new Set<number>();
  let best = Number.POSITIVE_INFINITY;
  let bestWindows: Window[] = [];
  while (chosen.size < MAX_INDEX_GRAMS) {
    let step: { index: number; cost: number; windows: Window[] } | null = null;
    for (const { index } of candidates) {
      if (chosen.has(index)) continue;
      const picked = [...chosen, index].sort((a, b) => a - b).map((i) => grams[i]!);
      const windows = windowsOf(picked);
      const cost = costOf(windows, grams);
      if (!step || cost < step.cost) step = { index, cost, windows };
    }
    if (!step || step.cost >= best) break;
    chosen.add(step.index);
    best = step.cost;
    bestWindows = step.windows;
  }
  if (bestWindows.length === 0) return fullPattern;
  const covered = grams.filter((g) =>
    bestWindows.some((w) => g.run === w.run && g.at >= w.from && g.at + 3 <= w.to),
  );
  if (covered.length === grams.length) return fullPattern;
  const runs = [...key.matchAll(WORD_RUN)].map((m) => [...m[0]]);
  return `%${bestWindows.map((w) => escapeLike(runs[w.run]!.slice(w.from, w.to).join(''))).join('%')}%`;
}

async function indexPatternFor(db: Db, plan: { term: string; pattern: string }): Promise<string> {
  const stats = await currentGramStats(db);
  if (stats.keys === 0) return plan.pattern;
  return chooseIndexPattern(
    doubleCjk(plan.term),
    plan.pattern,
    (gram) => (stats.keysWith.get(gram) ?? 0) / stats.keys,
    stats.keys,
  );
}

// ------------------------------------------------------------------ the rows shown

interface HitRow {
  account_id: number;
  customer_code: string;
  name: string;
  kind: string;
  state: string;
  utility: string;
  office_id: number;
  office_name: string;
  blacklisted: boolean;
  low_income: boolean;
  address: Record<string, string> | null;
  phone: string | null;
  meter_nos: string[];
}

/** The columns of a hit, from customer c and office o. */
const hitColumns = sql`
  c.account_id, c.customer_code, c.name, c.kind, c.state, c.utility, c.office_id, o.name as office_name,
  c.blacklisted, c.low_income,
  (select to_jsonb(a) from address a where a.account_id = c.account_id
    order by a.kind = 'supply' desc, a.address_id limit 1) as address,
  (select ct.phone from contact ct where ct.account_id = c.account_id
    order by ct.is_primary desc, ct.contact_id limit 1) as phone,
  array(select m.meter_no from meter m where m.account_id = c.account_id order by m.meter_id) as meter_nos`;

function toHit(r: HitRow): Omit<CustomerHit, 'exact'> {
  return {
    accountId: r.account_id,
    customerCode: r.customer_code,
    name: r.name,
    kind: r.kind,
    state: r.state,
    utility: r.utility,
    officeId: r.office_id,
    officeName: r.office_name,
    address: r.address ? formatAddress(r.address) : '',
    phone: r.phone ?? '',
    meterNos: r.meter_nos,
    blacklisted: r.blacklisted,
    lowIncome: r.low_income,
  };
}
