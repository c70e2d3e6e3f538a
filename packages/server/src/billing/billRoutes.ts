import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../platform/context.ts';

/** Bills of a customer, notices (PDF), the office billing summary (docs/billing.md). */
export async function billRoutes(_app: FastifyInstance, _deps: AppDeps): Promise<void> {}
