import { SearchOutlined } from '@ant-design/icons';
import {
  Button,
  Card,
  Col,
  DatePicker,
  Form,
  Input,
  InputNumber,
  Row,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import type { Query } from '../api';
import { useAuth } from '../auth/AuthContext';
import { AuditDiff } from '../components/AuditDiff';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import type { AuditRow, Page } from '../customers/types';
import type { StaffRow } from '../org/types';

const ENTITY_TYPES = [
  'customer',
  'contact',
  'address',
  'service_point',
  'meter',
  'blacklist',
  'document',
  'staff',
  'role',
  'office',
  'branch',
  'setting',
  'import',
  'book',
  'reading_plan_change',
  'reading',
  'reading_correction',
  'followup',
  'office_workload',
  'calendar_day',
  'calendar_year',
] as const;

const ACTIONS = [
  'create',
  'update',
  'delete',
  'remove',
  'transfer_office',
  'state_change',
  'low_income',
  'list',
  'event',
  'lift',
  'login',
  'logout',
  'login_failed',
  'login_locked',
  'password_changed',
  'password_reset',
  'unlock',
  'set',
  'reorder_route',
  'move_meters',
  'assign_reader',
  'override_zone',
  'clear_zone_override',
  'generate',
  'request',
  'approve',
  'reject',
  'review_accept',
  'review_reject',
  'review_estimate',
  'estimate',
  'estimate_unread',
  'correct',
  'close',
  'escalate',
  'reload',
] as const;

interface Filters {
  staffId?: number;
  officeId?: number;
  entityType?: string;
  action?: string;
  entityId?: string;
  accountId?: number;
  range?: [Dayjs, Dayjs] | null;
}

const PAGE_SIZE = 50;

/** The audit log: who did what, when, in which office, with the before and after of each change. */
export default function AuditSearchPage() {
  const { t } = useTranslation();
  const { me, can } = useAuth();
  const [form] = Form.useForm<Filters>();
  const [query, setQuery] = useState<Query>({});
  const [page, setPage] = useState(1);
  const result = useApi<Page<AuditRow>>('/api/audit', { ...query, page, pageSize: PAGE_SIZE });
  const staff = useApi<Page<StaffRow>>(can('staff.read') ? '/api/staff' : null, { pageSize: 200 });

  const search = (f: Filters) => {
    setPage(1);
    setQuery({
      staffId: f.staffId,
      officeId: f.officeId,
      entityType: f.entityType,
      action: f.action,
      entityId: f.entityId?.trim(),
      accountId: f.accountId,
      from: f.range?.[0]?.format('YYYY-MM-DD'),
      to: f.range?.[1]?.format('YYYY-MM-DD'),
    });
  };

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={4} className="page-title">
        {t('menu.audit')}
      </Typography.Title>
      <Card size="small">
        <Form<Filters> form={form} name="auditSearch" layout="vertical" onFinish={search}>
          <Row gutter={12}>
            <Col xs={24} sm={12} md={6}>
              <Form.Item name="staffId" label={t('common.staff')}>
                {staff.data ? (
                  <Select
                    allowClear
                    showSearch
                    optionFilterProp="label"
                    options={staff.data.items.map((s) => ({
                      value: s.staff_id,
                      label: `${s.full_name} (${s.username})`,
                    }))}
                  />
                ) : (
                  <InputNumber style={{ width: '100%' }} min={1} placeholder="ID" />
                )}
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} md={6}>
              <Form.Item name="officeId" label={t('customer.office')}>
                <Select
                  allowClear
                  options={(me?.offices ?? []).map((o) => ({ value: o.officeId, label: o.name }))}
                />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} md={6}>
              <Form.Item name="entityType" label={t('audit.entityType')}>
                <Select
                  allowClear
                  options={ENTITY_TYPES.map((e) => ({ value: e, label: t(`entity.${e}`) }))}
                />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} md={6}>
              <Form.Item name="action" label={t('audit.action')}>
                <Select
                  allowClear
                  showSearch
                  options={ACTIONS.map((a) => ({ value: a, label: t(`action.${a}`) }))}
                />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} md={6}>
              <Form.Item name="accountId" label={t('audit.accountId')}>
                <InputNumber style={{ width: '100%' }} min={1} />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} md={6}>
              <Form.Item name="entityId" label={t('audit.entityId')}>
                <Input />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} md={8}>
              <Form.Item name="range" label={t('audit.dateRange')}>
                <DatePicker.RangePicker style={{ width: '100%' }} />
              </Form.Item>
            </Col>
            <Col xs={24} sm={12} md={4}>
              <Form.Item label=" ">
                <Space>
                  <Button type="primary" htmlType="submit" icon={<SearchOutlined />}>
                    {t('common.search')}
                  </Button>
                  <Button
                    onClick={() => {
                      form.resetFields();
                      search({});
                    }}
                  >
                    {t('common.reset')}
                  </Button>
                </Space>
              </Form.Item>
            </Col>
          </Row>
        </Form>
      </Card>
      <Card styles={{ body: { padding: 0 } }}>
        <Table<AuditRow>
          rowKey="audit_id"
          size="small"
          loading={result.loading}
          dataSource={result.data?.items ?? []}
          scroll={{ x: 1100 }}
          pagination={{
            current: page,
            pageSize: PAGE_SIZE,
            total: result.data?.total ?? 0,
            showSizeChanger: false,
            showTotal: (n) => t('search.total', { count: n }),
            onChange: setPage,
          }}
          expandable={{
            expandedRowRender: (r) => (
              <Row gutter={12}>
                <Col span={12}>
                  <Typography.Text type="secondary">{t('audit.before')}</Typography.Text>
                  <pre className="json-block">{JSON.stringify(r.before, null, 2)}</pre>
                </Col>
                <Col span={12}>
                  <Typography.Text type="secondary">{t('audit.after')}</Typography.Text>
                  <pre className="json-block">{JSON.stringify(r.after, null, 2)}</pre>
                </Col>
                <Col span={24}>
                  <Typography.Text type="secondary">
                    {t('audit.request', { id: r.request_id, ip: r.ip })}
                  </Typography.Text>
                </Col>
              </Row>
            ),
          }}
          columns={[
            { title: t('common.time'), dataIndex: 'at', width: 170, render: formatDateTime },
            {
              title: t('common.staff'),
              key: 'staff',
              width: 130,
              render: (_, r) => r.full_name ?? r.username ?? t('audit.system'),
            },
            { title: t('customer.office'), dataIndex: 'office_name', width: 110 },
            {
              title: t('audit.entityType'),
              dataIndex: 'entity_type',
              width: 110,
              render: (e: string) => <Tag>{t(`entity.${e}`, { defaultValue: e })}</Tag>,
            },
            { title: t('audit.entityId'), dataIndex: 'entity_id', width: 110 },
            {
              title: t('audit.action'),
              dataIndex: 'action',
              width: 120,
              render: (a: string) => t(`action.${a}`, { defaultValue: a }),
            },
            {
              title: t('audit.accountId'),
              dataIndex: 'account_id',
              width: 100,
              render: (id: number | null) => (id ? <Link to={`/customers/${id}?tab=audit`}>{id}</Link> : ''),
            },
            {
              title: t('audit.changes'),
              key: 'diff',
              render: (_, r) => <AuditDiff before={r.before} after={r.after} />,
            },
          ]}
        />
      </Card>
    </Space>
  );
}
