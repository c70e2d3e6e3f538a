import {
  customerSearchKey,
  doubleCjk,
  planSearch,
  validateCreditCode,
  validateIdCardNo,
} from '@meterline/domain';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseIndexPattern } from '../customers/repository.ts';
import { createTestDatabase, type TestDatabase } from '../testing/harness.ts';
import { seedCustomers } from './customers.ts';
import { DEMO_OFFICES, seedDemoOrganisation } from './org.ts';

const CUSTOMERS = 3_000;

let t: TestDatabase;

beforeAll(async () => {
  t = await createTestDatabase();
  await seedDemoOrganisation(t.db);
  const result = await seedCustomers(t.pool, { customers: CUSTOMERS });
  expect(result.customers).toBe(CUSTOMERS);
  expect(result.peakRssMb).toBeGreaterThan(0);
});

afterAll(async () => {
  await t?.drop();
});

const one = async <T>(query: string, params: unknown[] = []): Promise<T> =>
  (await t.pool.query(query, params)).rows[0] as T;

/** Indexes and foreign keys of the seeded tables, to check nothing is lost by a bulk seed. */
async function indexesAndKeys(): Promise<string[]> {
  const { rows } = await t.pool.query<{ what: string }>(
    `select 'index ' || indexname || ': ' || indexdef as what from pg_indexes
      where schemaname = current_schema() and tablename in
        ('customer', 'customer_code_registry', 'contact', 'address', 'service_point', 'meter', 'meter_registry',
         'blacklist_entry', 'blacklist_event', 'customer_state_change')
     union all
     select 'fk ' || conrelid::regclass || '.' || conname || ': ' || pg_get_constraintdef(oid) from pg_constraint
      where contype = 'f' and connamespace = current_schema()::regnamespace
     order by 1`,
  );
  return rows.map((r) => r.what);
}

describe('seedCustomers: a believable utility', () => {
  it('gives every person a valid ID card number and every organisation a valid credit code', async () => {
    const { rows } = await t.pool.query<{
      kind: string;
      id_card_no: string | null;
      credit_code: string | null;
    }>('select kind, id_card_no, credit_code from customer');
    expect(rows).toHaveLength(CUSTOMERS);
    const people = rows.filter((r) => r.kind === 'person');
    const organisations = rows.filter((r) => r.kind === 'organisation');
    expect(people.length).toBeGreaterThan(CUSTOMERS * 0.8);
    expect(organisations.length).toBeGreaterThan(CUSTOMERS * 0.03);
    for (const p of people) {
      expect(p.credit_code).toBeNull();
      expect(validateIdCardNo(p.id_card_no!), p.id_card_no!).toMatchObject({ ok: true });
    }
    for (const o of organisations) {
      expect(o.id_card_no).toBeNull();
      expect(validateCreditCode(o.credit_code!), o.credit_code!).toMatchObject({ ok: true });
    }
  });

  it('keeps customer codes and meter numbers unique and the registries in step with the tables', async () => {
    const codes = await one<{ n: number; distinct: number; registered: number; mismatched: number }>(
      `select count(*)::int as n, count(distinct customer_code)::int as distinct,
              (select count(*)::int from customer_code_registry) as registered,
              (select count(*)::int from customer c
                 left join customer_code_registry r on r.customer_code = c.customer_code and r.account_id = c.account_id
                where r.account_id is null) as mismatched
       from customer`,
    );
    expect(codes).toEqual({ n: CUSTOMERS, distinct: CUSTOMERS, registered: CUSTOMERS, mismatched: 0 });
    const meters = await one<{ n: number; distinct: number; registered: number; mismatched: number }>(
      `select count(*)::int as n, count(distinct meter_no)::int as distinct,
              (select count(*)::int from meter_registry) as registered,
              (select count(*)::int from meter m
                 full join meter_registry r on r.meter_no = m.meter_no and r.account_id = m.account_id and r.meter_id = m.meter_id
                where r.meter_no is null or m.meter_no is null) as mismatched
       from meter`,
    );
    expect(meters.n).toBeGreaterThan(CUSTOMERS * 0.9);
    expect(meters).toEqual({ n: meters.n, distinct: meters.n, registered: meters.n, mismatched: 0 });
  });

  it('stores the search key customerSearchKey computes from the stored rows', async () => {
    const empty = await one<{ n: number }>("select count(*)::int as n from customer where search_key = ''");
    expect(empty.n).toBe(0);
    const sample = await t.db
      .selectFrom('customer')
      .select(['account_id', 'name', 'customer_code', 'id_card_no', 'credit_code', 'search_key'])
      .where(sql<boolean>`account_id % 15 = 0`)
      .orderBy('account_id')
      .execute();
    expect(sample.length).toBe(CUSTOMERS / 15);
    const ids = sample.map((c) => c.account_id);
    const [contacts, meters, addresses] = await Promise.all([
      t.db
        .selectFrom('contact')
        .select(['account_id', 'phone'])
        .where('account_id', 'in', ids)
        .orderBy('contact_id')
        .execute(),
      t.db
        .selectFrom('meter')
        .select(['account_id', 'meter_no'])
        .where('account_id', 'in', ids)
        .orderBy('meter_id')
        .execute(),
      t.db.selectFrom('address').selectAll().where('account_id', 'in', ids).orderBy('address_id').execute(),
    ]);
    for (const c of sample) {
      const expected = customerSearchKey({
        name: c.name,
        customerCode: c.customer_code,
        idCardNo: c.id_card_no,
        creditCode: c.credit_code,
        phones: contacts.filter((x) => x.account_id === c.account_id).map((x) => x.phone),
        meterNos: meters.filter((x) => x.account_id === c.account_id).map((x) => x.meter_no),
        addresses: addresses.filter((x) => x.account_id === c.account_id),
      });
      expect(c.search_key, c.customer_code).toBe(expected);
    }
  });

  it('has low-income and blacklisted households, each blacklisting with its entry and events', async () => {
    const lowIncome = await one<{ n: number; bad: number }>(
      `select count(*)::int as n,
              count(*) filter (where kind <> 'person' or low_income_reduction_m3 <= 0 or low_income_cert_no = '')::int as bad
       from customer where low_income`,
    );
    expect(lowIncome.n).toBeGreaterThan(10);
    expect(lowIncome.bad).toBe(0);
    const blacklist = await one<{
      listed: number;
      without_entry: number;
      entries_of_unlisted: number;
      without_events: number;
    }>(
      `select count(*) filter (where c.blacklisted)::int as listed,
              count(*) filter (where c.blacklisted and not exists
                (select 1 from blacklist_entry e where e.account_id = c.account_id))::int as without_entry,
              count(*) filter (where not c.blacklisted and exists
                (select 1 from blacklist_entry e where e.account_id = c.account_id))::int as entries_of_unlisted,
              (select count(*)::int from blacklist_entry e where not exists
                (select 1 from blacklist_event v where v.account_id = e.account_id and v.entry_id = e.entry_id)) as without_events
       from customer c`,
    );
    expect(blacklist.listed).toBeGreaterThan(0);
    expect(blacklist).toMatchObject({ without_entry: 0, entries_of_unlisted: 0, without_events: 0 });
  });

  it('has master meters with sub-meters, and a mix of calibers, flow ratings and mountings', async () => {
    const masters = await one<{ masters: number; with_subs: number; dangling: number }>(
      `select count(*)::int as masters,
              count(*) filter (where exists (select 1 from meter s where s.master_meter_no = m.meter_no))::int as with_subs,
              (select count(*)::int from meter s where s.master_meter_no is not null and not exists
                (select 1 from meter_registry r join meter x on x.account_id = r.account_id and x.meter_id = r.meter_id
                  where r.meter_no = s.master_meter_no and x.role = 'master')) as dangling
       from meter m where m.role = 'master'`,
    );
    expect(masters.with_subs).toBeGreaterThan(0);
    expect(masters.dangling).toBe(0);
    const mix = await one<{
      calibers: number;
      mountings: number;
      gas_without_rating: number;
      ic_cards: number;
    }>(
      `select count(distinct caliber_dn) filter (where utility = 'water')::int as calibers,
              count(distinct mounting)::int as mountings,
              count(*) filter (where utility = 'gas' and flow_rating_m3h is null)::int as gas_without_rating,
              count(*) filter (where ic_card)::int as ic_cards
       from meter`,
    );
    expect(mix.calibers).toBeGreaterThanOrEqual(4);
    expect(mix.mountings).toBe(4);
    expect(mix.gas_without_rating).toBe(0);
    expect(mix.ic_cards).toBeGreaterThan(0);
  });

  it('puts each community in one office, in that office’s district', async () => {
    const spread = await one<{
      communities: number;
      in_several_offices: number;
      districts_per_office: number;
    }>(
      `select count(*)::int as communities,
              count(*) filter (where offices > 1)::int as in_several_offices,
              (select max(n)::int from (select count(distinct a.district) as n from address a
                 join customer c on c.account_id = a.account_id group by c.office_id) d) as districts_per_office
       from (select a.community, count(distinct c.office_id) as offices from address a
               join customer c on c.account_id = a.account_id where a.community <> '' group by a.community) x`,
    );
    expect(spread.communities).toBeGreaterThan(1);
    expect(spread.in_several_offices).toBe(0);
    expect(spread.districts_per_office).toBe(1);
  });

  it('is deterministic: the same seed gives the same customers', async () => {
    const other = await createTestDatabase();
    try {
      await seedDemoOrganisation(other.db);
      await seedCustomers(other.pool, { customers: 200 });
      const rows = (db: TestDatabase) =>
        db.pool
          .query(
            `select c.account_id, c.customer_code, c.name, c.id_card_no, c.credit_code, c.search_key, m.meter_no, m.caliber_dn
             from customer c left join meter m on m.account_id = c.account_id where c.account_id <= 200 order by 1`,
          )
          .then((r) => r.rows);
      expect(await rows(other)).toEqual(await rows(t));
    } finally {
      await other.drop();
    }
  });

  it('appends on a second seed, chunked or in bulk, without conflicts and without losing an index or key', async () => {
    const before = await indexesAndKeys();
    const maxBefore = await one<{ max: number }>('select max(account_id)::int as max from customer');
    await seedCustomers(t.pool, { customers: 700 });
    await seedCustomers(t.pool, { customers: 600, bulk: true });
    expect(await indexesAndKeys()).toEqual(before);
    const after = await one<{
      n: number;
      codes: number;
      added_below: number;
      meters: number;
      meter_nos: number;
    }>(
      `select count(*)::int as n, count(distinct customer_code)::int as codes,
              count(*) filter (where account_id <= $1 and created_at > now() - interval '1 hour' and false)::int as added_below,
              (select count(*)::int from meter) as meters, (select count(distinct meter_no)::int from meter) as meter_nos
       from customer`,
      [maxBefore.max],
    );
    expect(after.n).toBe(CUSTOMERS + 1_300);
    expect(after.codes).toBe(after.n);
    expect(after.meter_nos).toBe(after.meters);
    // The identity sequences moved past the seeded child rows: a new contact gets a fresh id.
    const contact = await one<{ contact_id: number }>(
      `insert into contact (account_id, name, phone) values ($1, '测试', '13800000000') returning contact_id`,
      [maxBefore.max + 1],
    );
    expect(contact.contact_id).toBeGreaterThan(2);
    // Every seeded office is used.
    const offices = await one<{ n: number }>('select count(distinct office_id)::int as n from customer');
    expect(offices.n).toBe(DEMO_OFFICES.length);
  });
});

/** LIKE semantics (backslash escapes), for checking patterns without a database. */
function like(text: string, pattern: string): boolean {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, 'u').test(text);
}

describe('searching the seeded utility', () => {
  it('looks fragments up by index patterns that every key containing them matches', async () => {
    // At a million customers searches ask the trigram index with some of a fragment's trigrams
    // (chooseIndexPattern) and check the whole fragment after: the pattern must never lose a match.
    const { rows } = await t.pool.query<{ search_key: string }>(
      'select search_key from customer where account_id % 7 = 0 order by account_id limit 300',
    );
    const keys = rows.map((r) => r.search_key);
    fc.assert(
      fc.property(
        fc.constantFrom(...keys),
        fc.nat(),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 10_000 }),
        (key, start, length, salt) => {
          const chars = [...key];
          const from = start % chars.length;
          // A search term as typed: CJK characters once (planSearch doubles them again).
          const typed = chars
            .slice(from, from + length)
            .join('')
            .replace(/([\u3400-\u9fff\uf900-\ufaff])\1/g, '$1');
          const plan = planSearch(typed);
          if (plan.kind !== 'fragment') return;
          const doubled = doubleCjk(plan.term);
          if (!key.includes(doubled)) return;
          // Any statistics will do: correctness must not depend on them.
          const shareOf = (gram: string) => ((gram.codePointAt(0)! * 31 + gram.length * salt) % 1000) / 2000;
          const pattern = chooseIndexPattern(doubled, plan.pattern, shareOf, 5_000);
          expect(like(key, pattern), `${typed} → ${pattern}`).toBe(true);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('keeps rare trigrams and leaves out common ones', () => {
    const common = new Set(['单单元', '单元元', '010', '101', '000']);
    const shareOf = (gram: string) => (common.has(gram) ? 0.9 : 0.01);
    const plan = planSearch('3栋2单元501') as { term: string; pattern: string };
    const pattern = chooseIndexPattern(doubleCjk(plan.term), plan.pattern, shareOf, 5_000);
    expect(pattern).not.toContain('单单元');
    expect(pattern).not.toContain('单元元');
    expect(pattern).not.toBe(plan.pattern);
    expect(like('金金水水区区幸幸福福小小区区3栋栋2单单元元501室室', pattern)).toBe(true);
    // Without statistics worth using, the full pattern.
    expect(chooseIndexPattern('王王伟伟', '%王王伟伟%', () => 0.9, 5_000)).toBe('%王王伟伟%');
  });
});
