import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Input,
  Modal,
  Row,
  Segmented,
  Space,
  Statistic,
  Table,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { yuan } from '../billing/money';
import { Chart, type ChartOption } from '../components/Chart';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { newKey } from '../payments/types';
import { FieldResultsPanel } from './FieldResultsPanel';
import { WorkOrdersTable } from './WorkOrdersPage';

interface ShutoffRequest {
  accountId: number;
  requestId: number;
  officeId: number;
  customerCode: string;
  customerName: string;
  customerKind: string;
  utility: string;
  reason: string;
  arrearsFen: number;
  arrearsMonths: number;
  status: 'pending' | 'approved' | 'rejected' | 'withdrawn';
  requestedBy: string;
  requestedById: number;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string;
  orderNo: string | null;
}

interface RestoreReport {
  total: number;
  onTime: number;
  doneLate: number;
  openOverdue: number;
  openInTime: number;
  points: { orderNo: string; hoursTaken: number; hoursAllowed: number; late: boolean }[];
}

interface Referral {
  accountId: number;
  referralId: number;
  orderNo: string;
  customerCode: string;
  customerName: string;
  meterNo: string;
  reason: string;
  note: string;
  status: string;
  createdBy: string | null;
  createdAt: string;
}

interface Recheck {
  accountId: number;
  orderNo: string;
  customerCode: string;
  customerName: string;
  address: string;
  meterNo: string;
  bookCode: string | null;
  readerName: string | null;
  shutOffOn: string;
  lastCheckOn: string | null;
  lastOutcome: string | null;
  dueOn: string;
  due: boolean;
}

/**
 * 停水复水 (DOMAIN.md §6 "Shut-off", "Restore"): shut-off requests and their approval by another
 * person, the shut-off and restore work orders with deadlines (late restores highlighted), a chart
 * of restore times against their deadlines, referrals to the inspectors and readers' re-checks.
 */
export default function ShutoffPage() {
  const { t } = useTranslation();
  const { can, me } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [status, setStatus] = useState<ShutoffRequest['status']>('pending');
  const requests = useApi<{ items: ShutoffRequest[] }>('/api/collections/shutoff-requests', { status });
  const report = useApi<RestoreReport>('/api/collections/restores/report');
  const referrals = useApi<{ items: Referral[] }>('/api/collections/referrals');
  const rechecks = useApi<{ items: Recheck[] }>('/api/collections/rechecks');
  const [deciding, setDeciding] = useState<{ r: ShutoffRequest; approve: boolean } | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [ordersTick, setOrdersTick] = useState(0);

  const decide = async () => {
    if (!deciding) return;
    setBusy(true);
    try {
      const r = await api<ShutoffRequest>(
        `/api/customers/${deciding.r.accountId}/shutoff-requests/${deciding.r.requestId}/decision`,
        {
          method: 'POST',
          body: { approve: deciding.approve, note: note.trim() || undefined },
          headers: { 'Idempotency-Key': newKey('shutoff-decision') },
        },
      );
      void message.success(
        deciding.approve
          ? t('escalation.shutoff.approved', { no: r.orderNo ?? '' })
          : t('escalation.shutoff.rejected'),
      );
      setDeciding(null);
      setNote('');
      requests.reload();
      setOrdersTick((x) => x + 1);
    } catch (e) {
      handle(e);
    } finally {
      setBusy(false);
    }
  };

  const chart = useMemo<ChartOption | null>(() => {
    const points = report.data?.points ?? [];
    if (points.length === 0) return null;
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 48, right: 16, top: 32, bottom: 48 },
      xAxis: { type: 'category', data: points.map((p) => p.orderNo), axisLabel: { rotate: 30 } },
      yAxis: { type: 'value', name: t('escalation.shutoff.hours') },
      series: [
        {
          name: t('escalation.shutoff.hoursTaken'),
          type: 'bar',
          data: points.map((p) => ({
            value: p.hoursTaken,
            itemStyle: { color: p.late ? '#cf1322' : '#389e0d' },
          })),
        },
        {
          name: t('escalation.shutoff.hoursAllowed'),
          type: 'line',
          step: 'middle',
          data: points.map((p) => p.hoursAllowed),
          lineStyle: { type: 'dashed' },
        },
      ],
    };
  }, [report.data, t]);

  const columns: ColumnsType<ShutoffRequest> = [
    {
      title: t('escalation.shutoff.at'),
      dataIndex: 'requestedAt',
      width: 150,
      render: (v: string) => formatDateTime(v),
    },
    {
      title: t('escalation.customer'),
      key: 'customer',
      render: (_, r) => (
        <Space direction="vertical" size={0}>
          <Link to={`/customers/${r.accountId}`}>
            {r.customerCode} {r.customerName}
          </Link>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t(`escalation.kinds.${r.customerKind}`)} · {t(`escalation.utilities.${r.utility}`, r.utility)}
          </Typography.Text>
        </Space>
      ),
    },
    { title: t('escalation.arrears'), dataIndex: 'arrearsFen', align: 'right', width: 110, render: yuan },
    { title: t('escalation.months'), dataIndex: 'arrearsMonths', align: 'right', width: 80 },
    { title: t('escalation.reason'), dataIndex: 'reason' },
    { title: t('escalation.shutoff.by'), dataIndex: 'requestedBy', width: 90 },
    {
      title: t('escalation.shutoff.decision'),
      key: 'decision',
      width: 210,
      render: (_, r) =>
        r.status === 'pending' ? (
          can('collection.approve') && r.requestedById !== me?.staffId ? (
            <Space>
              <Button
                size="small"
                type="primary"
                data-testid={`approve-shutoff-${r.requestId}`}
                onClick={() => setDeciding({ r, approve: true })}
              >
                {t('escalation.shutoff.approve')}
              </Button>
              <Button size="small" danger onClick={() => setDeciding({ r, approve: false })}>
                {t('escalation.shutoff.reject')}
              </Button>
            </Space>
          ) : (
            <Typography.Text type="secondary">{t('escalation.shutoff.waiting')}</Typography.Text>
          )
        ) : (
          <Space direction="vertical" size={0}>
            <Tag color={r.status === 'approved' ? 'green' : 'default'}>
              {t(`escalation.shutoff.status.${r.status}`)}
            </Tag>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {r.decidedBy ?? ''} {r.decidedAt ? formatDateTime(r.decidedAt) : ''} {r.orderNo ?? ''}{' '}
              {r.decisionNote}
            </Typography.Text>
          </Space>
        ),
    },
  ];

  const r = report.data;
  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('escalation.shutoff.title')}
      </Typography.Title>
      <Tabs
        items={[
          {
            key: 'requests',
            label: t('escalation.shutoff.requests'),
            children: (
              <Card size="small">
                <Space direction="vertical" style={{ width: '100%' }}>
                  <Segmented
                    value={status}
                    onChange={(v) => setStatus(v as ShutoffRequest['status'])}
                    options={(['pending', 'approved', 'rejected', 'withdrawn'] as const).map((s) => ({
                      value: s,
                      label: t(`escalation.shutoff.status.${s}`),
                    }))}
                  />
                  {requests.error && <Alert type="error" showIcon message={requests.error.message} />}
                  <Table<ShutoffRequest>
                    size="small"
                    rowKey={(x) => `${x.accountId}/${x.requestId}`}
                    loading={requests.loading}
                    columns={columns}
                    dataSource={requests.data?.items ?? []}
                    data-testid="shutoff-requests"
                  />
                </Space>
              </Card>
            ),
          },
          {
            key: 'shutoffs',
            label: t('escalation.shutoff.shutoffOrders'),
            children: (
              <Card size="small">
                <WorkOrdersTable kind="shutoff" reloadKey={ordersTick} />
              </Card>
            ),
          },
          {
            key: 'restores',
            label: t('escalation.shutoff.restoreOrders'),
            children: (
              <Space direction="vertical" style={{ width: '100%' }}>
                <Card size="small">
                  <Row gutter={16}>
                    <Col span={4}>
                      <Statistic title={t('escalation.shutoff.total')} value={r?.total ?? 0} />
                    </Col>
                    <Col span={5}>
                      <Statistic title={t('escalation.shutoff.onTime')} value={r?.onTime ?? 0} />
                    </Col>
                    <Col span={5}>
                      <Statistic
                        title={t('escalation.shutoff.doneLate')}
                        value={r?.doneLate ?? 0}
                        valueStyle={{ color: r?.doneLate ? '#cf1322' : undefined }}
                      />
                    </Col>
                    <Col span={5}>
                      <Statistic
                        title={t('escalation.shutoff.openOverdue')}
                        value={r?.openOverdue ?? 0}
                        valueStyle={{ color: r?.openOverdue ? '#cf1322' : undefined }}
                      />
                    </Col>
                    <Col span={5}>
                      <Statistic title={t('escalation.shutoff.openInTime')} value={r?.openInTime ?? 0} />
                    </Col>
                  </Row>
                  {chart ? (
                    <Chart
                      option={chart}
                      height={260}
                      label={t('escalation.shutoff.chart')}
                      testId="restore-chart"
                    />
                  ) : (
                    <Typography.Text type="secondary">{t('escalation.shutoff.noneDone')}</Typography.Text>
                  )}
                </Card>
                <Card size="small">
                  <WorkOrdersTable kind="restore" reloadKey={ordersTick} />
                </Card>
              </Space>
            ),
          },
          {
            // Collections G: results and re-checks sent from the handheld (docs/escalation.md).
            key: 'fieldResults',
            label: t('fieldOrders.tab'),
            children: (
              <Card size="small">
                <FieldResultsPanel />
              </Card>
            ),
          },
          {
            key: 'referrals',
            label: t('escalation.shutoff.referrals'),
            children: (
              <Card size="small">
                <Table<Referral>
                  size="small"
                  rowKey={(x) => `${x.accountId}/${x.referralId}`}
                  loading={referrals.loading}
                  dataSource={referrals.data?.items ?? []}
                  columns={[
                    {
                      title: t('escalation.shutoff.at'),
                      dataIndex: 'createdAt',
                      width: 150,
                      render: formatDateTime,
                    },
                    { title: t('escalation.orders.no'), dataIndex: 'orderNo', width: 140 },
                    {
                      title: t('escalation.customer'),
                      key: 'c',
                      render: (_, x) => `${x.customerCode} ${x.customerName}`,
                    },
                    { title: t('escalation.orders.meterNo'), dataIndex: 'meterNo', width: 120 },
                    {
                      title: t('escalation.reason'),
                      dataIndex: 'reason',
                      width: 130,
                      render: (v: string) => (
                        <Tag color="red">{t(`escalation.shutoff.referralReasons.${v}`, v)}</Tag>
                      ),
                    },
                    { title: t('escalation.note'), dataIndex: 'note' },
                    { title: t('escalation.shutoff.by'), dataIndex: 'createdBy', width: 90 },
                  ]}
                />
              </Card>
            ),
          },
          {
            key: 'rechecks',
            label: t('escalation.shutoff.rechecks'),
            children: (
              <Card size="small">
                <Table<Recheck>
                  size="small"
                  rowKey={(x) => `${x.accountId}/${x.orderNo}`}
                  loading={rechecks.loading}
                  dataSource={rechecks.data?.items ?? []}
                  onRow={(x) => (x.due ? { style: { background: '#fffbe6' } } : {})}
                  columns={[
                    {
                      title: t('escalation.shutoff.book'),
                      dataIndex: 'bookCode',
                      width: 100,
                      render: (v) => v ?? '—',
                    },
                    {
                      title: t('escalation.shutoff.reader'),
                      dataIndex: 'readerName',
                      width: 90,
                      render: (v) => v ?? '—',
                    },
                    {
                      title: t('escalation.customer'),
                      key: 'c',
                      render: (_, x) => `${x.customerCode} ${x.customerName} ${x.address}`,
                    },
                    { title: t('escalation.orders.meterNo'), dataIndex: 'meterNo', width: 120 },
                    { title: t('escalation.shutoff.shutOffOn'), dataIndex: 'shutOffOn', width: 110 },
                    {
                      title: t('escalation.shutoff.lastCheck'),
                      key: 'last',
                      width: 170,
                      render: (_, x) =>
                        x.lastCheckOn
                          ? `${x.lastCheckOn} ${t(`escalation.shutoff.checkOutcomes.${x.lastOutcome}`)}`
                          : '—',
                    },
                    {
                      title: t('escalation.shutoff.dueOn'),
                      dataIndex: 'dueOn',
                      width: 110,
                      render: (v: string, x) => (x.due ? <Tag color="orange">{v}</Tag> : v),
                    },
                  ]}
                />
              </Card>
            ),
          },
        ]}
      />
      <Modal
        open={deciding !== null}
        title={
          deciding
            ? t(deciding.approve ? 'escalation.shutoff.approveTitle' : 'escalation.shutoff.rejectTitle', {
                name: deciding.r.customerName,
              })
            : ''
        }
        onCancel={() => setDeciding(null)}
        onOk={() => void decide()}
        confirmLoading={busy}
        okButtonProps={{ 'data-testid': 'shutoff-decision-ok' } as never}
      >
        <Input.TextArea
          rows={3}
          value={note}
          onChange={(e) => setNote(e.target.value)}
          placeholder={t('escalation.note')}
        />
      </Modal>
    </Space>
  );
}
