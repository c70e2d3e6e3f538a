import {
  BILLING_MESSAGES,
  type Bilingual,
  type Bill,
  type BilledVersion,
  type BillInput,
  billedVersionChanges,
  calculateBill,
  DomainError,
  TARIFF_EDIT_MESSAGES,
  type Tariff,
  type TariffVersion,
  todayInChina,
  validateBillInput,
  validateTariff,
  versionOn,
} from '@meterline/domain';
import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { audit, diff } from '../platform/audit.ts';
import { type RequestContext, requireCaller } from '../platform/context.ts';
import { notFound, versionConflict } from '../platform/errors.ts';

/**
 * Tariffs as data (DOMAIN.md §4, docs/billing.md "Tariff administration"): one tariff per usage
 * type in `tariff`, its versions in `tariff_version`. The rules are the domain's: validateTariff
 * before anything is stored, billedVersionChanges so no bill is repriced retroactively, and
 * calculateBill for the preview. This file loads, stores and audits.
 */

type Db = Kysely<DB> | Transaction<DB>;

/** What a `tariff_version.body` holds: the domain's TariffVersion without its label and dates. */
type VersionBody = Pick<TariffVersion, 'charge' | 'surcharges' | 'minimumChargeFenPerMonth'>;

/** The editable part of a tariff, as submitted (the usage type comes from the path). */
export interface TariffEdit {
  chargeName: Bilingual;
  versions: TariffVersion[];
}

export interface StaffRef {
  staffId: number;
  fullName: string;
}

export interface TariffSummary {
  usageType: string;
  utility: string;
  name: Bilingual;
  active: boolean;
  /** Whether the usage type has a tariff yet; a usage type without one cannot be billed. */
  configured: boolean;
  chargeName: Bilingual | null;
  /** Optimistic lock: send it back with an edit; 0 while there is no tariff. */
  revision: number;
  versionCount: number;
  /** The version in effect today (China), or null. */
  current: TariffVersion | null;
  /** The next version to take effect after today, if one is planned. */
  next: { version: string; effectiveFrom: string } | null;
  updatedAt: string | null;
  updatedBy: StaffRef | null;
}

export interface TariffDetail extends TariffSummary {
  /** Every version, by effective date. */
  versions: TariffVersion[];
  /** Versions standing bills were priced with: their prices and billed days are fixed. */
  billed: BilledVersion[];
  /** A charge name to start from when the usage type has no tariff yet. */
  suggestedChargeName: Bilingual;
}

export interface PreviewInput {
  usageType?: string | undefined;
  tariff?: TariffEdit | undefined;
  volumeM3: string;
  periodFrom: string;
  periodTo: string;
  annualUsedM3?: string | undefined;
  lowIncome?: { reductionM3PerMonth: string } | null | undefined;
}

const SUGGESTED_CHARGE_NAMES: Record<string, Bilingual> = {
  water: { 'zh-CN': '水费', en: 'Water charge' },
  gas: { 'zh-CN': '燃气费', en: 'Gas charge' },
  catv: { 'zh-CN': '收视费', en: 'Service charge' },
};

/** `versions[1].charge.blocks[0].toM3` → `versions.1.charge.blocks.0.toM3`, the API's field paths. */
export function apiPath(domainPath: string): string {
  return domainPath.replace(/\[(\d+)\]/g, '.$1');
}

function toVersion(row: {
  version: string;
  effective_from: string;
  effective_to: string | null;
  body: unknown;
}): TariffVersion {
  const body = row.body as VersionBody;
  return {
    version: row.version,
    effectiveFrom: row.effective_from,
    effectiveTo: row.effective_to,
    charge: body.charge,
    surcharges: body.surcharges ?? [],
    minimumChargeFenPerMonth: body.minimumChargeFenPerMonth ?? null,
  };
}

function byEffectiveDate(a: TariffVersion, b: TariffVersion): number {
  return a.effectiveFrom.localeCompare(b.effectiveFrom) || a.version.localeCompare(b.version);
}

async function versionRows(db: Db, usageTypes?: string[]) {
  let q = db
    .selectFrom('tariff_version')
    .select(['usage_type_code', 'version', 'effective_from', 'effective_to', 'body']);
  if (usageTypes) q = q.where('usage_type_code', 'in', usageTypes);
  return q.orderBy('usage_type_code').orderBy('effective_from').execute();
}

/** The stored tariff of a usage type, as the domain's Tariff; null when it has none. */
export async function loadTariff(db: Db, usageType: string): Promise<Tariff | null> {
  const row = await db
    .selectFrom('tariff')
    .select(['charge_name_zh', 'charge_name_en'])
    .where('usage_type_code', '=', usageType)
    .executeTakeFirst();
  if (!row) return null;
  const versions = (await versionRows(db, [usageType])).map(toVersion).sort(byEffectiveDate);
  return { usageType, chargeName: { 'zh-CN': row.charge_name_zh, en: row.charge_name_en }, versions };
}

/** Every stored tariff by usage type (a bill run loads them once). */
export async function loadTariffs(db: Db): Promise<Map<string, Tariff>> {
  const [heads, rows] = await Promise.all([
    db.selectFrom('tariff').select(['usage_type_code', 'charge_name_zh', 'charge_name_en']).execute(),
    versionRows(db),
  ]);
  const out = new Map<string, Tariff>();
  for (const h of heads)
    out.set(h.usage_type_code, {
      usageType: h.usage_type_code,
      chargeName: { 'zh-CN': h.charge_name_zh, en: h.charge_name_en },
      versions: [],
    });
  for (const r of rows) out.get(r.usage_type_code)?.versions.push(toVersion(r));
  for (const t of out.values()) t.versions.sort(byEffectiveDate);
  return out;
}

/**
 * The versions standing bills of a usage type were priced with, and the days they priced. Reads
 * every bill line of the usage type: an admin's save, not a per-bill path.
 */
export async function billedVersions(db: Db, usageType: string): Promise<BilledVersion[]> {
  const { rows } = await sql<{ version: string; first_day: string; last_day: string; bills: number }>`
    select bl.tariff_version as version,
           min(coalesce(bl.from_date, b.period_from)) as first_day,
           max(coalesce(bl.to_date, b.period_to)) as last_day,
           count(distinct (b.account_id, b.bill_id))::int as bills
    from bill b
    join bill_line bl on bl.account_id = b.account_id and bl.bill_id = b.bill_id
    where b.usage_type_code = ${usageType}
      and b.status <> 'cancelled'
      and bl.tariff_version is not null
    group by bl.tariff_version
    order by min(coalesce(bl.from_date, b.period_from))`.execute(db);
  return rows.map((r) => ({
    version: r.version,
    firstDay: r.first_day,
    lastDay: r.last_day,
    bills: r.bills,
  }));
}

/** One problem list as the API's error: field paths in dot notation, reasons in both languages. */
function problemsError(
  code: string,
  messages: Bilingual,
  problems: { path: string; code: string; messages: Bilingual }[],
  prefix = '',
): DomainError {
  return new DomainError(
    code,
    { count: problems.length },
    messages,
    problems.map((p) => ({ path: `${prefix}${apiPath(p.path)}`, code: p.code, messages: p.messages })),
  );
}

const usageTypeRequired = () =>
  new DomainError(
    'VALIDATION',
    {},
    { 'zh-CN': '请选择用水性质或提供水价方案', en: 'Name a usage type or send a tariff' },
    [{ path: 'usageType', code: 'REQUIRED', messages: { 'zh-CN': '必填', en: 'Required' } }],
  );

/** Paths of bill-input problems as the preview's fields. */
const PREVIEW_PATHS: Record<string, string> = {
  'reading.consumptionM3': 'volumeM3',
  'annualBlockUsed.volumeM3': 'annualUsedM3',
  'annualBlockUsed.year': 'periodFrom',
};

export class TariffService {
  constructor(private readonly db: Kysely<DB>) {}

  private async summaries(usageType?: string): Promise<(TariffSummary & { versions: TariffVersion[] })[]> {
    let q = this.db
      .selectFrom('usage_type as u')
      .leftJoin('tariff as t', 't.usage_type_code', 'u.code')
      .leftJoin('staff as s', 's.staff_id', 't.updated_by')
      .select([
        'u.code',
        'u.utility',
        'u.name_zh',
        'u.name_en',
        'u.active',
        't.charge_name_zh',
        't.charge_name_en',
        't.revision',
        't.updated_at',
        't.updated_by',
        's.full_name',
      ]);
    if (usageType !== undefined) q = q.where('u.code', '=', usageType);
    const heads = await q.orderBy('u.sort_order').orderBy('u.code').execute();
    const rows = await versionRows(this.db, usageType === undefined ? undefined : [usageType]);
    const versionsOf = new Map<string, TariffVersion[]>();
    for (const r of rows) {
      const list = versionsOf.get(r.usage_type_code) ?? [];
      list.push(toVersion(r));
      versionsOf.set(r.usage_type_code, list);
    }
    const today = todayInChina();
    return heads.map((h) => {
      const configured = h.revision !== null;
      const versions = (versionsOf.get(h.code) ?? []).sort(byEffectiveDate);
      const chargeName: Bilingual | null = configured
        ? { 'zh-CN': h.charge_name_zh ?? '', en: h.charge_name_en ?? '' }
        : null;
      const next = versions.find((v) => v.effectiveFrom > today);
      return {
        usageType: h.code,
        utility: h.utility,
        name: { 'zh-CN': h.name_zh, en: h.name_en },
        active: h.active,
        configured,
        chargeName,
        revision: h.revision ?? 0,
        versionCount: versions.length,
        current: configured
          ? versionOn({ usageType: h.code, chargeName: chargeName!, versions }, today)
          : null,
        next: next ? { version: next.version, effectiveFrom: next.effectiveFrom } : null,
        updatedAt: h.updated_at ? new Date(h.updated_at).toISOString() : null,
        updatedBy:
          h.updated_by !== null && h.updated_by !== undefined
            ? { staffId: h.updated_by, fullName: h.full_name ?? '' }
            : null,
        versions,
      };
    });
  }

  /** Every usage type with its tariff's current version (or none yet). */
  async list(): Promise<{ today: string; items: TariffSummary[] }> {
    const items = (await this.summaries()).map(({ versions: _versions, ...summary }) => summary);
    return { today: todayInChina(), items };
  }

  /** One usage type's tariff with all its versions and the versions bills were priced with. */
  async get(usageType: string): Promise<TariffDetail> {
    const [summary] = await this.summaries(usageType);
    if (!summary) throw notFound('usageType', usageType);
    const billed = summary.configured ? await billedVersions(this.db, usageType) : [];
    return {
      ...summary,
      billed,
      suggestedChargeName: SUGGESTED_CHARGE_NAMES[summary.utility] ?? SUGGESTED_CHARGE_NAMES.water!,
    };
  }

  /**
   * Replaces a usage type's tariff (its charge name and every version) in one transaction: refused
   * with field-level reasons when validateTariff finds problems, with 409 when `revision` is not
   * the stored one (0 to create), and when it would reprice days bills were already priced for.
   */
  async save(
    ctx: RequestContext,
    usageType: string,
    body: TariffEdit & { revision: number },
  ): Promise<TariffDetail> {
    const caller = requireCaller(ctx);
    const exists = await this.db
      .selectFrom('usage_type')
      .select('code')
      .where('code', '=', usageType)
      .executeTakeFirst();
    if (!exists) throw notFound('usageType', usageType);
    const tariff: Tariff = { usageType, chargeName: body.chargeName, versions: body.versions };
    const problems = validateTariff(tariff);
    if (problems.length > 0) throw problemsError('TARIFF_INVALID', BILLING_MESSAGES.TARIFF_INVALID, problems);

    await this.db.transaction().execute(async (trx) => {
      const head = await trx
        .selectFrom('tariff')
        .select(['revision', 'charge_name_zh', 'charge_name_en'])
        .where('usage_type_code', '=', usageType)
        .forUpdate()
        .executeTakeFirst();
      if ((head?.revision ?? 0) !== body.revision) throw versionConflict();
      const before = head ? (await versionRows(trx, [usageType])).map(toVersion).sort(byEffectiveDate) : [];
      if (head) {
        const retroactive = billedVersionChanges(
          before,
          tariff.versions,
          await billedVersions(trx, usageType),
        );
        if (retroactive.length > 0)
          throw problemsError(
            'TARIFF_VERSION_BILLED',
            TARIFF_EDIT_MESSAGES.TARIFF_VERSION_BILLED,
            retroactive,
          );
        await trx
          .updateTable('tariff')
          .set({
            charge_name_zh: tariff.chargeName['zh-CN'],
            charge_name_en: tariff.chargeName.en,
            revision: body.revision + 1,
            updated_by: caller.staffId,
            updated_at: new Date(),
          })
          .where('usage_type_code', '=', usageType)
          .execute();
      } else {
        const created = await trx
          .insertInto('tariff')
          .values({
            usage_type_code: usageType,
            charge_name_zh: tariff.chargeName['zh-CN'],
            charge_name_en: tariff.chargeName.en,
            revision: 1,
            updated_by: caller.staffId,
          })
          .onConflict((oc) => oc.column('usage_type_code').doNothing())
          .returning('revision')
          .executeTakeFirst();
        // Someone created it since this edit started.
        if (!created) throw versionConflict();
      }
      await trx.deleteFrom('tariff_version').where('usage_type_code', '=', usageType).execute();
      await trx
        .insertInto('tariff_version')
        .values(
          tariff.versions.map((v) => ({
            usage_type_code: usageType,
            version: v.version,
            effective_from: v.effectiveFrom,
            effective_to: v.effectiveTo,
            body: JSON.stringify({
              charge: v.charge,
              surcharges: v.surcharges,
              minimumChargeFenPerMonth: v.minimumChargeFenPerMonth,
            } satisfies VersionBody),
          })),
        )
        .execute();
      const after = { chargeName: tariff.chargeName, versions: [...tariff.versions].sort(byEffectiveDate) };
      const changes = head
        ? diff(
            {
              chargeName: { 'zh-CN': head.charge_name_zh, en: head.charge_name_en },
              versions: before,
            },
            after,
          )
        : { before: null, after };
      await audit(trx, ctx, {
        entityType: 'tariff',
        entityId: usageType,
        action: head ? 'update' : 'create',
        officeId: null,
        before: changes.before,
        after: changes.after,
      });
    });
    return this.get(usageType);
  }

  /**
   * What a volume costs under a stored tariff or an edited one not saved yet: calculateBill's bill
   * (lines, total, explanation) for a volume over a period, optionally after earlier annual usage
   * and with a low-income reduction. Field paths of an unsaved tariff's problems start `tariff.`.
   */
  async preview(input: PreviewInput): Promise<Bill> {
    let tariff: Tariff;
    if (input.tariff) {
      tariff = { usageType: input.usageType ?? 'preview', ...input.tariff };
      const problems = validateTariff(tariff);
      if (problems.length > 0)
        throw problemsError('TARIFF_INVALID', BILLING_MESSAGES.TARIFF_INVALID, problems, 'tariff.');
    } else if (input.usageType) {
      const stored = await loadTariff(this.db, input.usageType);
      if (!stored) throw notFound('tariff', input.usageType);
      tariff = stored;
    } else {
      throw usageTypeRequired();
    }
    const billInput: BillInput = {
      tariff,
      periodFrom: input.periodFrom,
      periodTo: input.periodTo,
      reading: { kind: 'volume', consumptionM3: input.volumeM3 },
      lowIncome: input.lowIncome ?? null,
      annualBlockUsed:
        input.annualUsedM3 !== undefined && /^\d{4}-/.test(input.periodFrom)
          ? { year: Number(input.periodFrom.slice(0, 4)), volumeM3: input.annualUsedM3 }
          : null,
    };
    const problems = validateBillInput(billInput).map((p) => ({
      ...p,
      path: PREVIEW_PATHS[p.path] ?? p.path,
    }));
    if (problems.length > 0)
      throw problemsError('BILL_INPUT_INVALID', BILLING_MESSAGES.BILL_INPUT_INVALID, problems);
    return calculateBill(billInput);
  }
}
