import {
  type AreaType,
  addDays,
  DEFAULT_WORKLOAD_CONFIG,
  isReadingMonth,
  type MeterCategory,
  type MeterCounts,
  monthlyWorkload,
  type RotationStatus,
  readerMonthlyLimit,
  readingDays,
  rotationStatus,
  todayInChina,
  type WorkloadConfig,
  type Zone,
} from '@meterline/domain';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import { loadWorkingCalendar } from '../calendar/load.ts';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import { monthReaders } from '../readings/repository.ts';
import {
  meterCountsByBook,
  readersOf,
  staffNames,
  totalOf,
  workloadConfigs,
  workloadFrom,
  zoneConfig,
} from './repository.ts';
import type { workloadBody, workloadQuery } from './schemas.ts';

export interface WorkloadBookOut {
  bookId: number;
  officeId: number;
  code: string;
  name: string;
  zone: Zone;
  areaType: AreaType;
  /** Meters counted (in service, customer not closed). */
  meters: number;
  metersByCategory: MeterCounts;
  /** Working days this book takes at the daily minimums. */
  days: number;
  readerSince: string | null;
  rotation: RotationStatus | null;
}

const RANK = { ok: 0, warn: 1, over: 2 } as const;

/** Reader workload and rotation (DOMAIN.md §3), and the office's workload figures. */
export class WorkloadService {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Per reader, the books read in a month (by zone: isReadingMonth), their meters by category,
   * the working days needed at the daily minimums (readingDays), and the limit for the reader's
   * area type (monthlyWorkload; a reader with books of both kinds gets the stricter limit), capped
   * by the month's working days. Rotation is given for every book the reader holds.
   */
  async workload(caller: Caller, query: z.infer<typeof workloadQuery>) {
    const month = query.month ?? todayInChina().slice(0, 7);
    const monthNo = Number(month.slice(5, 7));
    const officeIds = query.officeId !== undefined ? [query.officeId] : caller.officeIds;
    const books = await this.db
      .selectFrom('book as b')
      .leftJoin('staff as s', 's.staff_id', 'b.reader_id')
      .select([
        'b.book_id',
        'b.office_id',
        'b.code',
        'b.name',
        'b.zone',
        'b.area_type',
        'b.reader_id',
        's.full_name as reader_name',
        'b.reader_since',
      ])
      .where('b.active', '=', true)
      .$if(officeIds !== null, (qb) =>
        qb.where('b.office_id', 'in', officeIds!.length ? [...officeIds!] : [-1]),
      )
      .orderBy('b.code')
      .execute();
    const zones = await zoneConfig(this.db);
    const due = books.filter((b) => isReadingMonth(b.zone as Zone, monthNo, zones));
    const [counts, calendar, readers] = await Promise.all([
      meterCountsByBook(
        this.db,
        due.map((b) => b.book_id),
      ),
      loadWorkingCalendar(this.db, `${month}-01`, addDays(`${month}-01`, 31)),
      readersOf(this.db, officeIds),
    ]);
    const configs = await workloadConfigs(this.db, [
      ...new Set([...books.map((b) => b.office_id), ...readers.map((r) => r.office_id)]),
    ]);
    const workingDays = calendar.workingDaysOfMonth(month).length;
    const today = todayInChina();
    // Who reads each due book this month: who holds it on its planned day (else at the month's end),
    // so that a handover dated later moves the book's month only from then on.
    const readerOf = await monthReaders(this.db, [month], { bookIds: due.map((b) => b.book_id) });
    const readerOfMonth = new Map(due.map((b) => [b.book_id, readerOf(b.book_id, month)]));
    const configOf = (officeId: number) => configs.get(officeId) ?? DEFAULT_WORKLOAD_CONFIG;

    const bookOut = (b: (typeof books)[number]): WorkloadBookOut => {
      const config = configOf(b.office_id);
      const m = counts.get(b.book_id) ?? {};
      return {
        bookId: b.book_id,
        officeId: b.office_id,
        code: b.code,
        name: b.name,
        zone: b.zone as Zone,
        areaType: b.area_type as AreaType,
        meters: totalOf(m),
        metersByCategory: m,
        days: readingDays(m, config),
        readerSince: b.reader_since,
        rotation: b.reader_since ? rotationStatus(b.reader_since, today, config) : null,
      };
    };

    // Every reader of the offices, and any other staff holding one of their books.
    const people = new Map<number, { name: string; homeOfficeId: number | null; officeIds: Set<number> }>();
    for (const r of readers) {
      const p = people.get(r.staff_id) ?? {
        name: r.full_name,
        homeOfficeId: r.home_office_id,
        officeIds: new Set(),
      };
      p.officeIds.add(r.office_id);
      people.set(r.staff_id, p);
    }
    for (const b of books) {
      if (b.reader_id === null) continue;
      const p = people.get(b.reader_id) ?? {
        name: b.reader_name ?? '',
        homeOfficeId: null,
        officeIds: new Set(),
      };
      p.officeIds.add(b.office_id);
      people.set(b.reader_id, p);
    }
    // And whoever reads a book this month without holding it now (a handover dated later).
    const others = [...new Set(readerOfMonth.values())].filter(
      (id): id is number => id !== null && !people.has(id),
    );
    for (const [id, name] of await staffNames(this.db, others))
      people.set(id, { name, homeOfficeId: null, officeIds: new Set() });
    for (const b of due) {
      const reader = readerOfMonth.get(b.book_id);
      if (reader !== null && reader !== undefined) people.get(reader)?.officeIds.add(b.office_id);
    }

    const out = [...people].map(([readerId, p]) => {
      const held = books.filter((b) => b.reader_id === readerId);
      const reading = due.filter((b) => readerOfMonth.get(b.book_id) === readerId).map(bookOut);
      const officeId =
        p.homeOfficeId !== null && p.officeIds.has(p.homeOfficeId) ? p.homeOfficeId : [...p.officeIds][0]!;
      const config = configOf(officeId);
      const meters: MeterCounts = {};
      for (const b of reading)
        for (const [k, v] of Object.entries(b.metersByCategory) as [MeterCategory, number][])
          meters[k] = (meters[k] ?? 0) + v;
      const days = readingDays(meters, config);
      const areaTypes = [...new Set((reading.length ? reading : held.map(bookOut)).map((b) => b.areaType))];
      const { areaType } = readerMonthlyLimit(areaTypes, config);
      const verdict = monthlyWorkload(days, areaType, config);
      // The month's working days cap the limit too (a short month has fewer days to read in).
      const limit = Math.min(verdict.limit, workingDays);
      const rotations = held
        .filter((b) => b.reader_since)
        .map((b) => ({
          bookId: b.book_id,
          code: b.code,
          name: b.name,
          ...rotationStatus(b.reader_since!, today, configOf(b.office_id)),
        }));
      const worst = rotations.reduce<(typeof rotations)[number] | null>(
        (w, r) => (!w || RANK[r.status] > RANK[w.status] ? r : w),
        null,
      );
      return {
        readerId,
        readerName: p.name,
        officeIds: [...p.officeIds].sort((a, b) => a - b),
        /** The area type whose limit applies (the stricter one when the reader has both). */
        areaType,
        areaTypes,
        books: reading,
        booksHeld: held.length,
        meters,
        meterCount: totalOf(meters),
        days,
        limit,
        areaLimit: verdict.limit,
        over: days > limit,
        rotation: worst?.status ?? null,
        /** The reader's books at or past the rotation warning, whether read this month or not. */
        rotationDue: rotations.filter((r) => r.status !== 'ok'),
      };
    });
    out.sort(
      (a, b) =>
        Number(b.over) - Number(a.over) || b.days - a.days || a.readerName.localeCompare(b.readerName),
    );
    const unassigned = due.filter((b) => readerOfMonth.get(b.book_id) === null).map(bookOut);
    return {
      officeId: query.officeId ?? null,
      month,
      workingDays,
      readers: out,
      unassigned,
    };
  }

  async officeFigures(officeId: number) {
    const office = await this.db
      .selectFrom('office')
      .select('office_id')
      .where('office_id', '=', officeId)
      .executeTakeFirst();
    if (!office) throw notFound('office', officeId);
    const row = await this.db
      .selectFrom('office_workload as w')
      .leftJoin('staff as s', 's.staff_id', 'w.updated_by')
      .select(['w.config', 'w.updated_at', 's.full_name as updated_by_name'])
      .where('w.office_id', '=', officeId)
      .executeTakeFirst();
    return {
      officeId,
      config: workloadFrom(row?.config),
      defaults: DEFAULT_WORKLOAD_CONFIG,
      /** false: the office uses the defaults (DOMAIN.md §3). */
      custom: row !== undefined,
      updatedAt: row?.updated_at ?? null,
      updatedByName: row?.updated_by_name ?? null,
    };
  }

  async setOfficeFigures(ctx: RequestContext, officeId: number, body: z.infer<typeof workloadBody>) {
    const caller = requireCaller(ctx);
    const config: WorkloadConfig = body;
    await this.db.transaction().execute(async (trx) => {
      const before = await trx
        .selectFrom('office_workload')
        .select('config')
        .where('office_id', '=', officeId)
        .forUpdate()
        .executeTakeFirst();
      await trx
        .insertInto('office_workload')
        .values({ office_id: officeId, config: JSON.stringify(config), updated_by: caller.staffId })
        .onConflict((oc) =>
          oc.column('office_id').doUpdateSet({
            config: JSON.stringify(config),
            updated_by: caller.staffId,
            updated_at: new Date(),
          }),
        )
        .execute();
      await audit(trx, ctx, {
        entityType: 'office_workload',
        entityId: officeId,
        officeId,
        action: 'update',
        before: workloadFrom(before?.config),
        after: config,
      });
    });
    return this.officeFigures(officeId);
  }
}
