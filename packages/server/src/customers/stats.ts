import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import type { AppDeps } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { id } from '../platform/zod.ts';

/** The customer file at a glance, for the overview charts: counts within the caller's offices. */
export async function customerStatsRoutes(app: FastifyInstance, { db }: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  r.get(
    '/api/stats/customers',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags: ['customers'],
        summary: 'Customers by office and state, meters by caliber and mounting (caller’s offices)',
        querystring: z.object({ officeId: id.optional() }),
      },
    },
    async (request) => {
      const caller = requireCaller(request.ctx);
      const offices = request.query.officeId ? [request.query.officeId] : caller.officeIds;
      const scope = offices === null ? sql`true` : sql`c.office_id = any(${[...offices]}::bigint[])`;
      const [byOfficeState, meters] = await Promise.all([
        sql<{
          office_id: number;
          office_name: string;
          state: string;
          customers: number;
          low_income: number;
          blacklisted: number;
        }>`
          select c.office_id, o.name as office_name, c.state, count(*)::int as customers,
                 count(*) filter (where c.low_income)::int as low_income,
                 count(*) filter (where c.blacklisted)::int as blacklisted
          from customer c join office o on o.office_id = c.office_id
          where ${scope}
          group by c.office_id, o.name, o.code, c.state
          order by o.code, c.state`.execute(db),
        sql<{ utility: string; caliber_dn: number | null; mounting: string; role: string; meters: number }>`
          select m.utility, m.caliber_dn, m.mounting, m.role, count(*)::int as meters
          from meter m join customer c on c.account_id = m.account_id
          where m.state = 'in_service' and ${scope}
          group by m.utility, m.caliber_dn, m.mounting, m.role
          order by m.utility, m.caliber_dn nulls last, m.mounting`.execute(db),
      ]);
      const rows = byOfficeState.rows;
      return {
        totals: {
          customers: rows.reduce((s, x) => s + x.customers, 0),
          lowIncome: rows.reduce((s, x) => s + x.low_income, 0),
          blacklisted: rows.reduce((s, x) => s + x.blacklisted, 0),
          meters: meters.rows.reduce((s, x) => s + x.meters, 0),
        },
        byOfficeState: rows.map((x) => ({
          officeId: x.office_id,
          officeName: x.office_name,
          state: x.state,
          customers: x.customers,
        })),
        meters: meters.rows.map((x) => ({
          utility: x.utility,
          caliberDn: x.caliber_dn,
          mounting: x.mounting,
          role: x.role,
          meters: x.meters,
        })),
      };
    },
  );
}
