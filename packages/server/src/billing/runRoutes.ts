import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../platform/context.ts';

/** Bill runs: start (dry run or real), progress, resume, exceptions (docs/billing.md). */
export async function billRunRoutes(_app: FastifyInstance, _deps: AppDeps): Promise<void> {}
