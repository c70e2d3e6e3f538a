import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../platform/context.ts';

/** Routes of this area: see docs/reading.md. */
export async function readingRoutes(_app: FastifyInstance, _deps: AppDeps) {}
