import { createHash, randomUUID } from 'node:crypto';
import { DomainError, isPermission, type Permission } from '@meterline/domain';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Kysely, sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Caller, RequestContext } from './context.ts';
import { forbidden, notFound, outOfScope } from './errors.ts';
import { requestLang } from './i18n.ts';
import { setting } from './settings.ts';

export const SESSION_COOKIE = 'ml_session';

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

const orgWideOnly = () =>
  new DomainError(
    'FORBIDDEN',
    {},
    {
      'zh-CN': '此项为全公司设置，只有全公司范围的角色可以修改',
      en: 'This is organisation-wide; only organisation-wide roles may change it',
    },
  );

const unauthenticated = () =>
  new DomainError('UNAUTHENTICATED', {}, { 'zh-CN': '请先登录', en: 'Please sign in first' });

/** The staff member behind a session token, with their permissions and offices, in one query. */
export async function loadCaller(db: Kysely<DB>, token: string): Promise<Caller | null> {
  const tokenHash = hashToken(token);
  const row = await sql<{
    staff_id: number;
    username: string;
    full_name: string;
    role_code: string;
    home_office_id: number | null;
    must_change_password: boolean;
    org_wide: boolean;
    permissions: string[];
    office_ids: number[];
    stale: boolean;
  }>`
    select st.staff_id, st.username, st.full_name, st.role_code, st.home_office_id, st.must_change_password,
           r.org_wide,
           array(select rp.permission from role_permission rp where rp.role_code = st.role_code) as permissions,
           array(select so.office_id from staff_office so where so.staff_id = st.staff_id) as office_ids,
           s.last_seen_at < now() - interval '1 minute' as stale
    from session s
    join staff st on st.staff_id = s.staff_id and st.active
    join role r on r.role_code = st.role_code
    where s.token_hash = ${tokenHash} and s.expires_at > now()`.execute(db);
  const caller = row.rows[0];
  if (!caller) return null;
  if (caller.stale) {
    // Sliding expiry, written at most once a minute per session.
    const idleMinutes = await setting(db, 'auth.sessionIdleMinutes');
    await sql`update session set last_seen_at = now(), expires_at = now() + make_interval(mins => ${idleMinutes})
              where token_hash = ${tokenHash}`.execute(db);
  }
  return {
    staffId: caller.staff_id,
    username: caller.username,
    fullName: caller.full_name,
    roleCode: caller.role_code,
    permissions: new Set(caller.permissions.filter(isPermission)) as ReadonlySet<Permission>,
    officeIds: caller.org_wide ? null : caller.office_ids.map(Number),
    homeOfficeId: caller.home_office_id,
    mustChangePassword: caller.must_change_password,
  };
}

/**
 * How a route parameter names something that belongs to offices. Every route whose path carries
 * one of these parameters is checked here, before its handler runs, against the caller's offices.
 * A route with a new kind of id must add its resolver here (the access test fails until it does).
 */
type OfficeResolver = (db: Kysely<DB>, id: number) => Promise<number[] | null>;

export const PARAM_OFFICES: Record<string, OfficeResolver> = {
  accountId: async (db, id) => {
    const row = await db
      .selectFrom('customer')
      .select('office_id')
      .where('account_id', '=', id)
      .executeTakeFirst();
    return row ? [row.office_id] : null;
  },
  staffId: async (db, id) => {
    const staff = await db
      .selectFrom('staff')
      .select('staff_id')
      .where('staff_id', '=', id)
      .executeTakeFirst();
    if (!staff) return null;
    const rows = await db.selectFrom('staff_office').select('office_id').where('staff_id', '=', id).execute();
    return rows.map((r) => r.office_id);
  },
  officeId: async (db, id) => {
    const row = await db
      .selectFrom('office')
      .select('office_id')
      .where('office_id', '=', id)
      .executeTakeFirst();
    return row ? [row.office_id] : null;
  },
  importId: async (db, id) => {
    const row = await db
      .selectFrom('import_batch')
      .select('office_id')
      .where('import_id', '=', id)
      .executeTakeFirst();
    return row ? [row.office_id] : null;
  },
  bookId: async (db, id) => {
    const row = await db.selectFrom('book').select('office_id').where('book_id', '=', id).executeTakeFirst();
    return row ? [row.office_id] : null;
  },
  // A bill run belongs to the offices it may bill; one over every office, to all of them.
  runId: async (db, id) => {
    const row = await db
      .selectFrom('bill_run')
      .select('office_ids')
      .where('run_id', '=', id)
      .executeTakeFirst();
    if (!row) return null;
    if (row.office_ids !== null) return row.office_ids.map(Number);
    return (await db.selectFrom('office').select('office_id').execute()).map((o) => o.office_id);
  },
  changeId: async (db, id) => {
    const row = await db
      .selectFrom('reading_plan_change as c')
      .innerJoin('book as b', 'b.book_id', 'c.book_id')
      .select('b.office_id')
      .where('c.change_id', '=', id)
      .executeTakeFirst();
    return row ? [row.office_id] : null;
  },
};

/** Parameters that are sub-ids within an account (checked by the account) or not office-owned. */
export const UNSCOPED_PARAMS = new Set([
  'readingId',
  'correctionId',
  'followupId',
  'day',
  'year',
  'contactId',
  'addressId',
  'servicePointId',
  'meterId',
  'entryId',
  'documentId',
  'roleCode',
  'branchId',
  'key',
  'billId',
  'adjustmentId',
  // Payments, receipts and payment requests are addressed within their account (:accountId).
  'paymentId',
  'receiptId',
  'requestId',
  'mandateId',
  // Online payment orders are addressed within their account (:accountId).
  'orderId',
  // Tariffs are organisation-wide reference data, keyed by usage type.
  'usageType',
  // The fee catalogue is organisation-wide reference data, keyed by fee code.
  'feeCode',
  // Bank direct debit files cover the whole utility; their routes are orgWide.
  'bankFileId',
  // Outbox messages are addressed within their account (:accountId).
  'messageId',
  // Dunning: message templates are organisation-wide reference data; a dunning run covers every
  // office (its routes are orgWide).
  'templateCode',
  'dunningRunId',
  // Disputes and installment agreements are addressed within their account (:accountId).
  'disputeId',
  'agreementId',
  // Collection letters are addressed within their account (:accountId).
  'letterId',
  // Field collection tasks and visits are addressed within their account (:accountId).
  'taskId',
  'visitId',
  // Field results of work orders and re-checks are addressed within their account (:accountId).
  'resultId',
  '*',
]);

/** Whether the caller holds the permission, or one of a list of them. */
function holdsAny(caller: Caller, needed: Permission | readonly Permission[]): boolean {
  return typeof needed === 'string'
    ? caller.permissions.has(needed)
    : needed.some((p) => caller.permissions.has(p));
}

function covers(caller: Caller, officeIds: number[], all: boolean): boolean {
  if (caller.officeIds === null) return true;
  const mine = caller.officeIds;
  return all ? officeIds.every((o) => mine.includes(o)) : officeIds.some((o) => mine.includes(o));
}

function officeIdsIn(value: unknown): number[] {
  if (!value || typeof value !== 'object') return [];
  const v = value as { officeId?: unknown; officeIds?: unknown };
  const raw = [v.officeId, ...(Array.isArray(v.officeIds) ? v.officeIds : [])];
  // Query strings arrive as text; anything not a whole number is left to validation.
  return raw
    .map((x) => (typeof x === 'string' && x.trim() !== '' ? Number(x) : x))
    .filter((x): x is number => Number.isSafeInteger(x));
}

export interface AccessOptions {
  db: Kysely<DB>;
}

/** Routes registered under /api, for the access test that walks them all. */
export interface RouteRecord {
  method: string;
  url: string;
  permission?: Permission | readonly Permission[];
  public?: boolean;
  signedIn?: boolean;
  orgWide?: boolean;
}

/**
 * The one place where access is decided: every /api route must declare a permission (or be
 * public / for any signed-in user); the session is checked on every request; ids in the path,
 * and office ids in the query or body, must lie in the caller's offices.
 */
export function registerAccess(app: FastifyInstance, { db }: AccessOptions): RouteRecord[] {
  const routes: RouteRecord[] = [];
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/') || route.url.startsWith('/api/docs')) return;
    const cfg = route.config ?? {};
    if (!cfg.public && !cfg.signedIn && !cfg.permission) {
      throw new Error(
        `${route.method} ${route.url} declares neither a permission nor public/signedIn access`,
      );
    }
    for (const param of route.url.matchAll(/:(\w+)/g)) {
      const name = param[1]!;
      if (!(name in PARAM_OFFICES) && !UNSCOPED_PARAMS.has(name)) {
        throw new Error(
          `${route.method} ${route.url}: parameter :${name} has no office resolver in access.ts`,
        );
      }
    }
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      routes.push({
        method,
        url: route.url,
        permission: cfg.permission,
        orgWide: cfg.orgWide,
        public: cfg.public,
        signedIn: cfg.signedIn,
      });
    }
  });

  app.addHook('onRequest', async (request: FastifyRequest) => {
    request.ctx = {
      caller: null,
      lang: requestLang(request),
      requestId: String(request.id ?? randomUUID()),
      ip: request.ip,
      audited: 0,
    } satisfies RequestContext;
    // The OpenAPI document and its viewer are public, like any API's published contract.
    if (!request.url.startsWith('/api/') || request.url.startsWith('/api/docs')) return;
    const cfg = request.routeOptions.config ?? {};
    if (cfg.public || !request.routeOptions.url) return;
    const token = request.cookies?.[SESSION_COOKIE];
    const caller = token ? await loadCaller(db, token) : null;
    if (!caller) throw unauthenticated();
    request.ctx.caller = caller;
    if (cfg.permission && !holdsAny(caller, cfg.permission))
      throw forbidden([cfg.permission].flat().join(' | '));
    if (cfg.orgWide && caller.officeIds !== null) throw orgWideOnly();
  });

  // Before validation, so a request about another office's data learns nothing, not even which
  // fields it got wrong. Path parameters are still raw strings here.
  app.addHook('preValidation', async (request: FastifyRequest) => {
    const caller = request.ctx?.caller;
    if (!caller || caller.officeIds === null) return;
    if (request.routeOptions.config?.orgWide) throw orgWideOnly();
    const write = request.method !== 'GET';
    const params = (request.params ?? {}) as Record<string, unknown>;
    for (const [name, raw] of Object.entries(params)) {
      const resolve = PARAM_OFFICES[name];
      if (!resolve) continue;
      const id = Number(raw);
      const offices = Number.isSafeInteger(id) ? await resolve(db, id) : null;
      // Out of scope reads as not found: staff of one office cannot even learn another's ids.
      if (!offices || !covers(caller, offices, write && name !== 'accountId'))
        throw notFound(name, String(raw));
    }
    const named = [...officeIdsIn(request.query), ...officeIdsIn(request.body)];
    if (named.length && !covers(caller, named, true)) throw outOfScope();
  });

  return routes;
}
