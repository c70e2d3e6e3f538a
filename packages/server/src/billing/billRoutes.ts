import { todayInChina } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { id, paging } from '../platform/zod.ts';
import { billDetail, billingSummary, billNotice, bookNotices, customerBills } from './bills.ts';
import { renderNotices } from './notice.ts';

const tags = ['bills'];
const month = z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/);

/** Bills of a customer, notices (PDF), the office billing summary (docs/billing.md). */
export async function billRoutes(app: FastifyInstance, { db }: AppDeps): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const accountParams = z.object({ accountId: id });
  const billParams = accountParams.extend({ billId: id });

  r.get(
    '/api/customers/:accountId/bills',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary: 'The customer’s bills, newest first, each with its lines',
        params: accountParams,
        querystring: z.object({ status: z.enum(['open', 'cancelled']).optional(), ...paging }),
      },
    },
    async (request) => customerBills(db, request.params.accountId, request.query),
  );

  r.get(
    '/api/customers/:accountId/bills/:billId',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary: 'One bill: its lines, the explanation of the calculation and the reading it was made from',
        params: billParams,
      },
    },
    async (request) => billDetail(db, request.params.accountId, request.params.billId),
  );

  r.get(
    '/api/customers/:accountId/bills/:billId/notice.pdf',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags,
        summary: 'The bill notice (水费通知单) as a PDF, half an A4 sheet',
        params: billParams,
      },
    },
    async (request, reply) => {
      const notice = await billNotice(db, request.params.accountId, request.params.billId, todayInChina());
      const pdf = await renderNotices([notice], { title: `${notice.billNo} ${notice.customerName}` });
      return reply
        .type('application/pdf')
        .header('Content-Disposition', `inline; filename="notice-${notice.billNo}.pdf"`)
        .send(pdf);
    },
  );

  r.get(
    '/api/books/:bookId/notices.pdf',
    {
      config: { permission: ['billing.run', 'reading.plan'] },
      schema: {
        tags,
        summary: 'The notices of a book’s bills for a period, one per page in route order, for delivery',
        description:
          'Standing consumption bills of the meters now in the book whose period is `period`, ordered by ' +
          'the meter’s position on the route (meter.route_seq). 404 when there are none.',
        params: z.object({ bookId: id }),
        querystring: z.object({ period: month }),
      },
    },
    async (request, reply) => {
      const { bookId } = request.params;
      const { period } = request.query;
      const notices = await bookNotices(db, bookId, period, todayInChina());
      const pdf = await renderNotices(notices, { title: `${notices[0]?.bookCode ?? bookId} ${period}` });
      return reply
        .type('application/pdf')
        .header('Content-Disposition', `inline; filename="notices-${bookId}-${period}.pdf"`)
        .header('X-Notice-Count', String(notices.length))
        .send(pdf);
    },
  );

  r.get(
    '/api/billing/summary',
    {
      config: { permission: ['billing.run', 'billing.adjust', 'billing.approve'] },
      schema: {
        tags,
        summary: 'Standing bills of a month by usage type and office, with the 12-month trend',
        description:
          'Volumes in m³ (decimal strings) and amounts in fen. Without officeId: every office in the ' +
          'caller’s scope.',
        querystring: z.object({ officeId: id.optional(), month }),
      },
    },
    async (request) => billingSummary(db, requireCaller(request.ctx), request.query),
  );
}
