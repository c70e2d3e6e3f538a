import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { type Kysely, sql } from 'kysely';
import { z } from 'zod';
import { accountParams } from '../customers/schemas.ts';
import type { DB } from '../db/schema.ts';
import type { AppDeps } from '../platform/context.ts';
import { type Caller, requireCaller } from '../platform/context.ts';
import { id, isoDate, paging, text } from '../platform/zod.ts';

interface AuditFilter {
  accountId?: number;
  staffId?: number;
  officeId?: number;
  entityType?: string;
  action?: string;
  entityId?: string;
  from?: string;
  to?: string;
  page: number;
  pageSize: number;
}

/** Audit entries, newest first, limited to the caller's offices. */
export async function findAudit(db: Kysely<DB>, caller: Caller, f: AuditFilter) {
  const base = db
    .selectFrom('audit_log as a')
    .leftJoin('staff as s', 's.staff_id', 'a.staff_id')
    .leftJoin('office as o', 'o.office_id', 'a.office_id')
    .$if(caller.officeIds !== null, (q) => q.where('a.office_id', 'in', [...(caller.officeIds ?? []), -1]))
    .$if(f.accountId !== undefined, (q) => q.where('a.account_id', '=', f.accountId!))
    .$if(f.staffId !== undefined, (q) => q.where('a.staff_id', '=', f.staffId!))
    .$if(f.officeId !== undefined, (q) => q.where('a.office_id', '=', f.officeId!))
    .$if(!!f.entityType, (q) => q.where('a.entity_type', '=', f.entityType!))
    .$if(!!f.action, (q) => q.where('a.action', '=', f.action!))
    .$if(!!f.entityId, (q) => q.where('a.entity_id', '=', f.entityId!))
    .$if(!!f.from, (q) =>
      q.where('a.at', '>=', sql<Date>`(${f.from}::date)::timestamp at time zone 'Asia/Shanghai'`),
    )
    .$if(!!f.to, (q) =>
      q.where('a.at', '<', sql<Date>`((${f.to}::date + 1)::timestamp at time zone 'Asia/Shanghai')`),
    );
  const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const items = await base
    .select([
      'a.audit_id',
      'a.at',
      'a.staff_id',
      's.username',
      's.full_name',
      'a.office_id',
      'o.name as office_name',
      'a.account_id',
      'a.entity_type',
      'a.entity_id',
      'a.action',
      'a.before',
      'a.after',
      'a.request_id',
      'a.ip',
    ])
    .orderBy('a.at', 'desc')
    .orderBy('a.audit_id', 'desc')
    .limit(f.pageSize)
    .offset((f.page - 1) * f.pageSize)
    .execute();
  return { items, total: Number(n), page: f.page, pageSize: f.pageSize };
}

export async function auditRoutes(app: FastifyInstance, { db }: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/customers/:accountId/audit',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags: ['audit'],
        summary: 'The change history of one customer',
        params: accountParams,
        querystring: z.object(paging),
      },
    },
    async (request) => {
      const caller = requireCaller(request.ctx);
      // The account is in scope (checked centrally); its history is shown whole.
      return findAudit(
        db,
        { ...caller, officeIds: null },
        { accountId: request.params.accountId, ...request.query },
      );
    },
  );
  r.get(
    '/api/audit',
    {
      config: { permission: 'audit.search' },
      schema: {
        tags: ['audit'],
        summary: 'Search the audit log',
        querystring: z.object({
          accountId: id.optional(),
          staffId: id.optional(),
          officeId: id.optional(),
          entityType: text(40).optional(),
          entityId: text(60).optional(),
          action: text(40).optional(),
          from: isoDate.optional(),
          to: isoDate.optional(),
          ...paging,
        }),
      },
    },
    async (request) => findAudit(db, requireCaller(request.ctx), request.query),
  );
}
