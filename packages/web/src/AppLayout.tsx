import {
  AccountBookOutlined,
  AlertOutlined,
  AuditOutlined,
  BankOutlined,
  BarChartOutlined,
  BookOutlined,
  CalendarOutlined,
  CheckSquareOutlined,
  CloudUploadOutlined,
  ControlOutlined,
  CreditCardOutlined,
  DashboardOutlined,
  DiffOutlined,
  DollarOutlined,
  ExceptionOutlined,
  FieldTimeOutlined,
  FileProtectOutlined,
  FundOutlined,
  KeyOutlined,
  LineChartOutlined,
  LogoutOutlined,
  MessageOutlined,
  NotificationOutlined,
  PieChartOutlined,
  ReadOutlined,
  RiseOutlined,
  ScheduleOutlined,
  SearchOutlined,
  SettingOutlined,
  SoundOutlined,
  StopOutlined,
  TeamOutlined,
  ThunderboltOutlined,
  UserAddOutlined,
  UserOutlined,
  WifiOutlined,
} from '@ant-design/icons';
import type { Permission } from '@meterline/domain';
import { Button, Dropdown, Layout, Menu, type MenuProps, Space, Spin, Tag, Tooltip, Typography } from 'antd';
import { Suspense, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, Navigate, Outlet, useLocation, useNavigate } from 'react-router-dom';
import { useAuth } from './auth/AuthContext';
import { ChangePasswordModal } from './auth/ChangePasswordModal';
import { LangSwitch } from './components/LangSwitch';
import { useApi } from './components/useApi';

const HEADER_STYLE: React.CSSProperties = {
  background: '#fff',
  padding: '0 24px',
  display: 'flex',
  alignItems: 'center',
  justifyContent: 'flex-end',
  borderBottom: '1px solid #f0f0f0',
  height: 'auto',
  minHeight: 56,
  lineHeight: 1.5,
};

interface RoleRow {
  role_code: string;
  name_zh: string;
  name_en: string;
}

interface MenuEntry {
  key: string;
  icon: React.ReactNode;
  label: string;
  /** Any of these permissions shows the entry. */
  anyOf: Permission[];
  children?: MenuEntry[];
}

/** The signed-in frame: side menu filtered by the caller's permissions, header with who and where. */
export default function AppLayout() {
  const { t, i18n } = useTranslation();
  const { me, signedOut, logout, can, refresh } = useAuth();
  const location = useLocation();
  const navigate = useNavigate();
  const [collapsed, setCollapsed] = useState(false);
  const [passwordOpen, setPasswordOpen] = useState(false);
  const roles = useApi<RoleRow[]>(me ? '/api/roles' : null);

  // "/" anywhere outside a text field goes to the customer search box, as in most search UIs.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      const target = e.target as HTMLElement | null;
      if (target?.closest('input, textarea, select, [contenteditable="true"]')) return;
      e.preventDefault();
      const box = document.querySelector<HTMLInputElement>('[data-testid="customer-search"]');
      if (box) box.focus();
      else navigate('/');
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navigate]);

  if (me === undefined) return <Spin fullscreen />;
  if (me === null) {
    // After signing out the next user starts at the home page; after an expired session, where they were.
    const from = signedOut ? undefined : { from: location.pathname + location.search };
    return <Navigate to="/login" replace state={from} />;
  }

  const entries: MenuEntry[] = [
    { key: '/', icon: <SearchOutlined />, label: t('menu.search'), anyOf: ['customer.read'] },
    {
      key: '/customers/new',
      icon: <UserAddOutlined />,
      label: t('menu.newCustomer'),
      anyOf: ['customer.write'],
    },
    { key: '/overview', icon: <BarChartOutlined />, label: t('menu.overview'), anyOf: ['customer.read'] },
    { key: '/blacklist', icon: <StopOutlined />, label: t('menu.blacklist'), anyOf: ['customer.read'] },
    { key: '/imports', icon: <CloudUploadOutlined />, label: t('menu.imports'), anyOf: ['import.run'] },
    { key: '/audit', icon: <AuditOutlined />, label: t('menu.audit'), anyOf: ['audit.search'] },
    {
      key: 'reading',
      icon: <ReadOutlined />,
      label: t('menu.reading'),
      anyOf: ['reading.plan', 'reading.review', 'reading.approve', 'reading.correct', 'calendar.admin'],
      children: [
        {
          key: '/reading/books',
          icon: <BookOutlined />,
          label: t('menu.books'),
          anyOf: ['reading.plan', 'reading.review'],
        },
        {
          key: '/reading/plan',
          icon: <ScheduleOutlined />,
          label: t('menu.plan'),
          anyOf: ['reading.plan', 'reading.approve'],
        },
        {
          key: '/reading/workload',
          icon: <FundOutlined />,
          label: t('menu.workload'),
          anyOf: ['reading.plan', 'reading.review'],
        },
        {
          key: '/reading/review',
          icon: <CheckSquareOutlined />,
          label: t('menu.review'),
          anyOf: ['reading.review'],
        },
        {
          key: '/reading/smart-files',
          icon: <WifiOutlined />,
          label: t('menu.smartFiles'),
          anyOf: ['reading.review'],
        },
        {
          key: '/reading/followups',
          icon: <AlertOutlined />,
          label: t('menu.followups'),
          anyOf: ['reading.review'],
        },
        {
          key: '/reading/corrections',
          icon: <DiffOutlined />,
          label: t('menu.corrections'),
          anyOf: ['reading.approve', 'reading.correct'],
        },
        {
          key: '/reading/monitor',
          icon: <DashboardOutlined />,
          label: t('menu.monitor'),
          anyOf: ['reading.review'],
        },
        {
          key: '/reading/stats',
          icon: <LineChartOutlined />,
          label: t('menu.stats'),
          anyOf: ['reading.review'],
        },
        {
          key: '/reading/calendar',
          icon: <CalendarOutlined />,
          label: t('menu.calendar'),
          anyOf: ['calendar.admin'],
        },
      ],
    },
    {
      key: 'billing',
      icon: <AccountBookOutlined />,
      label: t('menu.billing'),
      anyOf: ['tariff.admin', 'billing.run', 'billing.adjust', 'billing.approve', 'reading.review'],
      children: [
        {
          key: '/billing/runs',
          icon: <ThunderboltOutlined />,
          label: t('menu.billRuns'),
          anyOf: ['billing.run'],
        },
        {
          key: '/billing/summary',
          icon: <PieChartOutlined />,
          label: t('menu.billingSummary'),
          anyOf: ['billing.run', 'billing.adjust', 'billing.approve'],
        },
        {
          key: '/billing/prepaid',
          icon: <CreditCardOutlined />,
          label: t('menu.prepaid'),
          anyOf: ['billing.run', 'billing.adjust', 'billing.approve'],
        },
        {
          key: '/billing/corrections',
          icon: <DiffOutlined />,
          label: t('menu.billCorrections'),
          anyOf: ['billing.adjust', 'billing.approve'],
        },
        {
          key: '/billing/adjustments',
          icon: <ControlOutlined />,
          label: t('menu.volumeAdjustments'),
          anyOf: ['billing.adjust', 'reading.review', 'billing.approve'],
        },
        {
          key: '/billing/tariffs',
          icon: <DollarOutlined />,
          label: t('menu.tariffs'),
          anyOf: ['tariff.admin', 'billing.run'],
        },
        {
          key: '/billing/fees',
          icon: <DollarOutlined />,
          label: t('menu.feeCatalogue'),
          anyOf: ['tariff.admin', 'billing.run', 'billing.adjust'],
        },
        {
          key: '/billing/late-fees',
          icon: <DollarOutlined />,
          label: t('menu.lateFees'),
          anyOf: ['billing.run', 'billing.adjust', 'billing.approve'],
        },
      ],
    },
    {
      key: 'payments',
      icon: <DollarOutlined />,
      label: t('menu.payments'),
      anyOf: ['payment.take', 'payment.approve', 'payment.finance'],
      children: [
        {
          key: '/payments/counter',
          icon: <DollarOutlined />,
          label: t('menu.counter'),
          anyOf: ['payment.take'],
        },
        {
          key: '/payments/requests',
          icon: <CheckSquareOutlined />,
          label: t('menu.paymentRequests'),
          anyOf: ['payment.take', 'payment.approve'],
        },
        {
          key: '/payments/close',
          icon: <ScheduleOutlined />,
          label: t('menu.cashierClose'),
          anyOf: ['payment.take'],
        },
        {
          key: '/payments/report',
          icon: <BarChartOutlined />,
          label: t('menu.collectionReport'),
          anyOf: ['payment.take', 'payment.finance', 'payment.approve'],
        },
        {
          key: '/payments/vat',
          icon: <AuditOutlined />,
          label: t('menu.vatInvoices'),
          anyOf: ['payment.take', 'payment.finance'],
        },
        {
          key: '/payments/bank-files',
          icon: <BankOutlined />,
          label: t('menu.bankFiles'),
          anyOf: ['payment.finance'],
        },
      ],
    },
    {
      key: 'collections',
      icon: <AlertOutlined />,
      label: t('menu.collections'),
      anyOf: ['collection.view', 'collection.manage', 'collection.approve', 'collection.policy'],
      children: [
        // collections (issue 6): each part adds its menu entries below this line.
        {
          key: '/collections/outbox',
          icon: <MessageOutlined />,
          label: t('menu.outbox'),
          anyOf: ['collection.view', 'collection.policy'],
        },
        {
          key: '/collections/policy',
          icon: <NotificationOutlined />,
          label: t('menu.dunningPolicy'),
          anyOf: ['collection.view', 'collection.policy'],
        },
        {
          key: '/collections/runs',
          icon: <SoundOutlined />,
          label: t('menu.dunningRuns'),
          anyOf: ['collection.policy'],
        },
        {
          key: '/collections/ageing',
          icon: <FieldTimeOutlined />,
          label: t('menu.ageing'),
          anyOf: ['collection.view'],
        },
        {
          key: '/collections/disputes',
          icon: <ExceptionOutlined />,
          label: t('menu.disputes'),
          anyOf: ['collection.view', 'collection.dispute', 'collection.manage'],
        },
        {
          key: '/collections/installments',
          icon: <FileProtectOutlined />,
          label: t('menu.installments'),
          anyOf: ['collection.view', 'collection.dispute', 'collection.approve'],
        },
        {
          key: '/collections/results',
          icon: <RiseOutlined />,
          label: t('menu.collectionResults'),
          anyOf: ['collection.view'],
        },
        {
          key: '/collections/escalation',
          icon: <AuditOutlined />,
          label: t('menu.escalation'),
          anyOf: ['collection.view'],
        },
        {
          key: '/collections/shutoffs',
          icon: <StopOutlined />,
          label: t('menu.shutoffs'),
          anyOf: ['collection.view', 'collection.approve'],
        },
        {
          key: '/collections/work-orders',
          icon: <CheckSquareOutlined />,
          label: t('menu.workOrders'),
          anyOf: ['collection.view'],
        },
        {
          key: '/collections/tasks',
          icon: <ScheduleOutlined />,
          label: t('menu.collectionTasks'),
          anyOf: ['collection.view', 'collection.manage'],
        },
        {
          key: '/collections/visits',
          icon: <UserOutlined />,
          label: t('menu.collectionVisits'),
          anyOf: ['collection.view'],
        },
      ],
    },
    {
      key: 'admin',
      icon: <SettingOutlined />,
      label: t('menu.admin'),
      anyOf: ['staff.read', 'role.admin', 'org.admin', 'settings.admin'],
      children: [
        { key: '/admin/staff', icon: <TeamOutlined />, label: t('menu.staff'), anyOf: ['staff.read'] },
        { key: '/admin/roles', icon: <KeyOutlined />, label: t('menu.roles'), anyOf: ['role.admin'] },
        { key: '/admin/offices', icon: <BankOutlined />, label: t('menu.offices'), anyOf: ['org.admin'] },
        {
          key: '/admin/settings',
          icon: <SettingOutlined />,
          label: t('menu.settings'),
          anyOf: ['settings.admin'],
        },
      ],
    },
  ];
  const allowed = (e: MenuEntry) => e.anyOf.some((p) => can(p));
  const items: MenuProps['items'] = entries.filter(allowed).map((e) => ({
    key: e.key,
    icon: e.icon,
    label: e.children ? e.label : <Link to={e.key}>{e.label}</Link>,
    children: e.children
      ?.filter(allowed)
      .map((c) => ({ key: c.key, icon: c.icon, label: <Link to={c.key}>{c.label}</Link> })),
  }));
  const flat = entries.flatMap((e) => [e, ...(e.children ?? [])]).filter((e) => !e.children);
  const selected =
    flat
      .filter((e) => (e.key === '/' ? location.pathname === '/' : location.pathname.startsWith(e.key)))
      .sort((a, b) => b.key.length - a.key.length)[0]?.key ?? '';

  const role = roles.data?.find((r) => r.role_code === me.roleCode);
  const roleName = role ? (i18n.language === 'en' ? role.name_en : role.name_zh) : me.roleCode;

  const signOut = async () => {
    await logout();
    navigate('/login', { replace: true });
  };

  return (
    <Layout style={{ minHeight: '100vh' }}>
      <Layout.Sider collapsible collapsed={collapsed} onCollapse={setCollapsed} width={208} theme="dark">
        <Link to="/" className="app-logo" title={t('app.name')}>
          <img src="/favicon.svg" alt="" width={24} height={24} />
          {!collapsed && <span>{t('app.shortName')}</span>}
        </Link>
        <Menu
          theme="dark"
          mode="inline"
          selectedKeys={[selected]}
          defaultOpenKeys={
            selected.startsWith('/admin') ? ['admin'] : selected.startsWith('/reading') ? ['reading'] : []
          }
          items={items}
          data-testid="side-menu"
        />
      </Layout.Sider>
      <Layout>
        <Layout.Header style={HEADER_STYLE}>
          <Space size="middle" wrap className="app-header-right">
            <Space size={4} wrap>
              {me.orgWide ? (
                <Tag color="blue">{t('header.orgWide')}</Tag>
              ) : (
                me.offices.map((o) => (
                  <Tag key={o.officeId} color={o.officeId === me.homeOfficeId ? 'blue' : undefined}>
                    {o.name}
                  </Tag>
                ))
              )}
            </Space>
            <Dropdown
              menu={{
                items: [
                  { key: 'password', icon: <KeyOutlined />, label: t('password.title') },
                  { key: 'logout', icon: <LogoutOutlined />, label: t('header.logout') },
                ],
                onClick: ({ key }) => (key === 'logout' ? void signOut() : setPasswordOpen(true)),
              }}
            >
              <Space style={{ cursor: 'pointer' }} data-testid="current-user">
                <UserOutlined />
                <Typography.Text strong>{me.fullName}</Typography.Text>
                <Typography.Text type="secondary">{roleName}</Typography.Text>
              </Space>
            </Dropdown>
            <LangSwitch />
            <Tooltip title={t('header.logout')}>
              <Button icon={<LogoutOutlined />} onClick={() => void signOut()} data-testid="logout">
                {t('header.logout')}
              </Button>
            </Tooltip>
          </Space>
        </Layout.Header>
        <Layout.Content className="app-content">
          <Suspense fallback={<Spin size="large" style={{ display: 'block', margin: '80px auto' }} />}>
            <Outlet />
          </Suspense>
        </Layout.Content>
      </Layout>
      <ChangePasswordModal
        open={me.mustChangePassword || passwordOpen}
        forced={me.mustChangePassword}
        onDone={() => {
          setPasswordOpen(false);
          void refresh();
        }}
        onCancel={() => setPasswordOpen(false)}
      />
    </Layout>
  );
}
