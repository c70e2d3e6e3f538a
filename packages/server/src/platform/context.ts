import type { Lang, Permission } from '@meterline/domain';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import type { BillRunner } from '../billing/runner.ts';
import type { ServerConfig } from '../config.ts';
import type { DB } from '../db/schema.ts';

/** The signed-in staff member making a request. */
export interface Caller {
  staffId: number;
  username: string;
  fullName: string;
  roleCode: string;
  permissions: ReadonlySet<Permission>;
  /** null: organisation-wide role, every office is in scope. */
  officeIds: readonly number[] | null;
  homeOfficeId: number | null;
  mustChangePassword: boolean;
}

export interface RequestContext {
  caller: Caller | null;
  lang: Lang;
  requestId: string;
  ip: string;
  /** Audit entries written while serving this request. */
  audited: number;
  /** The request replayed an earlier result (idempotency key): nothing changed. */
  replay?: boolean;
}

export interface RouteAccess {
  /**
   * The permission the route needs (or a list: any one of them will do); routes without one must be
   * marked public or signedIn.
   */
  permission?: Permission | readonly Permission[];
  /** No session needed (login, health, the OpenAPI document). */
  public?: boolean;
  /** Any signed-in staff member (their own profile, logout). */
  signedIn?: boolean;
  /** Organisation-wide data (settings, roles, branches, offices): only organisation-wide roles may change it. */
  orgWide?: boolean;
  /** A write that changes nothing worth auditing (none today; kept explicit). */
  noAudit?: boolean;
}

export interface AppDeps {
  db: Kysely<DB>;
  config: ServerConfig;
  /** The pool under `db`, for the few paths that need a raw connection (COPY of smart-meter files). */
  pool?: pg.Pool;
  /** Bill runs in the background (billing/runner.ts); server.ts resumes it after listen. */
  billRunner?: BillRunner;
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
  }
  interface FastifyContextConfig extends RouteAccess {}
}

/** The office filter for a query: null when the caller sees every office. */
export function officeScope(caller: Caller): readonly number[] | null {
  return caller.officeIds;
}

export function inScope(caller: Caller, officeId: number): boolean {
  return caller.officeIds === null || caller.officeIds.includes(officeId);
}

export function requireCaller(ctx: RequestContext): Caller {
  if (!ctx.caller) throw new Error('route reached without a signed-in caller');
  return ctx.caller;
}

/**
 * The context of work done in a staff member's name outside a request — the demo's seed, the tests —
 * with the caller organisation-wide. Throws when no such staff member exists.
 */
export async function staffContext(
  db: Kysely<DB>,
  username: string,
  opts: { requestId: string; lang?: Lang },
): Promise<RequestContext> {
  const staff = await db
    .selectFrom('staff')
    .select(['staff_id', 'full_name', 'role_code'])
    .where('username', '=', username)
    .executeTakeFirstOrThrow();
  return {
    caller: {
      staffId: staff.staff_id,
      username,
      fullName: staff.full_name,
      roleCode: staff.role_code,
      permissions: new Set(),
      officeIds: null,
      homeOfficeId: null,
      mustChangePassword: false,
    },
    lang: opts.lang ?? 'zh-CN',
    requestId: opts.requestId,
    ip: '127.0.0.1',
    audited: 0,
  };
}
