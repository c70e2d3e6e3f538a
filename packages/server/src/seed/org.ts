import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { hashPassword } from '../platform/passwords.ts';

export const DEMO_PASSWORD = 'meterline';

/** The demo utility's organisation: two branches, five business offices. */
export const DEMO_OFFICES = [
  { branch: 'B01', code: '0101', name: '金水营业所', address: '金水区花园路12号', phone: '0371-65550101' },
  { branch: 'B01', code: '0102', name: '二七营业所', address: '二七区大学路88号', phone: '0371-65550102' },
  { branch: 'B01', code: '0103', name: '管城营业所', address: '管城区紫荆山路9号', phone: '0371-65550103' },
  { branch: 'B02', code: '0201', name: '中原营业所', address: '中原区建设路150号', phone: '0371-65550201' },
  { branch: 'B02', code: '0202', name: '惠济营业所', address: '惠济区天河路36号', phone: '0371-65550202' },
] as const;

/** Demo logins: one per role, office staff in the first two offices. */
export const DEMO_STAFF = [
  { username: 'admin', fullName: '系统管理员', role: 'admin', offices: ['0101'] },
  { username: 'clerk', fullName: '王丽', role: 'clerk', offices: ['0101'] },
  { username: 'clerk2', fullName: '赵敏', role: 'clerk', offices: ['0102'] },
  { username: 'manager', fullName: '张建国', role: 'office_manager', offices: ['0101'] },
  { username: 'manager2', fullName: '刘志强', role: 'office_manager', offices: ['0102'] },
  { username: 'reader', fullName: '李强', role: 'reader', offices: ['0101'] },
  { username: 'reader2', fullName: '马军', role: 'reader', offices: ['0101'] },
  { username: 'reader3', fullName: '何勇', role: 'reader', offices: ['0102'] },
  { username: 'reader4', fullName: '罗杰', role: 'reader', offices: ['0103'] },
  { username: 'reader5', fullName: '高鹏', role: 'reader', offices: ['0201'] },
  { username: 'reader6', fullName: '林涛', role: 'reader', offices: ['0202'] },
  { username: 'collector', fullName: '陈刚', role: 'collector', offices: ['0101'] },
  { username: 'deputy', fullName: '孙卫东', role: 'deputy_gm', offices: ['0101'] },
  { username: 'analyst', fullName: '周婷', role: 'analyst', offices: ['0101'] },
  { username: 'inspector', fullName: '吴磊', role: 'inspector', offices: ['0101', '0102'] },
  { username: 'finance', fullName: '郑红', role: 'finance', offices: ['0101'] },
] as const;

/** Creates the demo organisation and staff if there are no offices yet; returns whether it did. */
export async function seedDemoOrganisation(db: Kysely<DB>): Promise<boolean> {
  const any = await db.selectFrom('office').select('office_id').limit(1).executeTakeFirst();
  if (any) return false;
  const hash = await hashPassword(DEMO_PASSWORD);
  await db.transaction().execute(async (trx) => {
    const branches = await trx
      .insertInto('branch')
      .values([
        { code: 'B01', name: '东区分公司' },
        { code: 'B02', name: '西区分公司' },
      ])
      .returning(['branch_id', 'code'])
      .execute();
    const branchId = (code: string) => branches.find((b) => b.code === code)!.branch_id;
    const offices = await trx
      .insertInto('office')
      .values(
        DEMO_OFFICES.map((o) => ({
          branch_id: branchId(o.branch),
          code: o.code,
          name: o.name,
          address: o.address,
          phone: o.phone,
        })),
      )
      .returning(['office_id', 'code'])
      .execute();
    const officeId = (code: string) => offices.find((o) => o.code === code)!.office_id;
    for (const s of DEMO_STAFF) {
      const row = await trx
        .insertInto('staff')
        .values({
          username: s.username,
          full_name: s.fullName,
          role_code: s.role,
          home_office_id: officeId(s.offices[0]),
          password_hash: hash,
        })
        .returning('staff_id')
        .executeTakeFirstOrThrow();
      await trx
        .insertInto('staff_office')
        .values(s.offices.map((o) => ({ staff_id: row.staff_id, office_id: officeId(o) })))
        .execute();
    }
    await trx
      .insertInto('audit_log')
      .values({
        entity_type: 'system',
        entity_id: 'seed',
        action: 'seed_organisation',
        after: JSON.stringify({ offices: DEMO_OFFICES.length, staff: DEMO_STAFF.length }),
      })
      .execute();
  });
  return true;
}
