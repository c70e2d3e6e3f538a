import { randomBytes } from 'node:crypto';
import { DomainError } from '@meterline/domain';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { z } from 'zod';
import { hashToken, SESSION_COOKIE } from '../platform/access.ts';
import { audit } from '../platform/audit.ts';
import type { AppDeps } from '../platform/context.ts';
import { requireCaller } from '../platform/context.ts';
import { fieldError } from '../platform/errors.ts';
import { DUMMY_HASH, hashPassword, verifyPassword } from '../platform/passwords.ts';
import { loadSettings } from '../platform/settings.ts';

const badCredentials = () =>
  new DomainError('BAD_CREDENTIALS', {}, { 'zh-CN': '用户名或密码错误', en: 'Wrong username or password' });

const locked = (minutes: number) =>
  new DomainError(
    'ACCOUNT_LOCKED',
    { minutes },
    {
      'zh-CN': '密码错误次数过多，账号已锁定，请 {minutes} 分钟后再试或联系管理员解锁',
      en: 'Too many wrong passwords: the account is locked; try again in {minutes} minutes or ask an admin to unlock it',
    },
  );

export async function authRoutes(app: FastifyInstance, { db, config }: AppDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post(
    '/api/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Sign in; sets an http-only session cookie',
        body: z.object({ username: z.string().trim().min(1).max(64), password: z.string().min(1).max(200) }),
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const settings = await loadSettings(db);
      const staff = await db
        .selectFrom('staff')
        .selectAll()
        .where('username', '=', username)
        .executeTakeFirst();
      const ok = await verifyPassword(password, staff?.password_hash ?? DUMMY_HASH);
      if (!staff?.active) throw badCredentials();
      if (staff.locked_until && staff.locked_until > new Date()) {
        throw locked(Math.ceil((staff.locked_until.getTime() - Date.now()) / 60_000));
      }
      if (!ok) {
        const failed = staff.failed_logins + 1;
        const lock = failed >= settings['auth.maxFailedLogins'];
        await db.transaction().execute(async (trx) => {
          await trx
            .updateTable('staff')
            .set({
              failed_logins: lock ? 0 : failed,
              locked_until: lock
                ? sql<Date>`now() + make_interval(mins => ${settings['auth.lockoutMinutes']})`
                : null,
            })
            .where('staff_id', '=', staff.staff_id)
            .execute();
          await audit(trx, request.ctx, {
            entityType: 'staff',
            entityId: staff.staff_id,
            action: lock ? 'login_locked' : 'login_failed',
            staffId: staff.staff_id,
            officeId: staff.home_office_id,
            after: { failed_logins: failed },
          });
        });
        if (lock) throw locked(settings['auth.lockoutMinutes']);
        throw badCredentials();
      }
      const token = randomBytes(32).toString('base64url');
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('session')
          .values({
            token_hash: hashToken(token),
            staff_id: staff.staff_id,
            expires_at:
              sql<Date>`now() + make_interval(mins => ${settings['auth.sessionIdleMinutes']})` as never,
            ip: request.ip,
            user_agent: String(request.headers['user-agent'] ?? '').slice(0, 300),
          })
          .execute();
        await trx
          .updateTable('staff')
          .set({ failed_logins: 0, locked_until: null })
          .where('staff_id', '=', staff.staff_id)
          .execute();
        await trx.deleteFrom('session').where('expires_at', '<', sql<Date>`now()`).execute();
        await audit(trx, request.ctx, {
          entityType: 'staff',
          entityId: staff.staff_id,
          action: 'login',
          staffId: staff.staff_id,
          officeId: staff.home_office_id,
        });
      });
      reply.setCookie(SESSION_COOKIE, token, {
        httpOnly: true,
        sameSite: 'lax',
        secure: config.secureCookies,
        path: '/',
      });
      return {
        staffId: staff.staff_id,
        username: staff.username,
        mustChangePassword: staff.must_change_password,
      };
    },
  );

  r.post(
    '/api/auth/logout',
    { config: { signedIn: true }, schema: { tags: ['auth'], summary: 'Sign out and end the session' } },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      const caller = requireCaller(request.ctx);
      await db.transaction().execute(async (trx) => {
        if (token) await trx.deleteFrom('session').where('token_hash', '=', hashToken(token)).execute();
        await audit(trx, request.ctx, { entityType: 'staff', entityId: caller.staffId, action: 'logout' });
      });
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { ok: true };
    },
  );

  r.get(
    '/api/auth/me',
    { config: { signedIn: true }, schema: { tags: ['auth'], summary: 'The signed-in staff member' } },
    async (request) => {
      const caller = requireCaller(request.ctx);
      const offices = await db
        .selectFrom('office')
        .select(['office_id as officeId', 'code', 'name'])
        .$if(caller.officeIds !== null, (q) => q.where('office_id', 'in', [...(caller.officeIds ?? []), -1]))
        .orderBy('code')
        .execute();
      return {
        staffId: caller.staffId,
        username: caller.username,
        fullName: caller.fullName,
        roleCode: caller.roleCode,
        permissions: [...caller.permissions],
        orgWide: caller.officeIds === null,
        offices,
        homeOfficeId: caller.homeOfficeId,
        mustChangePassword: caller.mustChangePassword,
      };
    },
  );

  r.post(
    '/api/auth/password',
    {
      config: { signedIn: true },
      schema: {
        tags: ['auth'],
        summary: 'Change one’s own password',
        body: z.object({ currentPassword: z.string().min(1), newPassword: z.string().min(1).max(200) }),
      },
    },
    async (request) => {
      const caller = requireCaller(request.ctx);
      const minLength = (await loadSettings(db))['auth.minPasswordLength'];
      const staff = await db
        .selectFrom('staff')
        .select('password_hash')
        .where('staff_id', '=', caller.staffId)
        .executeTakeFirstOrThrow();
      if (!(await verifyPassword(request.body.currentPassword, staff.password_hash))) {
        throw fieldError('currentPassword', 'WRONG_PASSWORD');
      }
      if (request.body.newPassword.length < minLength) {
        throw fieldError('newPassword', 'PASSWORD_TOO_SHORT', { minLength });
      }
      const hash = await hashPassword(request.body.newPassword);
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('staff')
          .set({ password_hash: hash, must_change_password: false, updated_at: new Date() })
          .where('staff_id', '=', caller.staffId)
          .execute();
        await audit(trx, request.ctx, {
          entityType: 'staff',
          entityId: caller.staffId,
          action: 'password_changed',
        });
      });
      return { ok: true };
    },
  );
}
