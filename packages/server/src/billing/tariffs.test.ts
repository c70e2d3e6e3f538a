import { calculateBill, type Tariff, type TariffVersion } from '@meterline/domain';
import { RESIDENTIAL as TEST_RESIDENTIAL, WATER } from '@meterline/domain/billing/testTariffs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';
import { loadTariff } from './tariffs.ts';

/**
 * Tariff administration (issue 4, DOMAIN.md §4): tariffs as data versioned by effective date, edited
 * by finance with every problem refused with its reason on the field, never repricing a billed day,
 * and a preview of what a volume costs that is calculateBill's own answer.
 */

let t: TestApp;

// The domain's test tariff: the 2024 and 2025 versions of a 3-tier household tariff.
const [V2024, V2025] = TEST_RESIDENTIAL.versions as [TariffVersion, TariffVersion];
const RESIDENTIAL: Tariff = { ...TEST_RESIDENTIAL, usageType: 'W_RES' };

const copy = <T>(x: T): T => structuredClone(x);

interface Field {
  path: string;
  code: string;
  message: string;
}

/** The W_RES tariff as this file expects it, whatever a demo seed stored. */
async function resetResidential(): Promise<void> {
  await t.db.deleteFrom('tariff').where('usage_type_code', '=', 'W_RES').execute();
  await t.db
    .insertInto('tariff')
    .values({ usage_type_code: 'W_RES', charge_name_zh: '水费', charge_name_en: 'Water charge', revision: 1 })
    .execute();
  await t.db
    .insertInto('tariff_version')
    .values(
      RESIDENTIAL.versions.map((v) => ({
        usage_type_code: 'W_RES',
        version: v.version,
        effective_from: v.effectiveFrom,
        effective_to: v.effectiveTo,
        body: JSON.stringify({
          charge: v.charge,
          surcharges: v.surcharges,
          minimumChargeFenPerMonth: v.minimumChargeFenPerMonth,
        }),
      })),
    )
    .execute();
}

async function revisionOf(usageType: string): Promise<number> {
  const row = await t.db
    .selectFrom('tariff')
    .select('revision')
    .where('usage_type_code', '=', usageType)
    .executeTakeFirst();
  return row?.revision ?? 0;
}

function put(username: string, usageType: string, body: unknown, lang?: 'en') {
  return t.as(username)({
    method: 'PUT',
    url: `/api/tariffs/${usageType}`,
    payload: body,
    headers: lang ? { 'accept-language': 'en' } : {},
  });
}

beforeAll(async () => {
  t = await createTestApp({ customers: 3 });
  await t.db
    .insertInto('usage_type')
    .values({
      code: 'W_TEST',
      utility: 'water',
      name_zh: '测试用水',
      name_en: 'Test water',
      price_class: 'non_residential',
      sort_order: 999,
    })
    .execute();
});

afterAll(async () => {
  expect(t.built.unaudited).toEqual([]);
  await t.close();
});

describe('reading tariffs', () => {
  it('lists every usage type with the version in effect today', async () => {
    await resetResidential();
    const res = await t.as('clerk')({ method: 'GET', url: '/api/tariffs' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.today).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const res_ = body.items.find((i: { usageType: string }) => i.usageType === 'W_RES');
    expect(res_).toMatchObject({
      configured: true,
      chargeName: WATER,
      revision: 1,
      versionCount: 2,
      name: { 'zh-CN': '居民生活用水', en: 'Residential water' },
      current: V2025,
      next: null,
    });
    expect(body.items.find((i: { usageType: string }) => i.usageType === 'W_TEST')).toMatchObject({
      configured: false,
      revision: 0,
      current: null,
      chargeName: null,
    });
    // A reader (customer.read) may look prices up too.
    expect((await t.as('reader')({ method: 'GET', url: '/api/tariffs' })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'GET', url: '/api/tariffs' })).statusCode).toBe(401);
  });

  it('gets one tariff with every version by effective date', async () => {
    await resetResidential();
    const res = await t.as('clerk')({ method: 'GET', url: '/api/tariffs/W_RES' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      usageType: 'W_RES',
      revision: 1,
      versions: [V2024, V2025],
      billed: [],
    });
    const none = await t.as('clerk')({ method: 'GET', url: '/api/tariffs/W_TEST' });
    expect(none.json()).toMatchObject({ configured: false, versions: [], suggestedChargeName: WATER });
    expect((await t.as('clerk')({ method: 'GET', url: '/api/tariffs/NOPE' })).statusCode).toBe(404);
  });
});

describe('editing a tariff (tariff.admin)', () => {
  it('saves a new version: the current one closed the day before, audited with before and after', async () => {
    await resetResidential();
    const current = copy(V2025);
    current.effectiveTo = '2026-12-31';
    const next = copy(V2025);
    next.version = '2027-01';
    next.effectiveFrom = '2027-01-01';
    next.effectiveTo = null;
    if (next.charge.kind === 'blocks') next.charge.blocks[0]!.priceFenPerM3 = '260';
    const res = await put('finance', 'W_RES', {
      chargeName: WATER,
      versions: [V2024, current, next],
      revision: 1,
    });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.revision).toBe(2);
    expect(body.versions.map((v: TariffVersion) => v.version)).toEqual(['2024-01', '2025-07', '2027-01']);
    expect(body.next).toEqual({ version: '2027-01', effectiveFrom: '2027-01-01' });
    expect(body.updatedBy.fullName).toBe('郑红');
    expect(await loadTariff(t.db, 'W_RES')).toEqual({ ...RESIDENTIAL, versions: [V2024, current, next] });

    const entry = await t.db
      .selectFrom('audit_log')
      .selectAll()
      .where('entity_type', '=', 'tariff')
      .where('entity_id', '=', 'W_RES')
      .orderBy('audit_id', 'desc')
      .executeTakeFirstOrThrow();
    expect(entry.action).toBe('update');
    expect(entry.office_id).toBeNull();
    const before = entry.before as { versions: TariffVersion[] };
    const after = entry.after as { versions: TariffVersion[]; chargeName?: unknown };
    expect(before.versions.map((v) => v.effectiveTo)).toEqual(['2025-06-30', null]);
    expect(after.versions.map((v) => v.version)).toEqual(['2024-01', '2025-07', '2027-01']);
    // The charge name did not change, so the entry does not repeat it.
    expect(after.chargeName).toBeUndefined();
  });

  it('creates the tariff of a usage type that had none (revision 0), once', async () => {
    const flat: TariffVersion = {
      version: '2026-01',
      effectiveFrom: '2026-01-01',
      effectiveTo: null,
      charge: { kind: 'flat', priceFenPerM3: '425' },
      surcharges: [],
      minimumChargeFenPerMonth: 1000,
    };
    const res = await put('admin', 'W_TEST', { chargeName: WATER, versions: [flat], revision: 0 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ configured: true, revision: 1, current: flat });
    const entry = await t.db
      .selectFrom('audit_log')
      .select(['action', 'before', 'after'])
      .where('entity_type', '=', 'tariff')
      .where('entity_id', '=', 'W_TEST')
      .executeTakeFirstOrThrow();
    expect(entry).toMatchObject({ action: 'create', before: null, after: { versions: [flat] } });
    const again = await put('admin', 'W_TEST', { chargeName: WATER, versions: [flat], revision: 0 });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('VERSION_CONFLICT');
  });

  it('refuses overlapping versions, with the field and the reason in Chinese', async () => {
    await resetResidential();
    const overlapping = copy(V2025);
    overlapping.effectiveFrom = '2025-06-01';
    const res = await put('finance', 'W_RES', {
      chargeName: WATER,
      versions: [V2024, overlapping],
      revision: 1,
    });
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.code).toBe('TARIFF_INVALID');
    expect(error.message).toBe('水价方案有 1 处错误，未保存');
    expect(error.fields).toEqual([
      {
        path: 'versions.1.effectiveFrom',
        code: 'VERSION_OVERLAP',
        message: '版本 2025-07 自 2025-06-01 生效，与版本 2024-01（2024-01-01 至 2025-06-30）重叠',
      },
    ]);
    expect(await revisionOf('W_RES')).toBe(1);
  });

  it('refuses days without a price between versions', async () => {
    await resetResidential();
    const late = copy(V2025);
    late.effectiveFrom = '2025-07-05';
    const res = await put(
      'finance',
      'W_RES',
      { chargeName: WATER, versions: [V2024, late], revision: 1 },
      'en',
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().error.fields).toEqual([
      {
        path: 'versions.1.effectiveFrom',
        code: 'VERSION_GAP',
        message:
          'Version 2024-01 ends on 2025-06-30 and version 2025-07 starts on 2025-07-05: 4 day(s) without a price',
      },
    ]);
  });

  it('refuses gaps between blocks and an empty block, in English when asked', async () => {
    await resetResidential();
    const gapped = copy(V2025);
    if (gapped.charge.kind !== 'blocks') throw new Error('blocks');
    gapped.charge.blocks[1]!.fromM3 = '181';
    const res = await put(
      'finance',
      'W_RES',
      { chargeName: WATER, versions: [V2024, gapped], revision: 1 },
      'en',
    );
    expect(res.statusCode).toBe(400);
    const error = res.json().error;
    expect(error.message).toBe('The tariff has 1 problem(s) and was refused');
    expect(error.fields).toEqual([
      {
        path: 'versions.1.charge.blocks.1.fromM3',
        code: 'BLOCK_GAP',
        message: 'Block 2 starts at 181 m³ but the block before ends at 180 m³: the blocks leave a gap',
      },
    ]);

    const empty = copy(V2025);
    if (empty.charge.kind !== 'blocks') throw new Error('blocks');
    empty.charge.blocks[0]!.toM3 = '0';
    empty.charge.blocks[1]!.fromM3 = '0';
    const res2 = await put('finance', 'W_RES', { chargeName: WATER, versions: [V2024, empty], revision: 1 });
    expect(res2.json().error.fields).toEqual([
      {
        path: 'versions.1.charge.blocks.0.toM3',
        code: 'BLOCK_EMPTY',
        message: '第1阶梯的上限 0 m³ 应大于起点 0 m³',
      },
    ]);
  });

  it('refuses negative prices, on the block and on the surcharge', async () => {
    await resetResidential();
    const negative = copy(V2024);
    if (negative.charge.kind !== 'blocks') throw new Error('blocks');
    negative.charge.blocks[0]!.priceFenPerM3 = '-210';
    negative.surcharges[0]!.priceFenPerM3 = '-1';
    const res = await put('finance', 'W_RES', {
      chargeName: WATER,
      versions: [negative, V2025],
      revision: 1,
    });
    expect(res.statusCode).toBe(400);
    const fields: Field[] = res.json().error.fields;
    expect(fields.map((f) => [f.path, f.code])).toEqual([
      ['versions.0.charge.blocks.0.priceFenPerM3', 'PRICE_NEGATIVE'],
      ['versions.0.surcharges.0.priceFenPerM3', 'PRICE_NEGATIVE'],
    ]);
    expect(fields[0]!.message).toBe('价格不能为负数（-210 分/m³）');
    const en = await put(
      'finance',
      'W_RES',
      { chargeName: WATER, versions: [negative, V2025], revision: 1 },
      'en',
    );
    expect(en.json().error.fields[0].message).toBe('A price cannot be negative (-210 fen/m³)');
  });

  it('refuses a stale revision with 409, and changes nothing', async () => {
    await resetResidential();
    const res = await put('finance', 'W_RES', { chargeName: WATER, versions: [V2024, V2025], revision: 0 });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('VERSION_CONFLICT');
    expect(await revisionOf('W_RES')).toBe(1);
  });

  it('is for tariff.admin only, and for organisation-wide roles', async () => {
    await resetResidential();
    for (const username of ['clerk', 'manager', 'reader']) {
      const res = await put(username, 'W_RES', { chargeName: WATER, versions: [V2024, V2025], revision: 1 });
      expect(res.statusCode, username).toBe(403);
      expect(res.json().error.code).toBe('FORBIDDEN');
    }
    expect(await revisionOf('W_RES')).toBe(1);
  });

  it('never reprices a billed day: a billed version keeps its prices and its billed days', async () => {
    await resetResidential();
    const customer = await t.db.selectFrom('customer').select('account_id').executeTakeFirstOrThrow();
    const bill = await t.db
      .insertInto('bill')
      .values({
        account_id: customer.account_id,
        bill_no: '202503-T0001',
        usage_type_code: 'W_RES',
        period: '2025-03',
        period_from: '2025-01-01',
        period_to: '2025-03-31',
        amount_fen: 12600,
        due_on: '2025-04-30',
      })
      .returning('bill_id')
      .executeTakeFirstOrThrow();
    await t.db
      .insertInto('bill_line')
      .values({
        account_id: customer.account_id,
        bill_id: bill.bill_id,
        line_no: 1,
        kind: 'block',
        code: 'charge',
        block_no: 1,
        description_zh: '水费第一阶梯',
        description_en: 'Water charge, block 1',
        volume_m3: '60',
        unit_price_fen: '210',
        amount_fen: 12600,
        from_date: '2025-01-01',
        to_date: '2025-03-31',
        tariff_version: '2024-01',
      })
      .execute();
    try {
      const detail = await t.as('finance')({ method: 'GET', url: '/api/tariffs/W_RES' });
      expect(detail.json().billed).toEqual([
        { version: '2024-01', firstDay: '2025-01-01', lastDay: '2025-03-31', bills: 1 },
      ]);

      const repriced = copy(V2024);
      if (repriced.charge.kind === 'blocks') repriced.charge.blocks[0]!.priceFenPerM3 = '200';
      const res = await put('finance', 'W_RES', {
        chargeName: WATER,
        versions: [repriced, V2025],
        revision: 1,
      });
      expect(res.statusCode).toBe(409);
      const error = res.json().error;
      expect(error.code).toBe('TARIFF_VERSION_BILLED');
      expect(error.fields).toEqual([
        {
          path: 'versions.0.charge.blocks.0.priceFenPerM3',
          code: 'BILLED_VERSION_PRICE',
          message:
            '版本 2024-01 已用于 1 张账单（2025-01-01 至 2025-03-31），价格不能修改；新价格请新增版本，自调价日起生效',
        },
      ]);

      // Ending the billed version before its last billed day (and starting the next one earlier).
      const shortened = { ...copy(V2024), effectiveTo: '2025-02-28' };
      const earlier = { ...copy(V2025), effectiveFrom: '2025-03-01' };
      const res2 = await put(
        'finance',
        'W_RES',
        { chargeName: WATER, versions: [shortened, earlier], revision: 1 },
        'en',
      );
      expect(res2.statusCode).toBe(409);
      expect(res2.json().error.fields).toEqual([
        {
          path: 'versions.0.effectiveTo',
          code: 'BILLED_VERSION_ENDS_EARLIER',
          message: 'Version 2024-01 priced bills up to 2025-03-31; it cannot end before that',
        },
      ]);

      // Removing it is refused too; a version no bill used may change freely.
      const removed = await put('finance', 'W_RES', {
        chargeName: WATER,
        versions: [{ ...V2025, effectiveFrom: '2024-01-01' }],
        revision: 1,
      });
      expect(removed.json().error.fields[0]).toMatchObject({
        path: 'versions',
        code: 'BILLED_VERSION_REMOVED',
      });
      const unbilled = copy(V2025);
      if (unbilled.charge.kind === 'blocks') unbilled.charge.blocks[2]!.priceFenPerM3 = '800';
      const ok = await put('finance', 'W_RES', {
        chargeName: WATER,
        versions: [V2024, unbilled],
        revision: 1,
      });
      expect(ok.statusCode, ok.body).toBe(200);

      // A cancelled bill no longer holds its version.
      await t.db
        .updateTable('bill')
        .set({ status: 'cancelled' })
        .where('bill_id', '=', bill.bill_id)
        .execute();
      const res3 = await put('finance', 'W_RES', {
        chargeName: WATER,
        versions: [repriced, unbilled],
        revision: 2,
      });
      expect(res3.statusCode, res3.body).toBe(200);
    } finally {
      await t.db.deleteFrom('bill').where('bill_id', '=', bill.bill_id).execute();
    }
  });
});

describe('previewing what a volume costs', () => {
  const preview = (body: unknown, username = 'clerk', lang?: 'en') =>
    t.as(username)({
      method: 'POST',
      url: '/api/tariffs/preview',
      payload: body,
      headers: lang ? { 'accept-language': 'en' } : {},
    });

  it('prices a volume under the stored tariff exactly as calculateBill does (docs/billing.md example)', async () => {
    await resetResidential();
    const res = await preview({
      usageType: 'W_RES',
      volumeM3: '60',
      periodFrom: '2025-04-01',
      periodTo: '2025-06-30',
      annualUsedM3: '150',
    });
    expect(res.statusCode, res.body).toBe(200);
    const expected = calculateBill({
      tariff: RESIDENTIAL,
      periodFrom: '2025-04-01',
      periodTo: '2025-06-30',
      reading: { kind: 'volume', consumptionM3: '60' },
      annualBlockUsed: { year: 2025, volumeM3: '150' },
    });
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(res.json().totalFen).toBe(21450);
    expect(res.json().lines.map((l: { amountFen: number }) => l.amountFen)).toEqual([6300, 9450, 5700]);
  });

  it('prices an edited tariff not saved yet, across a change of version, with a low-income reduction', async () => {
    const edited = copy(RESIDENTIAL);
    if (edited.versions[1]!.charge.kind === 'blocks')
      edited.versions[1]!.charge.blocks[0]!.priceFenPerM3 = '250';
    const body = {
      tariff: { chargeName: edited.chargeName, versions: edited.versions },
      volumeM3: '45.5',
      periodFrom: '2025-06-01',
      periodTo: '2025-07-31',
      lowIncome: { reductionM3PerMonth: '5' },
    };
    const res = await preview(body, 'finance');
    expect(res.statusCode, res.body).toBe(200);
    const expected = calculateBill({
      tariff: { ...edited, usageType: 'preview' },
      periodFrom: '2025-06-01',
      periodTo: '2025-07-31',
      reading: { kind: 'volume', consumptionM3: '45.5' },
      lowIncome: { reductionM3PerMonth: '5' },
    });
    expect(res.json()).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(res.json().segments.map((s: { tariffVersion: string }) => s.tariffVersion)).toEqual([
      '2024-01',
      '2025-07',
    ]);
    expect(res.json().lowIncomeReductionM3).toBe('10.000');
    // Nothing stored, nothing to audit.
    expect(await revisionOf('W_RES')).toBe(1);
  });

  it('names the fields of an invalid edited tariff under tariff., and of the volume and period', async () => {
    const gapped = copy(RESIDENTIAL);
    if (gapped.versions[0]!.charge.kind === 'blocks') gapped.versions[0]!.charge.blocks[1]!.fromM3 = '190';
    const res = await preview(
      {
        tariff: { chargeName: WATER, versions: gapped.versions },
        volumeM3: '10',
        periodFrom: '2025-01-01',
        periodTo: '2025-01-31',
      },
      'finance',
      'en',
    );
    expect(res.statusCode).toBe(400);
    expect(res.json().error.fields).toMatchObject([
      { path: 'tariff.versions.0.charge.blocks.1.fromM3', code: 'BLOCK_GAP' },
    ]);

    const bad = await preview({
      usageType: 'W_RES',
      volumeM3: '-3',
      periodFrom: '2025-02-01',
      periodTo: '2025-01-31',
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields.map((f: Field) => [f.path, f.code])).toEqual([
      ['periodTo', 'PERIOD_ORDER'],
      ['volumeM3', 'VOLUME_FORMAT'],
    ]);

    const before = await preview({
      usageType: 'W_RES',
      volumeM3: '3',
      periodFrom: '2023-12-01',
      periodTo: '2023-12-31',
    });
    expect(before.statusCode).toBe(400);
    expect(before.json().error).toMatchObject({
      code: 'TARIFF_NOT_IN_EFFECT',
      message: '水价方案 W_RES 在 2023-12-01 没有有效版本',
    });
    const missing = await preview({
      usageType: 'W_BIZ_NONE',
      volumeM3: '3',
      periodFrom: '2025-01-01',
      periodTo: '2025-01-31',
    });
    expect(missing.statusCode).toBe(404);
  });
});
