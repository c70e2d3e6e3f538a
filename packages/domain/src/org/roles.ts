import type { Bilingual } from '../platform/errors.ts';

/** Everything a staff member may be allowed to do; routes name one of these. */
export const PERMISSIONS = [
  'customer.read',
  'customer.write',
  'customer.state',
  'customer.seal',
  'customer.close',
  'blacklist.write',
  'document.write',
  'import.run',
  'audit.search',
  'staff.read',
  'staff.admin',
  'org.admin',
  'role.admin',
  'settings.admin',
  'calendar.admin',
  'reading.plan',
  'reading.approve',
  'reading.field',
  'reading.review',
  'reading.correct',
  'tariff.admin',
  'billing.run',
  'billing.adjust',
  'billing.approve',
  'payment.take',
  'payment.approve',
  'payment.finance',
  'collection.view',
  'collection.field',
  'collection.dispute',
  'collection.manage',
  'collection.approve',
  'collection.policy',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const PERMISSION_LABELS: Record<Permission, Bilingual> = {
  'customer.read': { 'zh-CN': '查看用户档案', en: 'View customers' },
  'customer.write': { 'zh-CN': '新建和修改用户档案', en: 'Create and edit customers' },
  'customer.state': { 'zh-CN': '变更用户状态（空房、报停、拆除、复用）', en: 'Change customer state' },
  'customer.seal': { 'zh-CN': '封停与启封', en: 'Seal and unseal supply' },
  'customer.close': { 'zh-CN': '销户', en: 'Close accounts' },
  'blacklist.write': { 'zh-CN': '维护黑名单', en: 'Maintain the blacklist' },
  'document.write': { 'zh-CN': '上传和删除资料', en: 'Upload and remove documents' },
  'import.run': { 'zh-CN': '批量导入', en: 'Bulk import' },
  'audit.search': { 'zh-CN': '查询操作日志', en: 'Search the audit log' },
  'staff.read': { 'zh-CN': '查看员工', en: 'View staff' },
  'staff.admin': { 'zh-CN': '管理员工账号', en: 'Manage staff accounts' },
  'org.admin': { 'zh-CN': '管理分公司和营业所', en: 'Manage branches and offices' },
  'role.admin': { 'zh-CN': '管理角色权限', en: 'Manage roles and permissions' },
  'settings.admin': { 'zh-CN': '系统参数设置', en: 'System settings' },
  'calendar.admin': { 'zh-CN': '维护工作日历（节假日、调休）', en: 'Maintain the working-day calendar' },
  'reading.plan': {
    'zh-CN': '管理册本、抄表线路、抄表计划和抄表员分配',
    en: 'Manage books, routes, the reading plan and readers',
  },
  'reading.approve': {
    'zh-CN': '审批抄表日期调整和指数更正',
    en: 'Approve reading-date changes and index corrections',
  },
  'reading.field': {
    'zh-CN': '使用抄表机下载线路、上传抄表数据',
    en: 'Use the handheld: download routes, upload readings',
  },
  'reading.review': {
    'zh-CN': '审核抄表数据、估表、监控抄表进度',
    en: 'Review readings, estimate, monitor reading',
  },
  'reading.correct': { 'zh-CN': '申请更正水表指数', en: 'Request index corrections' },
  'tariff.admin': { 'zh-CN': '维护水价（阶梯价、附加费）', en: 'Maintain tariffs (blocks, surcharges)' },
  'billing.run': { 'zh-CN': '开账（批量开账、打印通知单）', en: 'Run billing and print bill notices' },
  'billing.adjust': {
    'zh-CN': '申请账单更正（作废重开、调量补量、其他费用）',
    en: 'Request bill corrections (cancel and rebill, volume adjustments, other charges)',
  },
  'billing.approve': { 'zh-CN': '审批账单更正', en: 'Approve bill corrections' },
  'payment.take': {
    'zh-CN': '柜台收费、打印收据、换开发票、日结',
    en: 'Take payments, print receipts, exchange slips for invoices, close the day',
  },
  'payment.approve': {
    'zh-CN': '审批冲正、退款和押金退还',
    en: 'Approve reversals, refunds and deposit refunds',
  },
  'payment.finance': {
    'zh-CN': '银行代扣文件、网上支付对账、收费报表、增值税发票',
    en: 'Bank debit files, online payments, collection reports, VAT invoices',
  },
  'collection.view': {
    'zh-CN': '查看欠费账龄、催缴进度和回收率',
    en: 'View arrears ageing, dunning progress and collection rates',
  },
  'collection.field': {
    'zh-CN': '外勤催缴：下载催缴任务、上传走访记录',
    en: 'Field collection: download collection tasks, upload visits',
  },
  'collection.dispute': {
    'zh-CN': '登记水费异议和还欠协议申请',
    en: 'Record billing disputes and installment-agreement requests',
  },
  'collection.manage': {
    'zh-CN': '管理催缴任务、审核异议、催缴函、停水申请和复水工单',
    en: 'Manage collection tasks, review disputes, letters, shut-off requests and restore orders',
  },
  'collection.approve': {
    'zh-CN': '审批停水和还欠协议',
    en: 'Approve shut-offs and installment agreements',
  },
  'collection.policy': {
    'zh-CN': '维护催缴策略、短信模板和短信网关',
    en: 'Maintain the dunning policy, message templates and the SMS gateway',
  },
};

export interface RoleDefinition {
  code: string;
  name: Bilingual;
  /** Organisation-wide roles see every office; the others see only the offices they are assigned to. */
  orgWide: boolean;
  permissions: Permission[];
}

const READ: Permission[] = ['customer.read'];

/** The roles of DOMAIN.md §1 with their default permissions; admins may change them. */
export const DEFAULT_ROLES: RoleDefinition[] = [
  {
    code: 'clerk',
    name: { 'zh-CN': '营业员 / 客服专员', en: 'Customer-service clerk' },
    orgWide: false,
    permissions: [
      ...READ,
      'customer.write',
      'customer.state',
      'document.write',
      'reading.correct',
      'billing.adjust',
      'payment.take',
      'collection.view',
      'collection.dispute',
    ],
  },
  {
    code: 'reader',
    name: { 'zh-CN': '抄催员', en: 'Meter reader–collector' },
    orgWide: false,
    permissions: [...READ, 'reading.field', 'collection.field'],
  },
  {
    code: 'collector',
    name: { 'zh-CN': '专职催款员', en: 'Dedicated collector' },
    orgWide: false,
    permissions: [...READ, 'collection.view', 'collection.field'],
  },
  {
    code: 'office_manager',
    name: { 'zh-CN': '营业所主任', en: 'Business-office manager' },
    orgWide: false,
    permissions: [
      ...READ,
      'customer.write',
      'customer.state',
      'customer.seal',
      'blacklist.write',
      'document.write',
      'import.run',
      'staff.read',
      'reading.plan',
      'reading.approve',
      'reading.review',
      'reading.correct',
      'billing.run',
      'billing.adjust',
      'billing.approve',
      'payment.take',
      'payment.approve',
      'collection.view',
      'collection.dispute',
      'collection.manage',
    ],
  },
  {
    code: 'deputy_gm',
    name: { 'zh-CN': '分管副总经理', en: 'Deputy general manager' },
    orgWide: true,
    permissions: [
      ...READ,
      'customer.state',
      'customer.seal',
      'customer.close',
      'audit.search',
      'staff.read',
      'reading.review',
      'reading.approve',
      'reading.correct',
      'billing.approve',
      'payment.approve',
      'collection.view',
      'collection.approve',
    ],
  },
  {
    code: 'analyst',
    name: { 'zh-CN': '数据分析员', en: 'Data analyst' },
    orgWide: true,
    permissions: [...READ, 'reading.review', 'reading.correct', 'collection.view'],
  },
  {
    code: 'inspector',
    name: { 'zh-CN': '稽查员', en: 'Inspector' },
    orgWide: false,
    permissions: [...READ, 'customer.seal', 'blacklist.write', 'document.write', 'collection.view'],
  },
  {
    code: 'designer',
    name: { 'zh-CN': '设计室 / 施工', en: 'Design office / construction' },
    orgWide: false,
    permissions: [...READ],
  },
  {
    code: 'finance',
    name: { 'zh-CN': '财务', en: 'Finance' },
    orgWide: true,
    permissions: [
      ...READ,
      'tariff.admin',
      'billing.run',
      'payment.approve',
      'payment.finance',
      'collection.view',
    ],
  },
  {
    code: 'grid_manager',
    name: { 'zh-CN': '网格经理', en: 'Grid manager' },
    orgWide: false,
    permissions: [...READ],
  },
  {
    code: 'admin',
    name: { 'zh-CN': '系统管理员', en: 'System administrator' },
    orgWide: true,
    permissions: [...PERMISSIONS],
  },
];

export function isPermission(value: string): value is Permission {
  return (PERMISSIONS as readonly string[]).includes(value);
}
