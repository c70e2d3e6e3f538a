import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureReferenceData } from '../seed/reference.ts';
import { createTestApp, type TestApp } from '../testing/harness.ts';

let t: TestApp;

beforeAll(async () => {
  t = await createTestApp();
});

afterAll(async () => {
  expect(t.built.unaudited).toEqual([]);
  await t.close();
});

const login = (username: string, password: string, lang?: string) =>
  t.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { username, password },
    headers: lang ? { 'accept-language': lang } : {},
  });

describe('sign-in', () => {
  it('sets an http-only session cookie and stores only a hash of the token', async () => {
    const res = await login('clerk', 'meterline');
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.find((c) => c.name === 'ml_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');
    const sessions = await t.db.selectFrom('session').select('token_hash').execute();
    expect(sessions.map((s) => s.token_hash)).not.toContain(cookie.value);
    const me = await t.app.inject({
      method: 'GET',
      url: '/api/auth/me',
      headers: { cookie: `ml_session=${cookie.value}` },
    });
    expect(me.json()).toMatchObject({ username: 'clerk', roleCode: 'clerk', orgWide: false });
    expect(me.json().offices.map((o: { code: string }) => o.code)).toEqual(['0101']);
  });

  it('gives the same answer for an unknown user and a wrong password, in the caller’s language', async () => {
    const unknown = await login('nobody', 'whatever');
    const wrong = await login('reader', 'wrong-password');
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json()).toEqual(unknown.json());
    expect(unknown.json().error.message).toBe('用户名或密码错误');
    expect((await login('nobody', 'x', 'en-US,en;q=0.9')).json().error.message).toBe(
      'Wrong username or password',
    );
  });

  it('locks the account after the configured number of failures, even for the right password, and an admin unlocks it', async () => {
    for (let i = 0; i < 4; i++) expect((await login('collector', 'bad')).statusCode).toBe(401);
    const fifth = await login('collector', 'bad');
    expect(fifth.statusCode).toBe(423);
    expect(fifth.json().error.code).toBe('ACCOUNT_LOCKED');
    expect((await login('collector', 'meterline')).statusCode).toBe(423);
    const staff = await t.db
      .selectFrom('staff')
      .select('staff_id')
      .where('username', '=', 'collector')
      .executeTakeFirstOrThrow();
    const unlock = await t.as('admin')({ method: 'POST', url: `/api/staff/${staff.staff_id}/unlock` });
    expect(unlock.statusCode).toBe(200);
    expect((await login('collector', 'meterline')).statusCode).toBe(200);
    const actions = await t.db
      .selectFrom('audit_log')
      .select(['action', 'staff_id'])
      .where('entity_type', '=', 'staff')
      .where('entity_id', '=', String(staff.staff_id))
      .orderBy('audit_id')
      .execute();
    expect(actions.map((a) => a.action)).toEqual([
      'login_failed',
      'login_failed',
      'login_failed',
      'login_failed',
      'login_locked',
      'unlock',
      'login',
    ]);
    // Sign-in entries name the staff member; the unlock names the admin who did it.
    expect(actions.filter((a) => a.action !== 'unlock').every((a) => a.staff_id === staff.staff_id)).toBe(
      true,
    );
  });

  it('a default permission added by an upgrade reaches existing installations once', async () => {
    await t.db
      .deleteFrom('role_default_grant')
      .where('role_code', '=', 'analyst')
      .where('permission', '=', 'reading.review')
      .execute();
    await t.db
      .deleteFrom('role_permission')
      .where('role_code', '=', 'analyst')
      .where('permission', '=', 'reading.review')
      .execute();
    await ensureReferenceData(t.db);
    const perms = await t.db
      .selectFrom('role_permission')
      .select('permission')
      .where('role_code', '=', 'analyst')
      .execute();
    expect(perms.map((p) => p.permission)).toContain('reading.review');
  });

  it('the lockout threshold is a setting an admin changes', async () => {
    const set = await t.as('admin')({
      method: 'PUT',
      url: '/api/settings/auth.maxFailedLogins',
      payload: { value: 2, effectiveFrom: '2020-01-01' },
    });
    expect(set.statusCode, set.body).toBe(200);
    expect((await login('finance', 'bad')).statusCode).toBe(401);
    expect((await login('finance', 'bad')).statusCode).toBe(423);
    await t.as('admin')({
      method: 'PUT',
      url: '/api/settings/auth.maxFailedLogins',
      payload: { value: 5, effectiveFrom: '2020-01-01' },
    });
  });

  it('time-of-day settings must be HH:MM', async () => {
    const bad = await t.as('admin')({
      method: 'PUT',
      url: '/api/settings/reading.dayStart',
      payload: { value: '8.30', effectiveFrom: '2020-01-01' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.fields[0]).toMatchObject({ path: 'value', code: 'TIME_OF_DAY' });
    const ok = await t.as('admin')({
      method: 'PUT',
      url: '/api/settings/reading.dayStart',
      payload: { value: '08:00', effectiveFrom: '2020-01-01' },
    });
    expect(ok.statusCode).toBe(200);
  });

  it('the calling hours and the dunning send time are times of day too', async () => {
    for (const key of ['voice.callFrom', 'voice.callUntil', 'dunning.sendTime']) {
      const bad = await t.as('admin')({
        method: 'PUT',
        url: `/api/settings/${key}`,
        payload: { value: '25:00', effectiveFrom: '2020-01-01' },
      });
      expect(bad.statusCode, key).toBe(400);
      expect(bad.json().error.fields[0]).toMatchObject({ path: 'value', code: 'TIME_OF_DAY' });
    }
  });

  it('the SMSC password is shown masked, in the settings and in the audit trail', async () => {
    const set = await t.as('admin')({
      method: 'PUT',
      url: '/api/settings/smsc.password',
      payload: { value: 's3cret-smsc', effectiveFrom: '2020-01-01' },
    });
    expect(set.statusCode, set.body).toBe(200);
    const list = (await t.as('admin')({ method: 'GET', url: '/api/settings' })).json() as {
      key: string;
      value: unknown;
      history: { value: unknown }[];
    }[];
    const row = list.find((s) => s.key === 'smsc.password')!;
    expect(row.value).toBe('********');
    expect(row.history.map((h) => h.value)).toEqual(['********']);
    expect(JSON.stringify(list)).not.toContain('s3cret-smsc');
    // Sent back as shown, the stored password stays.
    const again = await t.as('admin')({
      method: 'PUT',
      url: '/api/settings/smsc.password',
      payload: { value: '********', effectiveFrom: '2020-01-01' },
    });
    expect(again.statusCode).toBe(200);
    const stored = await t.db
      .selectFrom('setting')
      .select('value')
      .where('key', '=', 'smsc.password')
      .executeTakeFirstOrThrow();
    expect(stored.value).toBe('s3cret-smsc');
    const trail = await t.db
      .selectFrom('audit_log')
      .select(['before', 'after'])
      .where('entity_type', '=', 'setting')
      .where('entity_id', 'like', 'smsc.password@%')
      .execute();
    expect(trail.length).toBe(1);
    expect(JSON.stringify(trail)).not.toContain('s3cret-smsc');
  });

  it('logout ends the session', async () => {
    const cookie = await t.login('analyst');
    const out = await t.app.inject({ method: 'POST', url: '/api/auth/logout', headers: { cookie } });
    expect(out.statusCode).toBe(200);
    const me = await t.app.inject({ method: 'GET', url: '/api/auth/me', headers: { cookie } });
    expect(me.statusCode).toBe(401);
  });

  it('a password change needs the current password and the minimum length', async () => {
    const cookie = await t.login('inspector');
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password',
      headers: { cookie },
      payload: { currentPassword: 'nope', newPassword: 'abcdefgh' },
    });
    expect(wrong.json().error.fields[0]).toMatchObject({ path: 'currentPassword', code: 'WRONG_PASSWORD' });
    const short = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password',
      headers: { cookie },
      payload: { currentPassword: 'meterline', newPassword: 'abc' },
    });
    expect(short.json().error.fields[0]).toMatchObject({ path: 'newPassword', message: '密码至少 8 位' });
    const ok = await t.app.inject({
      method: 'POST',
      url: '/api/auth/password',
      headers: { cookie },
      payload: { currentPassword: 'meterline', newPassword: 'a-longer-secret' },
    });
    expect(ok.statusCode).toBe(200);
    expect((await login('inspector', 'a-longer-secret')).statusCode).toBe(200);
  });
});

describe('staff, roles and offices administration', () => {
  it('an admin creates staff who must change their password; a duplicate username is a conflict', async () => {
    const office = await t.db
      .selectFrom('office')
      .select('office_id')
      .where('code', '=', '0103')
      .executeTakeFirstOrThrow();
    const body = {
      username: 'newclerk',
      password: 'initial-pass',
      fullName: '新营业员',
      phone: '13900001111',
      roleCode: 'clerk',
      homeOfficeId: office.office_id,
      officeIds: [office.office_id],
    };
    const res = await t.as('admin')({ method: 'POST', url: '/api/staff', payload: body });
    expect(res.statusCode, res.body).toBe(201);
    const again = await t.as('admin')({ method: 'POST', url: '/api/staff', payload: body });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.fields[0].path).toBe('username');
    const first = await login('newclerk', 'initial-pass');
    expect(first.json().mustChangePassword).toBe(true);
    // An office manager may read staff but not create them.
    expect((await t.as('manager')({ method: 'POST', url: '/api/staff', payload: body })).statusCode).toBe(
      403,
    );
  });

  it('role permissions are data: removing one takes effect at once', async () => {
    const roles = (await t.as('admin')({ method: 'GET', url: '/api/roles' })).json();
    const reader = roles.find((r: { role_code: string }) => r.role_code === 'reader');
    expect(reader.permissions.sort()).toEqual(['collection.field', 'customer.read', 'reading.field']);
    const cookie = await t.login('reader');
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/customers', headers: { cookie } })).statusCode,
    ).toBe(200);
    const upd = await t.as('admin')({
      method: 'PUT',
      url: '/api/roles/reader',
      payload: { nameZh: reader.name_zh, nameEn: reader.name_en, orgWide: false, permissions: [] },
    });
    expect(upd.statusCode).toBe(200);
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/customers', headers: { cookie } })).statusCode,
    ).toBe(403);
    // Restarts and upgrades re-grant no default permission an admin removed.
    await ensureReferenceData(t.db);
    const after = await t.db
      .selectFrom('role_permission')
      .select('permission')
      .where('role_code', '=', 'reader')
      .execute();
    expect(after).toEqual([]);
    const bad = await t.as('admin')({
      method: 'PUT',
      url: '/api/roles/reader',
      payload: { nameZh: 'x', nameEn: 'x', orgWide: false, permissions: ['customer.fly'] },
    });
    expect(bad.json().error.fields[0].code).toBe('PERMISSION_UNKNOWN');
  });

  it('offices: duplicate codes refused; office-scoped managers cannot change organisation data', async () => {
    const branch = await t.db.selectFrom('branch').select('branch_id').executeTakeFirstOrThrow();
    const ok = await t.as('admin')({
      method: 'POST',
      url: '/api/offices',
      payload: { branchId: branch.branch_id, code: '0301', name: '新区营业所' },
    });
    expect(ok.statusCode, ok.body).toBe(201);
    const dup = await t.as('admin')({
      method: 'POST',
      url: '/api/offices',
      payload: { branchId: branch.branch_id, code: '0301', name: '重复' },
    });
    expect(dup.statusCode).toBe(409);
    expect((await t.as('manager')({ method: 'GET', url: '/api/settings' })).statusCode).toBe(403);
  });
});
