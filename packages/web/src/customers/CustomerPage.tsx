import { ArrowLeftOutlined, EyeInvisibleOutlined, EyeOutlined, ReloadOutlined } from '@ant-design/icons';
import { formatAddress } from '@meterline/domain';
import {
  Alert,
  Badge,
  Button,
  Card,
  Descriptions,
  Result,
  Space,
  Spin,
  Tabs,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router-dom';
import { useAuth } from '../auth/AuthContext';
import { BillsTab } from '../billing/BillsTab';
import { PrepaidTab } from '../billing/PrepaidTab';
import { maskIdentity } from '../components/format';
import { StateTag } from '../components/StateTag';
import { useApi } from '../components/useApi';
import { PaymentsTab } from '../payments/PaymentsTab';
import { ReadingsTab } from '../reading/ReadingsTab';
import { AddressesTab } from './tabs/AddressesTab';
import { ArrearsTab } from './tabs/ArrearsTab';
import { AuditTab } from './tabs/AuditTab';
import { BlacklistTab } from './tabs/BlacklistTab';
import { CollectionsHistoryTab } from './tabs/CollectionsHistoryTab';
import { ContactsTab } from './tabs/ContactsTab';
import { DocumentsTab } from './tabs/DocumentsTab';
import { IdentityTab } from './tabs/IdentityTab';
import { LowIncomeTab } from './tabs/LowIncomeTab';
import { MessagesTab } from './tabs/MessagesTab';
import { MetersTab } from './tabs/MetersTab';
import { ServicePointsTab } from './tabs/ServicePointsTab';
import { StateTab } from './tabs/StateTab';
import type { CustomerDetail } from './types';

/** Everything about one customer on one page: a header card and a tab per part of the record. */
export default function CustomerPage() {
  const { accountId } = useParams();
  // A new customer (a sub-meter's link) starts from a clean page: forms, tabs' state, revealed ID.
  return <CustomerView key={accountId} accountId={accountId ?? ''} />;
}

function CustomerView({ accountId }: { accountId: string }) {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') ?? 'identity';
  const detail = useApi<CustomerDetail>(`/api/customers/${accountId}`);
  const [revealed, setRevealed] = useState(false);
  // The audit tab reloads whenever the record changes.
  const [changes, setChanges] = useState(0);

  if (detail.error && !detail.data) {
    return (
      <Result
        status={detail.error.status === 404 ? '404' : 'error'}
        title={detail.error.message}
        extra={<Link to="/">{t('menu.search')}</Link>}
      />
    );
  }
  if (!detail.data) return <Spin size="large" style={{ display: 'block', margin: '80px auto' }} />;
  const data = detail.data;
  const c = data.customer;
  const changed = () => {
    detail.reload();
    setChanges((n) => n + 1);
  };
  const supply = data.addresses.find((a) => a.kind === 'supply') ?? data.addresses[0];
  const primary = data.contacts.find((x) => x.is_primary) ?? data.contacts[0];
  const identity = c.kind === 'person' ? c.id_card_no : c.credit_code;
  const openBlacklist = data.blacklist.filter((e) => !e.lifted_on).length;

  const tabs = [
    { key: 'identity', label: t('tabs.identity'), children: <IdentityTab data={data} onChanged={changed} /> },
    {
      key: 'contacts',
      label: `${t('tabs.contacts')} (${data.contacts.length})`,
      children: <ContactsTab data={data} onChanged={changed} />,
    },
    {
      key: 'addresses',
      label: `${t('tabs.addresses')} (${data.addresses.length})`,
      children: <AddressesTab data={data} onChanged={changed} />,
    },
    {
      key: 'servicePoints',
      label: `${t('tabs.servicePoints')} (${data.servicePoints.length})`,
      children: <ServicePointsTab data={data} onChanged={changed} />,
    },
    {
      key: 'meters',
      label: `${t('tabs.meters')} (${data.meters.length})`,
      children: <MetersTab data={data} onChanged={changed} />,
    },
    {
      key: 'readings',
      label: t('tabs.readings'),
      children: <ReadingsTab accountId={c.account_id} />,
    },
    { key: 'bills', label: t('tabs.bills'), children: <BillsTab accountId={c.account_id} /> },
    { key: 'payments', label: t('tabs.payments'), children: <PaymentsTab accountId={c.account_id} /> },
    ...(can('collection.view') || can('collection.dispute')
      ? [{ key: 'arrears', label: t('tabs.arrears'), children: <ArrearsTab accountId={c.account_id} /> }]
      : []),
    // Collections H: the customer's messages and collection history (docs/outbox.md, docs/arrears.md).
    ...(can('collection.view') || can('collection.policy')
      ? [{ key: 'messages', label: t('tabs.messages'), children: <MessagesTab accountId={c.account_id} /> }]
      : []),
    ...(can('collection.view') ||
    can('collection.dispute') ||
    can('collection.manage') ||
    can('collection.policy')
      ? [
          {
            key: 'collectionHistory',
            label: t('tabs.collectionHistory'),
            children: <CollectionsHistoryTab accountId={c.account_id} />,
          },
        ]
      : []),
    // Prepaid IC-card accounts: shown for a customer with an IC-card meter (in service or not).
    ...(data.meters.some((m) => m.ic_card)
      ? [{ key: 'prepaid', label: t('tabs.prepaid'), children: <PrepaidTab accountId={c.account_id} /> }]
      : []),
    { key: 'state', label: t('tabs.state'), children: <StateTab data={data} onChanged={changed} /> },
    {
      key: 'lowIncome',
      label: t('tabs.lowIncome'),
      children: <LowIncomeTab data={data} onChanged={changed} />,
    },
    {
      key: 'blacklist',
      label: (
        <Badge count={openBlacklist} size="small" offset={[8, -2]}>
          {t('tabs.blacklist')}
        </Badge>
      ),
      children: <BlacklistTab data={data} onChanged={changed} />,
    },
    {
      key: 'documents',
      label: `${t('tabs.documents')} (${data.documents.length})`,
      children: <DocumentsTab data={data} onChanged={changed} />,
    },
    {
      key: 'audit',
      label: t('tabs.audit'),
      children: <AuditTab accountId={c.account_id} refreshKey={changes} />,
    },
  ];

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Card
        className="customer-header"
        data-testid="customer-header"
        title={
          <Space wrap>
            <Button
              type="text"
              icon={<ArrowLeftOutlined />}
              onClick={() => navigate(-1)}
              aria-label={t('common.back')}
            />
            <Typography.Title level={4} style={{ margin: 0 }} data-testid="customer-name">
              {c.name}
            </Typography.Title>
            <Typography.Text type="secondary" copyable>
              {c.customer_code}
            </Typography.Text>
            <StateTag state={c.state} />
            {c.blacklisted && <Tag color="red">{t('customer.blacklisted')}</Tag>}
            {c.low_income && <Tag color="cyan">{t('customer.lowIncome')}</Tag>}
            {c.large_user && <Tag color="geekblue">{t('customer.largeUser')}</Tag>}
          </Space>
        }
        extra={
          <Tooltip title={t('common.reload')}>
            <Button icon={<ReloadOutlined />} onClick={changed} loading={detail.loading} />
          </Tooltip>
        }
      >
        {c.blacklisted && (
          <Alert
            type="error"
            showIcon
            style={{ marginBottom: 12 }}
            message={t('customer.blacklistWarning')}
            description={data.blacklist
              .filter((e) => !e.lifted_on)
              .map((e) => `${t(`enum.blacklistCategory.${e.category}`)}：${e.violation}`)
              .join('；')}
          />
        )}
        <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 4 }}>
          <Descriptions.Item label={t('customer.kind')}>{t(`enum.kind.${c.kind}`)}</Descriptions.Item>
          <Descriptions.Item label={c.kind === 'person' ? t('customer.idCardNo') : t('customer.creditCode')}>
            {identity ? (
              <Space size={4}>
                <Typography.Text copyable={revealed ? { text: identity } : false} data-testid="identity-no">
                  {revealed ? identity : maskIdentity(identity)}
                </Typography.Text>
                <Tooltip title={revealed ? t('customer.hideIdentity') : t('customer.showIdentity')}>
                  <Button
                    type="link"
                    size="small"
                    icon={revealed ? <EyeInvisibleOutlined /> : <EyeOutlined />}
                    onClick={() => setRevealed((v) => !v)}
                    aria-label={t('customer.showIdentity')}
                  />
                </Tooltip>
              </Space>
            ) : (
              '—'
            )}
          </Descriptions.Item>
          <Descriptions.Item label={t('customer.utility')}>
            {t(`enum.utility.${c.utility}`)}
          </Descriptions.Item>
          <Descriptions.Item label={t('customer.office')}>{c.office_name}</Descriptions.Item>
          <Descriptions.Item label={t('customer.address')} span={2}>
            {supply ? formatAddress(supply) : '—'}
          </Descriptions.Item>
          <Descriptions.Item label={t('customer.phone')}>
            {primary ? `${primary.phone}${primary.name ? `（${primary.name}）` : ''}` : '—'}
          </Descriptions.Item>
          <Descriptions.Item label={t('customer.meterNos')}>
            {data.meters
              .filter((m) => m.state === 'in_service')
              .map((m) => m.meter_no)
              .join(', ') || '—'}
          </Descriptions.Item>
          <Descriptions.Item label={t('customer.usageType')}>
            {data.servicePoints
              .map((sp) => (i18n.language === 'en' ? sp.usage_name_en : sp.usage_name_zh))
              .join(', ') || '—'}
          </Descriptions.Item>
          <Descriptions.Item label={t('customer.connectedOn')}>{c.connected_on ?? '—'}</Descriptions.Item>
          {c.remarks && (
            <Descriptions.Item label={t('customer.remarks')} span={2}>
              {c.remarks}
            </Descriptions.Item>
          )}
        </Descriptions>
      </Card>
      <Card styles={{ body: { paddingTop: 4 } }}>
        <Tabs
          activeKey={tab}
          onChange={(key) => setParams({ tab: key }, { replace: true })}
          items={tabs}
          destroyOnHidden={false}
        />
      </Card>
    </Space>
  );
}
