import { type Permission, todayInChina } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { id, isoDate, paging, text } from '../platform/zod.ts';
import {
  cancelMessage,
  customerMessages,
  listMessages,
  OUTBOX_CHART_MAX_DAYS,
  outboxStats,
  retryMessage,
  voiceList,
  voiceListCsv,
} from './service.ts';

const tags = ['outbox'];
const VIEWERS: readonly Permission[] = ['collection.view', 'collection.policy'];
const ACTORS: readonly Permission[] = ['collection.manage', 'collection.policy'];
const STATUSES = ['pending', 'sending', 'sent', 'delivered', 'failed', 'cancelled'] as const;
const CHANNELS = ['sms', 'voice', 'letter'] as const;

function daysBefore(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - n);
  return d.toISOString().slice(0, 10);
}

/** The notification outbox: messages, their delivery, retry/cancel, the voice-call list (docs/outbox.md). */
export async function outboxRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/api/outbox',
    {
      config: { permission: VIEWERS },
      schema: {
        tags,
        summary: 'Messages (SMS, voice entries, letters) in the caller’s offices, newest first',
        querystring: z.object({
          status: z.enum(STATUSES).optional(),
          channel: z.enum(CHANNELS).optional(),
          template: text(60).optional(),
          reason: z
            .enum(['expired', 'paid'])
            .optional()
            .describe('Cancelled messages only: stale (expired) or their bill paid'),
          from: isoDate.optional(),
          to: isoDate.optional(),
          officeId: id.optional(),
          accountId: id.optional(),
          ...paging,
        }),
      },
    },
    async (request) => listMessages(db, requireCaller(request.ctx), request.query),
  );

  r.get(
    '/api/outbox/stats',
    {
      config: { permission: VIEWERS },
      schema: {
        tags,
        summary: 'Messages created per day by status (the stacked chart), default the last 30 days',
        querystring: z.object({
          from: isoDate.optional(),
          to: isoDate.optional(),
          officeId: id.optional(),
          channel: z.enum(CHANNELS).optional(),
        }),
      },
    },
    async (request) => {
      const to = request.query.to ?? todayInChina();
      let from = request.query.from ?? daysBefore(to, 29);
      if (from < daysBefore(to, OUTBOX_CHART_MAX_DAYS - 1)) from = daysBefore(to, OUTBOX_CHART_MAX_DAYS - 1);
      const stats = await outboxStats(db, requireCaller(request.ctx), { ...request.query, from, to });
      return { from, to, ...stats };
    },
  );

  r.get(
    '/api/outbox/voice-list',
    {
      config: { permission: VIEWERS },
      schema: {
        tags,
        summary: 'The voice-call list (语音催款) of a day, default today; `format=csv` downloads it',
        querystring: z.object({
          date: isoDate.optional(),
          officeId: id.optional(),
          format: z.enum(['json', 'csv']).default('json'),
        }),
      },
    },
    async (request, reply) => {
      const date = request.query.date ?? todayInChina();
      const items = await voiceList(db, requireCaller(request.ctx), {
        date,
        officeId: request.query.officeId,
      });
      if (request.query.format === 'csv') {
        reply
          .header('content-type', 'text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="voice-list-${date}.csv"`);
        return voiceListCsv(items, request.ctx.lang);
      }
      return { date, items };
    },
  );

  r.get(
    '/api/customers/:accountId/messages',
    {
      config: { permission: VIEWERS },
      schema: {
        tags,
        summary: 'A customer’s messages, newest first, each with its attempts (the delivery audit)',
        params: z.object({ accountId: id }),
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
      },
    },
    async (request) => customerMessages(db, request.params.accountId, request.query.limit),
  );

  r.post(
    '/api/customers/:accountId/messages/:messageId/retry',
    {
      config: { permission: ACTORS },
      schema: {
        tags,
        summary: 'Send a failed or cancelled message again (a fresh set of tries)',
        params: z.object({ accountId: id, messageId: id }),
      },
    },
    async (request) => retryMessage(db, request.ctx, request.params.accountId, request.params.messageId),
  );

  r.post(
    '/api/customers/:accountId/messages/:messageId/cancel',
    {
      config: { permission: ACTORS },
      schema: {
        tags,
        summary: 'Cancel a pending message',
        params: z.object({ accountId: id, messageId: id }),
        body: z.object({ reason: text(200).default('') }).default({ reason: '' }),
      },
    },
    async (request) =>
      cancelMessage(db, request.ctx, request.params.accountId, request.params.messageId, request.body.reason),
  );
}
