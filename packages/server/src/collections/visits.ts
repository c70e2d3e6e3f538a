import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type Bilingual,
  type Lang,
  type SiteData,
  todayInChina,
  type VisitProblem,
  validateVisit,
} from '@meterline/domain';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import { type RequestContext, requireCaller } from '../platform/context.ts';
import { notFound } from '../platform/errors.ts';
import { parseImage } from '../readings/images.ts';
import type { Image } from '../readings/ingest.ts';
import { rowMessages } from '../readings/messages.ts';
import { addressLine } from '../readings/repository.ts';

/**
 * Visits of field collection (DOMAIN.md §6; docs/field-collection.md): the handheld downloads the
 * caller's tasks of the day and uploads the visits it recorded offline, idempotently by its own visit
 * id (clientVisitId): a retry, or the same queue sent again from a second phone, records nothing twice.
 * A different second visit for a task that has one is kept and flagged (conflict).
 */

/** Visits per upload request. */
export const MAX_UPLOAD_VISITS = 200;
/** Rows of the back office's visit list. */
export const MAX_VISIT_LIST = 1_000;
/** A visit time further back than this is refused (a phone whose clock is wrong). */
export const MAX_VISIT_AGE_DAYS = 62;

export interface UploadVisit {
  clientVisitId: string;
  accountId: number;
  taskId?: number | null;
  method: string;
  outcome: string;
  reason?: string;
  signerName?: string;
  promisedOn?: string | null;
  phoneCall?: { phone: string; result: string; note?: string } | null;
  site?: SiteData | null;
  visitedAt: string;
  latitude?: number | null;
  longitude?: number | null;
  accuracyM?: number | null;
  photo?: string | null;
  signature?: string | null;
}

export type VisitOutcomeAnswer = 'accepted' | 'duplicate' | 'conflict' | 'rejected';

export interface VisitAnswer {
  clientVisitId: string;
  result: VisitOutcomeAnswer;
  visitId?: number;
  error?: { code: string; message: string; fields?: { path: string; code: string; message: string }[] };
}

/** The caller's collection list for the day, with what the collector needs at the door. */
export async function downloadCollectionList(db: Kysely<DB>, ctx: RequestContext, date: string) {
  const caller = requireCaller(ctx);
  const offices = caller.officeIds;
  const tasks = await sql<{
    account_id: number;
    task_id: number;
    book_code: string | null;
    seq: number;
    kind: string;
    status: string;
    arrears_cycles: number;
    arrears_fen: string;
    customer_code: string;
    name: string;
    customer_kind: string;
    utility: string;
    address: Record<string, string | null> | null;
  }>`
    select t.account_id, t.task_id, b.code as book_code, t.seq, t.kind, t.status, t.arrears_cycles, t.arrears_fen,
           c.customer_code, c.name, c.kind as customer_kind, c.utility, to_jsonb(ad) as address
    from collection_task t
    join customer c on c.account_id = t.account_id
    left join book b on b.book_id = t.book_id
    left join lateral (select a.* from address a where a.account_id = t.account_id order by a.address_id limit 1) ad on true
    where t.assignee_id = ${caller.staffId} and t.task_date = ${date}::date and t.status in ('open', 'visited')
      and ${offices === null ? sql`true` : sql`t.office_id = any(${[...offices]}::bigint[])`}
    order by t.seq, t.account_id`.execute(db);
  const accountIds = tasks.rows.map((t) => Number(t.account_id));
  const [meters, phones, bills, visits] = await Promise.all([
    db
      .selectFrom('meter as m')
      .leftJoin('service_point as sp', (j) =>
        j.onRef('sp.account_id', '=', 'm.account_id').onRef('sp.service_point_id', '=', 'm.service_point_id'),
      )
      .select(['m.account_id', 'm.meter_no', 'm.caliber_dn', 'sp.meter_location', 'sp.usage_type_code'])
      .where('m.account_id', 'in', [...accountIds, -1])
      .where('m.state', '=', 'in_service')
      .orderBy('m.meter_id')
      .execute(),
    db
      .selectFrom('contact')
      .select(['account_id', 'name', 'phone', 'relation', 'is_primary'])
      .where('account_id', 'in', [...accountIds, -1])
      .orderBy('is_primary', 'desc')
      .orderBy('contact_id')
      .execute(),
    db
      .selectFrom('bill')
      .select(['account_id', 'bill_id', 'bill_no', 'period', 'amount_fen', 'paid_fen', 'due_on'])
      .where('account_id', 'in', [...accountIds, -1])
      .where('status', '=', 'open')
      .whereRef('paid_fen', '<', 'amount_fen')
      .where('due_on', '<', date)
      .orderBy('period')
      .execute(),
    sql<{
      account_id: number;
      visited_at: Date;
      outcome: string;
      method: string;
      reason: string;
      staff: string;
    }>`
      select v.account_id, v.visited_at, v.outcome, v.method, v.reason, s.full_name as staff
      from unnest(${accountIds}::bigint[]) as a(account_id)
      cross join lateral (select * from collection_visit v where v.account_id = a.account_id
                          order by v.visited_at desc limit 3) v
      join staff s on s.staff_id = v.staff_id`.execute(db),
  ]);
  const group = <T extends { account_id: number }>(rows: T[]) => {
    const map = new Map<number, T[]>();
    for (const r of rows) {
      const k = Number(r.account_id);
      map.set(k, [...(map.get(k) ?? []), r]);
    }
    return map;
  };
  const meterBy = group(meters);
  const phoneBy = group(phones);
  const billBy = group(bills);
  const visitBy = group(visits.rows);
  return {
    workDate: date,
    customers: tasks.rows.map((t) => {
      const accountId = Number(t.account_id);
      return {
        accountId,
        taskId: Number(t.task_id),
        seq: t.seq,
        kind: t.kind,
        status: t.status,
        bookCode: t.book_code,
        customerCode: t.customer_code,
        customerName: t.name,
        customerKind: t.customer_kind,
        utility: t.utility,
        address: addressLine(t.address),
        arrearsCycles: t.arrears_cycles,
        arrearsFen: Number(t.arrears_fen),
        meters: (meterBy.get(accountId) ?? []).map((m) => ({
          meterNo: m.meter_no,
          caliberDn: m.caliber_dn,
          location: m.meter_location ?? '',
          usageType: m.usage_type_code ?? '',
        })),
        phones: (phoneBy.get(accountId) ?? []).map((p) => ({
          name: p.name,
          phone: p.phone,
          relation: p.relation,
        })),
        bills: (billBy.get(accountId) ?? []).map((b) => ({
          billId: b.bill_id,
          billNo: b.bill_no,
          period: b.period,
          amountFen: Number(b.amount_fen),
          paidFen: Number(b.paid_fen),
          owedFen: Number(b.amount_fen) - Number(b.paid_fen),
          dueOn: b.due_on,
        })),
        lastVisits: (visitBy.get(accountId) ?? []).map((v) => ({
          visitedAt: new Date(v.visited_at).toISOString(),
          outcome: v.outcome,
          method: v.method,
          reason: v.reason,
          staff: v.staff,
        })),
      };
    }),
  };
}

const REJECTIONS: Record<string, Bilingual> = {
  NOT_FOUND: { 'zh-CN': '找不到该客户', en: 'No such customer' },
  TASK_NOT_FOUND: { 'zh-CN': '找不到该催缴任务', en: 'No such collection task for this customer' },
  VISITED_AT_FORMAT: { 'zh-CN': '走访时间格式不正确', en: 'The visit time is not valid' },
  VISITED_AT_OUT_OF_RANGE: {
    'zh-CN': '走访时间不在允许范围内（不晚于现在，不早于 62 天前）',
    en: 'The visit time is out of range (not in the future, not more than 62 days ago)',
  },
  VISIT_INVALID: {
    'zh-CN': '走访记录有误，请检查标出的字段',
    en: 'The visit is not valid; see the marked fields',
  },
};

function reject(clientVisitId: string, code: string, lang: Lang, problems: VisitProblem[] = []): VisitAnswer {
  const message = REJECTIONS[code]?.[lang] ?? code;
  return {
    clientVisitId,
    result: 'rejected',
    error: {
      code,
      message,
      ...(problems.length
        ? { fields: problems.map((p) => ({ path: p.path, code: p.code, message: p.messages[lang] })) }
        : {}),
    },
  };
}

/** Stores visits uploaded by the handheld: each on its own, idempotent by (account, clientVisitId). */
export async function uploadVisits(
  db: Kysely<DB>,
  ctx: RequestContext,
  dataDir: string,
  body: { deviceId: string; visits: UploadVisit[] },
): Promise<{ results: VisitAnswer[] }> {
  const caller = requireCaller(ctx);
  const results: VisitAnswer[] = [];
  const now = Date.now();
  for (const v of body.visits) {
    const lang = ctx.lang;
    const customer = await db
      .selectFrom('customer')
      .select(['office_id'])
      .where('account_id', '=', v.accountId)
      .executeTakeFirst();
    if (!customer || (caller.officeIds !== null && !caller.officeIds.includes(customer.office_id))) {
      results.push(reject(v.clientVisitId, 'NOT_FOUND', lang));
      continue;
    }
    const visitedAt = new Date(v.visitedAt);
    if (Number.isNaN(visitedAt.getTime())) {
      results.push(reject(v.clientVisitId, 'VISITED_AT_FORMAT', lang));
      continue;
    }
    if (
      visitedAt.getTime() > now + 10 * 60_000 ||
      visitedAt.getTime() < now - MAX_VISIT_AGE_DAYS * 86_400_000
    ) {
      results.push(reject(v.clientVisitId, 'VISITED_AT_OUT_OF_RANGE', lang));
      continue;
    }
    // A retry answers what the first upload stored, whatever else changed since.
    const stored = await db
      .selectFrom('collection_visit')
      .select(['visit_id'])
      .where('account_id', '=', v.accountId)
      .where('client_visit_id', '=', v.clientVisitId)
      .executeTakeFirst();
    if (stored) {
      results.push({ clientVisitId: v.clientVisitId, result: 'duplicate', visitId: stored.visit_id });
      continue;
    }
    const phones = await db
      .selectFrom('contact')
      .select('phone')
      .where('account_id', '=', v.accountId)
      .where('phone', '<>', '')
      .execute();
    const photo = parseImage(v.photo, 'photo');
    const signature = parseImage(v.signature, 'signature');
    const imageProblems: VisitProblem[] = [];
    for (const [field, parsed] of [
      ['photo', photo],
      ['signature', signature],
    ] as const) {
      if ('error' in parsed) {
        const m = rowMessages(parsed.error);
        imageProblems.push({ path: field, code: parsed.error.code as VisitProblem['code'], messages: m });
      }
    }
    const problems = [
      ...imageProblems,
      ...validateVisit({
        method: v.method,
        outcome: v.outcome,
        reason: v.reason ?? '',
        hasPhoto: 'image' in photo && photo.image !== null,
        hasSignature: 'image' in signature && signature.image !== null,
        signerName: v.signerName ?? '',
        phoneKnown: phones.length > 0,
        phoneCall: v.phoneCall
          ? { phone: v.phoneCall.phone, result: v.phoneCall.result, note: v.phoneCall.note ?? '' }
          : null,
        promisedOn: v.promisedOn ?? null,
        site: v.site ?? null,
      }).filter((p) => !imageProblems.some((i) => i.path === p.path)),
    ];
    if (problems.length) {
      results.push(reject(v.clientVisitId, 'VISIT_INVALID', lang, problems));
      continue;
    }
    const answer = await db.transaction().execute(async (trx): Promise<VisitAnswer> => {
      let taskId: number | null = null;
      let conflict = false;
      if (v.taskId) {
        const task = await trx
          .selectFrom('collection_task')
          .select(['task_id', 'status'])
          .where('account_id', '=', v.accountId)
          .where('task_id', '=', v.taskId)
          .forUpdate()
          .executeTakeFirst();
        if (!task) return reject(v.clientVisitId, 'TASK_NOT_FOUND', lang);
        taskId = task.task_id;
        const other = await trx
          .selectFrom('collection_visit')
          .select('visit_id')
          .where('account_id', '=', v.accountId)
          .where('task_id', '=', taskId)
          .where('client_visit_id', '<>', v.clientVisitId)
          .executeTakeFirst();
        conflict = other !== undefined;
      }
      const inserted = await trx
        .insertInto('collection_visit')
        .values({
          account_id: v.accountId,
          task_id: taskId,
          office_id: customer.office_id,
          client_visit_id: v.clientVisitId,
          method: v.method,
          outcome: v.outcome,
          reason: v.reason ?? '',
          signer_name: v.signerName ?? '',
          promised_on: v.promisedOn ?? null,
          phone_call: v.phoneCall ? JSON.stringify({ ...v.phoneCall, note: v.phoneCall.note ?? '' }) : null,
          site: v.site ? JSON.stringify(v.site) : null,
          photo_path: null,
          signature_path: null,
          latitude: v.latitude ?? null,
          longitude: v.longitude ?? null,
          accuracy_m: v.accuracyM === null || v.accuracyM === undefined ? null : Math.round(v.accuracyM),
          visited_at: visitedAt,
          visited_on: todayInChina(visitedAt),
          device_id: body.deviceId,
          staff_id: caller.staffId,
          conflict,
        })
        .onConflict((oc) => oc.columns(['account_id', 'client_visit_id']).doNothing())
        .returning('visit_id')
        .executeTakeFirst();
      if (!inserted) {
        // A concurrent upload of the same visit got there first.
        const first = await trx
          .selectFrom('collection_visit')
          .select('visit_id')
          .where('account_id', '=', v.accountId)
          .where('client_visit_id', '=', v.clientVisitId)
          .executeTakeFirstOrThrow();
        return { clientVisitId: v.clientVisitId, result: 'duplicate', visitId: first.visit_id };
      }
      const visitId = inserted.visit_id;
      const paths: { photo_path?: string; signature_path?: string } = {};
      if ('image' in photo && photo.image)
        paths.photo_path = await saveVisitImage(dataDir, v.accountId, visitId, 'photo', photo.image);
      if ('image' in signature && signature.image)
        paths.signature_path = await saveVisitImage(
          dataDir,
          v.accountId,
          visitId,
          'signature',
          signature.image,
        );
      if (paths.photo_path || paths.signature_path)
        await trx
          .updateTable('collection_visit')
          .set(paths)
          .where('account_id', '=', v.accountId)
          .where('visit_id', '=', visitId)
          .execute();
      if (taskId !== null)
        await trx
          .updateTable('collection_task')
          .set({ status: 'visited' })
          .where('account_id', '=', v.accountId)
          .where('task_id', '=', taskId)
          .where('status', 'in', ['open', 'carried'])
          .execute();
      await audit(trx, ctx, {
        entityType: 'collection_visit',
        entityId: `${v.accountId}/${visitId}`,
        action: 'upload',
        accountId: v.accountId,
        officeId: customer.office_id,
        after: {
          clientVisitId: v.clientVisitId,
          deviceId: body.deviceId,
          taskId,
          method: v.method,
          outcome: v.outcome,
          reason: v.reason ?? '',
          conflict,
          photo: Boolean(paths.photo_path),
          signature: Boolean(paths.signature_path),
        },
      });
      return { clientVisitId: v.clientVisitId, result: conflict ? 'conflict' : 'accepted', visitId };
    });
    results.push(answer);
  }
  // One entry for the request, whatever it stored: who sent what from which device, and the answers.
  await audit(db, ctx, {
    entityType: 'collection_visit_upload',
    entityId: body.deviceId,
    action: 'upload',
    after: {
      deviceId: body.deviceId,
      results: results.map((r) => ({
        clientVisitId: r.clientVisitId,
        result: r.result,
        visitId: r.visitId ?? null,
        error: r.error?.code ?? null,
      })),
    },
  });
  return { results };
}

/** Stores a photo or signature as collection-visits/<accountId>/<visitId>-photo.jpg under the data dir. */
async function saveVisitImage(
  dataDir: string,
  accountId: number,
  visitId: number,
  what: 'photo' | 'signature',
  image: Image,
): Promise<string> {
  const relative = path.join('collection-visits', String(accountId), `${visitId}-${what}.${image.ext}`);
  await mkdir(path.join(dataDir, 'collection-visits', String(accountId)), { recursive: true });
  await writeFile(path.join(dataDir, relative), image.bytes);
  return relative;
}

/** The visits of the caller's offices, newest first, with filters. */
export async function listVisits(
  db: Kysely<DB>,
  ctx: RequestContext,
  q: {
    officeId?: number;
    from?: string;
    to?: string;
    outcome?: string;
    staffId?: number;
    accountId?: number;
  },
) {
  const caller = requireCaller(ctx);
  const offices = caller.officeIds;
  const to = q.to ?? todayInChina();
  const from = q.from ?? to.slice(0, 8).concat('01');
  const { rows } = await sql<{
    account_id: number;
    visit_id: number;
    task_id: number | null;
    office_id: number;
    client_visit_id: string;
    method: string;
    outcome: string;
    reason: string;
    signer_name: string;
    promised_on: string | null;
    phone_call: unknown;
    site: unknown;
    photo_path: string | null;
    signature_path: string | null;
    latitude: number | null;
    longitude: number | null;
    visited_at: Date;
    device_id: string;
    staff_id: number;
    staff_name: string;
    conflict: boolean;
    customer_code: string;
    name: string;
  }>`
    select v.account_id, v.visit_id, v.task_id, v.office_id, v.client_visit_id, v.method, v.outcome, v.reason,
           v.signer_name, to_char(v.promised_on, 'YYYY-MM-DD') as promised_on, v.phone_call, v.site, v.photo_path,
           v.signature_path, v.latitude, v.longitude, v.visited_at, v.device_id, v.staff_id, s.full_name as staff_name,
           v.conflict, c.customer_code, c.name
    from collection_visit v
    join customer c on c.account_id = v.account_id
    join staff s on s.staff_id = v.staff_id
    where v.visited_on between ${from}::date and ${to}::date
      and ${offices === null ? sql`true` : sql`v.office_id = any(${[...offices]}::bigint[])`}
      and ${q.officeId !== undefined ? sql`v.office_id = ${q.officeId}` : sql`true`}
      and ${q.outcome !== undefined ? sql`v.outcome = ${q.outcome}` : sql`true`}
      and ${q.staffId !== undefined ? sql`v.staff_id = ${q.staffId}` : sql`true`}
      and ${q.accountId !== undefined ? sql`v.account_id = ${q.accountId}` : sql`true`}
    order by v.visited_at desc, v.account_id, v.visit_id
    limit ${MAX_VISIT_LIST}`.execute(db);
  return {
    from,
    to,
    items: rows.map((r) => ({
      accountId: Number(r.account_id),
      visitId: Number(r.visit_id),
      taskId: r.task_id === null ? null : Number(r.task_id),
      officeId: Number(r.office_id),
      clientVisitId: r.client_visit_id,
      method: r.method,
      outcome: r.outcome,
      reason: r.reason,
      signerName: r.signer_name,
      promisedOn: r.promised_on,
      phoneCall: r.phone_call,
      site: r.site,
      hasPhoto: r.photo_path !== null,
      hasSignature: r.signature_path !== null,
      latitude: r.latitude,
      longitude: r.longitude,
      visitedAt: new Date(r.visited_at).toISOString(),
      deviceId: r.device_id,
      staffId: Number(r.staff_id),
      staffName: r.staff_name,
      conflict: r.conflict,
      customerCode: r.customer_code,
      customerName: r.name,
    })),
  };
}

/** Where a visit's photo or signature is stored (relative to the data dir). */
export async function visitImagePath(
  db: Kysely<DB>,
  accountId: number,
  visitId: number,
  what: 'photo' | 'signature',
): Promise<string> {
  const row = await db
    .selectFrom('collection_visit')
    .select(['photo_path', 'signature_path'])
    .where('account_id', '=', accountId)
    .where('visit_id', '=', visitId)
    .executeTakeFirst();
  const relative = row ? (what === 'photo' ? row.photo_path : row.signature_path) : null;
  if (!relative) throw notFound(what, visitId);
  return relative;
}
