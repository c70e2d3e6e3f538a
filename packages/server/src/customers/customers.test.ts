import { idCardCheckChar } from '@meterline/domain';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../testing/harness.ts';

let t: TestApp;
let office1: number;
let office2: number;

function idCard(seq: number): string {
  const first17 = `41010219800101${String(seq).padStart(3, '0')}`;
  return first17 + idCardCheckChar(first17);
}

function newCustomer(overrides: Record<string, unknown> = {}) {
  return {
    officeId: office1,
    kind: 'person',
    name: '测试用户',
    idCardNo: idCard(1),
    contacts: [{ name: '测试用户', phone: '13800138000' }],
    address: { district: '金水区', community: '测试花园', building: '7', unit: '3', door: '602', floor: 6 },
    servicePoint: { usageTypeCode: 'W_RES', meterLocation: '厨房' },
    meter: { meterNo: `T${Date.now()}${Math.floor(Math.random() * 1000)}`, caliberDn: 15, mounting: 'wall' },
    ...overrides,
  };
}

beforeAll(async () => {
  t = await createTestApp({ customers: 200 });
  const offices = await t.db.selectFrom('office').select(['office_id', 'code']).orderBy('code').execute();
  office1 = offices.find((o) => o.code === '0101')!.office_id;
  office2 = offices.find((o) => o.code === '0102')!.office_id;
});

afterAll(async () => {
  expect(t.built.unaudited).toEqual([]);
  await t.close();
});

describe('creating a customer', () => {
  it('creates the customer with contacts, address, service point and meter, audited', async () => {
    const body = newCustomer();
    const res = await t.as('clerk')({ method: 'POST', url: '/api/customers', payload: body });
    expect(res.statusCode, res.body).toBe(201);
    const { accountId, customerCode } = res.json();
    expect(customerCode).toMatch(/^0101\d{8}$/);

    const page = (await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountId}` })).json();
    expect(page.customer).toMatchObject({
      name: '测试用户',
      kind: 'person',
      state: 'active',
      office_id: office1,
    });
    expect(page.contacts).toHaveLength(1);
    expect(page.contacts[0]).toMatchObject({ phone: '13800138000', is_primary: true });
    expect(page.addresses[0]).toMatchObject({ community: '测试花园', building: '7', unit: '3', door: '602' });
    expect(page.servicePoints[0]).toMatchObject({ usage_type_code: 'W_RES', usage_name_zh: '居民生活用水' });
    expect(page.meters[0]).toMatchObject({
      meter_no: body.meter.meterNo,
      caliber_dn: 15,
      role: 'settlement',
    });

    const audit = (await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountId}/audit` })).json();
    expect(audit.items[0]).toMatchObject({ action: 'create', entity_type: 'customer', username: 'clerk' });
  });

  it('refuses invalid fields with field-level errors in Chinese by default and in English on request', async () => {
    const bad = newCustomer({
      name: '',
      idCardNo: '410102198001010010',
      contacts: [{ phone: '12345' }],
      address: { floor: 'high' },
      meter: { meterNo: 'X1', caliberDn: 17 },
    });
    const zh = await t.as('clerk')({ method: 'POST', url: '/api/customers', payload: bad });
    expect(zh.statusCode).toBe(400);
    const fields = Object.fromEntries(
      zh.json().error.fields.map((f: { path: string; message: string }) => [f.path, f.message]),
    );
    expect(fields).toMatchObject({
      name: '必填',
      idCardNo: '身份证号码校验位不正确',
      'contacts.0.phone': '电话号码格式不正确',
      'meter.caliberDn': '口径不在 DN15–DN300 规格内',
    });
    expect(fields['address.floor']).toBeDefined();

    const en = await t.as('clerk')({
      method: 'POST',
      url: '/api/customers',
      payload: bad,
      headers: { cookie: `${await t.login('clerk')}; lang=en` },
    });
    const enFields = Object.fromEntries(
      en.json().error.fields.map((f: { path: string; message: string }) => [f.path, f.message]),
    );
    expect(enFields.idCardNo).toBe('The ID card number check digit is wrong');
    expect(enFields.name).toBe('Required');
  });

  it('an organisation needs a valid credit code, a person an ID number', async () => {
    const res = await t.as('clerk')({
      method: 'POST',
      url: '/api/customers',
      payload: newCustomer({ kind: 'organisation', idCardNo: null, creditCode: null }),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.fields).toContainEqual(
      expect.objectContaining({ path: 'creditCode', code: 'CREDIT_CODE_REQUIRED' }),
    );
    const ok = await t.as('clerk')({
      method: 'POST',
      url: '/api/customers',
      payload: newCustomer({
        kind: 'organisation',
        name: '郑州测试餐饮有限公司',
        idCardNo: null,
        creditCode: '91350100M000100Y43',
        servicePoint: { usageTypeCode: 'W_BIZ' },
      }),
    });
    expect(ok.statusCode, ok.body).toBe(201);
  });

  it('a meter number already in use is a clear conflict, and nothing is half-written', async () => {
    const first = newCustomer();
    expect((await t.as('clerk')({ method: 'POST', url: '/api/customers', payload: first })).statusCode).toBe(
      201,
    );
    const before = await t.db
      .selectFrom('customer')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const res = await t.as('clerk')({
      method: 'POST',
      url: '/api/customers',
      payload: newCustomer({ name: '重复表号', meter: { meterNo: first.meter.meterNo, caliberDn: 15 } }),
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error).toMatchObject({
      code: 'METER_NUMBER_TAKEN',
      message: `表号 ${first.meter.meterNo} 已被使用`,
    });
    const after = await t.db
      .selectFrom('customer')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    expect(
      await t.db.selectFrom('customer').select('account_id').where('name', '=', '重复表号').execute(),
    ).toEqual([]);
  });

  it('gas customers above the 8th floor need an IC-card meter (configurable)', async () => {
    const gas = newCustomer({
      utility: 'gas',
      servicePoint: { usageTypeCode: 'G_RES' },
      address: { community: '高层小区', building: '1', unit: '1', door: '1201', floor: 12 },
      meter: { meterNo: `G${Date.now()}`, flowRatingM3h: '2.5', icCard: false },
    });
    const res = await t.as('clerk')({ method: 'POST', url: '/api/customers', payload: gas });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.fields[0]).toMatchObject({
      path: 'meter.icCard',
      message: '8层以上燃气用户须安装IC卡智能表',
    });
    const ok = await t.as('clerk')({
      method: 'POST',
      url: '/api/customers',
      payload: { ...gas, meter: { ...gas.meter, icCard: true } },
    });
    expect(ok.statusCode, ok.body).toBe(201);
  });

  it('bounds decimals to their columns and keeps master meters at the top', async () => {
    const gas = newCustomer({
      utility: 'gas',
      servicePoint: { usageTypeCode: 'G_RES' },
      meter: { meterNo: `GF${Date.now()}`, flowRatingM3h: '1000000', icCard: true },
    });
    const big = await t.as('clerk')({ method: 'POST', url: '/api/customers', payload: gas });
    expect(big.statusCode).toBe(400);
    expect(big.json().error.fields[0]).toMatchObject({ path: 'meter.flowRatingM3h', code: 'DECIMAL_FORMAT' });
    const precise = await t.as('clerk')({
      method: 'POST',
      url: '/api/customers',
      payload: { ...gas, meter: { ...gas.meter, flowRatingM3h: '2.505' } },
    });
    expect(precise.json().error.fields[0].message).toBe('应为不超过 6 位整数、2 位小数的非负数');
    const masterOfMaster = await t.as('clerk')({
      method: 'POST',
      url: '/api/customers',
      payload: newCustomer({
        meter: { meterNo: `MM${Date.now()}`, caliberDn: 50, role: 'master', masterMeterNo: 'W000000001' },
      }),
    });
    expect(masterOfMaster.statusCode).toBe(400);
    expect(masterOfMaster.json().error.fields[0]).toMatchObject({
      path: 'meter.masterMeterNo',
      code: 'MASTER_CANNOT_HAVE_MASTER',
    });
  });

  it('a retried create with the same Idempotency-Key creates one customer and returns the first result', async () => {
    const body = newCustomer({ name: '幂等用户' });
    const headers = { 'idempotency-key': `test-${Date.now()}-abc` };
    const [a, b] = await Promise.all([
      t.as('clerk')({ method: 'POST', url: '/api/customers', payload: body, headers }),
      t.as('clerk')({ method: 'POST', url: '/api/customers', payload: body, headers }),
    ]);
    expect(a.statusCode).toBe(201);
    expect(b.statusCode).toBe(201);
    expect(a.json()).toEqual(b.json());
    const rows = await t.db
      .selectFrom('customer')
      .select('account_id')
      .where('name', '=', '幂等用户')
      .execute();
    expect(rows).toHaveLength(1);
    const reused = await t.as('clerk')({
      method: 'POST',
      url: '/api/customers',
      payload: { ...body, name: '别的' },
      headers,
    });
    expect(reused.statusCode).toBe(422);
  });
});

describe('editing, state and audit', () => {
  it('edits with optimistic locking and records before/after in the audit', async () => {
    const { accountId } = (
      await t.as('clerk')({ method: 'POST', url: '/api/customers', payload: newCustomer() })
    ).json();
    const page = (await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountId}` })).json();
    const c = page.customer;
    const edit = {
      officeId: c.office_id,
      kind: c.kind,
      name: '改名后',
      idCardNo: c.id_card_no,
      utility: c.utility,
      remarks: '二次供水',
      version: c.version,
    };
    const res = await t.as('clerk')({ method: 'PUT', url: `/api/customers/${accountId}`, payload: edit });
    expect(res.statusCode, res.body).toBe(200);
    const stale = await t.as('clerk')({
      method: 'PUT',
      url: `/api/customers/${accountId}`,
      payload: { ...edit, name: '再改' },
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.code).toBe('VERSION_CONFLICT');

    const audit = (await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountId}/audit` })).json();
    const update = audit.items.find((a: { action: string }) => a.action === 'update');
    expect(update.before).toEqual({ name: '测试用户', remarks: '' });
    expect(update.after).toEqual({ name: '改名后', remarks: '二次供水' });
    expect(update.full_name).toBe('王丽');
  });

  it('changes state only along allowed transitions, with the right permission and a reason', async () => {
    const { accountId } = (
      await t.as('clerk')({ method: 'POST', url: '/api/customers', payload: newCustomer() })
    ).json();
    const version = async () =>
      (await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountId}` })).json().customer
        .version as number;
    const noReason = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${accountId}/state`,
      payload: { to: 'suspended', reason: '', version: await version() },
    });
    expect(noReason.statusCode).toBe(400);
    const suspend = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${accountId}/state`,
      payload: { to: 'suspended', reason: '用户申请报停', version: await version() },
    });
    expect(suspend.statusCode, suspend.body).toBe(200);
    // A clerk may not seal or close.
    const seal = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${accountId}/state`,
      payload: { to: 'closed', reason: '销户', version: await version() },
    });
    expect(seal.statusCode).toBe(403);
    // The deputy GM closes; closed is final.
    const close = await t.as('deputy')({
      method: 'POST',
      url: `/api/customers/${accountId}/state`,
      payload: { to: 'closed', reason: '用户销户', version: await version() },
    });
    expect(close.statusCode, close.body).toBe(200);
    const reopen = await t.as('deputy')({
      method: 'POST',
      url: `/api/customers/${accountId}/state`,
      payload: { to: 'active', reason: '恢复', version: await version() },
    });
    expect(reopen.statusCode).toBe(409);
    expect(reopen.json().error.code).toBe('STATE_TRANSITION_NOT_ALLOWED');
    const page = (await t.as('clerk')({ method: 'GET', url: `/api/customers/${accountId}` })).json();
    expect(page.stateChanges.map((s: { to_state: string }) => s.to_state)).toEqual(['closed', 'suspended']);
    expect(page.transitions).toEqual([]);
  });

  it('manages contacts, meters with sub-meters, low income and the blacklist', async () => {
    const masterNo = `M${Date.now()}`;
    const master = (
      await t.as('clerk')({
        method: 'POST',
        url: '/api/customers',
        payload: newCustomer({
          name: '物业公司',
          meter: { meterNo: masterNo, caliberDn: 50, role: 'master', mounting: 'well' },
        }),
      })
    ).json();
    const sub = (
      await t.as('clerk')({
        method: 'POST',
        url: '/api/customers',
        payload: newCustomer({
          name: '分表用户',
          meter: { meterNo: `S${Date.now()}`, caliberDn: 15, masterMeterNo: masterNo },
        }),
      })
    ).json();
    const notMaster = await t.as('clerk')({
      method: 'POST',
      url: '/api/customers',
      payload: newCustomer({ meter: { meterNo: `S2${Date.now()}`, caliberDn: 15, masterMeterNo: 'NOPE-1' } }),
    });
    expect(notMaster.json().error.fields[0]).toMatchObject({
      path: 'meter.masterMeterNo',
      code: 'MASTER_METER_UNKNOWN',
    });
    const masterPage = (
      await t.as('clerk')({ method: 'GET', url: `/api/customers/${master.accountId}` })
    ).json();
    expect(masterPage.subMeters.map((s: { name: string }) => s.name)).toEqual(['分表用户']);

    const contact = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${sub.accountId}/contacts`,
      payload: { name: '家属', relation: 'family', phone: '0371-65551234', isPrimary: true },
    });
    expect(contact.statusCode).toBe(201);
    const found = (await t.as('clerk')({ method: 'GET', url: '/api/customers?q=65551234' })).json();
    expect(found.items.map((i: { accountId: number }) => i.accountId)).toContain(sub.accountId);

    const v = (await t.as('clerk')({ method: 'GET', url: `/api/customers/${sub.accountId}` })).json().customer
      .version;
    const low = await t.as('clerk')({
      method: 'PUT',
      url: `/api/customers/${sub.accountId}/low-income`,
      payload: {
        lowIncome: true,
        reductionM3: '5',
        certNo: 'DB-2026-001',
        validUntil: '2027-12-31',
        version: v,
      },
    });
    expect(low.statusCode, low.body).toBe(200);

    // A clerk cannot blacklist; the office manager can, with a record of violations and inspections.
    const denied = await t.as('clerk')({
      method: 'POST',
      url: `/api/customers/${sub.accountId}/blacklist`,
      payload: { category: 'theft', violation: '私接管道', listedOn: '2026-01-05' },
    });
    expect(denied.statusCode).toBe(403);
    const entry = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${sub.accountId}/blacklist`,
      payload: {
        category: 'theft',
        violation: '私接管道',
        actionTaken: '追缴并罚款',
        listedOn: '2026-01-05',
      },
    });
    expect(entry.statusCode, entry.body).toBe(201);
    const event = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${sub.accountId}/blacklist/${entry.json().entryId}/events`,
      payload: { kind: 'inspection', occurredOn: '2026-02-01', description: '复查正常' },
    });
    expect(event.statusCode).toBe(201);
    const list = (await t.as('manager')({ method: 'GET', url: '/api/blacklist?pageSize=200' })).json();
    const row = list.items.find((i: { account_id: number }) => i.account_id === sub.accountId);
    expect(row).toMatchObject({ name: '分表用户', category: 'theft', inspections: 1 });
    expect(row.meters).toContain('S');
    const lift = await t.as('manager')({
      method: 'POST',
      url: `/api/customers/${sub.accountId}/blacklist/${entry.json().entryId}/lift`,
      payload: { reason: '整改完毕' },
    });
    expect(lift.statusCode).toBe(200);
    const page = (await t.as('clerk')({ method: 'GET', url: `/api/customers/${sub.accountId}` })).json();
    expect(page.customer).toMatchObject({
      blacklisted: false,
      low_income: true,
      low_income_reduction_m3: '5.000',
    });
  });
});

describe('search', () => {
  it('finds customers by address fragment, name, phone, code, meter and ID number, only in the caller’s offices', async () => {
    const a = await t.db
      .selectFrom('customer as c')
      .innerJoin('address as ad', 'ad.account_id', 'c.account_id')
      .innerJoin('contact as ct', 'ct.account_id', 'c.account_id')
      .innerJoin('meter as m', 'm.account_id', 'c.account_id')
      .select([
        'c.account_id',
        'c.name',
        'c.customer_code',
        'c.id_card_no',
        'ad.community',
        'ad.building',
        'ad.unit',
        'ad.door',
        'ct.phone',
        'm.meter_no',
      ])
      .where('c.office_id', '=', office1)
      .where('c.kind', '=', 'person')
      .where('ad.community', '<>', '')
      .executeTakeFirstOrThrow();
    const search = async (q: string, user = 'clerk') =>
      (
        await t.as(user)({ method: 'GET', url: `/api/customers?q=${encodeURIComponent(q)}&pageSize=100` })
      ).json();
    for (const q of [
      `${a.community}${a.building}栋${a.unit}单元${a.door}`,
      `${a.building}栋${a.unit}单元${a.door}`,
      `${a.community}${a.building}-${a.unit}-${a.door}`,
      a.name,
      a.phone,
      a.phone.slice(-6),
      a.customer_code,
      a.meter_no,
      a.id_card_no!,
      a.id_card_no!.slice(-6),
    ]) {
      const res = await search(q);
      expect(
        res.items.map((i: { accountId: number }) => i.accountId),
        q,
      ).toContain(a.account_id);
    }
    const exact = await search(a.meter_no);
    expect(exact.items[0]).toMatchObject({ accountId: a.account_id, exact: true });
    // A clerk of office 0102 does not find office 0101's customers.
    const other = await search(a.customer_code, 'clerk2');
    expect(other.items).toEqual([]);
    const surname = await search(a.name.slice(0, 1));
    expect(surname.items.every((i: { name: string }) => i.name.startsWith(a.name.slice(0, 1)))).toBe(true);
  });

  it('caps fragment matches and says so', async () => {
    const res = (
      await t.as('admin')({ method: 'GET', url: `/api/customers?q=${encodeURIComponent('单元')}` })
    ).json();
    expect(res.total).toBeLessThanOrEqual(500);
    expect(res.items.length).toBeLessThanOrEqual(20);
  });

  it('counts customers by office and state and meters by caliber and mounting, within the caller’s offices', async () => {
    const stats = (await t.as('clerk')({ method: 'GET', url: '/api/stats/customers' })).json();
    const inOffice = await t.db
      .selectFrom('customer')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('office_id', '=', office1)
      .executeTakeFirstOrThrow();
    expect(stats.totals.customers).toBe(Number(inOffice.n));
    expect(new Set(stats.byOfficeState.map((x: { officeId: number }) => x.officeId))).toEqual(
      new Set([office1]),
    );
    const sum = stats.byOfficeState.reduce((s: number, x: { customers: number }) => s + x.customers, 0);
    expect(sum).toBe(stats.totals.customers);
    const dn15 = stats.meters.filter((m: { caliberDn: number }) => m.caliberDn === 15);
    expect(dn15.length).toBeGreaterThan(0);
    const all = (await t.as('admin')({ method: 'GET', url: '/api/stats/customers' })).json();
    expect(all.totals.customers).toBeGreaterThan(stats.totals.customers);
  });

  it('refuses an office outside the caller’s scope as a filter', async () => {
    const res = await t.as('clerk')({ method: 'GET', url: `/api/customers?officeId=${office2}` });
    expect(res.statusCode).toBe(403);
  });
});
