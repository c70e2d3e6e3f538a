import {
  addDays,
  DomainError,
  effectiveZoneClass,
  formatAddress,
  meterFitsBook,
  rotationStatus,
  todayInChina,
  type Zone,
  type ZoneClass,
  zoneClassForMeter,
  zoneClassOf,
} from '@meterline/domain';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { z } from 'zod';
import type { DB } from '../db/schema.ts';
import { audit, diff } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldError, notFound, versionConflict } from '../platform/errors.ts';
import { bookCodeTaken, invalid, nameSome, readerNotInOffice } from './errors.ts';
import { HOUSEHOLD_SQL, meterTotals, readersOf, workloadConfigs, zoneConfig } from './repository.ts';
import type {
  assignBody,
  bookListQuery,
  createBookBody,
  moveBody,
  routeBody,
  updateBookBody,
  zoneOverrideBody,
} from './schemas.ts';

type Tx = Transaction<DB>;

export interface BookOut {
  bookId: number;
  officeId: number;
  officeName: string;
  code: string;
  name: string;
  zone: Zone;
  zoneClass: ZoneClass;
  areaType: 'concentrated' | 'dispersed';
  readerId: number | null;
  readerName: string | null;
  readerSince: string | null;
  meterCount: number;
  active: boolean;
  version: number;
  rotation: { dueOn: string; warnFrom: string; status: 'ok' | 'warn' | 'over' } | null;
}

export interface RouteMeterOut {
  accountId: number;
  meterId: number;
  routeSeq: number | null;
  meterNo: string;
  customerCode: string;
  customerName: string;
  address: string;
  building: string;
  unit: string;
  door: string;
  meterLocation: string;
  caliberDn: number | null;
  mounting: string;
  /** The class the zone rule gives the meter. */
  zoneClass: ZoneClass;
  zoneOverride: Zone | null;
  zoneOverrideReason: string;
  /** The override's class when there is one, else the rule's. */
  effectiveZoneClass: ZoneClass;
  /** false: the meter's class is not the book's (after an override; move it to a book of its class). */
  fitsBook: boolean;
  /** The customer's state (vacant, suspended… are not read: customersToRead). */
  state: string;
}

const isUniqueViolation = (e: unknown) => (e as { code?: string })?.code === '23505';

/** Books (册本), their routes, readers and handovers, and zone overrides (docs/reading.md). */
export class BookService {
  constructor(private readonly db: Kysely<DB>) {}

  // ------------------------------------------------------------------ books

  private async listRows(
    db: Kysely<DB>,
    where: { officeIds: readonly number[] | null; bookId?: number } & Partial<z.infer<typeof bookListQuery>>,
  ) {
    const rows = await db
      .selectFrom('book as b')
      .innerJoin('office as o', 'o.office_id', 'b.office_id')
      .leftJoin('staff as s', 's.staff_id', 'b.reader_id')
      .select([
        'b.book_id',
        'b.office_id',
        'o.name as office_name',
        'b.code',
        'b.name',
        'b.zone',
        'b.area_type',
        'b.reader_id',
        's.full_name as reader_name',
        'b.reader_since',
        'b.active',
        'b.version',
      ])
      .$if(where.officeIds !== null, (qb) =>
        qb.where('b.office_id', 'in', where.officeIds!.length ? [...where.officeIds!] : [-1]),
      )
      .$if(where.officeId !== undefined, (qb) => qb.where('b.office_id', '=', where.officeId!))
      .$if(where.bookId !== undefined, (qb) => qb.where('b.book_id', '=', where.bookId!))
      .$if(where.readerId !== undefined, (qb) => qb.where('b.reader_id', '=', where.readerId!))
      .$if(where.zone !== undefined, (qb) => qb.where('b.zone', '=', where.zone!))
      .$if(where.active !== undefined, (qb) => qb.where('b.active', '=', where.active === 'true'))
      .orderBy('b.code')
      .execute();
    const [totals, configs] = await Promise.all([
      meterTotals(
        db,
        rows.map((r) => r.book_id),
      ),
      workloadConfigs(db, [...new Set(rows.map((r) => r.office_id))]),
    ]);
    const today = todayInChina();
    return rows.map(
      (r): BookOut => ({
        bookId: r.book_id,
        officeId: r.office_id,
        officeName: r.office_name,
        code: r.code,
        name: r.name,
        zone: r.zone as Zone,
        zoneClass: zoneClassOf(r.zone as Zone),
        areaType: r.area_type as BookOut['areaType'],
        readerId: r.reader_id,
        readerName: r.reader_name,
        readerSince: r.reader_since,
        meterCount: totals.get(r.book_id) ?? 0,
        active: r.active,
        version: r.version,
        rotation: r.reader_since ? rotationStatus(r.reader_since, today, configs.get(r.office_id)) : null,
      }),
    );
  }

  async list(caller: Caller, query: z.infer<typeof bookListQuery>): Promise<BookOut[]> {
    return this.listRows(this.db, { ...query, officeIds: caller.officeIds });
  }

  async get(bookId: number, db: Kysely<DB> = this.db): Promise<BookOut> {
    const [book] = await this.listRows(db, { officeIds: null, bookId });
    if (!book) throw notFound('book', bookId);
    return book;
  }

  private async lockBook(trx: Tx, bookId: number, version?: number) {
    const book = await trx
      .selectFrom('book')
      .selectAll()
      .where('book_id', '=', bookId)
      .forUpdate()
      .executeTakeFirst();
    if (!book) throw notFound('book', bookId);
    if (version !== undefined && book.version !== version) throw versionConflict();
    return book;
  }

  private async checkReader(trx: Tx, officeId: number, readerId: number, path = 'readerId'): Promise<void> {
    const readers = await readersOf(trx, [officeId]);
    if (!readers.some((r) => r.staff_id === readerId)) throw readerNotInOffice(path);
  }

  async create(ctx: RequestContext, body: z.infer<typeof createBookBody>): Promise<{ bookId: number }> {
    const caller = requireCaller(ctx);
    const office = await this.db
      .selectFrom('office')
      .select('office_id')
      .where('office_id', '=', body.officeId)
      .executeTakeFirst();
    if (!office) throw fieldError('officeId', 'OFFICE_UNKNOWN');
    const today = todayInChina();
    return this.db
      .transaction()
      .execute(async (trx) => {
        if (body.readerId) await this.checkReader(trx, body.officeId, body.readerId);
        const row = await trx
          .insertInto('book')
          .values({
            office_id: body.officeId,
            code: body.code,
            name: body.name,
            zone: body.zone,
            area_type: body.areaType,
            reader_id: body.readerId ?? null,
            reader_since: body.readerId ? today : null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        if (body.readerId) {
          await trx
            .insertInto('book_assignment')
            .values({
              book_id: row.book_id,
              reader_id: body.readerId,
              from_date: today,
              handover_note: '新建册本',
              recorded_by: caller.staffId,
            })
            .execute();
        }
        await audit(trx, ctx, {
          entityType: 'book',
          entityId: row.book_id,
          officeId: row.office_id,
          action: 'create',
          after: row,
        });
        return { bookId: row.book_id };
      })
      .catch((e) => {
        throw isUniqueViolation(e) ? bookCodeTaken(body.code) : e;
      });
  }

  async update(ctx: RequestContext, bookId: number, body: z.infer<typeof updateBookBody>): Promise<BookOut> {
    await this.db.transaction().execute(async (trx) => {
      const before = await this.lockBook(trx, bookId, body.version);
      if (zoneClassOf(body.zone) !== zoneClassOf(before.zone as Zone)) {
        // A book carries one zone: its meters must be of the new zone's class.
        const misfits = (await this.routeRows(trx, bookId)).filter(
          (m) => !meterFitsBook(m.effectiveZoneClass, body.zone),
        );
        if (misfits.length)
          throw invalid(
            'zone',
            'ZONE_CLASS_MISMATCH',
            {
              'zh-CN': '册本中有 {count} 块表不属于 {zone} 区（{meters}），请先移出或调整其分区',
              en: '{count} meters of the book are not of zone {zone} ({meters}); move them or override their zone first',
            },
            { count: misfits.length, zone: body.zone, meters: nameSome(misfits.map((m) => m.meterNo)) },
          );
      }
      const after = await trx
        .updateTable('book')
        .set({
          name: body.name,
          zone: body.zone,
          area_type: body.areaType,
          active: body.active,
          version: sql`version + 1`,
        })
        .where('book_id', '=', bookId)
        .returningAll()
        .executeTakeFirstOrThrow();
      await audit(trx, ctx, {
        entityType: 'book',
        entityId: bookId,
        officeId: before.office_id,
        action: 'update',
        ...diff(before, after),
      });
    });
    return this.get(bookId);
  }

  // ------------------------------------------------------------------ routes

  private async routeRows(db: Kysely<DB>, bookId: number): Promise<RouteMeterOut[]> {
    const [zones, book] = await Promise.all([
      zoneConfig(db),
      db.selectFrom('book').select('zone').where('book_id', '=', bookId).executeTakeFirst(),
    ]);
    const rows = await sql<{
      account_id: number;
      meter_id: number;
      route_seq: number | null;
      meter_no: string;
      customer_code: string;
      customer_name: string;
      community: string | null;
      building: string | null;
      unit: string | null;
      door: string | null;
      detail: string | null;
      meter_location: string;
      caliber_dn: number | null;
      mounting: string;
      zone_override: Zone | null;
      zone_override_reason: string;
      household: boolean;
      resettlement: boolean;
      state: string;
    }>`
      select m.account_id, m.meter_id, m.route_seq, m.meter_no, c.customer_code, c.name as customer_name,
             a.community, a.building, a.unit, a.door, a.detail, sp.meter_location,
             m.caliber_dn, m.mounting, m.zone_override, m.zone_override_reason,
             ${HOUSEHOLD_SQL} as household, sp.resettlement, c.state
      from meter m
      join customer c on c.account_id = m.account_id
      join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
      join usage_type ut on ut.code = sp.usage_type_code
      left join address a on a.account_id = sp.account_id and a.address_id = sp.address_id
      where m.book_id = ${bookId} and m.state = 'in_service'
      order by m.route_seq nulls last, m.account_id, m.meter_id`.execute(db);
    return rows.rows.map((r) => {
      const zoneClass = zoneClassForMeter(
        { caliberDn: r.caliber_dn, household: r.household, resettlement: r.resettlement },
        zones,
      );
      const effective = effectiveZoneClass(zoneClass, r.zone_override);
      return {
        accountId: r.account_id,
        meterId: r.meter_id,
        routeSeq: r.route_seq,
        meterNo: r.meter_no,
        customerCode: r.customer_code,
        customerName: r.customer_name,
        address: formatAddress({
          community: r.community ?? '',
          building: r.building ?? '',
          unit: r.unit ?? '',
          door: r.door ?? '',
          detail: r.detail ?? '',
        }),
        building: r.building ?? '',
        unit: r.unit ?? '',
        door: r.door ?? '',
        meterLocation: r.meter_location,
        caliberDn: r.caliber_dn,
        mounting: r.mounting,
        zoneClass,
        zoneOverride: r.zone_override,
        zoneOverrideReason: r.zone_override_reason,
        effectiveZoneClass: effective,
        fitsBook: book ? meterFitsBook(effective, book.zone as Zone) : true,
        state: r.state,
      };
    });
  }

  async route(bookId: number): Promise<{ book: BookOut; meters: RouteMeterOut[] }> {
    const book = await this.get(bookId);
    return { book, meters: await this.routeRows(this.db, bookId) };
  }

  /** The whole new order of a book's route: every meter of the book exactly once. */
  async reorder(ctx: RequestContext, bookId: number, body: z.infer<typeof routeBody>) {
    await this.db.transaction().execute(async (trx) => {
      const book = await this.lockBook(trx, bookId, body.version);
      const current = await trx
        .selectFrom('meter')
        .select(['account_id', 'meter_id', 'meter_no', 'route_seq'])
        .where('book_id', '=', bookId)
        .where('state', '=', 'in_service')
        .orderBy('route_seq')
        .orderBy('account_id')
        .orderBy('meter_id')
        .execute();
      const k = (accountId: number, meterId: number) => `${accountId}/${meterId}`;
      const inBook = new Map(current.map((m) => [k(m.account_id, m.meter_id), m]));
      const seen = new Set<string>();
      const duplicates: string[] = [];
      const strangers: string[] = [];
      for (const o of body.order) {
        const key = k(o.accountId, o.meterId);
        if (seen.has(key)) duplicates.push(inBook.get(key)?.meter_no ?? key);
        seen.add(key);
        if (!inBook.has(key)) strangers.push(key);
      }
      const missing = current.filter((m) => !seen.has(k(m.account_id, m.meter_id))).map((m) => m.meter_no);
      const problems: { path: string; code: string; messages: { 'zh-CN': string; en: string } }[] = [];
      if (duplicates.length)
        problems.push({
          path: 'order',
          code: 'ROUTE_DUPLICATE',
          messages: {
            'zh-CN': `以下表在顺序中出现了不止一次：${nameSome(duplicates)}`,
            en: `These meters appear more than once: ${nameSome(duplicates)}`,
          },
        });
      if (strangers.length)
        problems.push({
          path: 'order',
          code: 'ROUTE_NOT_IN_BOOK',
          messages: {
            'zh-CN': `以下表不在本册本中（用户/表）：${nameSome(strangers)}`,
            en: `These meters are not in this book (account/meter): ${nameSome(strangers)}`,
          },
        });
      if (missing.length)
        problems.push({
          path: 'order',
          code: 'ROUTE_MISSING',
          messages: {
            'zh-CN': `顺序中缺少本册本的 ${missing.length} 块表：${nameSome(missing)}`,
            en: `The order leaves out ${missing.length} meters of the book: ${nameSome(missing)}`,
          },
        });
      if (problems.length) {
        throw new DomainError(
          'VALIDATION',
          {},
          {
            'zh-CN': '抄表顺序必须恰好包含本册本的每一块表各一次',
            en: 'The route order must list every meter of the book exactly once',
          },
          problems,
        );
      }
      await sql`
        update meter m set route_seq = o.seq
        from unnest(${body.order.map((o) => o.accountId)}::bigint[], ${body.order.map((o) => o.meterId)}::bigint[])
             with ordinality as o(account_id, meter_id, seq)
        where m.account_id = o.account_id and m.meter_id = o.meter_id and m.book_id = ${bookId}
          and m.route_seq is distinct from o.seq`.execute(trx);
      await trx
        .updateTable('book')
        .set({ version: sql`version + 1` })
        .where('book_id', '=', bookId)
        .execute();
      await audit(trx, ctx, {
        entityType: 'book',
        entityId: bookId,
        officeId: book.office_id,
        action: 'reorder_route',
        before: { order: current.map((m) => m.meter_no) },
        after: { order: body.order.map((o) => inBook.get(k(o.accountId, o.meterId))!.meter_no) },
      });
    });
    return this.route(bookId);
  }

  /** Moves meters of the book's office into the book, appended to its route in the order given. */
  async moveMeters(ctx: RequestContext, bookId: number, body: z.infer<typeof moveBody>) {
    const zones = await zoneConfig(this.db);
    return this.db.transaction().execute(async (trx) => {
      const target = await this.lockBook(trx, bookId);
      const rows = await sql<{
        ord: number;
        account_id: number;
        meter_id: number;
        meter_no: string | null;
        office_id: number | null;
        state: string | null;
        book_id: number | null;
        caliber_dn: number | null;
        household: boolean | null;
        resettlement: boolean | null;
        zone_override: Zone | null;
      }>`
        select o.ord::int as ord, o.account_id, o.meter_id, m.meter_no, c.office_id, m.state, m.book_id,
               m.caliber_dn, ${HOUSEHOLD_SQL} as household, sp.resettlement, m.zone_override
        from unnest(${body.meters.map((x) => x.accountId)}::bigint[], ${body.meters.map((x) => x.meterId)}::bigint[])
             with ordinality as o(account_id, meter_id, ord)
        left join meter m on m.account_id = o.account_id and m.meter_id = o.meter_id
        left join customer c on c.account_id = m.account_id
        left join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
        left join usage_type ut on ut.code = sp.usage_type_code
        order by o.ord`.execute(trx);
      const label = (r: (typeof rows.rows)[number]) => r.meter_no ?? `${r.account_id}/${r.meter_id}`;
      // Another office's meter reads as unknown: nothing about it is told.
      const unknown = rows.rows.filter((r) => r.meter_no === null || r.office_id !== target.office_id);
      if (unknown.length)
        throw invalid(
          'meters',
          'METER_NOT_IN_OFFICE',
          {
            'zh-CN': '以下表不存在或不属于本册本所在营业所：{meters}',
            en: 'These meters do not exist or are not of the book’s office: {meters}',
          },
          { meters: nameSome(unknown.map(label)) },
        );
      const removed = rows.rows.filter((r) => r.state !== 'in_service');
      if (removed.length)
        throw invalid(
          'meters',
          'METER_ALREADY_REMOVED',
          { 'zh-CN': '以下表已拆除：{meters}', en: 'These meters have been removed: {meters}' },
          { meters: nameSome(removed.map(label)) },
        );
      const misfits = rows.rows.filter((r) => {
        const rule = zoneClassForMeter(
          { caliberDn: r.caliber_dn, household: !!r.household, resettlement: !!r.resettlement },
          zones,
        );
        return !meterFitsBook(effectiveZoneClass(rule, r.zone_override), target.zone as Zone);
      });
      if (misfits.length)
        throw invalid(
          'meters',
          'ZONE_CLASS_MISMATCH',
          {
            'zh-CN': '以下表不属于 {zone} 区，不能放入本册本（可先调整其分区）：{meters}',
            en: 'These meters are not of zone {zone} and cannot join this book (override their zone first): {meters}',
          },
          { zone: target.zone, meters: nameSome(misfits.map(label)) },
        );
      const seen = new Set<string>();
      const moving = rows.rows.filter((r) => {
        const key = `${r.account_id}/${r.meter_id}`;
        if (seen.has(key) || r.book_id === bookId) return false;
        seen.add(key);
        return true;
      });
      if (moving.length === 0) return { bookId, moved: 0 };
      // The other books lose meters: their routes change too.
      const sources = [...new Set(moving.map((r) => r.book_id).filter((b): b is number => b !== null))].sort(
        (a, b) => a - b,
      );
      if (sources.length)
        await trx
          .updateTable('book')
          .set({ version: sql`version + 1` })
          .where('book_id', 'in', sources)
          .execute();
      const last = await trx
        .selectFrom('meter')
        .select(sql<number>`coalesce(max(route_seq), 0)`.as('seq'))
        .where('book_id', '=', bookId)
        .executeTakeFirstOrThrow();
      await sql`
        update meter m set book_id = ${bookId}, route_seq = ${Number(last.seq)} + o.seq
        from unnest(${moving.map((r) => r.account_id)}::bigint[], ${moving.map((r) => r.meter_id)}::bigint[])
             with ordinality as o(account_id, meter_id, seq)
        where m.account_id = o.account_id and m.meter_id = o.meter_id`.execute(trx);
      await trx
        .updateTable('book')
        .set({ version: sql`version + 1` })
        .where('book_id', '=', bookId)
        .execute();
      await audit(trx, ctx, {
        entityType: 'book',
        entityId: bookId,
        officeId: target.office_id,
        action: 'move_meters',
        before: { meters: moving.map((r) => ({ meterNo: r.meter_no, bookId: r.book_id })) },
        after: { meters: moving.map((r) => ({ meterNo: r.meter_no, bookId })) },
      });
      return { bookId, moved: moving.length };
    });
  }

  // ------------------------------------------------------------------ readers and handovers

  async assign(ctx: RequestContext, bookId: number, body: z.infer<typeof assignBody>) {
    const caller = requireCaller(ctx);
    const latest = addDays(todayInChina(), 31);
    if (body.fromDate > latest)
      throw invalid(
        'fromDate',
        'DATE_TOO_FAR',
        { 'zh-CN': '交接日期不能晚于 {latest}', en: 'The handover date cannot be after {latest}' },
        { latest },
      );
    const id = await this.db.transaction().execute(async (trx) => {
      const book = await this.lockBook(trx, bookId);
      await this.checkReader(trx, book.office_id, body.readerId);
      if (book.reader_id === body.readerId)
        throw invalid('readerId', 'SAME_READER', {
          'zh-CN': '该抄表员已负责本册本',
          en: 'This reader already reads the book',
        });
      if (book.reader_id !== null && body.handoverNote === '')
        throw invalid('handoverNote', 'HANDOVER_REQUIRED', {
          'zh-CN': '更换抄表员须填写书面交接记录',
          en: 'A change of reader needs a written handover',
        });
      const open = await trx
        .selectFrom('book_assignment')
        .select(['assignment_id', 'from_date'])
        .where('book_id', '=', bookId)
        .where('to_date', 'is', null)
        .orderBy('from_date', 'desc')
        .executeTakeFirst();
      if (open && body.fromDate < open.from_date)
        throw invalid(
          'fromDate',
          'BEFORE_CURRENT_ASSIGNMENT',
          {
            'zh-CN': '交接日期不能早于现任抄表员的开始日期 {since}',
            en: 'The handover cannot be before the current reader’s start, {since}',
          },
          { since: open.from_date },
        );
      await trx
        .updateTable('book_assignment')
        .set({ to_date: body.fromDate })
        .where('book_id', '=', bookId)
        .where('to_date', 'is', null)
        .execute();
      const row = await trx
        .insertInto('book_assignment')
        .values({
          book_id: bookId,
          reader_id: body.readerId,
          from_date: body.fromDate,
          handover_note: body.handoverNote,
          open_items: body.openItems,
          handed_over_by: book.reader_id,
          recorded_by: caller.staffId,
        })
        .returning('assignment_id')
        .executeTakeFirstOrThrow();
      await trx
        .updateTable('book')
        .set({ reader_id: body.readerId, reader_since: body.fromDate, version: sql`version + 1` })
        .where('book_id', '=', bookId)
        .execute();
      await audit(trx, ctx, {
        entityType: 'book',
        entityId: bookId,
        officeId: book.office_id,
        action: 'assign_reader',
        before: { reader_id: book.reader_id, reader_since: book.reader_since },
        after: {
          reader_id: body.readerId,
          reader_since: body.fromDate,
          handover_note: body.handoverNote,
          open_items: body.openItems,
        },
      });
      return row.assignment_id;
    });
    return (await this.assignments(bookId)).find((a) => a.assignmentId === id)!;
  }

  async assignments(bookId: number) {
    const rows = await this.db
      .selectFrom('book_assignment as a')
      .leftJoin('staff as r', 'r.staff_id', 'a.reader_id')
      .leftJoin('staff as h', 'h.staff_id', 'a.handed_over_by')
      .leftJoin('staff as w', 'w.staff_id', 'a.recorded_by')
      .select([
        'a.assignment_id',
        'a.reader_id',
        'r.full_name as reader_name',
        'a.from_date',
        'a.to_date',
        'a.handover_note',
        'a.open_items',
        'a.handed_over_by',
        'h.full_name as handed_over_by_name',
        'a.recorded_by',
        'w.full_name as recorded_by_name',
        'a.recorded_at',
      ])
      .where('a.book_id', '=', bookId)
      .orderBy('a.from_date', 'desc')
      .orderBy('a.assignment_id', 'desc')
      .execute();
    return rows.map((r) => ({
      assignmentId: r.assignment_id,
      readerId: r.reader_id,
      readerName: r.reader_name,
      fromDate: r.from_date,
      toDate: r.to_date,
      handoverNote: r.handover_note,
      openItems: r.open_items,
      handedOverBy: r.handed_over_by,
      handedOverByName: r.handed_over_by_name,
      recordedBy: r.recorded_by,
      recordedByName: r.recorded_by_name,
      recordedAt: r.recorded_at,
    }));
  }

  // ------------------------------------------------------------------ zone override

  async setZone(
    ctx: RequestContext,
    accountId: number,
    meterId: number,
    body: z.infer<typeof zoneOverrideBody>,
  ) {
    if (body.zone !== null && body.reason === '') throw fieldError('reason', 'REASON_REQUIRED');
    const zones = await zoneConfig(this.db);
    return this.db.transaction().execute(async (trx) => {
      const row = await sql<{
        meter_no: string;
        office_id: number;
        caliber_dn: number | null;
        household: boolean;
        resettlement: boolean;
        zone_override: Zone | null;
        zone_override_reason: string;
        book_id: number | null;
        book_zone: Zone | null;
      }>`
        select m.meter_no, c.office_id, m.caliber_dn, ${HOUSEHOLD_SQL} as household, sp.resettlement,
               m.zone_override, m.zone_override_reason, m.book_id, b.zone as book_zone
        from meter m
        join customer c on c.account_id = m.account_id
        join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
        join usage_type ut on ut.code = sp.usage_type_code
        left join book b on b.book_id = m.book_id
        where m.account_id = ${accountId} and m.meter_id = ${meterId}
        for update of m`.execute(trx);
      const meter = row.rows[0];
      if (!meter) throw notFound('meter', `${accountId}/${meterId}`);
      const reason = body.zone === null ? '' : body.reason;
      await trx
        .updateTable('meter')
        .set({ zone_override: body.zone, zone_override_reason: reason })
        .where('account_id', '=', accountId)
        .where('meter_id', '=', meterId)
        .execute();
      await audit(trx, ctx, {
        entityType: 'meter',
        entityId: `${accountId}/${meterId}`,
        accountId,
        officeId: meter.office_id,
        action: body.zone === null ? 'clear_zone_override' : 'override_zone',
        before: { zone_override: meter.zone_override, zone_override_reason: meter.zone_override_reason },
        after: { zone_override: body.zone, zone_override_reason: reason },
      });
      const zoneClass = zoneClassForMeter(
        { caliberDn: meter.caliber_dn, household: meter.household, resettlement: meter.resettlement },
        zones,
      );
      const effective = effectiveZoneClass(zoneClass, body.zone);
      return {
        accountId,
        meterId,
        meterNo: meter.meter_no,
        zoneClass,
        zoneOverride: body.zone,
        zoneOverrideReason: reason,
        effectiveZoneClass: effective,
        bookId: meter.book_id,
        bookZone: meter.book_zone,
        fitsBook: meter.book_zone ? meterFitsBook(effective, meter.book_zone) : null,
      };
    });
  }
}
