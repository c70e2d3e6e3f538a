import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppDeps } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { id } from '../platform/zod.ts';
import { PlanService } from './planning.ts';
import {
  assignBody,
  bookListQuery,
  bookParams,
  changeBody,
  changeParams,
  changesQuery,
  createBookBody,
  decideBody,
  generateBody,
  moveBody,
  planQuery,
  routeBody,
  updateBookBody,
  workloadBody,
  workloadQuery,
  zoneOverrideBody,
} from './schemas.ts';
import { BookService } from './service.ts';
import { WorkloadService } from './workload.ts';

/** Books and routes, reader workload and rotation, the annual reading plan (docs/reading.md). */
export async function meteringRoutes(app: FastifyInstance, { db }: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const books = new BookService(db);
  const plans = new PlanService(db);
  const workload = new WorkloadService(db);
  const bookTags = ['books'];
  const planTags = ['reading plan'];

  // ------------------------------------------------------------------ books and routes
  r.get(
    '/api/books',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags: bookTags,
        summary: 'Books (册本) with meter counts, reader and rotation status, in the caller’s offices',
        querystring: bookListQuery,
      },
    },
    async (request) => books.list(requireCaller(request.ctx), request.query),
  );

  r.post(
    '/api/books',
    {
      config: { permission: 'reading.plan' },
      schema: { tags: bookTags, summary: 'Create a book', body: createBookBody },
    },
    async (request, reply) => {
      const out = await books.create(request.ctx, request.body);
      reply.status(201);
      return out;
    },
  );

  r.put(
    '/api/books/:bookId',
    {
      config: { permission: 'reading.plan' },
      schema: {
        tags: bookTags,
        summary: 'Edit a book (send the version you read)',
        params: bookParams,
        body: updateBookBody,
      },
    },
    async (request) => books.update(request.ctx, request.params.bookId, request.body),
  );

  r.get(
    '/api/books/:bookId/route',
    {
      config: { permission: 'customer.read' },
      schema: { tags: bookTags, summary: 'The book’s meters in route order', params: bookParams },
    },
    async (request) => books.route(request.params.bookId),
  );

  r.put(
    '/api/books/:bookId/route',
    {
      config: { permission: 'reading.plan' },
      schema: {
        tags: bookTags,
        summary:
          'Reorder the whole route: every meter of the book exactly once (else 400 naming the problem)',
        params: bookParams,
        body: routeBody,
      },
    },
    async (request) => books.reorder(request.ctx, request.params.bookId, request.body),
  );

  r.post(
    '/api/books/:bookId/meters',
    {
      config: { permission: 'reading.plan' },
      schema: {
        tags: bookTags,
        summary: 'Move meters of the same office into this book, appended to its route',
        params: bookParams,
        body: moveBody,
      },
    },
    async (request) => books.moveMeters(request.ctx, request.params.bookId, request.body),
  );

  r.post(
    '/api/books/:bookId/assign',
    {
      config: { permission: 'reading.plan' },
      schema: {
        tags: bookTags,
        summary: 'Give the book to a reader with a written handover (closes the previous assignment)',
        params: bookParams,
        body: assignBody,
      },
    },
    async (request) => books.assign(request.ctx, request.params.bookId, request.body),
  );

  r.get(
    '/api/books/:bookId/assignments',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags: bookTags,
        summary: 'The book’s readers over time with their handovers',
        params: bookParams,
      },
    },
    async (request) => books.assignments(request.params.bookId),
  );

  r.put(
    '/api/customers/:accountId/meters/:meterId/zone',
    {
      config: { permission: 'reading.plan' },
      schema: {
        tags: bookTags,
        summary:
          'Override the zone the rule gives a meter (reason required), or clear the override (zone: null)',
        params: z.object({ accountId: id, meterId: id }),
        body: zoneOverrideBody,
      },
    },
    async (request) =>
      books.setZone(request.ctx, request.params.accountId, request.params.meterId, request.body),
  );

  // ------------------------------------------------------------------ workload
  r.get(
    '/api/workload',
    {
      config: { permission: 'customer.read' },
      schema: {
        tags: bookTags,
        summary:
          'Reader workload of a month: books, meters by category, days needed against the limit, rotation',
        querystring: workloadQuery,
      },
    },
    async (request) => workload.workload(requireCaller(request.ctx), request.query),
  );

  const officeParams = z.object({ officeId: id });
  r.get(
    '/api/offices/:officeId/workload',
    {
      config: { permission: 'reading.plan' },
      schema: {
        tags: bookTags,
        summary: 'The office’s workload figures (meters a day, days a month, rotation)',
        params: officeParams,
      },
    },
    async (request) => workload.officeFigures(request.params.officeId),
  );

  r.put(
    '/api/offices/:officeId/workload',
    {
      config: { permission: 'reading.plan' },
      schema: {
        tags: bookTags,
        summary: 'Set the office’s workload figures',
        params: officeParams,
        body: workloadBody,
      },
    },
    async (request) => workload.setOfficeFigures(request.ctx, request.params.officeId, request.body),
  );

  // ------------------------------------------------------------------ annual reading plan
  r.post(
    '/api/reading-plan/generate',
    {
      config: { permission: 'reading.plan' },
      schema: {
        tags: planTags,
        summary:
          'Plan a year for every active book of an office (periods read, moved or past keep their dates)',
        body: generateBody,
      },
    },
    async (request) => plans.generate(request.ctx, request.body),
  );

  r.get(
    '/api/reading-plan',
    {
      config: { permission: 'customer.read' },
      schema: { tags: planTags, summary: 'The reading plan of a year', querystring: planQuery },
    },
    async (request) => plans.list(requireCaller(request.ctx), request.query),
  );

  r.post(
    '/api/reading-plan/changes',
    {
      config: { permission: 'reading.plan' },
      schema: {
        tags: planTags,
        summary: 'Ask to read a book on another working day of the same month (pending approval)',
        body: changeBody,
      },
    },
    async (request, reply) => {
      const out = await plans.requestChange(request.ctx, request.body);
      reply.status(201);
      return out;
    },
  );

  r.post(
    '/api/reading-plan/changes/:changeId/decide',
    {
      config: { permission: 'reading.approve' },
      schema: {
        tags: planTags,
        summary: 'Approve (the date moves) or reject a change',
        params: changeParams,
        body: decideBody,
      },
    },
    async (request) => plans.decide(request.ctx, request.params.changeId, request.body),
  );

  r.get(
    '/api/reading-plan/changes',
    {
      config: { permission: 'customer.read' },
      schema: { tags: planTags, summary: 'Changes to the reading plan', querystring: changesQuery },
    },
    async (request) => plans.changes(requireCaller(request.ctx), request.query),
  );
}
