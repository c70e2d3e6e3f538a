import {
  CALIBERS_DN,
  CUSTOMER_STATES,
  METER_DIRECTIONS,
  METER_ROLES,
  MOUNTINGS,
  PERMISSION_LABELS,
  PERMISSIONS,
  STATE_TRANSITIONS,
  UTILITIES,
} from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { AppDeps } from '../platform/context.ts';
import { loadSettings } from '../platform/settings.ts';

/** Code lists the back office needs to build its forms. */
export async function metaRoutes(app: FastifyInstance, { db }: AppDeps) {
  app.get(
    '/api/meta',
    {
      config: { signedIn: true },
      schema: { tags: ['meta'], summary: 'Code lists: states, transitions, usage types, meter attributes' },
    },
    async () => {
      const [usageTypes, anomalyCodes, settings] = await Promise.all([
        db
          .selectFrom('usage_type')
          .selectAll()
          .where('active', '=', true)
          .orderBy('utility')
          .orderBy('sort_order')
          .execute(),
        db
          .selectFrom('anomaly_code')
          .selectAll()
          .where('active', '=', true)
          .orderBy('sort_order')
          .orderBy('code')
          .execute(),
        loadSettings(db),
      ]);
      return {
        states: CUSTOMER_STATES,
        transitions: Object.fromEntries(
          Object.entries(STATE_TRANSITIONS).map(([from, tos]) => [from, Object.keys(tos)]),
        ),
        utilities: UTILITIES,
        calibersDn: CALIBERS_DN,
        meterRoles: METER_ROLES,
        mountings: MOUNTINGS,
        directions: METER_DIRECTIONS,
        permissions: PERMISSIONS.map((p) => ({ code: p, label: PERMISSION_LABELS[p] })),
        usageTypes,
        anomalyCodes,
        icCardAboveFloor: settings['meter.icCardAboveFloor'],
        defaultLowIncomeReductionM3: settings['lowIncome.defaultReductionM3'],
        documentMaxBytes: settings['documents.maxBytes'],
      };
    },
  );
}
