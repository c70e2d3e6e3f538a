import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type AppDeps, requireCaller } from '../platform/context.ts';
import { id, isoDate } from '../platform/zod.ts';
import { ageingHistory, ageingReport } from './ageing.ts';
import { resultsReport } from './results.ts';

const tags = ['collections'];

/** Arrears ageing and collection results (docs/arrears.md). */
export async function ageingRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/collections/ageing',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'Arrears ageing (欠费账龄) by billing cycles or days, per office, book, reader or customer',
        description:
          'Meters with an open bill unpaid past its due date, aged by the oldest such bill; bucket edges are the ' +
          'settings collections.ageing.cycleEdges and dayEdges. Filter by book, reader or bucket to drill down to ' +
          'customers (groupBy=customer).',
        querystring: z.object({
          groupBy: z.enum(['office', 'book', 'reader', 'customer']).default('office'),
          basis: z.enum(['cycles', 'days']).default('cycles'),
          officeId: id.optional(),
          bookId: id.optional(),
          readerId: id.optional(),
          bucket: z.string().max(20).optional(),
          page: z.coerce.number().int().min(1).max(10_000).default(1),
          pageSize: z.coerce.number().int().min(1).max(500).optional(),
        }),
      },
    },
    async (request) => ageingReport(db, requireCaller(request.ctx), request.query),
  );

  r.get(
    '/api/collections/ageing/history',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary: 'The ageing buckets over time: the daily snapshots over the caller’s offices',
        querystring: z.object({
          basis: z.enum(['cycles', 'days']).default('cycles'),
          officeId: id.optional(),
          from: isoDate.optional(),
        }),
      },
    },
    async (request) => ageingHistory(db, requireCaller(request.ctx), request.query),
  );

  r.get(
    '/api/collections/results',
    {
      config: { permission: 'collection.view' },
      schema: {
        tags,
        summary:
          'Collection results (催缴成效): dunning coverage today, collection rate (回收率) per month, office, reader',
        querystring: z.object({
          officeId: id.optional(),
          period: z
            .string()
            .regex(/^\d{4}-(0[1-9]|1[0-2])$/)
            .optional(),
          months: z.coerce.number().int().min(1).max(36).default(12),
        }),
      },
    },
    async (request) => resultsReport(db, requireCaller(request.ctx), request.query),
  );
}
