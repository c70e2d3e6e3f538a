import { Card, Select, Space, Switch, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useMe } from '../auth/AuthContext';
import { useApi } from '../components/useApi';
import type { Page } from './types';

interface BlacklistRow {
  account_id: number;
  entry_id: number;
  category: string;
  violation: string;
  action_taken: string;
  listed_on: string;
  lifted_on: string | null;
  customer_code: string;
  name: string;
  office_name: string;
  address: string | null;
  phone: string | null;
  meters: string | null;
  inspections: number;
}

const PAGE_SIZE = 20;

/** The blacklist (黑名单): theft and illegal connections with the record inspectors need. */
export default function BlacklistPage() {
  const { t } = useTranslation();
  const me = useMe();
  const [officeId, setOfficeId] = useState<number | undefined>(undefined);
  const [includeLifted, setIncludeLifted] = useState(false);
  const [page, setPage] = useState(1);
  const result = useApi<Page<BlacklistRow>>('/api/blacklist', {
    officeId,
    includeLifted: String(includeLifted),
    page,
    pageSize: PAGE_SIZE,
  });

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={4} className="page-title">
        {t('menu.blacklist')}
      </Typography.Title>
      <Card size="small">
        <Space wrap size="large">
          <Select
            allowClear
            style={{ width: 200 }}
            placeholder={t('search.filter.officeId')}
            value={officeId}
            onChange={(v) => {
              setOfficeId(v);
              setPage(1);
            }}
            options={me.offices.map((o) => ({ value: o.officeId, label: o.name }))}
          />
          <Space>
            <Switch
              checked={includeLifted}
              onChange={(v) => {
                setIncludeLifted(v);
                setPage(1);
              }}
            />
            {t('blacklist.includeLifted')}
          </Space>
        </Space>
      </Card>
      <Card styles={{ body: { padding: 0 } }}>
        <Table<BlacklistRow>
          rowKey={(r) => `${r.account_id}/${r.entry_id}`}
          size="middle"
          loading={result.loading}
          dataSource={result.data?.items ?? []}
          scroll={{ x: 1500 }}
          pagination={{
            current: page,
            pageSize: PAGE_SIZE,
            total: result.data?.total ?? 0,
            showSizeChanger: false,
            showTotal: (n) => t('search.total', { count: n }),
            onChange: setPage,
          }}
          columns={[
            {
              title: t('customer.name'),
              dataIndex: 'name',
              width: 140,
              render: (name: string, r) => (
                <Link to={`/customers/${r.account_id}?tab=blacklist`}>{name}</Link>
              ),
            },
            { title: t('customer.code'), dataIndex: 'customer_code', width: 130 },
            { title: t('customer.address'), dataIndex: 'address', width: 240, ellipsis: true },
            { title: t('customer.phone'), dataIndex: 'phone', width: 120 },
            { title: t('blacklist.meters'), dataIndex: 'meters', width: 160 },
            {
              title: t('blacklist.category'),
              dataIndex: 'category',
              width: 110,
              render: (c: string, r) => (
                <Tag color={r.lifted_on ? 'default' : 'red'}>{t(`enum.blacklistCategory.${c}`)}</Tag>
              ),
            },
            { title: t('blacklist.violation'), dataIndex: 'violation', width: 200, ellipsis: true },
            { title: t('blacklist.action'), dataIndex: 'action_taken', width: 180, ellipsis: true },
            {
              title: t('blacklist.listedOnLabel'),
              dataIndex: 'listed_on',
              width: 110,
              render: (d: string, r) => (r.lifted_on ? `${d} → ${r.lifted_on}` : d),
            },
            { title: t('blacklist.inspections'), dataIndex: 'inspections', width: 90, align: 'right' },
            { title: t('customer.office'), dataIndex: 'office_name', width: 110 },
          ]}
        />
      </Card>
    </Space>
  );
}
