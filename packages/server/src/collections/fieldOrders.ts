import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type Bilingual,
  DomainError,
  type FieldOrderProblem,
  type Lang,
  type RecheckFinding,
  recheckOutcome,
  todayInChina,
  validateFieldOrderResult,
  validateRecheck,
} from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import { type Caller, type RequestContext, requireCaller } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import { parseImage } from '../readings/images.ts';
import type { Image } from '../readings/ingest.ts';
import { rowMessages } from '../readings/messages.ts';
import { officeCondition } from '../readings/service.ts';
import { lockCustomer } from './escalationData.ts';
import { listRechecks, type RecheckTask, recordRecheck } from './restore.ts';
import { listWorkOrders, recordWorkOrderResult, type WorkOrderView } from './shutoff.ts';

/**
 * Shut-off and restore work orders and self-reconnection re-checks on the handheld (DOMAIN.md §6;
 * docs/escalation.md "On the handheld"). Who executes them: the readers and collectors
 * (collection.field) of the customer's office — every open order of the office is on each of their
 * phones (orders are few and a restore is due within 24 hours: any of them may take it), those on
 * their own books first; a re-check goes to the reader or collector of the customer's book.
 *
 * Results are recorded offline and uploaded later, each with the phone's own id (clientResultId):
 * a retry, or the same queue sent from a second phone, is stored once. The result is applied by the
 * back office's own rules (recordWorkOrderResult, recordRecheck) in the same transaction; a result
 * for an order closed in the meantime (done by someone else, cancelled by a payment, restored) is
 * kept and flagged as a conflict, never dropped.
 */

/** Results per upload request (each may carry a photo). */
export const MAX_UPLOAD_ORDER_RESULTS = 50;
/** A time on site further back than this is refused (a phone whose clock is wrong). */
export const MAX_RESULT_AGE_DAYS = 62;
/** Rows of the back office's list of field results. */
export const MAX_FIELD_RESULT_LIST = 1_000;

export interface FieldOrder extends WorkOrderView {
  /** The order's customer is on one of the caller's books. */
  mine: boolean;
  bookCode: string | null;
}

export interface FieldOrdersDownload {
  today: string;
  downloadedAt: string;
  orders: FieldOrder[];
  rechecks: RecheckTask[];
}

/** The caller's open shut-off and restore orders (their offices) and due re-checks (their books). */
export async function downloadFieldOrders(db: Kysely<DB>, ctx: RequestContext): Promise<FieldOrdersDownload> {
  const caller = requireCaller(ctx);
  const [orders, rechecks, books] = await Promise.all([
    listWorkOrders(db, caller, { status: 'dispatched' }),
    listRechecks(db, caller, { dueOnly: true }),
    sql<{ account_id: string; book_code: string | null; mine: boolean }>`
      select distinct on (o.account_id) o.account_id::text, b.code as book_code,
             coalesce(b.reader_id = ${caller.staffId} or b.collector_id = ${caller.staffId}, false) as mine
        from collection_work_order o
        left join meter m on m.account_id = o.account_id and m.meter_id = o.meter_id
        left join book b on b.book_id = m.book_id
       where o.status = 'dispatched' and ${officeCondition(caller, sql`o.office_id`)}
       order by o.account_id`.execute(db),
  ]);
  const bookOf = new Map(books.rows.map((b) => [Number(b.account_id), b]));
  const myBooks = new Set(
    (
      await db
        .selectFrom('book')
        .select('book_id')
        .where((w) => w.or([w('reader_id', '=', caller.staffId), w('collector_id', '=', caller.staffId)]))
        .execute()
    ).map((b) => Number(b.book_id)),
  );
  const fieldOrders = orders
    .map(
      (o): FieldOrder => ({
        ...o,
        mine: bookOf.get(o.accountId)?.mine ?? false,
        bookCode: bookOf.get(o.accountId)?.book_code ?? null,
      }),
    )
    // Mine first; then restores by deadline, then shut-offs oldest first.
    .sort(
      (a, b) =>
        Number(b.mine) - Number(a.mine) ||
        (a.dueAt ?? '9').localeCompare(b.dueAt ?? '9') ||
        a.dispatchedAt.localeCompare(b.dispatchedAt) ||
        a.orderId - b.orderId,
    );
  return {
    today: todayInChina(),
    downloadedAt: new Date().toISOString(),
    orders: fieldOrders,
    rechecks: rechecks.filter((r) => r.bookId !== null && myBooks.has(r.bookId)),
  };
}

export interface UploadOrderResult {
  clientResultId: string;
  kind: 'order' | 'recheck';
  accountId: number;
  orderId: number;
  /** order: done | mismatch | obstructed; recheck: still_off | meter_removed | reconnected. */
  outcome: string;
  action?: string | null;
  confirmedMeterNo?: string;
  note?: string;
  recordedAt: string;
  latitude?: number | null;
  longitude?: number | null;
  accuracyM?: number | null;
  photo?: string | null;
}

export interface OrderResultAnswer {
  clientResultId: string;
  result: 'accepted' | 'duplicate' | 'conflict' | 'rejected';
  resultId?: number;
  /** duplicate: whether the first upload was kept as a conflict. */
  conflict?: boolean;
  /** The order's status after the result (accepted), or when the conflict was found. */
  orderStatus?: string;
  error?: { code: string; message: string; fields?: { path: string; code: string; message: string }[] };
}

const REJECTIONS: Record<string, Bilingual> = {
  NOT_FOUND: { 'zh-CN': '找不到该客户', en: 'No such customer' },
  ORDER_NOT_FOUND: { 'zh-CN': '找不到该工单', en: 'No such work order for this customer' },
  RECORDED_AT_FORMAT: { 'zh-CN': '执行时间格式不正确', en: 'The time on site is not valid' },
  RECORDED_AT_OUT_OF_RANGE: {
    'zh-CN': '执行时间不在允许范围内（不晚于现在，不早于 62 天前）',
    en: 'The time on site is out of range (not in the future, not more than 62 days ago)',
  },
  RESULT_INVALID: {
    'zh-CN': '执行结果有误，请检查标出的字段',
    en: 'The result is not valid; see the marked fields',
  },
};

const CONFLICT_TEXT: Record<string, string> = {
  closed: '工单已办结或已取消',
  restored: '用户已复水（或未停水），无需复查',
};

function reject(
  clientResultId: string,
  code: string,
  lang: Lang,
  problems: { path: string; code: string; messages: Bilingual }[] = [],
): OrderResultAnswer {
  return {
    clientResultId,
    result: 'rejected',
    error: {
      code,
      message: REJECTIONS[code]?.[lang] ?? code,
      ...(problems.length
        ? { fields: problems.map((p) => ({ path: p.path, code: p.code, message: p.messages[lang] })) }
        : {}),
    },
  };
}

/** Stores the results uploaded by the handheld, each on its own, idempotent by (account, clientResultId). */
export async function uploadOrderResults(
  db: Kysely<DB>,
  ctx: RequestContext,
  dataDir: string,
  body: { deviceId: string; results: UploadOrderResult[] },
): Promise<{ results: OrderResultAnswer[] }> {
  const caller = requireCaller(ctx);
  const lang = ctx.lang;
  const answers: OrderResultAnswer[] = [];
  for (const r of body.results)
    answers.push(await uploadOne(db, ctx, caller, lang, dataDir, body.deviceId, r));
  // One entry for the request, whatever it stored: who sent what from which device, and the answers.
  await audit(db, ctx, {
    entityType: 'field_order_upload',
    entityId: body.deviceId,
    action: 'upload',
    after: {
      deviceId: body.deviceId,
      results: answers.map((a) => ({
        clientResultId: a.clientResultId,
        result: a.result,
        resultId: a.resultId ?? null,
        error: a.error?.code ?? null,
      })),
    },
  });
  return { results: answers };
}

async function uploadOne(
  db: Kysely<DB>,
  ctx: RequestContext,
  caller: Caller,
  lang: Lang,
  dataDir: string,
  deviceId: string,
  r: UploadOrderResult,
): Promise<OrderResultAnswer> {
  const customer = await db
    .selectFrom('customer')
    .select('office_id')
    .where('account_id', '=', r.accountId)
    .executeTakeFirst();
  if (!customer || (caller.officeIds !== null && !caller.officeIds.includes(customer.office_id)))
    return reject(r.clientResultId, 'NOT_FOUND', lang);
  const recordedAt = new Date(r.recordedAt);
  if (Number.isNaN(recordedAt.getTime())) return reject(r.clientResultId, 'RECORDED_AT_FORMAT', lang);
  const now = Date.now();
  if (
    recordedAt.getTime() > now + 10 * 60_000 ||
    recordedAt.getTime() < now - MAX_RESULT_AGE_DAYS * 86_400_000
  )
    return reject(r.clientResultId, 'RECORDED_AT_OUT_OF_RANGE', lang);
  // A retry answers what the first upload stored, whatever happened to the order since.
  const stored = await storedResult(db, r.accountId, r.clientResultId);
  if (stored) return stored;
  const order = await db
    .selectFrom('collection_work_order')
    .select(['kind', 'meter_no'])
    .where('account_id', '=', r.accountId)
    .where('order_id', '=', r.orderId)
    .executeTakeFirst();
  if (!order || (r.kind === 'recheck' && order.kind !== 'shutoff'))
    return reject(r.clientResultId, 'ORDER_NOT_FOUND', lang);
  const note = r.note?.trim() ?? '';
  const photo = parseImage(r.photo, 'photo');
  const problems: { path: string; code: string; messages: Bilingual }[] = [];
  if ('error' in photo)
    problems.push({ path: 'photo', code: photo.error.code, messages: rowMessages(photo.error) });
  const ruleProblems: FieldOrderProblem[] =
    r.kind === 'order'
      ? validateFieldOrderResult({
          kind: order.kind,
          outcome: r.outcome,
          action: r.action ?? null,
          confirmedMeterNo: r.confirmedMeterNo ?? '',
          expectedMeterNo: order.meter_no,
          note,
        })
      : validateRecheck({ finding: r.outcome, note });
  problems.push(...ruleProblems);
  if (problems.length) return reject(r.clientResultId, 'RESULT_INVALID', lang, problems);

  try {
    return await db.transaction().execute(async (trx): Promise<OrderResultAnswer> => {
      // Locked in the order recordWorkOrderResult locks them: the customer, then the order.
      await lockCustomer(trx, r.accountId);
      const o = await trx
        .selectFrom('collection_work_order')
        .select(['status', 'office_id', 'order_no'])
        .where('account_id', '=', r.accountId)
        .where('order_id', '=', r.orderId)
        .forUpdate()
        .executeTakeFirstOrThrow();
      let conflict: string | null = null;
      if (r.kind === 'order' && o.status !== 'dispatched') conflict = 'closed';
      if (r.kind === 'recheck') {
        const restored = await trx
          .selectFrom('collection_work_order')
          .select('order_id')
          .where('account_id', '=', r.accountId)
          .where('kind', '=', 'restore')
          .where('restores_order_id', '=', r.orderId)
          .executeTakeFirst();
        if (o.status !== 'done' || restored) conflict = 'restored';
      }
      const inserted = await trx
        .insertInto('field_order_result')
        .values({
          account_id: r.accountId,
          client_result_id: r.clientResultId,
          office_id: customer.office_id,
          kind: r.kind,
          order_id: r.orderId,
          outcome: r.outcome,
          action: r.kind === 'order' && r.outcome === 'done' ? (r.action ?? null) : null,
          confirmed_meter_no: r.confirmedMeterNo?.trim() ?? '',
          note,
          status: conflict ? 'conflict' : 'applied',
          conflict_reason: conflict ? CONFLICT_TEXT[conflict]! : '',
          photo_path: null,
          latitude: r.latitude ?? null,
          longitude: r.longitude ?? null,
          accuracy_m: r.accuracyM === null || r.accuracyM === undefined ? null : Math.round(r.accuracyM),
          recorded_at: recordedAt,
          device_id: deviceId,
          staff_id: caller.staffId,
        })
        .onConflict((oc) => oc.columns(['account_id', 'client_result_id']).doNothing())
        .returning('result_id')
        .executeTakeFirst();
      // A concurrent upload of the same result (a second phone) got there first.
      if (!inserted) return (await storedResult(trx, r.accountId, r.clientResultId))!;
      const resultId = Number(inserted.result_id);
      let orderStatus: string = o.status;
      if (!conflict && r.kind === 'order') {
        const view = await recordWorkOrderResult(trx, ctx, r.accountId, r.orderId, {
          outcome: r.outcome as 'done' | 'mismatch' | 'obstructed',
          action: (r.action ?? undefined) as 'valve_closed' | 'meter_removed' | undefined,
          confirmedMeterNo: r.confirmedMeterNo ?? '',
          note,
        });
        orderStatus = view.status;
        // The order was carried out when the worker was there, not when the phone found a network
        // (never before it was dispatched: a phone's clock may be wrong).
        await trx
          .updateTable('collection_work_order')
          .set({ completed_at: sql<Date>`greatest(${recordedAt}::timestamptz, dispatched_at)` })
          .where('account_id', '=', r.accountId)
          .where('order_id', '=', r.orderId)
          .execute();
      } else if (!conflict) {
        const finding = r.outcome as RecheckFinding;
        await recordRecheck(trx, ctx, r.accountId, {
          outcome: recheckOutcome(finding),
          note: finding === 'meter_removed' ? ['表已拆除', note].filter(Boolean).join('；') : note,
        });
      }
      if ('image' in photo && photo.image) {
        const photoPath = await saveResultPhoto(dataDir, r.accountId, resultId, photo.image);
        await trx
          .updateTable('field_order_result')
          .set({ photo_path: photoPath })
          .where('account_id', '=', r.accountId)
          .where('result_id', '=', resultId)
          .execute();
      }
      await audit(trx, ctx, {
        entityType: 'field_order_result',
        entityId: `${r.accountId}/${resultId}`,
        action: 'upload',
        accountId: r.accountId,
        officeId: customer.office_id,
        after: {
          clientResultId: r.clientResultId,
          deviceId,
          kind: r.kind,
          order: o.order_no,
          outcome: r.outcome,
          recordedAt: recordedAt.toISOString(),
          conflict,
          photo: 'image' in photo && photo.image !== null,
        },
      });
      return {
        clientResultId: r.clientResultId,
        result: conflict ? 'conflict' : 'accepted',
        resultId,
        conflict: conflict !== null,
        orderStatus,
      };
    });
  } catch (e) {
    // The back office's rules refused it (rolled back whole): the phone keeps it, with the reason.
    if (!(e instanceof DomainError)) throw e;
    return {
      clientResultId: r.clientResultId,
      result: 'rejected',
      error: {
        code: e.code,
        message: e.messageIn(lang),
        ...(e.fields.length ? { fields: e.fieldErrorsIn(lang) } : {}),
      },
    };
  }
}

async function storedResult(
  db: Kysely<DB>,
  accountId: number,
  clientResultId: string,
): Promise<OrderResultAnswer | null> {
  const row = await db
    .selectFrom('field_order_result as f')
    .innerJoin('collection_work_order as o', (j) =>
      j.onRef('o.account_id', '=', 'f.account_id').onRef('o.order_id', '=', 'f.order_id'),
    )
    .select(['f.result_id', 'f.status', 'o.status as order_status'])
    .where('f.account_id', '=', accountId)
    .where('f.client_result_id', '=', clientResultId)
    .executeTakeFirst();
  if (!row) return null;
  return {
    clientResultId,
    result: 'duplicate',
    resultId: Number(row.result_id),
    conflict: row.status === 'conflict',
    orderStatus: row.order_status,
  };
}

/** Stores a photo as field-orders/<accountId>/<resultId>-photo.jpg under the data dir. */
async function saveResultPhoto(dataDir: string, accountId: number, resultId: number, image: Image) {
  const relative = path.join('field-orders', String(accountId), `${resultId}-photo.${image.ext}`);
  await mkdir(path.join(dataDir, 'field-orders', String(accountId)), { recursive: true });
  await writeFile(path.join(dataDir, relative), image.bytes);
  return relative;
}

export interface FieldResultView {
  accountId: number;
  resultId: number;
  officeId: number;
  kind: 'order' | 'recheck';
  orderId: number;
  orderNo: string;
  customerCode: string;
  customerName: string;
  outcome: string;
  action: string | null;
  confirmedMeterNo: string;
  note: string;
  status: 'applied' | 'conflict';
  conflictReason: string;
  hasPhoto: boolean;
  latitude: number | null;
  longitude: number | null;
  recordedAt: string;
  receivedAt: string;
  deviceId: string;
  staffName: string;
}

/** Results uploaded from the handheld in the caller's offices, newest first (conflicts: flagged). */
export async function listFieldResults(
  db: Kysely<DB>,
  caller: Caller,
  q: { officeId?: number; accountId?: number; orderId?: number; conflictOnly?: boolean },
): Promise<FieldResultView[]> {
  const parts = [officeCondition(caller, sql`f.office_id`, q.officeId)];
  if (q.accountId !== undefined) parts.push(sql`f.account_id = ${q.accountId}`);
  if (q.orderId !== undefined) parts.push(sql`f.order_id = ${q.orderId}`);
  if (q.conflictOnly) parts.push(sql`f.status = 'conflict'`);
  const { rows } = await sql<{
    account_id: string;
    result_id: string;
    office_id: string;
    kind: 'order' | 'recheck';
    order_id: string;
    order_no: string;
    customer_code: string;
    customer_name: string;
    outcome: string;
    action: string | null;
    confirmed_meter_no: string;
    note: string;
    status: 'applied' | 'conflict';
    conflict_reason: string;
    photo_path: string | null;
    latitude: number | null;
    longitude: number | null;
    recorded_at: Date;
    received_at: Date;
    device_id: string;
    staff_name: string;
  }>`
    select f.account_id::text, f.result_id::text, f.office_id::text, f.kind, f.order_id::text, o.order_no,
           c.customer_code, c.name as customer_name, f.outcome, f.action, f.confirmed_meter_no, f.note, f.status,
           f.conflict_reason, f.photo_path, f.latitude, f.longitude, f.recorded_at, f.received_at, f.device_id,
           s.full_name as staff_name
      from field_order_result f
      join collection_work_order o on o.account_id = f.account_id and o.order_id = f.order_id
      join customer c on c.account_id = f.account_id
      join staff s on s.staff_id = f.staff_id
     where ${sql.join(parts, sql` and `)}
     order by f.received_at desc, f.result_id desc
     limit ${MAX_FIELD_RESULT_LIST}`.execute(db);
  return rows.map((r) => ({
    accountId: Number(r.account_id),
    resultId: Number(r.result_id),
    officeId: Number(r.office_id),
    kind: r.kind,
    orderId: Number(r.order_id),
    orderNo: r.order_no,
    customerCode: r.customer_code,
    customerName: r.customer_name,
    outcome: r.outcome,
    action: r.action,
    confirmedMeterNo: r.confirmed_meter_no,
    note: r.note,
    status: r.status,
    conflictReason: r.conflict_reason,
    hasPhoto: r.photo_path !== null,
    latitude: r.latitude,
    longitude: r.longitude,
    recordedAt: r.recorded_at.toISOString(),
    receivedAt: r.received_at.toISOString(),
    deviceId: r.device_id,
    staffName: r.staff_name,
  }));
}

/** Where a field result's photo is stored (relative to the data dir). */
export async function fieldResultPhotoPath(
  db: Kysely<DB>,
  accountId: number,
  resultId: number,
): Promise<string> {
  const row = await db
    .selectFrom('field_order_result')
    .select('photo_path')
    .where('account_id', '=', accountId)
    .where('result_id', '=', resultId)
    .executeTakeFirst();
  if (!row?.photo_path) throw notFound('photo', resultId);
  return row.photo_path;
}
