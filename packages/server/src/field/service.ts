import type { Lang } from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import { billAcceptedReadings } from '../billing/engine.ts';
import type { DB } from '../db/schema.ts';
import type { RequestContext } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { loadSettings } from '../platform/settings.ts';
import { parseImage } from '../readings/images.ts';
import { type Candidate, type IngestResult, ingestReadings } from '../readings/ingest.ts';
import { type RowError, rowMessage, rowMessages, uploadFirst } from '../readings/messages.ts';
import {
  addMonths,
  chinaTime,
  INDEX_PATTERN,
  meterStateAt,
  parseReadAt,
  readingRules,
  STATES_TO_READ,
  showIndex,
} from '../readings/model.ts';
import { reportingOn } from '../readings/registerBilling.ts';
import {
  addressLine,
  booksHeldOn,
  loadAnomalyCodes,
  loadMeterHistories,
  meterKey,
} from '../readings/repository.ts';

/**
 * The handheld's day (DOMAIN.md §3): download the day's route, read, upload before downloading the
 * next day. See docs/reading.md, "The handheld".
 */

/** Smart meters a planned day's register reads could not bill come back on the route this many days. */
export const REVISIT_MISSING_DAYS = 31;

/** Earlier downloads older than this no longer hold up a new one (a reader who left a route). */
export const UPLOAD_FIRST_LOOKBACK_DAYS = 31;
/** Readings per upload request; the handheld sends more in several requests. */
export const MAX_UPLOAD_READINGS = 500;
/** A read time further back than this is refused (a handheld whose clock is wrong). */
export const MAX_READ_AGE_DAYS = 62;

export interface RouteMeter {
  accountId: number;
  meterId: number;
  bookId: number | null;
  routeSeq: number | null;
  meterNo: string;
  customerName: string;
  customerCode: string;
  address: string;
  meterLocation: string;
  meterBoxNo: string;
  usageType: string;
  caliberDn: number | null;
  mounting: string | null;
  dialDigits: number;
  previousIndex: string;
  lastReadings: { readAt: string; index: string | null; consumptionM3: string | null; kind: string }[];
  expectedM3: string | null;
  estimatesInARow: number;
  visitForced: boolean;
  /** Back on the route because review rejected its last reading: read it again. */
  revisit: boolean;
  /**
   * A smart meter reporting its register (a read in the register.billingMaxAgeDays before the day):
   * its billing reading is taken from its register reads the day after, so the reader need not
   * read it (and an unread one does not hold up the next download). Never with `revisit`.
   */
  remote: boolean;
}

interface RouteMeterRow {
  account_id: number;
  meter_id: number;
  book_id: number | null;
  route_seq: number | null;
  meter_no: string;
  dial_digits: number;
  initial_index: string;
  caliber_dn: number | null;
  mounting: string | null;
  office_id: number;
  customer_state: string;
  customer_name: string;
  customer_code: string;
  address: Record<string, string | null> | null;
  meter_location: string;
  meter_box_no: string;
  usage_type: string;
  revisit: boolean;
  remote: boolean;
  book_order: number;
}

export class FieldService {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dataDir: string,
  ) {}

  /**
   * Meters of an earlier downloaded day with neither a reading nor a no-access entry (smart meters
   * reporting their register that day excepted: their billing reading comes from it).
   */
  async unfinished(staffId: number, date: string) {
    const maxAgeDays = (await loadSettings(this.db))['register.billingMaxAgeDays'];
    const { rows } = await sql<{
      work_date: string;
      account_id: number;
      meter_id: number;
      meter_no: string;
      name: string;
      book_id: number | null;
    }>`
      select distinct on (d.work_date, m.account_id, m.meter_id)
             d.work_date, m.account_id, m.meter_id, m.meter_no, c.name, m.book_id, m.route_seq
      from route_download d
      join meter m on m.book_id = any(d.book_ids) and m.state = 'in_service'
      join customer c on c.account_id = m.account_id and c.state = any(${[...STATES_TO_READ]}::text[])
                     and c.connected_on < date_trunc('month', d.work_date::timestamp)::date
      where d.staff_id = ${staffId} and d.work_date < ${date}::date
        and d.work_date >= ${date}::date - ${UPLOAD_FIRST_LOOKBACK_DAYS}::int
        and not exists (
          select 1 from reading r
          where r.account_id = m.account_id and r.meter_id = m.meter_id
            and r.read_at >= (d.work_date - interval '8 hours')::timestamp at time zone 'UTC')
        and not ${reportingOn(sql`d.work_date`, maxAgeDays)}
      order by d.work_date, m.account_id, m.meter_id`.execute(this.db);
    if (rows.length === 0) return null;
    const workDate = rows[0]!.work_date;
    return uploadFirst(
      workDate,
      rows
        .filter((r) => r.work_date === workDate)
        .map((r) => ({
          accountId: r.account_id,
          meterId: r.meter_id,
          meterNo: r.meter_no,
          customerName: r.name,
          bookId: r.book_id,
        })),
    );
  }

  async route(ctx: RequestContext, date: string, deviceId: string) {
    const caller = requireCaller(ctx);
    const blocked = await this.unfinished(caller.staffId, date);
    if (blocked) throw blocked;
    const settings = await loadSettings(this.db);
    const rules = readingRules(settings);
    const month = date.slice(0, 7);
    const offices = caller.officeIds === null ? null : [...caller.officeIds];

    // The books the reader holds that day (a handover dated later leaves them with this reader until then).
    const held = await booksHeldOn(this.db, caller.staffId, date, offices);
    const books = await this.db
      .selectFrom('reading_plan as p')
      .innerJoin('book as b', 'b.book_id', 'p.book_id')
      .select(['b.book_id', 'b.code', 'b.name', 'b.zone', 'b.office_id', 'p.period'])
      .where('p.planned_on', '=', date)
      .where('b.book_id', 'in', [...held, -1])
      .orderBy('b.code')
      .execute();
    const bookIds = books.map((b) => b.book_id);
    const officeFilter = offices === null ? sql`true` : sql`c.office_id = any(${offices}::bigint[])`;
    // The day's books, then meters whose last reading review rejected (read again on the next route).
    const { rows } = await sql<RouteMeterRow>`
      with due as (
        select m.account_id, m.meter_id, false as revisit, array_position(${bookIds}::bigint[], m.book_id) as book_order
        from meter m
        where m.book_id = any(${bookIds}::bigint[]) and m.state = 'in_service'
        union
        select distinct r.account_id, r.meter_id, true, 1000000
        from book b
        join reading r on r.book_id = b.book_id and r.status = 'rejected' and r.period >= ${addMonths(month, -2)}
        join meter m on m.account_id = r.account_id and m.meter_id = r.meter_id and m.book_id = b.book_id
                    and m.state = 'in_service'
        where b.book_id = any(${held}::bigint[])
          and not exists (select 1 from reading l where l.account_id = r.account_id and l.meter_id = r.meter_id
                            and l.period = r.period and l.status in ('accepted', 'review', 'conflict'))
        union
        -- Smart meters their register reads could not bill (registerBilling.ts): read by hand.
        select x.account_id, x.meter_id, true, 1000000
        from register_billing_missing x
        join reading_plan rp on rp.book_id = x.book_id and rp.planned_on = x.day
        join meter m on m.account_id = x.account_id and m.meter_id = x.meter_id and m.book_id = x.book_id
                    and m.state = 'in_service'
        where x.book_id = any(${held}::bigint[]) and x.day < ${date}::date
          and x.day >= ${date}::date - ${REVISIT_MISSING_DAYS}::int
          and not exists (select 1 from reading l where l.account_id = x.account_id and l.meter_id = x.meter_id
                            and l.period = rp.period and l.status in ('accepted', 'review', 'conflict'))
      ), one as (
        select distinct on (account_id, meter_id) * from due order by account_id, meter_id, revisit
      )
      select m.account_id, m.meter_id, m.book_id, m.route_seq, m.meter_no, m.dial_digits, m.initial_index,
             m.caliber_dn, m.mounting, c.office_id, c.state as customer_state, c.name as customer_name,
             c.customer_code, to_jsonb(a) as address, sp.meter_location, sp.meter_box_no,
             sp.usage_type_code as usage_type, one.revisit, one.book_order,
             (not one.revisit and ${reportingOn(sql`${date}::date`, settings['register.billingMaxAgeDays'])}) as remote
      from one
      join meter m on m.account_id = one.account_id and m.meter_id = one.meter_id
      join customer c on c.account_id = m.account_id
      join service_point sp on sp.account_id = m.account_id and sp.service_point_id = m.service_point_id
      left join address a on a.account_id = sp.account_id and a.address_id = sp.address_id
      where ${officeFilter}
        and c.state = any(${[...STATES_TO_READ]}::text[]) and c.connected_on < ${`${month}-01`}::date
      order by one.book_order, m.route_seq nulls last, m.account_id, m.meter_id`.execute(this.db);

    // The handheld checks each index as it is typed, against the meter as it stands on the day.
    const at = chinaTime(date, '12:00');
    const histories = await loadMeterHistories(
      this.db,
      rows.map((r) => ({ accountId: r.account_id, meterId: r.meter_id })),
      { from: at, to: at },
    );
    const meters: RouteMeter[] = rows.map((r) => {
      const history = histories.get(meterKey(r.account_id, r.meter_id))!;
      const state = meterStateAt(history, at, rules);
      return {
        accountId: r.account_id,
        meterId: r.meter_id,
        bookId: r.book_id,
        routeSeq: r.route_seq,
        meterNo: r.meter_no,
        customerName: r.customer_name,
        customerCode: r.customer_code,
        address: addressLine(r.address),
        meterLocation: r.meter_location,
        meterBoxNo: r.meter_box_no,
        usageType: r.usage_type,
        caliberDn: r.caliber_dn,
        mounting: r.mounting,
        dialDigits: r.dial_digits,
        previousIndex: showIndex(state.previousIndex)!,
        lastReadings: history.readings.slice(0, 3).map((h) => ({
          readAt: h.readAt.toISOString(),
          index: showIndex(h.indexValue),
          consumptionM3: showIndex(h.consumptionM3),
          kind: h.kind,
        })),
        expectedM3: state.expected ? showIndex(state.expected.consumptionM3) : null,
        estimatesInARow: state.estimatesInARow,
        visitForced: state.visitForced,
        revisit: r.revisit,
        remote: r.remote,
      };
    });

    const anomalies = await loadAnomalyCodes(this.db, { activeOnly: true });
    // The day cycle: what this reader took out for this day, from which device.
    await this.db
      .insertInto('route_download')
      .values({ staff_id: caller.staffId, work_date: date, device_id: deviceId, book_ids: bookIds })
      .onConflict((oc) =>
        oc.columns(['staff_id', 'work_date', 'device_id']).doUpdateSet({
          book_ids: bookIds,
          downloaded_at: new Date(),
        }),
      )
      .execute();
    return {
      workDate: date,
      books: books.map((b) => ({
        bookId: b.book_id,
        code: b.code,
        name: b.name,
        zone: b.zone,
        period: b.period,
      })),
      meters,
      anomalyCodes: [...anomalies.values()].map((a) => ({
        code: a.code,
        nameZh: a.nameZh,
        nameEn: a.nameEn,
        department: a.department,
        preventsReading: a.preventsReading,
        meterFault: a.meterFault,
      })),
      thresholds: {
        ...rules.thresholds,
        maxConsecutiveEstimates: rules.maxConsecutiveEstimates,
        faultEscalationDays: rules.faultEscalationDays,
        dayStart: rules.dayStart,
        uploadBy: rules.uploadBy,
      },
    };
  }

  async upload(ctx: RequestContext, body: UploadBody) {
    const caller = requireCaller(ctx);
    const settings = await loadSettings(this.db);
    const now = new Date();
    const early: IngestResult[] = [];
    const candidates: Candidate[] = [];
    for (const [ref, r] of body.readings.entries()) {
      const problem = checkFormat(r, now);
      if (problem) {
        early.push({ ref, clientId: r.clientId, outcome: 'rejected', flags: [], error: problem });
        continue;
      }
      const photo = parseImage(r.photo, 'photo');
      const signature = parseImage(r.signature, 'signature');
      if ('error' in photo || 'error' in signature) {
        const error = 'error' in photo ? photo.error : (signature as { error: RowError }).error;
        early.push({ ref, clientId: r.clientId, outcome: 'rejected', flags: [], error });
        continue;
      }
      candidates.push({
        ref,
        clientId: r.clientId,
        accountId: r.accountId,
        meterId: r.meterId,
        readAt: parseReadAt(r.readAt)!,
        index: r.index === null ? null : String(r.index).trim(),
        anomalyCodes: [...new Set(r.anomalyCodes)],
        note: r.note,
        latitude: r.latitude ?? null,
        longitude: r.longitude ?? null,
        accuracyM: r.accuracyM === null || r.accuracyM === undefined ? null : Math.round(r.accuracyM),
        signerName: r.signerName ?? '',
        photo: photo.image,
        signature: signature.image,
      });
    }

    const results = await this.db.transaction().execute(async (trx) => {
      const anomalies = await loadAnomalyCodes(trx, { activeOnly: true });
      const ingested = await ingestReadings(trx, candidates, {
        source: 'handheld',
        readerId: caller.staffId,
        deviceId: body.deviceId,
        officeIds: caller.officeIds,
        rules: readingRules(settings),
        anomalies,
        now,
        dataDir: this.dataDir,
        lockMeters: true,
      });
      // Accepted readings are billed on the spot, in this transaction (DOMAIN.md §4: the bill is made on
      // the day of reading); those in review wait for the analyst's decision.
      await billAcceptedReadings(
        trx,
        ctx,
        ingested.flatMap((r) =>
          r.stored?.status === 'accepted' && r.accountId !== undefined && r.readingId !== undefined
            ? [{ accountId: r.accountId, readingId: r.readingId }]
            : [],
        ),
      );
      const all = [...early, ...ingested].sort((a, b) => a.ref - b.ref);
      await auditUpload(trx, ctx, body.deviceId, all);
      return all;
    });
    return { results: results.map((r) => toAnswer(r, ctx.lang)) };
  }
}

export interface UploadBody {
  deviceId: string;
  readings: {
    clientId: string;
    accountId: number;
    meterId: number;
    index: string | number | null;
    readAt: string;
    anomalyCodes: string[];
    note: string;
    latitude?: number | null;
    longitude?: number | null;
    accuracyM?: number | null;
    photo?: string | null;
    signature?: string | null;
    signerName?: string;
  }[];
}

/** The row-level format checks of an uploaded reading (its index and read time). */
function checkFormat(r: UploadBody['readings'][number], now: Date): RowError | null {
  const index = r.index === null ? null : String(r.index).trim();
  if (index !== null && !INDEX_PATTERN.test(index)) return { code: 'INDEX_FORMAT', data: {} };
  const readAt = parseReadAt(r.readAt);
  if (!readAt) return { code: 'READ_AT_FORMAT', data: {} };
  if (readAt.getTime() < now.getTime() - MAX_READ_AGE_DAYS * 86_400_000)
    return { code: 'READ_AT_TOO_OLD', data: { days: MAX_READ_AGE_DAYS } };
  return null;
}

function toAnswer(r: IngestResult, lang: Lang) {
  return {
    clientId: r.clientId,
    outcome: r.outcome,
    ...(r.readingId !== undefined ? { readingId: r.readingId } : {}),
    flags: r.flags,
    ...(r.error
      ? { error: { code: r.error.code, message: rowMessage(r.error, lang), messages: rowMessages(r.error) } }
      : {}),
  };
}

/** One audit entry per stored reading (on the customer's trail), and one for the request. */
async function auditUpload(
  trx: Parameters<typeof ingestReadings>[0],
  ctx: RequestContext,
  deviceId: string,
  results: IngestResult[],
): Promise<void> {
  const caller = requireCaller(ctx);
  const entries = results
    .filter((r) => r.stored)
    .map((r) => ({
      staff_id: caller.staffId,
      office_id: r.officeId ?? null,
      account_id: r.accountId ?? null,
      entity_type: 'reading',
      entity_id: `${r.accountId}/${r.readingId}`,
      action: 'upload',
      before: null,
      after: JSON.stringify({
        clientId: r.clientId,
        deviceId,
        meterId: r.stored!.meterId,
        period: r.stored!.period,
        kind: r.stored!.kind,
        index: r.stored!.indexValue,
        consumptionM3: r.stored!.consumptionM3,
        status: r.stored!.status,
        flags: r.flags,
      }),
      request_id: ctx.requestId,
      ip: ctx.ip,
    }));
  entries.push({
    staff_id: caller.staffId,
    office_id: caller.homeOfficeId,
    account_id: null,
    entity_type: 'reading_upload',
    entity_id: deviceId,
    action: 'upload',
    before: null,
    after: JSON.stringify({
      deviceId,
      counts: countOutcomes(results),
      rows: results.map((r) => ({
        clientId: r.clientId,
        outcome: r.outcome,
        accountId: r.accountId ?? null,
        readingId: r.readingId ?? null,
        error: r.error?.code ?? null,
      })),
    }),
    request_id: ctx.requestId,
    ip: ctx.ip,
  });
  await trx.insertInto('audit_log').values(entries).execute();
  ctx.audited += entries.length;
}

export function countOutcomes(results: { outcome: string }[]): Record<string, number> {
  const counts: Record<string, number> = { accepted: 0, review: 0, duplicate: 0, conflict: 0, rejected: 0 };
  for (const r of results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  return counts;
}
