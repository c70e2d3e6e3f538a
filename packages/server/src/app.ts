import { existsSync } from 'node:fs';
import path from 'node:path';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler } from 'fastify-type-provider-zod';
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { auditRoutes } from './audit/routes.ts';
import { authRoutes } from './auth/routes.ts';
import { billingRoutes } from './billing/routes.ts';
import { BillRunner } from './billing/runner.ts';
import { calendarRoutes } from './calendar/routes.ts';
import { ageingRoutes } from './collections/ageingRoutes.ts';
import { disputeRoutes } from './collections/disputesRoutes.ts';
import { escalationRoutes } from './collections/escalationRoutes.ts';
import { fieldOrdersRoutes } from './collections/fieldOrdersRoutes.ts';
import { fieldCollectionRoutes } from './collections/fieldRoutes.ts';
import { collectionHistoryRoutes } from './collections/history.ts';
import { installmentRoutes } from './collections/installmentsRoutes.ts';
import { dunningPolicyRoutes } from './collections/policyRoutes.ts';
import type { ServerConfig } from './config.ts';
import { customerRoutes } from './customers/routes.ts';
import { customerStatsRoutes } from './customers/stats.ts';
import type { DB } from './db/schema.ts';
import { documentRoutes } from './documents/routes.ts';
import { fieldRoutes } from './field/routes.ts';
import { importRoutes } from './imports/routes.ts';
import { ImportRunner } from './imports/runner.ts';
import { metaRoutes } from './meta/routes.ts';
import { meteringRoutes } from './metering/routes.ts';
import { orgRoutes } from './org/routes.ts';
import { outboxRoutes } from './outbox/routes.ts';
import { bankRoutes } from './payments/bankRoutes.ts';
import { gatewayRoutes } from './payments/gatewayRoutes.ts';
import { mandateRoutes } from './payments/mandates.ts';
import { paymentRoutes } from './payments/routes.ts';
import { type RouteRecord, registerAccess } from './platform/access.ts';
import type { AppDeps } from './platform/context.ts';
import { handleError } from './platform/errors.ts';
import { validatorCompiler } from './platform/i18n.ts';
import { readingRoutes } from './readings/routes.ts';

export interface App {
  app: FastifyInstance;
  routes: RouteRecord[];
  /** Successful writes that recorded no audit entry (must stay 0; the tests check it). */
  unaudited: { method: string; url: string }[];
  /** Imports uploaded files in the background; server.ts resumes it after listen. */
  importRunner: ImportRunner;
  /** Bill runs in the background; server.ts resumes unfinished runs after listen. */
  billRunner: BillRunner;
}

/** `opts.pool`: the pool under `db`; smart-meter files then read and write through COPY. */
export async function buildApp(
  db: Kysely<DB>,
  config: ServerConfig,
  opts: { pool?: pg.Pool } = {},
): Promise<App> {
  const app = Fastify({
    logger: { level: config.logLevel },
    bodyLimit: 2 * 1024 * 1024,
    trustProxy: true,
    genReqId: () => crypto.randomUUID(),
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);

  await app.register(cookie);
  await app.register(multipart, { limits: { fileSize: 100 * 1024 * 1024, files: 1, fields: 20 } });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'meterline API',
        version: '0.1.0',
        description:
          'Customer information and revenue for utilities. Sign in with POST /api/auth/login; the session cookie ' +
          'authorises the rest. Errors are { error: { code, message, fields? } } in the language of the lang ' +
          'cookie or Accept-Language (zh-CN by default).',
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  const routes = registerAccess(app, { db });
  const unaudited: App['unaudited'] = [];
  app.addHook('onResponse', async (request, reply) => {
    const cfg = request.routeOptions.config ?? {};
    if (
      request.method !== 'GET' &&
      request.url.startsWith('/api/') &&
      reply.statusCode < 300 &&
      request.ctx &&
      request.ctx.audited === 0 &&
      !request.ctx.replay &&
      !cfg.noAudit
    ) {
      unaudited.push({ method: request.method, url: request.routeOptions.url ?? request.url });
      request.log.error({ url: request.url }, 'a write finished without an audit entry');
    }
  });

  const billRunner = new BillRunner(db, { pool: opts.pool, logger: app.log.child({ module: 'bill-run' }) });
  app.addHook('onClose', () => billRunner.stop());
  const deps: AppDeps = { db, config, pool: opts.pool, billRunner };
  const importRunner = new ImportRunner(db, config, { logger: app.log.child({ module: 'imports' }) });
  app.addHook('onClose', () => importRunner.stop());
  await app.register(async (api) => {
    await authRoutes(api, deps);
    await metaRoutes(api, deps);
    await orgRoutes(api, deps);
    await customerRoutes(api, deps);
    await customerStatsRoutes(api, deps);
    await documentRoutes(api, deps);
    await auditRoutes(api, deps);
    await importRoutes(api, deps, importRunner);
    await calendarRoutes(api, deps);
    await meteringRoutes(api, deps);
    await fieldRoutes(api, deps);
    await readingRoutes(api, deps);
    await billingRoutes(api, deps);
    await paymentRoutes(api, deps);
    await bankRoutes(api, deps);
    await mandateRoutes(api, deps);
    await gatewayRoutes(api, deps);
    // collections (issue 6): each part registers its routes below this line.
    // Collections H: a customer's collection history in one call (docs/arrears.md).
    await collectionHistoryRoutes(api, deps);
    // Collections G: shut-off / restore orders and re-checks on the handheld (docs/escalation.md).
    await fieldOrdersRoutes(api, deps);
    // Collections B: the notification outbox, SMS delivery, the voice-call list (docs/outbox.md).
    await outboxRoutes(api, deps);
    // Collections E: ageing, disputes, installment agreements, results (docs/arrears.md).
    await ageingRoutes(api, deps);
    await disputeRoutes(api, deps);
    await installmentRoutes(api, deps);
    await escalationRoutes(api, deps);
    await fieldCollectionRoutes(api, deps);
    // Collections C: dunning policy, templates and the daily runs (docs/dunning.md).
    await dunningPolicyRoutes(api, deps);
  });

  app.get('/api/health', { config: { public: true }, schema: { hide: true } }, async () => ({ ok: true }));

  // The back office at /, the handheld app (a PWA) at /field/.
  const webDir = config.webDir ?? path.resolve('packages/web/dist');
  const fieldDir = config.fieldDir ?? path.resolve('packages/field/dist');
  const hasWeb = existsSync(path.join(webDir, 'index.html'));
  const hasField = existsSync(path.join(fieldDir, 'index.html'));
  if (hasWeb) await app.register(fastifyStatic, { root: webDir, wildcard: true });
  if (hasField) {
    await app.register(fastifyStatic, {
      root: fieldDir,
      prefix: '/field/',
      wildcard: true,
      decorateReply: !hasWeb,
    });
  }
  // Both apps are single-page apps: a page path serves their index.html; a missing file (an
  // asset of an older build, a typo) is a plain 404, never a page with status 200.
  app.setNotFoundHandler((request, reply) => {
    const pathname = request.url.split('?')[0] ?? '';
    if (pathname.startsWith('/api/')) {
      return reply.status(404).send({ error: { code: 'NOT_FOUND', message: 'No such endpoint' } });
    }
    const isFile = pathname.includes('/assets/') || /\.[a-z0-9]+$/i.test(pathname);
    if (request.method !== 'GET' || isFile) return reply.status(404).send('Not found');
    if (pathname === '/field' || pathname.startsWith('/field/')) {
      return hasField ? reply.sendFile('index.html', fieldDir) : reply.status(404).send('Not found');
    }
    return hasWeb ? reply.sendFile('index.html', webDir) : reply.status(404).send('Not found');
  });
  return { app, routes, unaudited, importRunner, billRunner };
}
