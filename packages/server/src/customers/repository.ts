import { customerSearchKey, formatAddress, planSearch } from '@meterline/domain';
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
    const exact = sql`
      select account_id, true as exact from customer_code_registry where customer_code in (${term}, ${upper})
      union all select account_id, true from meter_registry where meter_no in (${term}, ${upper})
      union all select account_id, true from contact where phone = ${term}
      union all select account_id, true from customer where id_card_no = ${upper}
      union all select account_id, true from customer where credit_code = ${upper}`;
    const fuzzy =
      plan.kind === 'fragment'
        ? sql`select c.account_id, false from customer c where c.search_key like ${plan.pattern} and ${where} limit ${limit}`
        : plan.kind === 'namePrefix'
          ? sql`select c.account_id, false from customer c where c.name like ${`${plan.prefix}%`} and ${where} limit ${limit}`
          : sql`select null::bigint, false where false`;
    matches = sql`
      select h.account_id, bool_or(h.exact) as exact
      from ((${exact}) union all (${fuzzy})) h
      join customer c on c.account_id = h.account_id
      where ${where}
      group by h.account_id`;
  }

  const offset = (query.page - 1) * query.pageSize;
  const rows = await sql<{
    account_id: number;
    exact: boolean;
    total: number;
  }>`
    with m as materialized (${matches})
    select account_id, exact, (select count(*) from m)::int as total
    from m order by exact desc, account_id
    limit ${query.pageSize} offset ${offset}`.execute(db);
  const total = rows.rows[0]?.total ?? (offset > 0 ? await countOnly(db, matches) : 0);
  const ids = rows.rows.map((r) => r.account_id);
  const details = await loadHits(db, ids);
  const exactById = new Map(rows.rows.map((r) => [r.account_id, r.exact]));
  return {
    items: ids.map((accountId) => ({ ...details.get(accountId)!, exact: exactById.get(accountId) ?? false })),
    total: Math.min(total, SEARCH_MATCH_LIMIT),
    more: total > SEARCH_MATCH_LIMIT,
    page: query.page,
    pageSize: query.pageSize,
  };
}

async function countOnly(db: Db, matches: RawBuilder<unknown>): Promise<number> {
  const r = await sql<{ total: number }>`select count(*)::int as total from (${matches}) m`.execute(db);
  return r.rows[0]?.total ?? 0;
}

async function loadHits(db: Db, ids: number[]): Promise<Map<number, Omit<CustomerHit, 'exact'>>> {
  if (ids.length === 0) return new Map();
  const rows = await sql<{
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
  }>`
    select c.account_id, c.customer_code, c.name, c.kind, c.state, c.utility, c.office_id, o.name as office_name,
           c.blacklisted, c.low_income,
           (select to_jsonb(a) from address a where a.account_id = c.account_id
             order by a.kind = 'supply' desc, a.address_id limit 1) as address,
           (select ct.phone from contact ct where ct.account_id = c.account_id
             order by ct.is_primary desc, ct.contact_id limit 1) as phone,
           array(select m.meter_no from meter m where m.account_id = c.account_id order by m.meter_id) as meter_nos
    from customer c join office o on o.office_id = c.office_id
    where c.account_id = any(${ids}::bigint[])`.execute(db);
  return new Map(
    rows.rows.map((r) => [
      r.account_id,
      {
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
      },
    ]),
  );
}
