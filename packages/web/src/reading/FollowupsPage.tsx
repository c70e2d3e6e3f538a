import { CheckCircleOutlined, EditOutlined } from '@ant-design/icons';
import { isReadingMonth } from '@meterline/domain';
import {
  Alert,
  App,
  Button,
  Card,
  Form,
  Input,
  Modal,
  Select,
  Space,
  Table,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import {
  MonthInput,
  OfficeSelect,
  thisMonth,
  useAnomalyName,
  useOfficeParam,
  useParam,
  volume,
} from './common';
import {
  type BookRow,
  type EstimateResult,
  type FollowupRow,
  itemsOf,
  type Paged,
  type StuckMeter,
  type StuckMeters as StuckMetersReply,
} from './types';

/** Rows in one page of these lists. */
const PAGE_SIZE = 50;

const DEPARTMENTS = ['inspection', 'repair', 'billing', 'office', 'collection'] as const;
/** `active`: not closed (the server's default). */
const FOLLOWUP_STATUSES = ['active', 'open', 'in_progress', 'closed'] as const;
const STATUS_COLORS: Record<string, string> = { open: 'orange', in_progress: 'blue', closed: 'default' };

/** Follow-ups of anomalies, meters stuck, dead or broken (卡、死、坏) too long, and estimating a book. */
export default function FollowupsPage() {
  const { t } = useTranslation();
  const [officeId, setOfficeId] = useOfficeParam();
  const [tab, setTab] = useParam('tab', 'stuck');
  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.followups')}
        </Typography.Title>
        <OfficeSelect value={officeId} onChange={setOfficeId} />
      </Space>
      <Card styles={{ body: { paddingTop: 4 } }}>
        <Tabs
          activeKey={tab}
          onChange={setTab}
          items={[
            { key: 'stuck', label: t('reading.stuck.title'), children: <StuckMeters officeId={officeId} /> },
            {
              key: 'followups',
              label: t('reading.followups.title'),
              children: <Followups officeId={officeId} />,
            },
            {
              key: 'estimate',
              label: t('reading.estimate.title'),
              children: <EstimateBook officeId={officeId} />,
            },
          ]}
        />
      </Card>
    </Space>
  );
}

function StuckMeters({ officeId }: { officeId: number | undefined }) {
  const { t } = useTranslation();
  const anomalyName = useAnomalyName();
  const { i18n } = useTranslation();
  const [page, setPage] = useState(1);
  const stuck = useApi<StuckMetersReply | StuckMeter[]>(officeId ? '/api/readings/stuck-meters' : null, {
    officeId,
    page,
    pageSize: PAGE_SIZE,
  });
  const total = Array.isArray(stuck.data) ? stuck.data.length : (stuck.data?.total ?? 0);
  const [closing, setClosing] = useState<FollowupRow | null>(null);
  const days = Array.isArray(stuck.data) ? undefined : stuck.data?.escalationDays;
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Typography.Text type="secondary">{t('reading.stuck.hint', { days: days ?? 30 })}</Typography.Text>
      {stuck.error && <Alert type="error" showIcon message={stuck.error.message} />}
      <Table<StuckMeter>
        rowKey={(r) => `${r.accountId}:${r.meterId}`}
        size="small"
        loading={stuck.loading}
        dataSource={itemsOf(stuck.data)}
        pagination={{
          current: page,
          pageSize: PAGE_SIZE,
          total,
          onChange: setPage,
          hideOnSinglePage: true,
          showSizeChanger: false,
        }}
        data-testid="stuck-table"
        scroll={{ x: 900 }}
        columns={[
          { title: t('meter.meterNo'), dataIndex: 'meterNo', width: 130 },
          {
            title: t('customer.name'),
            key: 'c',
            render: (_, r) => (
              <Space direction="vertical" size={0}>
                <Link to={`/customers/${r.accountId}?tab=readings`}>{r.customerName}</Link>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {r.customerCode} {r.address ?? ''}
                </Typography.Text>
              </Space>
            ),
          },
          {
            title: t('reading.anomalyLabel'),
            dataIndex: 'anomalyCode',
            render: (c: string, r) => (
              <Tag color="red">
                {r.anomalyName
                  ? i18n.language === 'en'
                    ? r.anomalyName.en
                    : r.anomalyName['zh-CN']
                  : anomalyName(c)}
              </Tag>
            ),
          },
          {
            title: t('reading.stuck.since'),
            dataIndex: 'since',
            width: 120,
            render: (v: string) => (v ? v.slice(0, 10) : '—'),
          },
          {
            title: t('reading.stuck.days'),
            dataIndex: 'days',
            width: 90,
            align: 'right',
            render: (d: number) => <Typography.Text type="danger">{d}</Typography.Text>,
          },
          { title: t('reading.book'), dataIndex: 'bookCode', width: 110 },
          { title: t('reading.reader'), dataIndex: 'readerName', width: 100 },
          {
            title: t('reading.stuck.escalated'),
            dataIndex: 'escalatedAt',
            width: 170,
            render: (v: string | null) =>
              v ? <Tag color="red">{formatDateTime(v)}</Tag> : <Tag>{t('reading.stuck.notEscalated')}</Tag>,
          },
          {
            title: t('common.actions'),
            key: 'a',
            width: 100,
            render: (_, r) => (
              <Button
                size="small"
                icon={<CheckCircleOutlined />}
                onClick={() => setClosing(r)}
                data-testid="stuck-close"
              >
                {t('reading.followups.close')}
              </Button>
            ),
          },
        ]}
      />
      <CloseFollowup
        followup={closing}
        onDone={(closed) => {
          setClosing(null);
          if (closed) stuck.reload();
        }}
      />
    </Space>
  );
}

function Followups({ officeId }: { officeId: number | undefined }) {
  const { t, i18n } = useTranslation();
  const anomalyName = useAnomalyName();
  const [department, setDepartment] = useState<string | undefined>(undefined);
  const [status, setStatus] = useState<string>('active');
  const [page, setPage] = useState(1);
  const list = useApi<Paged<FollowupRow> | FollowupRow[]>(officeId ? '/api/followups' : null, {
    officeId,
    department,
    status: status === 'active' ? undefined : status,
    page,
    pageSize: PAGE_SIZE,
  });
  const total = Array.isArray(list.data) ? list.data.length : (list.data?.total ?? 0);
  const [closing, setClosing] = useState<FollowupRow | null>(null);

  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Space wrap>
        <Select
          allowClear
          placeholder={t('reading.followups.allDepartments')}
          value={department}
          onChange={(d) => {
            setDepartment(d);
            setPage(1);
          }}
          style={{ width: 160 }}
          aria-label={t('reading.followups.department')}
          options={DEPARTMENTS.map((d) => ({ value: d, label: t(`reading.department.${d}`) }))}
        />
        <Select
          value={status}
          onChange={(s) => {
            setStatus(s);
            setPage(1);
          }}
          style={{ width: 140 }}
          aria-label={t('reading.followups.status')}
          options={FOLLOWUP_STATUSES.map((s) => ({
            value: s,
            label: t(`reading.followups.statusName.${s}`),
          }))}
        />
      </Space>
      {list.error && <Alert type="error" showIcon message={list.error.message} />}
      <Table<FollowupRow>
        rowKey={(r) => `${r.accountId}:${r.followupId}`}
        size="small"
        loading={list.loading}
        dataSource={itemsOf(list.data)}
        pagination={{
          current: page,
          pageSize: PAGE_SIZE,
          total,
          onChange: setPage,
          hideOnSinglePage: true,
          showSizeChanger: false,
        }}
        data-testid="followups-table"
        scroll={{ x: 900 }}
        rowClassName={(r) => (r.escalatedAt && r.status !== 'closed' ? 'row-over' : '')}
        columns={[
          {
            title: t('reading.followups.openedAt'),
            dataIndex: 'openedAt',
            width: 160,
            render: formatDateTime,
          },
          {
            title: t('customer.name'),
            key: 'c',
            render: (_, r) => (
              <Space direction="vertical" size={0}>
                <Link to={`/customers/${r.accountId}?tab=readings`}>{r.customerName ?? r.accountId}</Link>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {r.customerCode ?? ''} {r.meterNo ?? ''}
                </Typography.Text>
              </Space>
            ),
          },
          {
            title: t('reading.anomalyLabel'),
            dataIndex: 'anomalyCode',
            render: (c: string, r) => (
              <Tag color={r.meterFault ? 'red' : 'magenta'}>
                {r.anomalyName
                  ? i18n.language === 'en'
                    ? r.anomalyName.en
                    : r.anomalyName['zh-CN']
                  : anomalyName(c)}
              </Tag>
            ),
          },
          {
            title: t('reading.book'),
            key: 'book',
            width: 120,
            render: (_, r) => (
              <Space direction="vertical" size={0}>
                <span>{r.bookCode ?? '—'}</span>
                <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                  {r.readerName ?? ''}
                </Typography.Text>
              </Space>
            ),
          },
          {
            title: t('reading.stuck.days'),
            dataIndex: 'days',
            width: 70,
            align: 'right',
          },
          {
            title: t('reading.followups.department'),
            dataIndex: 'department',
            width: 110,
            render: (d: string) => t(`reading.department.${d}`, { defaultValue: d }),
          },
          {
            title: t('reading.followups.status'),
            dataIndex: 'status',
            width: 160,
            render: (s: string, r) => (
              <Space size={2} wrap>
                <Tag color={STATUS_COLORS[s]}>
                  {t(`reading.followups.statusName.${s}`, { defaultValue: s })}
                </Tag>
                {r.escalatedAt && <Tag color="red">{t('reading.followups.escalated')}</Tag>}
              </Space>
            ),
          },
          { title: t('reading.note'), dataIndex: 'note', render: (n: string) => n || '—' },
          {
            title: t('common.actions'),
            key: 'a',
            width: 100,
            render: (_, r) =>
              r.status !== 'closed' ? (
                <Button
                  size="small"
                  icon={<CheckCircleOutlined />}
                  onClick={() => setClosing(r)}
                  data-testid="followup-close"
                >
                  {t('reading.followups.close')}
                </Button>
              ) : (
                <Typography.Text type="secondary">{formatDateTime(r.closedAt)}</Typography.Text>
              ),
          },
        ]}
      />
      <CloseFollowup
        followup={closing}
        onDone={(closed) => {
          setClosing(null);
          if (closed) list.reload();
        }}
      />
    </Space>
  );
}

/** Closing a follow-up with its outcome (POST …/followups/:id/close). */
function CloseFollowup({
  followup,
  onDone,
}: {
  followup: FollowupRow | null;
  onDone: (closed: boolean) => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<{ note: string }>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (followup) form.resetFields();
  }, [followup, form]);

  const close = async () => {
    if (!followup) return;
    const values = await validated(form);
    if (!values) return;
    const { note } = values;
    setBusy(true);
    try {
      await api(`/api/customers/${followup.accountId}/followups/${followup.followupId}/close`, {
        method: 'POST',
        body: { note: note.trim() },
      });
      void message.success(t('reading.followups.closed'));
      onDone(true);
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={followup !== null}
      title={followup ? t('reading.followups.closeTitle', { name: followup.customerName ?? '' }) : ''}
      onOk={close}
      onCancel={() => onDone(false)}
      confirmLoading={busy}
      okText={t('reading.followups.close')}
      cancelText={t('common.cancel')}
      forceRender
    >
      <Form form={form} name="closeFollowup" layout="vertical">
        <Form.Item
          name="note"
          label={t('reading.followups.outcome')}
          rules={[{ required: true, whitespace: true }, { max: 500 }]}
        >
          <Input.TextArea rows={3} />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function EstimateBook({ officeId }: { officeId: number | undefined }) {
  const { t } = useTranslation();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const books = useApi<BookRow[]>(officeId ? '/api/books' : null, { officeId });
  const [bookId, setBookId] = useState<number | undefined>(undefined);
  const [period, setPeriod] = useState(thisMonth());
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<EstimateResult | null>(null);

  const chosen = books.data?.find((b) => b.bookId === bookId);
  // Only a month the book's zone is read in, and not a month still to come.
  const notReadThen = chosen ? !isReadingMonth(chosen.zone, Number(period.slice(5, 7))) : false;
  const future = period > thisMonth();

  const run = () => {
    const book = chosen;
    if (!book) return;
    modal.confirm({
      title: t('reading.estimate.confirmTitle', { book: `${book.code} ${book.name}`, period }),
      content: t('reading.estimate.confirm'),
      okText: t('reading.estimate.run'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        setBusy(true);
        try {
          const r = await api<EstimateResult>('/api/readings/estimate', {
            method: 'POST',
            body: { bookId, period },
          });
          setResult(r);
          void message.success(t('reading.estimate.done'));
        } catch (e) {
          handle(e);
        } finally {
          setBusy(false);
        }
      },
    });
  };

  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Typography.Text type="secondary">{t('reading.estimate.hint')}</Typography.Text>
      <Space wrap>
        <Select
          showSearch
          optionFilterProp="label"
          placeholder={t('reading.book')}
          value={bookId}
          onChange={setBookId}
          style={{ minWidth: 260 }}
          loading={books.loading}
          aria-label={t('reading.book')}
          options={(books.data ?? []).map((b) => ({ value: b.bookId, label: `${b.code} ${b.name}` }))}
        />
        <MonthInput value={period} onChange={setPeriod} />
        <Button
          type="primary"
          icon={<EditOutlined />}
          disabled={!bookId || notReadThen || future}
          loading={busy}
          onClick={run}
          data-testid="estimate-run"
        >
          {t('reading.estimate.run')}
        </Button>
      </Space>
      {chosen && notReadThen && (
        <Alert
          type="warning"
          showIcon
          message={t('reading.estimate.notReadingMonth', {
            zone: t(`reading.zoneName.${chosen.zone}`),
            period,
          })}
        />
      )}
      {future && <Alert type="warning" showIcon message={t('reading.estimate.future')} />}
      {result && (
        <Space direction="vertical" style={{ width: '100%' }} data-testid="estimate-result">
          <Alert
            type={result.visitForced.length > 0 ? 'warning' : 'success'}
            showIcon
            message={t('reading.estimate.summary', {
              created: result.created,
              forced: result.visitForced.length,
            })}
          />
          {result.readings.length > 0 && (
            <Table
              rowKey="readingId"
              size="small"
              dataSource={result.readings}
              pagination={{ pageSize: 20, hideOnSinglePage: true }}
              columns={[
                { title: t('meter.meterNo'), dataIndex: 'meterNo', width: 140 },
                {
                  title: t('customer.name'),
                  dataIndex: 'customerName',
                  render: (n: string, r) => <Link to={`/customers/${r.accountId}?tab=readings`}>{n}</Link>,
                },
                {
                  title: t('reading.consumption'),
                  dataIndex: 'consumptionM3',
                  width: 110,
                  align: 'right',
                  render: (v: string | null) => (v === null ? '—' : `${volume(v)} m³`),
                },
                {
                  title: t('reading.estimate.basis'),
                  dataIndex: 'basis',
                  render: (b: string) => t(`reading.basis.${b}`, { defaultValue: b }),
                },
              ]}
            />
          )}
          {result.visitForced.length > 0 && (
            <Table
              rowKey={(r) => `${r.accountId}:${r.meterId}`}
              size="small"
              title={() => t('reading.estimate.forcedTitle')}
              dataSource={result.visitForced}
              pagination={{ pageSize: 20, hideOnSinglePage: true }}
              columns={[
                { title: t('meter.meterNo'), dataIndex: 'meterNo', width: 140 },
                {
                  title: t('customer.name'),
                  dataIndex: 'customerName',
                  render: (n: string, r) => <Link to={`/customers/${r.accountId}?tab=readings`}>{n}</Link>,
                },
                {
                  title: t('reading.estimate.inARow'),
                  dataIndex: 'estimatesInARow',
                  width: 120,
                  align: 'right',
                },
              ]}
            />
          )}
        </Space>
      )}
    </Space>
  );
}
