import {
  DUNNING_ANCHORS,
  DUNNING_CHANNELS,
  DUNNING_CONDITIONS,
  DUNNING_UNITS,
  type DunningPolicy,
  type DunningProblem,
  type DunningStep,
  MESSAGE_TEMPLATE_FIELDS,
  todayInChina,
  validatePolicy,
  validateTemplate,
} from '@meterline/domain';
import type { Kysely, Transaction } from 'kysely';
import { loadWorkingCalendar } from '../calendar/load.ts';
import type { DB } from '../db/schema.ts';
import { audit } from '../platform/audit.ts';
import { type RequestContext, requireCaller } from '../platform/context.ts';
import { fieldErrors, notFound } from '../platform/errors.ts';
import { loadSettings } from '../platform/settings.ts';
import { dunningDefaults, loadPolicy, loadTemplates, type TemplateRow } from './dunning.ts';

/**
 * The dunning policy and its message templates as data (docs/dunning.md): read what is in force,
 * store a new policy version (from an effective date) or a new template version, each validated
 * by the domain (validatePolicy, validateTemplate) with field-level reasons, and audited.
 */

const problemsToError = (problems: DunningProblem[]) =>
  fieldErrors(
    problems.map((p) => ({ path: p.path, code: p.code, messages: p.messages })),
    {},
  );

export interface PolicyView {
  /** The policy in force today. */
  current: DunningPolicy & { stored: boolean; policyId: number | null };
  /** Stored versions, newest first (a future one is scheduled). */
  versions: {
    policyId: number;
    effectiveFrom: string;
    steps: DunningStep[];
    note: string;
    createdAt: string;
  }[];
  /** DOMAIN.md's default built from the settings (what applies while nothing is stored). */
  defaults: DunningPolicy;
  templates: TemplateRow[];
  options: {
    anchors: readonly string[];
    units: readonly string[];
    channels: readonly string[];
    conditions: readonly string[];
    fields: { name: string; zh: string; en: string }[];
  };
}

export async function policyView(db: Kysely<DB>): Promise<PolicyView> {
  const today = todayInChina();
  const [inForce, versions, templates, settings] = await Promise.all([
    loadPolicy(db, today),
    db.selectFrom('dunning_policy').selectAll().orderBy('effective_from', 'desc').limit(50).execute(),
    loadTemplates(db),
    loadSettings(db),
  ]);
  return {
    current: { ...inForce.policy, stored: inForce.stored, policyId: inForce.policyId },
    versions: versions.map((v) => ({
      policyId: Number(v.policy_id),
      effectiveFrom: v.effective_from,
      steps: v.steps as DunningStep[],
      note: v.note,
      createdAt: v.created_at.toISOString(),
    })),
    defaults: dunningDefaults(settings),
    templates: [...templates.values()].sort((a, b) => a.code.localeCompare(b.code)),
    options: {
      anchors: DUNNING_ANCHORS,
      units: DUNNING_UNITS,
      channels: DUNNING_CHANNELS,
      conditions: DUNNING_CONDITIONS,
      fields: Object.entries(MESSAGE_TEMPLATE_FIELDS).map(([name, m]) => ({
        name,
        zh: m['zh-CN'],
        en: m.en,
      })),
    },
  };
}

const PAST_DATE = {
  'zh-CN': '生效日期不能早于今天：已执行的催缴不改写',
  en: 'The effective date cannot be before today: dunning already done is not rewritten',
};

/** Validates and stores a policy version (one per effective date: a later save of the same date replaces it). */
export async function savePolicy(
  trx: Transaction<DB>,
  ctx: RequestContext,
  input: { effectiveFrom: string; steps: DunningStep[]; note?: string | undefined },
): Promise<PolicyView['versions'][number]> {
  const caller = requireCaller(ctx);
  const policy: DunningPolicy = { effectiveFrom: input.effectiveFrom, steps: input.steps };
  const [templates, settings] = await Promise.all([loadTemplates(trx), loadSettings(trx)]);
  const validDate =
    /^\d{4}-\d{2}-\d{2}$/.test(input.effectiveFrom) && !Number.isNaN(Date.parse(input.effectiveFrom));
  const from = validDate ? input.effectiveFrom : todayInChina();
  const calendar = await loadWorkingCalendar(trx, from, `${Number(from.slice(0, 4)) + 2}-12-31`);
  const problems = validatePolicy(policy, {
    templates: [...templates.values()],
    calendar,
    dueDays: Number(settings['billing.dueDays']),
  });
  if (problems.length === 0 && input.effectiveFrom < todayInChina())
    throw fieldErrors([{ path: 'effectiveFrom', code: 'POLICY_DATE_PAST', messages: PAST_DATE }]);
  if (problems.length) throw problemsToError(problems);
  const before = await trx
    .selectFrom('dunning_policy')
    .selectAll()
    .where('effective_from', '=', input.effectiveFrom)
    .executeTakeFirst();
  const row = await trx
    .insertInto('dunning_policy')
    .values({
      effective_from: input.effectiveFrom,
      steps: JSON.stringify(input.steps),
      note: input.note ?? '',
      created_by: caller.staffId,
    })
    .onConflict((oc) =>
      oc.column('effective_from').doUpdateSet({
        steps: JSON.stringify(input.steps),
        note: input.note ?? '',
        created_by: caller.staffId,
        created_at: new Date(),
      }),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  await audit(trx, ctx, {
    entityType: 'dunning_policy',
    entityId: row.policy_id,
    action: before ? 'dunning_policy_replace' : 'dunning_policy_create',
    officeId: null,
    before: before ? { effectiveFrom: before.effective_from, steps: before.steps } : null,
    after: { effectiveFrom: row.effective_from, steps: input.steps, note: row.note },
  });
  return {
    policyId: Number(row.policy_id),
    effectiveFrom: row.effective_from,
    steps: row.steps as DunningStep[],
    note: row.note,
    createdAt: row.created_at.toISOString(),
  };
}

export async function getTemplate(db: Kysely<DB>, code: string): Promise<TemplateRow & { versions: number }> {
  const templates = await loadTemplates(db);
  const t = templates.get(code);
  if (!t) throw notFound('template', code);
  const count = await db
    .selectFrom('message_template')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('code', '=', code)
    .executeTakeFirst();
  return { ...t, versions: Number(count?.n ?? 0) };
}

/** Validates and stores a new version of a template (a new code creates it). */
export async function saveTemplate(
  trx: Transaction<DB>,
  ctx: RequestContext,
  code: string,
  input: { channel: string; name: string; body: string },
): Promise<TemplateRow> {
  const caller = requireCaller(ctx);
  const problems = validateTemplate({ code, channel: input.channel, body: input.body });
  if (input.name.trim() === '')
    problems.push({
      path: 'name',
      code: 'TEMPLATE_NAME_REQUIRED',
      data: {},
      messages: { 'zh-CN': '请填写模板名称', en: 'Give the template a name' },
    });
  const previous = (await loadTemplates(trx)).get(code);
  if (previous && previous.channel !== input.channel) {
    // A step naming this template would no longer match its channel.
    const policies = await trx
      .selectFrom('dunning_policy')
      .select(['effective_from', 'steps'])
      .where('effective_from', '>=', (await loadPolicy(trx, todayInChina())).policy.effectiveFrom)
      .execute();
    const inForce = policies.length
      ? policies.map((p) => p.steps as DunningStep[])
      : [(await loadPolicy(trx, todayInChina())).policy.steps];
    const step = inForce.flat().find((st) => st.template === code);
    if (step)
      problems.push({
        path: 'channel',
        code: 'TEMPLATE_CHANNEL_IN_USE',
        data: { step: step.code },
        messages: {
          'zh-CN': `催缴步骤 ${step.code} 使用此模板（${previous.channel}），不能改为其他渠道`,
          en: `Dunning step ${step.code} uses this template on ${previous.channel}; its channel cannot change`,
        },
      });
  }
  if (problems.length) throw problemsToError(problems);
  const last = await trx
    .selectFrom('message_template')
    .select('version')
    .where('code', '=', code)
    .orderBy('version', 'desc')
    .limit(1)
    .forUpdate()
    .executeTakeFirst();
  const row = await trx
    .insertInto('message_template')
    .values({
      code,
      version: (last?.version ?? 0) + 1,
      channel: input.channel as TemplateRow['channel'],
      name: input.name.trim(),
      body: input.body,
      created_by: caller.staffId,
    })
    .returning(['code', 'version', 'channel', 'name', 'body'])
    .executeTakeFirstOrThrow();
  await audit(trx, ctx, {
    entityType: 'message_template',
    entityId: `${code}/${row.version}`,
    action: previous ? 'message_template_update' : 'message_template_create',
    officeId: null,
    before: previous ? { channel: previous.channel, name: previous.name, body: previous.body } : null,
    after: { channel: row.channel, name: row.name, body: row.body, version: row.version },
  });
  return row;
}
