import { addDays, todayInChina, type ZoneClass, zoneClassForMeter } from '@meterline/domain';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type pg from 'pg';
import type { DB } from '../db/schema.ts';
import { generateOfficePlan, type PlanSummary } from '../metering/plan.ts';
import { HOUSEHOLD_SQL, zoneConfig } from '../metering/repository.ts';

/**
 * Demo books (册本): every office's meters grouped by community and zone class (large meters by
 * office), in route order by building, unit and door; the office's readers assigned with their
 * start dates (a few close to the 2-year rotation limit, a few past it, some with a written
 * handover from an earlier reader); and the reading plan of the current year.
 *
 * Incremental: only meters in no book are filed, into new books, which are planned around the
 * dates already fixed; existing books, routes, readers and plans are not touched. Set-based SQL:
 * a million customers take a minute or two, mostly the one UPDATE that files the meters.
 */

/** Meters a new book takes at most, by zone class: about two days' reading at the daily minimums. */
export const BOOK_TARGET_METERS: Record<ZoneClass, number> = { '0': 30, AB: 100, CDE: 240 };

export interface BookSeedResult {
  books: number;
  meters: number;
  plans: PlanSummary[];
  seconds: number;
}

const secondsSince = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** A stable pseudo-random number in [0, 100) for a book, so the demo is the same every time. */
const hash100 = (id: number) => Number((BigInt(id) * 2654435761n) % 4294967296n) % 100;

/**
 * How long the demo reader has held a book, in days: most 1–20 months, about one book in eight
 * inside the rotation warning (22–24 months) and one in sixteen past the 2-year limit.
 */
function daysHeld(bookId: number): number {
  const h = hash100(bookId);
  if (h < 6) return 732 + ((h * 13) % 60);
  if (h < 18) return 672 + ((h * 7) % 50);
  return 30 + ((h * 37) % 580);
}

export async function seedDemoBooks(
  pool: pg.Pool,
  opts: { log?: (msg: string) => void; today?: string } = {},
): Promise<BookSeedResult> {
  const started = Date.now();
  const log = opts.log ?? (() => {});
  const today = opts.today ?? todayInChina();
  // The pool belongs to the caller: this Kysely is never destroyed (that would end the pool).
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const zones = await zoneConfig(db);

  // The zone rule lives in the domain (zoneClassForMeter): classify the few distinct combinations
  // of its inputs here, and let SQL give every meter its combination's class.
  const combos = await sql<{ caliber_dn: number | null; household: boolean; resettlement: boolean }>`
    select distinct m.caliber_dn, ${HOUSEHOLD_SQL} as household, sp.resettlement
    from meter m
    join customer c on c.account_id = m.account_id
    join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
    join usage_type ut on ut.code = sp.usage_type_code
    where m.book_id is null and m.state = 'in_service' and c.state <> 'closed'`.execute(db);
  if (combos.rows.length === 0) {
    log('books: every meter is in a book already');
    return { books: 0, meters: 0, plans: [], seconds: (Date.now() - started) / 1000 };
  }
  const classes = combos.rows.map((c) =>
    zoneClassForMeter(
      { caliberDn: c.caliber_dn, household: c.household, resettlement: c.resettlement },
      zones,
    ),
  );

  const filed = await db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('meterline.seed_books'))`.execute(trx);
    await sql`set local work_mem = '256MB'`.execute(trx);
    const t0 = Date.now();
    // Unbooked meters with their group (office, community — the whole office for large meters —,
    // class) and their place on the route: building, unit, door, as numbers where they are numbers.
    await sql`
      create temp table seed_unbooked on commit drop as
      with u as (
        select m.account_id, m.meter_id, c.office_id, k.zone_class,
               case when k.zone_class = '0' then '' else coalesce(a.community, '') end as grp,
               coalesce(a.community, '') as community,
               coalesce(a.building, '') as building, coalesce(a.unit, '') as unit, coalesce(a.door, '') as door,
               coalesce(a.detail, '') as detail
        from meter m
        join customer c on c.account_id = m.account_id
        join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
        join usage_type ut on ut.code = sp.usage_type_code
        left join address a on a.account_id = sp.account_id and a.address_id = sp.address_id
        join unnest(${combos.rows.map((c) => c.caliber_dn)}::int[], ${combos.rows.map((c) => c.household)}::boolean[],
                    ${combos.rows.map((c) => c.resettlement)}::boolean[], ${classes}::text[])
             as k(caliber_dn, household, resettlement, zone_class)
          on k.caliber_dn is not distinct from m.caliber_dn and k.household = ${HOUSEHOLD_SQL}
             and k.resettlement = sp.resettlement
        where m.book_id is null and m.state = 'in_service' and c.state <> 'closed'
      )
      select u.account_id, u.meter_id, u.office_id, u.zone_class, u.grp,
             row_number() over w as rn,
             count(*) over (partition by u.office_id, u.grp, u.zone_class) as n,
             min(u.account_id) over (partition by u.office_id, u.grp, u.zone_class) as first_account
      from u
      window w as (partition by u.office_id, u.grp, u.zone_class
                   order by u.community,
                            coalesce(nullif(left(regexp_replace(u.building, '\\D', '', 'g'), 9), '')::int, 0), u.building,
                            coalesce(nullif(left(regexp_replace(u.unit, '\\D', '', 'g'), 9), '')::int, 0), u.unit,
                            coalesce(nullif(left(regexp_replace(u.door, '\\D', '', 'g'), 9), '')::int, 0), u.door,
                            u.detail, u.account_id, u.meter_id)`.execute(trx);
    // Each group splits into parts of near-equal size, each at most the class's target.
    await sql`
      create temp table seed_groups on commit drop as
      select office_id, grp, zone_class, max(n)::bigint as n, min(first_account) as first_account,
             ceil(max(n)::numeric / (case zone_class when '0' then ${BOOK_TARGET_METERS['0']}::int
                                                     when 'AB' then ${BOOK_TARGET_METERS.AB}::int
                                                     else ${BOOK_TARGET_METERS.CDE}::int end))::bigint as parts
      from seed_unbooked group by office_id, grp, zone_class`.execute(trx);
    // One book per part. Codes continue the office's sequence in geographic order; zone letters
    // continue the office's rotation of phases (A/B, C/D/E), so every month gets its share.
    await sql`
      create temp table seed_book_plan on commit drop as
      with existing as (
        select o.office_id, o.code as office_code,
               coalesce((select max(substring(b.code from '-(\\d+)$')::int) from book b
                         where b.office_id = o.office_id and b.code ~ ('^' || o.code || '-\\d+$')), 0) as last_seq,
               (select count(*) from book b where b.office_id = o.office_id and b.zone in ('A', 'B'))::int as ab_books,
               (select count(*) from book b where b.office_id = o.office_id and b.zone in ('C', 'D', 'E'))::int as cde_books
        from office o
      ),
      parts as (
        select g.office_id, g.grp, g.zone_class, p.part, g.parts,
               row_number() over (partition by g.office_id
                                  order by case g.zone_class when '0' then 0 when 'AB' then 1 else 2 end,
                                           g.first_account, p.part) as ord_in_office,
               row_number() over (partition by g.office_id, g.zone_class order by g.first_account, p.part) as ord_in_class
        from seed_groups g cross join lateral generate_series(0::bigint, g.parts - 1) as p(part)
      )
      select p.*,
             e.office_code || '-' || lpad((e.last_seq + p.ord_in_office)::text, 4, '0') as code,
             case p.zone_class
               when '0' then '0'
               when 'AB' then (array['A', 'B'])[(e.ab_books + p.ord_in_class - 1) % 2 + 1]
               else (array['C', 'D', 'E'])[(e.cde_books + p.ord_in_class - 1) % 3 + 1]
             end as zone
      from parts p join existing e on e.office_id = p.office_id`.execute(trx);
    await sql`
      insert into book (office_id, code, name, zone, area_type)
      select office_id, code,
             case when zone_class = '0' then '大口径表 ' || ord_in_class
                  else (case when grp = '' then '沿街单位' else grp end) || ' ' || zone || '区'
                       || case when parts > 1 then ' ' || (part + 1) else '' end
             end,
             zone,
             case when grp = '' then 'dispersed' else 'concentrated' end
      from seed_book_plan
      order by office_id, ord_in_office`.execute(trx);
    await sql`
      create temp table seed_new_books on commit drop as
      select b.book_id, p.* from seed_book_plan p join book b on b.code = p.code`.execute(trx);
    // File the meters: part = ⌊(rn − 1) · parts / n⌋; the route follows rn within the part.
    const meters = await sql`
      update meter m set book_id = a.book_id, route_seq = a.seq
      from (select u.account_id, u.meter_id, nb.book_id,
                   row_number() over (partition by nb.book_id order by u.rn)::int as seq
            from seed_unbooked u
            join seed_groups g on g.office_id = u.office_id and g.grp = u.grp and g.zone_class = u.zone_class
            join seed_new_books nb on nb.office_id = u.office_id and nb.grp = u.grp and nb.zone_class = u.zone_class
                                  and nb.part = (u.rn - 1) * g.parts / u.n) a
      where m.account_id = a.account_id and m.meter_id = a.meter_id`.execute(trx);
    const newBooks = await sql<{ book_id: number; office_id: number; zone_class: ZoneClass; ord: number }>`
      select book_id, office_id, zone_class, ord_in_class::int as ord from seed_new_books
      order by office_id, zone_class, ord_in_class`.execute(trx);
    log(
      `books: ${newBooks.rows.length} books for ${Number(meters.numAffectedRows ?? 0).toLocaleString('en')} meters in ${secondsSince(t0)} s`,
    );

    // Readers: each office's demo readers take contiguous runs of its books, class by class, so
    // each reads a neighbourhood and a share of every phase.
    const readers = await trx
      .selectFrom('staff as s')
      .innerJoin('staff_office as so', 'so.staff_id', 's.staff_id')
      .select(['s.staff_id', 'so.office_id'])
      .where('s.role_code', '=', 'reader')
      .where('s.active', '=', true)
      .orderBy('s.staff_id')
      .execute();
    const recorder = await trx
      .selectFrom('staff')
      .select('staff_id')
      .orderBy('staff_id')
      .limit(1)
      .executeTakeFirst();
    const classSize = new Map<string, number>();
    for (const b of newBooks.rows)
      classSize.set(
        `${b.office_id}|${b.zone_class}`,
        (classSize.get(`${b.office_id}|${b.zone_class}`) ?? 0) + 1,
      );
    const assigned: { bookId: number; readerId: number; since: string; previous: number | null }[] = [];
    for (const b of newBooks.rows) {
      const own = readers.filter((r) => r.office_id === b.office_id).map((r) => r.staff_id);
      if (own.length === 0) continue;
      const size = classSize.get(`${b.office_id}|${b.zone_class}`)!;
      // Small offices: the classes start at different readers, so a class of one book does not
      // always go to the first reader.
      const offset = b.zone_class === 'CDE' ? 0 : 1;
      const readerId = own[(Math.floor(((b.ord - 1) * own.length) / size) + offset) % own.length]!;
      const since = addDays(today, -daysHeld(b.book_id));
      // Some books changed hands: the earlier reader handed over in writing.
      const other = own.find((r) => r !== readerId) ?? null;
      const previous = other !== null && hash100(b.book_id * 7 + 3) < 25 ? other : null;
      assigned.push({ bookId: b.book_id, readerId, since, previous });
    }
    if (assigned.length && recorder) {
      await sql`
        update book b set reader_id = a.reader_id, reader_since = a.since
        from unnest(${assigned.map((a) => a.bookId)}::bigint[], ${assigned.map((a) => a.readerId)}::bigint[],
                    ${assigned.map((a) => a.since)}::date[]) as a(book_id, reader_id, since)
        where b.book_id = a.book_id`.execute(trx);
      const handed = assigned.filter((a) => a.previous !== null);
      await sql`
        insert into book_assignment (book_id, reader_id, from_date, to_date, handover_note, open_items, recorded_by)
        select a.book_id, a.previous, a.since - 700, a.since, '建册', '', ${recorder.staff_id}::bigint
        from unnest(${handed.map((a) => a.bookId)}::bigint[], ${handed.map((a) => a.previous!)}::bigint[],
                    ${handed.map((a) => a.since)}::date[]) as a(book_id, previous, since)`.execute(trx);
      await sql`
        insert into book_assignment (book_id, reader_id, from_date, handover_note, open_items, handed_over_by, recorded_by)
        select a.book_id, a.reader_id, a.since,
               case when a.previous is null then '建册，初始分配'
                    else '书面交接：册本、表位图、表井钥匙已移交，逐户核对门牌与表号' end,
               case when a.previous is null or a.book_id % 3 = 0 then ''
                    else '2户表井被压占待协调；1户欠费两期待催缴' end,
               a.previous, ${recorder.staff_id}::bigint
        from unnest(${assigned.map((a) => a.bookId)}::bigint[], ${assigned.map((a) => a.readerId)}::bigint[],
                    ${assigned.map((a) => a.since)}::date[], ${assigned.map((a) => a.previous)}::bigint[])
             as a(book_id, reader_id, since, previous)`.execute(trx);
    }
    await sql`
      insert into audit_log (staff_id, entity_type, entity_id, action, after)
      values (${recorder?.staff_id ?? null}, 'system', 'seed', 'seed_books',
              ${JSON.stringify({ books: newBooks.rows.length, meters: Number(meters.numAffectedRows ?? 0) })})`.execute(
      trx,
    );
    return {
      books: newBooks.rows.length,
      meters: Number(meters.numAffectedRows ?? 0),
      offices: [...new Set(newBooks.rows.map((b) => b.office_id))].sort((a, b) => a - b),
    };
  });
  // Fresh statistics (and, after a big filing, hint bits and the visibility map) for the planner.
  if (filed.meters > 50_000) await sql`vacuum (analyze) meter, book`.execute(db);
  else await sql`analyze meter, book`.execute(db);

  // The current year's plan for the new books, around every date already planned; the whole year,
  // months past included, so the demo has a year of plan behind it.
  const year = Number(today.slice(0, 4));
  const plans: PlanSummary[] = [];
  const codes = new Map(
    (await db.selectFrom('office').select(['office_id', 'code']).execute()).map((o) => [o.office_id, o.code]),
  );
  for (const officeId of filed.offices) {
    const t0 = Date.now();
    const summary = await db
      .transaction()
      .execute((trx) =>
        generateOfficePlan(trx, officeId, year, { keepExisting: true, today, from: `${year}-01-01` }),
      );
    plans.push(summary);
    log(
      `books: office ${codes.get(officeId)} plan ${year}: ${summary.planned} book-months planned, ${summary.unfit.length} without room, in ${secondsSince(t0)} s`,
    );
  }
  return { books: filed.books, meters: filed.meters, plans, seconds: (Date.now() - started) / 1000 };
}
