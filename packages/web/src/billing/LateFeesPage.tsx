import { PlayCircleOutlined } from '@ant-design/icons';
import { formatFenAsYuan } from '@meterline/domain';
import {
  Alert,
  App,
  Button,
  Card,
  Checkbox,
  Col,
  Form,
  Input,
  Modal,
  Row,
  Space,
  Statistic,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api, newUuid } from '../api';
import { useAuth, useMe } from '../auth/AuthContext';
import { Chart, type ChartOption } from '../components/Chart';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { YUAN_TEXT, yuanTextToFen } from './FeeCataloguePage';

/**
 * Late fees (滞纳金, docs/billing.md "Late fees and other charges"): what is owed by overdue-days
 * ageing, what each daily run added, the bills with a fee (largest first) with their waivers, and a
 * button that runs today's computation now.
 */

interface RunView {
  runId: number;
  runDate: string;
  status: 'running' | 'done' | 'failed';
  ratePerDay: string;
  graceDays: number;
  capRatio: string | null;
  billsExamined: number;
  billsCharged: number;
  accruedFen: number;
  accruedDeltaFen: number;
  via: 'server' | 'cli' | 'ui';
  error: string;
  startedAt: string;
  finishedAt: string | null;
}

interface Summary {
  totals: { bills: number; accruedFen: number; waivedFen: number; owedFen: number };
  ageing: { fromDays: number; toDays: number | null; bills: number; owedFen: number }[];
  runs: RunView[];
  settings: { ratePerDay: number; graceDays: number; capRatio: number };
}

interface FeeRow {
  accountId: number;
  billId: number;
  billNo: string;
  customerCode: string;
  customerName: string;
  period: string;
  amountFen: number;
  unpaidFen: number;
  dueOn: string;
  days: number;
  accruedFen: number;
  waivedFen: number;
  owedFen: number;
  accrualStopped: boolean;
}

interface FeePage {
  items: FeeRow[];
  total: number;
}

const PAGE_SIZE = 20;
const STATUS_COLORS = { running: 'processing', done: 'success', failed: 'error' } as const;

const yuan = (fen: number) => `¥${formatFenAsYuan(fen)}`;

function WaiveDialog({
  fee,
  onClose,
  onDone,
}: {
  fee: FeeRow | null;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<{ amountFen: string; reason: string; stopAccrual: boolean }>();
  const [busy, setBusy] = useState(false);
  const [key] = useState(newUuid);
  const submit = async () => {
    const values = await validated(form);
    if (!values || !fee) return;
    setBusy(true);
    try {
      const amountFen = yuanTextToFen(values.amountFen);
      await api(`/api/customers/${fee.accountId}/bills/${fee.billId}/late-fee/waive`, {
        method: 'POST',
        body: {
          ...(amountFen === null ? {} : { amountFen }),
          reason: values.reason ?? '',
          stopAccrual: !!values.stopAccrual,
        },
        headers: { 'Idempotency-Key': `waive-${fee.billId}-${key}` },
      });
      void message.success(t('charges.lateFee.waivedDone'));
      onDone();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={fee !== null}
      title={fee ? t('charges.lateFee.waiveTitle', { billNo: fee.billNo }) : ''}
      onCancel={onClose}
      onOk={() => void submit()}
      okText={t('charges.lateFee.waive')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" preserve={false} data-testid="waive-form">
        <Form.Item
          name="amountFen"
          label={t('charges.lateFee.waiveAmount')}
          extra={fee ? t('charges.lateFee.waiveAmountHint', { owed: yuan(fee.owedFen) }) : null}
          rules={[{ pattern: YUAN_TEXT, message: t('charges.catalogue.amountFormat') }]}
        >
          <Input inputMode="decimal" prefix="¥" />
        </Form.Item>
        <Form.Item name="reason" label={t('charges.lateFee.reason')}>
          <Input.TextArea rows={2} maxLength={200} />
        </Form.Item>
        <Form.Item name="stopAccrual" valuePropName="checked">
          <Checkbox>{t('charges.lateFee.stopAccrual')}</Checkbox>
        </Form.Item>
      </Form>
    </Modal>
  );
}

export default function LateFeesPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { can } = useAuth();
  const me = useMe();
  const handle = useErrorHandler();
  const [page, setPage] = useState(1);
  const [running, setRunning] = useState(false);
  const [waiving, setWaiving] = useState<FeeRow | null>(null);
  const summary = useApi<Summary>('/api/late-fees/summary');
  const fees = useApi<FeePage>('/api/late-fees', { page, pageSize: PAGE_SIZE });
  // One run covers every office: organisation-wide roles start it by hand.
  const mayRun = can('billing.run') && me.orgWide;

  const runToday = async () => {
    setRunning(true);
    try {
      const run = await api<RunView & { ran: boolean }>('/api/late-fees/runs', { method: 'POST', body: {} });
      void message.success(
        run.ran
          ? t('charges.lateFee.ran', {
              date: run.runDate,
              bills: run.billsCharged,
              amount: yuan(run.accruedFen),
            })
          : t('charges.lateFee.alreadyDone', { date: run.runDate }),
      );
      summary.reload();
      fees.reload();
    } catch (e) {
      handle(e);
    } finally {
      setRunning(false);
    }
  };

  const s = summary.data;
  const byDay = useMemo<ChartOption | null>(() => {
    if (!s || s.runs.length === 0) return null;
    const runs = [...s.runs].reverse();
    return {
      tooltip: { trigger: 'axis' },
      grid: { left: 8, right: 8, bottom: 8, top: 24, containLabel: true },
      xAxis: { type: 'category', data: runs.map((r) => r.runDate) },
      yAxis: { type: 'value', name: t('bills.yuanUnit') },
      series: [
        {
          name: t('charges.lateFee.delta'),
          type: 'bar',
          barMaxWidth: 24,
          data: runs.map((r) => r.accruedDeltaFen / 100),
        },
      ],
    };
  }, [s, t]);
  const byAgeing = useMemo<ChartOption | null>(() => {
    if (!s) return null;
    const labels = s.ageing.map((a) =>
      a.toDays === null
        ? t('charges.lateFee.ageingOver', { from: a.fromDays - 1 })
        : t('charges.lateFee.ageing', { from: a.fromDays, to: a.toDays }),
    );
    return {
      tooltip: { trigger: 'axis' },
      grid: { left: 8, right: 8, bottom: 8, top: 24, containLabel: true },
      xAxis: { type: 'category', data: labels },
      yAxis: { type: 'value', name: t('bills.yuanUnit') },
      series: [
        {
          name: t('charges.lateFee.owed'),
          type: 'bar',
          barMaxWidth: 40,
          data: s.ageing.map((a) => a.owedFen / 100),
        },
      ],
    };
  }, [s, t]);

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }} data-testid="late-fees-page">
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {t('charges.lateFee.title')}
        </Typography.Title>
        {mayRun && (
          <Button
            type="primary"
            icon={<PlayCircleOutlined />}
            loading={running}
            onClick={() => void runToday()}
            data-testid="late-fee-run"
          >
            {t('charges.lateFee.runToday')}
          </Button>
        )}
      </Space>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t('charges.lateFee.hint')}
        {s && (
          <>
            <br />
            {t('charges.lateFee.rule', {
              rate: s.settings.ratePerDay,
              grace: s.settings.graceDays,
              cap: s.settings.capRatio,
            })}
          </>
        )}
      </Typography.Paragraph>
      {summary.error && <Alert type="error" showIcon message={summary.error.message} />}
      {s && (
        <Row gutter={16}>
          <Col xs={12} md={6}>
            <Card size="small">
              <Statistic
                title={t('charges.lateFee.owed')}
                value={yuan(s.totals.owedFen)}
                data-testid="late-fee-owed"
              />
            </Card>
          </Col>
          <Col xs={12} md={6}>
            <Card size="small">
              <Statistic title={t('charges.lateFee.accrued')} value={yuan(s.totals.accruedFen)} />
            </Card>
          </Col>
          <Col xs={12} md={6}>
            <Card size="small">
              <Statistic title={t('charges.lateFee.waived')} value={yuan(s.totals.waivedFen)} />
            </Card>
          </Col>
          <Col xs={12} md={6}>
            <Card size="small">
              <Statistic title={t('charges.lateFee.bills')} value={s.totals.bills} />
            </Card>
          </Col>
        </Row>
      )}
      <Row gutter={16}>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('charges.lateFee.byAgeing')}>
            {byAgeing && (
              <Chart
                option={byAgeing}
                height={240}
                label={t('charges.lateFee.byAgeing')}
                testId="late-fee-ageing"
              />
            )}
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('charges.lateFee.byDay')}>
            {byDay ? (
              <Chart
                option={byDay}
                height={240}
                label={t('charges.lateFee.byDay')}
                testId="late-fee-by-day"
              />
            ) : (
              <Typography.Text type="secondary">—</Typography.Text>
            )}
          </Card>
        </Col>
      </Row>
      <Card size="small" title={t('charges.lateFee.list')}>
        {fees.error && <Alert type="error" showIcon message={fees.error.message} />}
        <Table<FeeRow>
          rowKey={(r) => `${r.accountId}/${r.billId}`}
          size="small"
          loading={fees.loading}
          dataSource={fees.data?.items ?? []}
          scroll={{ x: 'max-content' }}
          data-testid="late-fee-table"
          pagination={{
            current: page,
            pageSize: PAGE_SIZE,
            total: fees.data?.total ?? 0,
            onChange: setPage,
            showSizeChanger: false,
          }}
          columns={[
            {
              title: t('charges.lateFee.customer'),
              key: 'customer',
              render: (_, r) => (
                <Link to={`/customers/${r.accountId}`}>
                  {r.customerCode} {r.customerName}
                </Link>
              ),
            },
            { title: t('charges.lateFee.billNo'), dataIndex: 'billNo', width: 140 },
            { title: t('charges.lateFee.dueOn'), dataIndex: 'dueOn', width: 100 },
            {
              title: t('charges.lateFee.unpaid'),
              dataIndex: 'unpaidFen',
              align: 'right',
              width: 110,
              render: (v: number) => yuan(v),
            },
            { title: t('charges.lateFee.days'), dataIndex: 'days', align: 'right', width: 90 },
            {
              title: t('charges.lateFee.accrued'),
              dataIndex: 'accruedFen',
              align: 'right',
              width: 110,
              render: (v: number) => yuan(v),
            },
            {
              title: t('charges.lateFee.waived'),
              dataIndex: 'waivedFen',
              align: 'right',
              width: 100,
              render: (v: number) => (v ? yuan(v) : '—'),
            },
            {
              title: t('charges.lateFee.owed'),
              dataIndex: 'owedFen',
              align: 'right',
              width: 110,
              render: (v: number, r) => (
                <Space size={4}>
                  <Typography.Text strong>{yuan(v)}</Typography.Text>
                  {r.accrualStopped && <Tag>{t('charges.lateFee.stopped')}</Tag>}
                </Space>
              ),
            },
            ...(can('billing.approve')
              ? [
                  {
                    title: t('common.actions'),
                    key: 'actions',
                    width: 90,
                    render: (_: unknown, r: FeeRow) => (
                      <Button
                        size="small"
                        disabled={r.owedFen <= 0}
                        onClick={() => setWaiving(r)}
                        data-testid={`waive-${r.billNo}`}
                      >
                        {t('charges.lateFee.waive')}
                      </Button>
                    ),
                  },
                ]
              : []),
          ]}
        />
      </Card>
      <Card size="small" title={t('charges.lateFee.runs')}>
        <Table<RunView>
          rowKey="runId"
          size="small"
          dataSource={s?.runs ?? []}
          pagination={{ pageSize: 10, hideOnSinglePage: true, showSizeChanger: false }}
          data-testid="late-fee-runs"
          columns={[
            { title: t('charges.lateFee.runDate'), dataIndex: 'runDate', width: 110 },
            {
              title: t('charges.lateFee.status'),
              dataIndex: 'status',
              width: 90,
              render: (v: RunView['status'], r) => (
                <Tag color={STATUS_COLORS[v]} title={r.error || undefined}>
                  {t(`charges.lateFee.statusName.${v}`)}
                </Tag>
              ),
            },
            {
              title: t('charges.lateFee.billsCharged'),
              dataIndex: 'billsCharged',
              align: 'right',
              width: 110,
            },
            {
              title: t('charges.lateFee.accruedTotal'),
              dataIndex: 'accruedFen',
              align: 'right',
              width: 130,
              render: (v: number) => yuan(v),
            },
            {
              title: t('charges.lateFee.delta'),
              dataIndex: 'accruedDeltaFen',
              align: 'right',
              width: 120,
              render: (v: number) => yuan(v),
            },
            {
              title: t('charges.lateFee.via'),
              dataIndex: 'via',
              width: 90,
              render: (v: RunView['via']) => t(`charges.lateFee.viaName.${v}`),
            },
          ]}
        />
      </Card>
      <WaiveDialog
        fee={waiving}
        onClose={() => setWaiving(null)}
        onDone={() => {
          setWaiving(null);
          summary.reload();
          fees.reload();
        }}
      />
    </Space>
  );
}
