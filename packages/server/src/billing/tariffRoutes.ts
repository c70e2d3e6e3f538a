import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../platform/context.ts';

/** Tariffs: list, edit with validation, preview (docs/billing.md). */
export async function tariffRoutes(_app: FastifyInstance, _deps: AppDeps): Promise<void> {}
