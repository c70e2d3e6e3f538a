import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../platform/context.ts';
import { adjustmentRoutes } from './adjustmentRoutes.ts';
import { billRoutes } from './billRoutes.ts';
import { chargeRoutes } from './chargeRoutes.ts';
import { billCorrectionRoutes } from './correctionRoutes.ts';
import { prepaidRoutes } from './prepaidRoutes.ts';
import { billRunRoutes } from './runRoutes.ts';
import { tariffRoutes } from './tariffRoutes.ts';

/** Billing (DOMAIN.md §4): tariffs, bill runs, bills and notices. */
export async function billingRoutes(app: FastifyInstance, deps: AppDeps) {
  await tariffRoutes(app, deps);
  await billRunRoutes(app, deps);
  await billRoutes(app, deps);
  await billCorrectionRoutes(app, deps);
  await adjustmentRoutes(app, deps);
  await prepaidRoutes(app, deps);
  await chargeRoutes(app, deps);
}
