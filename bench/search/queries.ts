import type pg from 'pg';

/**
 * What clerks type into the customer search box, sampled from the seeded data so every query
 * names something real in the caller's offices, and the share of each kind in the mix.
 */
export const QUERY_KINDS = {
  /** 王伟: a two-character name (the commonest search at a counter). */
  name2: 15,
  /** 张秀英, 郑州幸福餐饮有限公司: a full name of three characters or more. */
  name_full: 8,
  /** 王: a surname alone (one character: a name-prefix search). */
  surname: 4,
  /** 幸福小区: a community name. */
  community: 5,
  /** 幸福小区3栋2单元: community, building and unit. */
  address_full: 8,
  /** 3栋2单元501: building, unit and door. */
  address_short: 8,
  /** Part of a phone number: its last four digits, its first 7–10, or any 4–10 in a row. */
  phone_fragment: 10,
  /** 13812345678: a whole mobile number. */
  phone_full: 10,
  /** 010100012345: a customer code (户号). */
  customer_code: 12,
  /** W000012345: a meter number (表号). */
  meter_no: 8,
  /** The 18 characters of an ID card number. */
  id_full: 6,
  /** The last six characters of an ID card number. */
  id_last6: 6,
} as const;

export type QueryKind = keyof typeof QUERY_KINDS;

/** Kinds that name one customer: the search must put that customer first, as an exact match. */
export const EXACT_KINDS: ReadonlySet<QueryKind> = new Set([
  'phone_full',
  'customer_code',
  'meter_no',
  'id_full',
]);

export interface Query {
  kind: QueryKind;
  q: string;
  /** For exact kinds: the customer the query names. */
  accountId?: number;
}

interface SampleRow {
  account_id: number;
  customer_code: string;
  kind: string;
  name: string;
  id_card_no: string | null;
  phone: string | null;
  community: string | null;
  building: string | null;
  unit: string | null;
  door: string | null;
  meter_no: string | null;
}

type Rand = () => number;

/** mulberry32, so a run's queries are the same every time for the same data. */
export function rng(seed: number): Rand {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Samples `customers` customers of the given offices (all when null) and turns them into a pool of
 * queries of every kind; `next()` then draws queries in the QUERY_KINDS proportions.
 */
export async function sampleQueries(
  pool: pg.Pool,
  officeIds: number[] | null,
  customers: number,
  seed: number,
  onlyKinds: readonly QueryKind[] | null = null,
): Promise<{ next: () => Query; pools: Record<QueryKind, Query[]> }> {
  const client = await pool.connect();
  let rows: SampleRow[];
  try {
    // A repeatable sample: the same rows for the same data and seed.
    await client.query('select setseed($1)', [((seed % 1000) / 1000) * 2 - 1]);
    const result = await client.query<SampleRow>(
      `select c.account_id, c.customer_code, c.kind, c.name, c.id_card_no,
              (select ct.phone from contact ct where ct.account_id = c.account_id order by ct.is_primary desc, ct.contact_id limit 1) as phone,
              a.community, a.building, a.unit, a.door,
              (select m.meter_no from meter m where m.account_id = c.account_id order by m.meter_id limit 1) as meter_no
       from (select * from customer c where $1::bigint[] is null or c.office_id = any($1::bigint[])
             order by random() limit $2) c
       left join address a on a.account_id = c.account_id and a.address_id =
         (select min(address_id) from address x where x.account_id = c.account_id)
       order by c.account_id`,
      [officeIds, customers],
    );
    rows = result.rows;
  } finally {
    client.release();
  }
  if (rows.length === 0) throw new Error('no customers to sample queries from');
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const pools = Object.fromEntries(Object.keys(QUERY_KINDS).map((k) => [k, [] as Query[]])) as Record<
    QueryKind,
    Query[]
  >;
  const add = (kind: QueryKind, q: string | null | undefined, accountId?: number) => {
    if (q) pools[kind].push(accountId === undefined ? { kind, q } : { kind, q, accountId });
  };
  for (const c of rows) {
    const chars = [...c.name];
    if (c.kind === 'person' && chars.length === 2) add('name2', c.name);
    if (chars.length >= 3) add('name_full', c.name);
    if (c.kind === 'person') add('surname', chars[0]);
    if (c.community) {
      // Sometimes without the phase (幸福小区2期 → 幸福小区).
      add('community', r() < 0.5 ? c.community.replace(/\d+期$/, '') : c.community);
      if (c.building && c.unit) add('address_full', `${c.community}${c.building}栋${c.unit}单元`);
      if (c.building && c.unit && c.door) add('address_short', `${c.building}栋${c.unit}单元${c.door}`);
    }
    if (c.phone) {
      // The last four digits (尾号), the first digits as they are typed, or any run of 4–10.
      const how = r();
      const length = how < 0.4 ? 4 : how < 0.7 ? 7 + Math.floor(r() * 4) : 4 + Math.floor(r() * 7);
      const start =
        how < 0.4 ? c.phone.length - 4 : how < 0.7 ? 0 : Math.floor(r() * (c.phone.length - length + 1));
      add('phone_fragment', c.phone.slice(start, start + length));
      add('phone_full', c.phone, c.account_id);
    }
    add('customer_code', c.customer_code, c.account_id);
    add('meter_no', c.meter_no, c.account_id);
    add('id_full', c.id_card_no, c.account_id);
    add('id_last6', c.id_card_no?.slice(-6));
  }
  const table = (Object.entries(QUERY_KINDS) as [QueryKind, number][]).filter(
    ([k]) => pools[k].length > 0 && (!onlyKinds || onlyKinds.includes(k)),
  );
  if (table.length === 0) throw new Error('no queries of the requested kinds in the sample');
  const total = table.reduce((s, [, w]) => s + w, 0);
  const next = (): Query => {
    let x = r() * total;
    for (const [kind, w] of table) {
      x -= w;
      if (x < 0) return pick(pools[kind]);
    }
    return pick(pools[table[0]![0]]);
  };
  return { next, pools };
}
