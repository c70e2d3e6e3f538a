import { todayInChina } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../platform/context.ts';
import { isoDate, text } from '../platform/zod.ts';
import { CalendarService } from './service.ts';

const tags = ['calendar'];
const year = z.coerce.number().int().min(1900).max(2200);
const kind = z.enum(['workday', 'weekend', 'holiday', 'adjusted_workday']);

/** The working-day calendar (docs/reading.md). */
export async function calendarRoutes(app: FastifyInstance, { db }: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const service = new CalendarService(db);

  r.get(
    '/api/calendar',
    {
      config: { signedIn: true },
      schema: {
        tags,
        summary: 'Every day of a year: workday, weekend, holiday or adjusted working day (调休)',
        description:
          '`official: false` marks a provisional year (weekends only, no State Council arrangement).',
        querystring: z.object({ year: year.optional() }),
      },
    },
    async (request) => service.year(request.query.year ?? Number(todayInChina().slice(0, 4))),
  );

  r.put(
    '/api/calendar/days/:day',
    {
      config: { permission: 'calendar.admin', orgWide: true },
      schema: {
        tags,
        summary: 'Set the kind of one day (kept over reloads of the official calendar)',
        params: z.object({ day: isoDate }),
        body: z.object({ kind, name: text(40).default('') }),
      },
    },
    async (request) => service.setDay(request.ctx, request.params.day, request.body),
  );

  r.post(
    '/api/calendar/years/:year/reload',
    {
      config: { permission: 'calendar.admin', orgWide: true },
      schema: {
        tags,
        summary: 'Reload a year from the holiday package (days an admin edited are kept)',
        params: z.object({ year }),
      },
    },
    async (request) => service.reload(request.ctx, request.params.year),
  );
}
