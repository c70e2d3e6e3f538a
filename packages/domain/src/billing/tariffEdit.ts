import { Decimal } from 'decimal.js';
import { type Bilingual, formatMessage } from '../platform/errors.ts';
import type { TariffVersion } from './tariff.ts';

/**
 * Tariff changes take effect on a date (DOMAIN.md §4): a new price is a new version, never a
 * rewrite of one that bills were already priced with. A version used by bills keeps its prices,
 * and its effective dates keep covering every day those bills priced with it; closing it on a
 * later day (to start a new version) or extending it stays allowed.
 */

/** The days bills priced with one version of a usage type's tariff (cancelled bills left out). */
export interface BilledVersion {
  version: string;
  /** First and last day a standing bill's line priced with this version (YYYY-MM-DD). */
  firstDay: string;
  lastDay: string;
  bills: number;
}

export const TARIFF_EDIT_MESSAGES = {
  TARIFF_VERSION_BILLED: {
    'zh-CN': '已开账的水价版本不能追溯修改（{count} 处）',
    en: 'Versions already used by bills cannot be changed retroactively ({count} problem(s))',
  },
  BILLED_VERSION_REMOVED: {
    'zh-CN': '版本 {version} 已用于 {bills} 张账单（{firstDay} 至 {lastDay}），不能删除或改名',
    en: 'Version {version} priced {bills} bill(s) ({firstDay} to {lastDay}); it cannot be removed or renamed',
  },
  BILLED_VERSION_PRICE: {
    'zh-CN':
      '版本 {version} 已用于 {bills} 张账单（{firstDay} 至 {lastDay}），价格不能修改；新价格请新增版本，自调价日起生效',
    en: 'Version {version} priced {bills} bill(s) ({firstDay} to {lastDay}); its prices cannot change. Add a new version from the day the new price applies',
  },
  BILLED_VERSION_STARTS_LATER: {
    'zh-CN': '版本 {version} 已用于 {firstDay} 起的账单，生效日期不能晚于 {firstDay}',
    en: 'Version {version} priced bills from {firstDay}; it cannot start later than that',
  },
  BILLED_VERSION_ENDS_EARLIER: {
    'zh-CN': '版本 {version} 已用于截至 {lastDay} 的账单，失效日期不能早于 {lastDay}',
    en: 'Version {version} priced bills up to {lastDay}; it cannot end before that',
  },
} satisfies Record<string, Bilingual>;

export type TariffEditCode = keyof typeof TARIFF_EDIT_MESSAGES;

export interface TariffEditProblem {
  path: string;
  code: TariffEditCode;
  messages: Bilingual;
}

/** Problems reported per version at most, so a rewritten block table reads as a few lines. */
const MAX_PROBLEMS_PER_VERSION = 12;

function editProblem(path: string, code: TariffEditCode, data: Record<string, unknown>): TariffEditProblem {
  const m = TARIFF_EDIT_MESSAGES[code];
  return {
    path,
    code,
    messages: { 'zh-CN': formatMessage(m['zh-CN'], data), en: formatMessage(m.en, data) },
  };
}

/** The priced parts of a version: the charge, the surcharges' codes and prices, the minimum. */
function pricedParts(v: TariffVersion): unknown {
  return {
    charge: v.charge,
    surcharges: v.surcharges.map((s) => ({ code: s.code, priceFenPerM3: s.priceFenPerM3 })),
    minimumChargeFenPerMonth: v.minimumChargeFenPerMonth,
  };
}

function sameLeaf(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  // '210' and '210.00' are the same price.
  if (typeof a === 'string' && typeof b === 'string') {
    try {
      return new Decimal(a).eq(new Decimal(b));
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * Paths (in the domain's `a.b[0].c` notation) where the new value differs from the old; a part that
 * only the old one has is reported at its parent (a removed block changes the block list).
 */
function differences(before: unknown, after: unknown, path: string, out: string[]): void {
  if (out.length >= MAX_PROBLEMS_PER_VERSION) return;
  const bothArrays = Array.isArray(before) && Array.isArray(after);
  const bothObjects =
    !bothArrays &&
    before !== null &&
    after !== null &&
    typeof before === 'object' &&
    typeof after === 'object' &&
    !Array.isArray(before) &&
    !Array.isArray(after);
  if (bothArrays) {
    if (after.length < before.length) out.push(path);
    after.forEach((x, i) => {
      differences(before[i], x, `${path}[${i}]`, out);
    });
    return;
  }
  if (bothObjects) {
    const b = before as Record<string, unknown>;
    const a = after as Record<string, unknown>;
    if (Object.keys(b).some((k) => b[k] !== undefined && a[k] === undefined)) out.push(path);
    for (const key of Object.keys(a)) {
      if (a[key] === undefined) continue;
      differences(b[key], a[key], path ? `${path}.${key}` : key, out);
    }
    return;
  }
  if (!sameLeaf(before, after)) out.push(path);
}

/**
 * What an edit would change retroactively: for each version bills were priced with, whether the
 * edited tariff still has it, at the same prices, in effect on every day those bills priced. Paths
 * point into `after` (`versions[2].charge.blocks[0].priceFenPerM3`); empty when the edit is allowed.
 */
export function billedVersionChanges(
  before: TariffVersion[],
  after: TariffVersion[],
  billed: BilledVersion[],
): TariffEditProblem[] {
  const out: TariffEditProblem[] = [];
  for (const used of billed) {
    const old = before.find((v) => v.version === used.version);
    if (!old) continue; // not part of the tariff being edited (nothing to compare with)
    const data = { ...used };
    const i = after.findIndex((v) => v.version === used.version);
    if (i < 0) {
      out.push(editProblem('versions', 'BILLED_VERSION_REMOVED', data));
      continue;
    }
    const now = after[i]!;
    const path = `versions[${i}]`;
    if (typeof now.effectiveFrom === 'string' && now.effectiveFrom > used.firstDay)
      out.push(editProblem(`${path}.effectiveFrom`, 'BILLED_VERSION_STARTS_LATER', data));
    if (typeof now.effectiveTo === 'string' && now.effectiveTo < used.lastDay)
      out.push(editProblem(`${path}.effectiveTo`, 'BILLED_VERSION_ENDS_EARLIER', data));
    const changed: string[] = [];
    differences(pricedParts(old), pricedParts(now), '', changed);
    for (const p of changed) out.push(editProblem(p ? `${path}.${p}` : path, 'BILLED_VERSION_PRICE', data));
  }
  return out;
}
