import { DEFAULT_SETTINGS, DomainError, isPermission, isSettingKey, PERMISSIONS } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import { audit, diff } from '../platform/audit.ts';
import type { AppDeps } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { fieldError, notFound, versionConflict } from '../platform/errors.ts';
import { hashPassword } from '../platform/passwords.ts';
import { invalidateSettings, loadSettings } from '../platform/settings.ts';
import { id, isoDate, paging, phone, requiredText, text } from '../platform/zod.ts';

/** Settings that hold a time of day, HH:MM. */
const TIME_OF_DAY_SETTINGS = new Set([
  'reading.dayStart',
  'reading.uploadBy',
  'prepaid.deductAt',
  'register.billingAt',
  // Field collection (docs/field-collection.md).
  'collection.tasksAt',
  // Dunning and the voice-call list (docs/dunning.md, docs/outbox.md).
  'dunning.sendTime',
  'voice.callFrom',
  'voice.callUntil',
]);

/**
 * Secrets (the SMSC password): the settings page and the audit trail show them masked; a value
 * sent back as the mask leaves the stored one as it is.
 */
const SECRET_SETTINGS = new Set(['smsc.password']);
const SECRET_MASK = '********';

function shown(key: string, value: unknown): unknown {
  return SECRET_SETTINGS.has(key) && value !== '' && value !== '""' ? SECRET_MASK : value;
}

const code = requiredText(20).refine((v) => /^[0-9A-Za-z_-]+$/.test(v), { params: { code: 'CODE_CHARS' } });

const taken = (
  what: 'BRANCH_CODE_TAKEN' | 'OFFICE_CODE_TAKEN' | 'USERNAME_TAKEN',
  value: string,
  path: string,
) =>
  new DomainError(what, { value }, { 'zh-CN': '{value} 已被使用', en: '{value} is already in use' }, [
    { path, code: what, messages: { 'zh-CN': '已被使用', en: 'Already in use' } },
  ]);

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string })?.code === '23505';
}

export async function orgRoutes(app: FastifyInstance, { db }: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  // ------------------------------------------------------------------ branches and offices
  r.get(
    '/api/branches',
    { config: { signedIn: true }, schema: { tags: ['organisation'], summary: 'Branches (分公司)' } },
    async () => db.selectFrom('branch').selectAll().orderBy('code').execute(),
  );

  const branchBody = z.object({ code, name: requiredText(60), active: z.boolean().default(true) });
  r.post(
    '/api/branches',
    {
      config: { permission: 'org.admin', orgWide: true },
      schema: { tags: ['organisation'], body: branchBody },
    },
    async (request, reply) => {
      const row = await db
        .transaction()
        .execute(async (trx) => {
          const row = await trx
            .insertInto('branch')
            .values(request.body)
            .returningAll()
            .executeTakeFirstOrThrow();
          await audit(trx, request.ctx, {
            entityType: 'branch',
            entityId: row.branch_id,
            action: 'create',
            after: row,
          });
          return row;
        })
        .catch((e) => {
          throw isUniqueViolation(e) ? taken('BRANCH_CODE_TAKEN', request.body.code, 'code') : e;
        });
      reply.status(201);
      return row;
    },
  );
  r.put(
    '/api/branches/:branchId',
    {
      config: { permission: 'org.admin', orgWide: true },
      schema: { tags: ['organisation'], params: z.object({ branchId: id }), body: branchBody },
    },
    async (request) =>
      db
        .transaction()
        .execute(async (trx) => {
          const before = await trx
            .selectFrom('branch')
            .selectAll()
            .where('branch_id', '=', request.params.branchId)
            .executeTakeFirst();
          if (!before) throw notFound('branch', request.params.branchId);
          const after = await trx
            .updateTable('branch')
            .set(request.body)
            .where('branch_id', '=', before.branch_id)
            .returningAll()
            .executeTakeFirstOrThrow();
          await audit(trx, request.ctx, {
            entityType: 'branch',
            entityId: before.branch_id,
            action: 'update',
            ...diff(before, after),
          });
          return after;
        })
        .catch((e) => {
          throw isUniqueViolation(e) ? taken('BRANCH_CODE_TAKEN', request.body.code, 'code') : e;
        }),
  );

  r.get(
    '/api/offices',
    {
      config: { signedIn: true },
      schema: {
        tags: ['organisation'],
        summary: 'Business offices (营业所), with whether each is in the caller’s scope',
      },
    },
    async (request) => {
      const caller = requireCaller(request.ctx);
      const rows = await db
        .selectFrom('office as o')
        .innerJoin('branch as b', 'b.branch_id', 'o.branch_id')
        .selectAll('o')
        .select(['b.name as branch_name'])
        .select(
          sql<number>`(select count(*) from staff_office so where so.office_id = o.office_id)::int`.as(
            'staff_count',
          ),
        )
        .orderBy('o.code')
        .execute();
      return rows.map((o) => ({
        ...o,
        in_scope: caller.officeIds === null || caller.officeIds.includes(o.office_id),
      }));
    },
  );

  const officeBody = z.object({
    branchId: id,
    code,
    name: requiredText(60),
    address: text(200).default(''),
    phone: text(40).default(''),
    active: z.boolean().default(true),
  });
  const officeRow = (b: z.infer<typeof officeBody>) => ({
    branch_id: b.branchId,
    code: b.code,
    name: b.name,
    address: b.address,
    phone: b.phone,
    active: b.active,
  });
  r.post(
    '/api/offices',
    {
      config: { permission: 'org.admin', orgWide: true },
      schema: { tags: ['organisation'], body: officeBody },
    },
    async (request, reply) => {
      const row = await db
        .transaction()
        .execute(async (trx) => {
          const branch = await trx
            .selectFrom('branch')
            .select('branch_id')
            .where('branch_id', '=', request.body.branchId)
            .executeTakeFirst();
          if (!branch) throw fieldError('branchId', 'BRANCH_UNKNOWN');
          const row = await trx
            .insertInto('office')
            .values(officeRow(request.body))
            .returningAll()
            .executeTakeFirstOrThrow();
          await audit(trx, request.ctx, {
            entityType: 'office',
            entityId: row.office_id,
            officeId: row.office_id,
            action: 'create',
            after: row,
          });
          return row;
        })
        .catch((e) => {
          throw isUniqueViolation(e) ? taken('OFFICE_CODE_TAKEN', request.body.code, 'code') : e;
        });
      reply.status(201);
      return row;
    },
  );
  r.put(
    '/api/offices/:officeId',
    {
      config: { permission: 'org.admin', orgWide: true },
      schema: { tags: ['organisation'], params: z.object({ officeId: id }), body: officeBody },
    },
    async (request) =>
      db
        .transaction()
        .execute(async (trx) => {
          const before = await trx
            .selectFrom('office')
            .selectAll()
            .where('office_id', '=', request.params.officeId)
            .executeTakeFirstOrThrow();
          const branch = await trx
            .selectFrom('branch')
            .select('branch_id')
            .where('branch_id', '=', request.body.branchId)
            .executeTakeFirst();
          if (!branch) throw fieldError('branchId', 'BRANCH_UNKNOWN');
          const after = await trx
            .updateTable('office')
            .set(officeRow(request.body))
            .where('office_id', '=', before.office_id)
            .returningAll()
            .executeTakeFirstOrThrow();
          await audit(trx, request.ctx, {
            entityType: 'office',
            entityId: before.office_id,
            officeId: before.office_id,
            action: 'update',
            ...diff(before, after),
          });
          return after;
        })
        .catch((e) => {
          throw isUniqueViolation(e) ? taken('OFFICE_CODE_TAKEN', request.body.code, 'code') : e;
        }),
  );

  // ------------------------------------------------------------------ roles
  r.get(
    '/api/roles',
    {
      config: { signedIn: true },
      schema: { tags: ['organisation'], summary: 'Roles with their permissions' },
    },
    async () => {
      const roles = await db
        .selectFrom('role')
        .selectAll()
        .orderBy('builtin', 'desc')
        .orderBy('role_code')
        .execute();
      const perms = await db.selectFrom('role_permission').selectAll().execute();
      return roles.map((role) => ({
        ...role,
        permissions: perms.filter((p) => p.role_code === role.role_code).map((p) => p.permission),
      }));
    },
  );

  const roleBody = z.object({
    nameZh: requiredText(40),
    nameEn: requiredText(60),
    orgWide: z.boolean(),
    permissions: z.array(z.string()).max(PERMISSIONS.length),
  });
  async function saveRole(
    trx: Parameters<Parameters<ReturnType<typeof db.transaction>['execute']>[0]>[0],
    roleCode: string,
    body: z.infer<typeof roleBody>,
  ) {
    const unknown = body.permissions.findIndex((p) => !isPermission(p));
    if (unknown >= 0) throw fieldError(`permissions.${unknown}`, 'PERMISSION_UNKNOWN');
    await trx.deleteFrom('role_permission').where('role_code', '=', roleCode).execute();
    const unique = [...new Set(body.permissions)];
    if (unique.length) {
      await trx
        .insertInto('role_permission')
        .values(unique.map((permission) => ({ role_code: roleCode, permission })))
        .execute();
    }
  }
  r.post(
    '/api/roles',
    {
      config: { permission: 'role.admin', orgWide: true },
      schema: { tags: ['organisation'], body: roleBody.extend({ roleCode: code }) },
    },
    async (request, reply) => {
      const b = request.body;
      await db.transaction().execute(async (trx) => {
        const exists = await trx
          .selectFrom('role')
          .select('role_code')
          .where('role_code', '=', b.roleCode)
          .executeTakeFirst();
        if (exists) throw fieldError('roleCode', 'ROLE_CODE_TAKEN');
        await trx
          .insertInto('role')
          .values({
            role_code: b.roleCode,
            name_zh: b.nameZh,
            name_en: b.nameEn,
            org_wide: b.orgWide,
            builtin: false,
          })
          .execute();
        await saveRole(trx, b.roleCode, b);
        await audit(trx, request.ctx, {
          entityType: 'role',
          entityId: b.roleCode,
          action: 'create',
          after: b,
        });
      });
      reply.status(201);
      return { roleCode: b.roleCode };
    },
  );
  r.put(
    '/api/roles/:roleCode',
    {
      config: { permission: 'role.admin', orgWide: true },
      schema: { tags: ['organisation'], params: z.object({ roleCode: code }), body: roleBody },
    },
    async (request) => {
      const { roleCode } = request.params;
      const caller = requireCaller(request.ctx);
      if (roleCode === caller.roleCode && !request.body.permissions.includes('role.admin')) {
        throw fieldError('permissions', 'CANNOT_DROP_OWN_ROLE_ADMIN');
      }
      await db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('role')
          .selectAll()
          .where('role_code', '=', roleCode)
          .executeTakeFirst();
        if (!before) throw notFound('role', roleCode);
        const beforePerms = await trx
          .selectFrom('role_permission')
          .select('permission')
          .where('role_code', '=', roleCode)
          .execute();
        await trx
          .updateTable('role')
          .set({ name_zh: request.body.nameZh, name_en: request.body.nameEn, org_wide: request.body.orgWide })
          .where('role_code', '=', roleCode)
          .execute();
        await saveRole(trx, roleCode, request.body);
        await audit(trx, request.ctx, {
          entityType: 'role',
          entityId: roleCode,
          action: 'update',
          ...diff(
            { ...before, permissions: beforePerms.map((p) => p.permission).sort() },
            {
              ...before,
              name_zh: request.body.nameZh,
              name_en: request.body.nameEn,
              org_wide: request.body.orgWide,
              permissions: [...new Set(request.body.permissions)].sort(),
            },
          ),
        });
      });
      return { roleCode };
    },
  );

  // ------------------------------------------------------------------ staff
  r.get(
    '/api/staff',
    {
      config: { permission: 'staff.read' },
      schema: {
        tags: ['staff'],
        summary: 'Staff of the caller’s offices',
        querystring: z.object({
          q: text(60).default(''),
          officeId: id.optional(),
          roleCode: text(40).optional(),
          ...paging,
        }),
      },
    },
    async (request) => {
      const caller = requireCaller(request.ctx);
      const { q, officeId, roleCode, page, pageSize } = request.query;
      const base = db
        .selectFrom('staff as s')
        .$if(caller.officeIds !== null, (qb) =>
          qb.where((eb) =>
            eb.exists(
              eb
                .selectFrom('staff_office as so')
                .select('so.office_id')
                .whereRef('so.staff_id', '=', 's.staff_id')
                .where('so.office_id', 'in', [...(caller.officeIds ?? []), -1]),
            ),
          ),
        )
        .$if(officeId !== undefined, (qb) =>
          qb.where((eb) =>
            eb.exists(
              eb
                .selectFrom('staff_office as so')
                .select('so.office_id')
                .whereRef('so.staff_id', '=', 's.staff_id')
                .where('so.office_id', '=', officeId!),
            ),
          ),
        )
        .$if(!!roleCode, (qb) => qb.where('s.role_code', '=', roleCode!))
        .$if(q !== '', (qb) =>
          qb.where((eb) =>
            eb.or([
              eb('s.username', 'ilike', `%${q}%`),
              eb('s.full_name', 'ilike', `%${q}%`),
              eb('s.phone', 'like', `%${q}%`),
            ]),
          ),
        );
      const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      const items = await base
        .select([
          's.staff_id',
          's.username',
          's.full_name',
          's.phone',
          's.role_code',
          's.home_office_id',
          's.active',
          's.locked_until',
          's.must_change_password',
          's.version',
          's.created_at',
          sql<
            number[]
          >`array(select office_id from staff_office so where so.staff_id = s.staff_id order by office_id)`.as(
            'office_ids',
          ),
        ])
        .orderBy('s.username')
        .limit(pageSize)
        .offset((page - 1) * pageSize)
        .execute();
      return { items, total: Number(n), page, pageSize };
    },
  );

  const staffFields = {
    fullName: requiredText(40),
    phone: phone.or(z.literal('')).default(''),
    roleCode: requiredText(40),
    homeOfficeId: id,
    officeIds: z.array(id).min(1).max(100),
    active: z.boolean().default(true),
  };
  async function checkStaff(b: { roleCode: string; homeOfficeId: number; officeIds: number[] }) {
    const role = await db
      .selectFrom('role')
      .select('role_code')
      .where('role_code', '=', b.roleCode)
      .executeTakeFirst();
    if (!role) throw fieldError('roleCode', 'ROLE_UNKNOWN');
    const offices = await db
      .selectFrom('office')
      .select('office_id')
      .where('office_id', 'in', b.officeIds)
      .execute();
    if (offices.length !== new Set(b.officeIds).size) throw fieldError('officeIds', 'OFFICE_UNKNOWN');
    if (!b.officeIds.includes(b.homeOfficeId)) throw fieldError('homeOfficeId', 'HOME_OFFICE_NOT_ASSIGNED');
  }

  r.post(
    '/api/staff',
    {
      config: { permission: 'staff.admin' },
      schema: {
        tags: ['staff'],
        summary: 'Create a staff account; the password is to be changed at first sign-in',
        body: z.object({
          username: requiredText(40).refine((v) => /^[a-z0-9_.-]+$/.test(v), {
            params: { code: 'USERNAME_CHARS' },
          }),
          password: z.string().min(1).max(200),
          ...staffFields,
        }),
      },
    },
    async (request, reply) => {
      const b = request.body;
      await checkStaff(b);
      const minLength = (await loadSettings(db))['auth.minPasswordLength'];
      if (b.password.length < minLength) throw fieldError('password', 'PASSWORD_TOO_SHORT', { minLength });
      const passwordHash = await hashPassword(b.password);
      const row = await db
        .transaction()
        .execute(async (trx) => {
          const row = await trx
            .insertInto('staff')
            .values({
              username: b.username,
              full_name: b.fullName,
              phone: b.phone,
              role_code: b.roleCode,
              home_office_id: b.homeOfficeId,
              password_hash: passwordHash,
              must_change_password: true,
              active: b.active,
            })
            .returning(['staff_id', 'username'])
            .executeTakeFirstOrThrow();
          await trx
            .insertInto('staff_office')
            .values([...new Set(b.officeIds)].map((office_id) => ({ staff_id: row.staff_id, office_id })))
            .execute();
          const { password: _secret, ...safe } = b;
          await audit(trx, request.ctx, {
            entityType: 'staff',
            entityId: row.staff_id,
            officeId: b.homeOfficeId,
            action: 'create',
            after: safe,
          });
          return row;
        })
        .catch((e) => {
          throw isUniqueViolation(e) ? taken('USERNAME_TAKEN', b.username, 'username') : e;
        });
      reply.status(201);
      return { staffId: row.staff_id };
    },
  );

  const staffParams = z.object({ staffId: id });
  r.put(
    '/api/staff/:staffId',
    {
      config: { permission: 'staff.admin' },
      schema: {
        tags: ['staff'],
        params: staffParams,
        body: z.object({ ...staffFields, version: z.number().int().positive() }),
      },
    },
    async (request) => {
      const b = request.body;
      await checkStaff(b);
      const caller = requireCaller(request.ctx);
      if (request.params.staffId === caller.staffId && !b.active)
        throw fieldError('active', 'CANNOT_DEACTIVATE_SELF');
      return db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('staff')
          .selectAll()
          .where('staff_id', '=', request.params.staffId)
          .forUpdate()
          .executeTakeFirstOrThrow();
        if (before.version !== b.version) throw versionConflict();
        const beforeOffices = await trx
          .selectFrom('staff_office')
          .select('office_id')
          .where('staff_id', '=', before.staff_id)
          .execute();
        const after = await trx
          .updateTable('staff')
          .set({
            full_name: b.fullName,
            phone: b.phone,
            role_code: b.roleCode,
            home_office_id: b.homeOfficeId,
            active: b.active,
            version: before.version + 1,
            updated_at: new Date(),
          })
          .where('staff_id', '=', before.staff_id)
          .returningAll()
          .executeTakeFirstOrThrow();
        await trx.deleteFrom('staff_office').where('staff_id', '=', before.staff_id).execute();
        await trx
          .insertInto('staff_office')
          .values([...new Set(b.officeIds)].map((office_id) => ({ staff_id: before.staff_id, office_id })))
          .execute();
        if (!b.active) await trx.deleteFrom('session').where('staff_id', '=', before.staff_id).execute();
        const d = diff(
          { ...before, office_ids: beforeOffices.map((o) => o.office_id).sort() },
          { ...after, office_ids: [...new Set(b.officeIds)].sort() },
        );
        await audit(trx, request.ctx, {
          entityType: 'staff',
          entityId: before.staff_id,
          officeId: b.homeOfficeId,
          action: 'update',
          ...d,
        });
        return { version: after.version };
      });
    },
  );

  r.post(
    '/api/staff/:staffId/reset-password',
    {
      config: { permission: 'staff.admin' },
      schema: {
        tags: ['staff'],
        params: staffParams,
        body: z.object({ password: z.string().min(1).max(200) }),
      },
    },
    async (request) => {
      const minLength = (await loadSettings(db))['auth.minPasswordLength'];
      if (request.body.password.length < minLength)
        throw fieldError('password', 'PASSWORD_TOO_SHORT', { minLength });
      const hash = await hashPassword(request.body.password);
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('staff')
          .set({
            password_hash: hash,
            must_change_password: true,
            failed_logins: 0,
            locked_until: null,
            updated_at: new Date(),
          })
          .where('staff_id', '=', request.params.staffId)
          .execute();
        await trx.deleteFrom('session').where('staff_id', '=', request.params.staffId).execute();
        await audit(trx, request.ctx, {
          entityType: 'staff',
          entityId: request.params.staffId,
          action: 'password_reset',
        });
      });
      return { ok: true };
    },
  );

  r.post(
    '/api/staff/:staffId/unlock',
    { config: { permission: 'staff.admin' }, schema: { tags: ['staff'], params: staffParams } },
    async (request) => {
      await db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('staff')
          .select(['locked_until', 'failed_logins'])
          .where('staff_id', '=', request.params.staffId)
          .executeTakeFirstOrThrow();
        await trx
          .updateTable('staff')
          .set({ failed_logins: 0, locked_until: null })
          .where('staff_id', '=', request.params.staffId)
          .execute();
        await audit(trx, request.ctx, {
          entityType: 'staff',
          entityId: request.params.staffId,
          action: 'unlock',
          before,
          after: { locked_until: null, failed_logins: 0 },
        });
      });
      return { ok: true };
    },
  );

  // ------------------------------------------------------------------ settings
  r.get(
    '/api/settings',
    {
      config: { permission: 'settings.admin', orgWide: true },
      schema: { tags: ['settings'], summary: 'Settings in force and their history' },
    },
    async () => {
      const current = await loadSettings(db);
      const history = await db
        .selectFrom('setting')
        .selectAll()
        .orderBy('key')
        .orderBy('effective_from', 'desc')
        .execute();
      return Object.entries(current).map(([key, value]) => ({
        key,
        value: shown(key, value),
        default: shown(key, DEFAULT_SETTINGS[key as keyof typeof DEFAULT_SETTINGS]),
        history: history.filter((h) => h.key === key).map((h) => ({ ...h, value: shown(key, h.value) })),
      }));
    },
  );
  r.put(
    '/api/settings/:key',
    {
      config: { permission: 'settings.admin', orgWide: true },
      schema: {
        tags: ['settings'],
        summary: 'Set a value from a date on',
        params: z.object({ key: z.string() }),
        body: z.object({ value: z.union([z.number(), z.string()]), effectiveFrom: isoDate }),
      },
    },
    async (request) => {
      const { key } = request.params;
      if (!isSettingKey(key)) throw notFound('setting', key);
      const expected = typeof DEFAULT_SETTINGS[key];
      if (typeof request.body.value !== expected) throw fieldError('value', 'SETTING_TYPE');
      if (
        typeof request.body.value === 'number' &&
        (request.body.value < 0 || !Number.isFinite(request.body.value))
      ) {
        throw fieldError('value', 'SETTING_TYPE');
      }
      if (TIME_OF_DAY_SETTINGS.has(key) && !/^([01]\d|2[0-3]):[0-5]\d$/.test(String(request.body.value))) {
        throw fieldError('value', 'TIME_OF_DAY');
      }
      // The mask the page showed, sent back unchanged: nothing to store.
      if (SECRET_SETTINGS.has(key) && request.body.value === SECRET_MASK) {
        request.ctx.replay = true;
        return { ok: true, unchanged: true };
      }
      const caller = requireCaller(request.ctx);
      await db.transaction().execute(async (trx) => {
        const before = await trx
          .selectFrom('setting')
          .select('value')
          .where('key', '=', key)
          .where('effective_from', '=', request.body.effectiveFrom)
          .executeTakeFirst();
        await trx
          .insertInto('setting')
          .values({
            key,
            effective_from: request.body.effectiveFrom,
            value: JSON.stringify(request.body.value),
            updated_by: caller.staffId,
          })
          .onConflict((oc) =>
            oc.columns(['key', 'effective_from']).doUpdateSet({
              value: JSON.stringify(request.body.value),
              updated_by: caller.staffId,
              updated_at: new Date(),
            }),
          )
          .execute();
        await audit(trx, request.ctx, {
          entityType: 'setting',
          entityId: `${key}@${request.body.effectiveFrom}`,
          action: 'set',
          before: before ? { value: shown(key, before.value) } : null,
          after: { value: shown(key, request.body.value) },
        });
      });
      invalidateSettings();
      return { ok: true };
    },
  );
}
