import { ArrowLeftOutlined, PlayCircleOutlined, ReloadOutlined, StopOutlined } from '@ant-design/icons';
import { todayInChina } from '@meterline/domain';
import {
  Alert,
  App,
  Button,
  Card,
  Checkbox,
  Col,
  Descriptions,
  Form,
  Progress,
  Radio,
  Row,
  Select,
  Space,
  Statistic,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { api } from '../api';
import { useMe } from '../auth/AuthContext';
import { DateInput } from '../components/DateInput';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { currentLang } from '../i18n';
import { yuan } from './money';

/**
 * Bill runs (批量开账, docs/billing.md "Bill runs"): start one over a book, a zone, an office or
 * every office in scope — as a dry run first, whose totals show what the real run would bill —
 * follow its progress, read its totals by usage type and the readings it could not bill.
 */

type Scope = 'office' | 'book' | 'zone' | 'all';
type Status = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

interface RunView {
  runId: number;
  scope: Scope;
  officeId: number | null;
  officeName: string | null;
  bookId: number | null;
  bookCode: string | null;
  zone: string | null;
  officeIds: number[] | null;
  upTo: string;
  dryRun: boolean;
  status: Status;
  percent: number;
  accountsTotal: number;
  accountsDone: number;
  candidates: number;
  billed: number;
  exceptions: number;
  amountFen: number;
  volumeM3: string;
  smsQueued: number;
  stale: boolean;
  error: string;
  requestedBy: { staffId: number; fullName: string } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

interface RunDetail extends RunView {
  totals: {
    usageType: string;
    name: { 'zh-CN': string; en: string } | null;
    bills: number;
    volumeM3: string;
    amountFen: number;
  }[];
}

interface ExceptionRow {
  accountId: number;
  readingId: number;
  code: string;
  message: { 'zh-CN': string; en: string };
  customerCode: string | null;
  customerName: string | null;
  meterNo: string | null;
  readAt: string | null;
  usageType: string | null;
  consumptionM3: string | null;
}

interface Paged<T> {
  items: T[];
  total: number;
}

interface BookOption {
  bookId: number;
  code: string;
  name: string;
  zone: string;
}

interface StartForm {
  scope: Scope;
  officeId?: number;
  bookId?: number;
  zone?: string;
  upTo: string;
  dryRun: boolean;
}

const ZONES = ['0', 'A', 'B', 'C', 'D', 'E'] as const;
const POLL_MS = 1_500;
const PAGE_SIZE = 20;

const STATUS_COLORS: Record<Status, string> = {
  pending: 'default',
  running: 'processing',
  done: 'success',
  failed: 'error',
  cancelled: 'warning',
};

/** An Idempotency-Key for a start: made when the form opens, so a retried request starts one run. */
function newKey(prefix: string): string {
  const random =
    typeof crypto !== 'undefined' && 'randomUUID' in crypto
      ? crypto.randomUUID()
      : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
  return `${prefix}-${random}`;
}

const active = (r: RunView) => r.status === 'pending' || r.status === 'running';

function StatusTag({ run }: { run: RunView }) {
  const { t } = useTranslation();
  if (run.stale) return <Tag color="error">{t('billRuns.status.stale')}</Tag>;
  return (
    <Tag color={STATUS_COLORS[run.status]} data-testid="run-status">
      {t(`billRuns.status.${run.status}`)}
    </Tag>
  );
}

/** "Office 0101 金水营业所", "Book B-0101-C01", "Zone C (金水营业所)", "All offices". */
function ScopeText({ run }: { run: RunView }) {
  const { t } = useTranslation();
  switch (run.scope) {
    case 'office':
      return <>{t('billRuns.scopeText.office', { name: run.officeName ?? run.officeId })}</>;
    case 'book':
      return <>{t('billRuns.scopeText.book', { code: run.bookCode ?? run.bookId })}</>;
    case 'zone':
      return (
        <>
          {run.officeName
            ? t('billRuns.scopeText.zoneInOffice', { zone: run.zone, name: run.officeName })
            : t('billRuns.scopeText.zone', { zone: run.zone })}
        </>
      );
    default:
      return <>{t('billRuns.scopeText.all')}</>;
  }
}

function RunProgress({ run, size }: { run: RunView; size?: 'small' | 'default' }) {
  return (
    <Progress
      percent={run.percent}
      size={size}
      status={
        run.status === 'failed' || run.stale
          ? 'exception'
          : run.status === 'done'
            ? 'success'
            : run.status === 'cancelled'
              ? 'normal'
              : 'active'
      }
      data-testid="run-progress"
    />
  );
}

/** Reloads while the condition holds. */
function usePoll(reload: () => void, when: boolean) {
  useEffect(() => {
    if (!when) return;
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [reload, when]);
}

// ------------------------------------------------------------------ starting a run

function StartRunCard({ onStarted }: { onStarted: (run: RunView) => void }) {
  const { t } = useTranslation();
  const me = useMe();
  const handle = useErrorHandler();
  const [form] = Form.useForm<StartForm>();
  const [busy, setBusy] = useState(false);
  const [idempotencyKey, setIdempotencyKey] = useState(() => newKey('bill-run'));
  const scope = Form.useWatch('scope', form) ?? 'office';
  const officeId = Form.useWatch('officeId', form);
  const dryRun = Form.useWatch('dryRun', form) ?? true;
  const books = useApi<BookOption[]>(scope === 'book' && officeId ? '/api/books' : null, { officeId });
  const offices = me.offices;
  const home = offices.find((o) => o.officeId === me.homeOfficeId)?.officeId ?? offices[0]?.officeId;

  const start = async () => {
    const values = await validated(form);
    if (!values) return;
    setBusy(true);
    try {
      const body = {
        scope: values.scope,
        upTo: values.upTo,
        dryRun: values.dryRun,
        ...(values.scope === 'office' || values.scope === 'zone' ? { officeId: values.officeId } : {}),
        ...(values.scope === 'book' ? { bookId: values.bookId } : {}),
        ...(values.scope === 'zone' ? { zone: values.zone } : {}),
      };
      const run = await api<RunView>('/api/bill-runs', {
        method: 'POST',
        body,
        headers: { 'Idempotency-Key': idempotencyKey },
      });
      setIdempotencyKey(newKey('bill-run'));
      onStarted(run);
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card title={t('billRuns.start.title')} size="small">
      <Form<StartForm>
        form={form}
        layout="vertical"
        initialValues={{ scope: 'office', officeId: home, upTo: todayInChina(), dryRun: true, zone: 'C' }}
        data-testid="start-run-form"
      >
        <Form.Item name="scope" label={t('billRuns.scope')}>
          <Radio.Group
            optionType="button"
            options={(['office', 'book', 'zone', 'all'] as const).map((s) => ({
              value: s,
              label: t(`billRuns.scopeName.${s}`),
            }))}
          />
        </Form.Item>
        {scope !== 'all' && (
          <Form.Item
            name="officeId"
            label={t('billRuns.office')}
            rules={[{ required: scope !== 'zone', message: t('billRuns.start.officeRequired') }]}
          >
            <Select
              allowClear={scope === 'zone'}
              placeholder={scope === 'zone' ? t('billRuns.start.everyOffice') : undefined}
              options={offices.map((o) => ({ value: o.officeId, label: `${o.code} ${o.name}` }))}
              onChange={() => form.setFieldValue('bookId', undefined)}
              data-testid="run-office"
            />
          </Form.Item>
        )}
        {scope === 'book' && (
          <Form.Item
            name="bookId"
            label={t('billRuns.book')}
            rules={[{ required: true, message: t('billRuns.start.bookRequired') }]}
          >
            <Select
              showSearch
              optionFilterProp="label"
              loading={books.loading}
              options={(books.data ?? []).map((b) => ({
                value: b.bookId,
                label: `${b.code} ${b.name}（${t('billRuns.zone')} ${b.zone}）`,
              }))}
              data-testid="run-book"
            />
          </Form.Item>
        )}
        {scope === 'zone' && (
          <Form.Item name="zone" label={t('billRuns.zone')} rules={[{ required: true }]}>
            <Select options={ZONES.map((z) => ({ value: z, label: t(`billRuns.zoneName.${z}`) }))} />
          </Form.Item>
        )}
        <Form.Item
          name="upTo"
          label={t('billRuns.upTo')}
          extra={t('billRuns.start.upToHint')}
          rules={[{ required: true, message: t('billRuns.start.upToRequired') }]}
        >
          <DateInput notFuture allowClear={false} />
        </Form.Item>
        <Form.Item name="dryRun" valuePropName="checked" extra={t('billRuns.start.dryRunHint')}>
          <Checkbox data-testid="run-dry">{t('billRuns.dryRun')}</Checkbox>
        </Form.Item>
        <Button
          type="primary"
          icon={<PlayCircleOutlined />}
          loading={busy}
          onClick={() => void start()}
          data-testid="start-run"
          danger={!dryRun}
        >
          {dryRun ? t('billRuns.start.preview') : t('billRuns.start.run')}
        </Button>
      </Form>
    </Card>
  );
}

// ------------------------------------------------------------------ the list

function RunsList() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [page, setPage] = useState(1);
  const list = useApi<Paged<RunView>>('/api/bill-runs', { page, pageSize: PAGE_SIZE });
  usePoll(list.reload, (list.data?.items ?? []).some(active));

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.billRuns')}
        </Typography.Title>
        <Button icon={<ReloadOutlined />} onClick={list.reload}>
          {t('billRuns.reload')}
        </Button>
      </Space>
      <Typography.Text type="secondary">{t('billRuns.hint')}</Typography.Text>
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={6}>
          <StartRunCard onStarted={(run) => navigate(`/billing/runs/${run.runId}`)} />
        </Col>
        <Col xs={24} xl={18}>
          {list.error && <Alert type="error" showIcon message={list.error.message} />}
          <Card styles={{ body: { padding: 0 } }} title={t('billRuns.list')} size="small">
            <Table<RunView>
              rowKey="runId"
              size="middle"
              loading={list.loading && !list.data}
              dataSource={list.data?.items ?? []}
              pagination={{
                current: page,
                pageSize: PAGE_SIZE,
                total: list.data?.total ?? 0,
                onChange: setPage,
                hideOnSinglePage: true,
                showSizeChanger: false,
              }}
              scroll={{ x: 1010 }}
              data-testid="runs-table"
              columns={[
                {
                  title: t('billRuns.run'),
                  key: 'id',
                  width: 70,
                  render: (_, r) => <Link to={`/billing/runs/${r.runId}`}>#{r.runId}</Link>,
                },
                {
                  title: t('billRuns.scope'),
                  key: 'scope',
                  width: 190,
                  render: (_, r) => (
                    <Space size={4} wrap>
                      <ScopeText run={r} />
                      {r.dryRun && <Tag>{t('billRuns.dryRun')}</Tag>}
                    </Space>
                  ),
                },
                { title: t('billRuns.upTo'), dataIndex: 'upTo', width: 105 },
                {
                  title: t('billRuns.statusLabel'),
                  key: 'status',
                  width: 100,
                  render: (_, r) => <StatusTag run={r} />,
                },
                {
                  title: t('billRuns.progress'),
                  key: 'progress',
                  width: 130,
                  render: (_, r) => <RunProgress run={r} size="small" />,
                },
                {
                  title: t('billRuns.bills'),
                  dataIndex: 'billed',
                  width: 80,
                  align: 'right',
                  render: (n: number) => n.toLocaleString(),
                },
                {
                  title: t('billRuns.amount'),
                  dataIndex: 'amountFen',
                  width: 130,
                  align: 'right',
                  render: (fen: number) => yuan(fen),
                },
                {
                  title: t('billRuns.exceptions'),
                  dataIndex: 'exceptions',
                  width: 70,
                  align: 'right',
                  render: (n: number) => (n > 0 ? <Typography.Text type="warning">{n}</Typography.Text> : 0),
                },
                {
                  title: t('billRuns.startedBy'),
                  key: 'by',
                  width: 145,
                  render: (_, r) => (
                    <Space direction="vertical" size={0}>
                      <span>{r.requestedBy?.fullName ?? t('billRuns.system')}</span>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {formatDateTime(r.createdAt)}
                      </Typography.Text>
                    </Space>
                  ),
                },
              ]}
            />
          </Card>
        </Col>
      </Row>
    </Space>
  );
}

// ------------------------------------------------------------------ one run

function RunDetailView({ runId }: { runId: number }) {
  const { t } = useTranslation();
  const lang = currentLang();
  const navigate = useNavigate();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const run = useApi<RunDetail>(`/api/bill-runs/${runId}`);
  const [page, setPage] = useState(1);
  const [code, setCode] = useState<string | undefined>(undefined);
  const exceptions = useApi<Paged<ExceptionRow> & { byCode: { code: string; n: number }[] }>(
    `/api/bill-runs/${runId}/exceptions`,
    { page, pageSize: PAGE_SIZE, code },
  );
  const r = run.data;
  const running = r ? active(r) && !r.stale : false;
  usePoll(run.reload, running);
  // The exceptions grow while the run goes on; they are read again when it has finished.
  useEffect(() => {
    if (r && !active(r)) exceptions.reload();
  }, [r?.status, exceptions.reload, r]);
  const [busy, setBusy] = useState(false);

  const post = async (action: 'resume' | 'cancel') => {
    setBusy(true);
    try {
      await api(`/api/bill-runs/${runId}/${action}`, { method: 'POST' });
      void message.success(t(action === 'resume' ? 'billRuns.resumed' : 'billRuns.cancelledNote'));
      run.reload();
    } catch (e) {
      handle(e);
    } finally {
      setBusy(false);
    }
  };

  const commit = () => {
    if (!r) return;
    modal.confirm({
      title: t('billRuns.commit.title'),
      content: t('billRuns.commit.content', { bills: r.billed.toLocaleString(), amount: yuan(r.amountFen) }),
      okText: t('billRuns.commit.ok'),
      okButtonProps: { danger: true },
      onOk: async () => {
        try {
          const started = await api<RunView>('/api/bill-runs', {
            method: 'POST',
            body: {
              scope: r.scope,
              upTo: r.upTo,
              dryRun: false,
              ...(r.officeId !== null && r.scope !== 'book' && r.scope !== 'all'
                ? { officeId: r.officeId }
                : {}),
              ...(r.bookId !== null ? { bookId: r.bookId } : {}),
              ...(r.zone !== null ? { zone: r.zone } : {}),
            },
            // One real run per dry run, however often the button is pressed.
            headers: { 'Idempotency-Key': `bill-run-commit-${runId}` },
          });
          navigate(`/billing/runs/${started.runId}`);
        } catch (e) {
          handle(e);
        }
      },
    });
  };

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Space>
          <Link to="/billing/runs">
            <ArrowLeftOutlined /> {t('billRuns.back')}
          </Link>
          <Typography.Title level={4} className="page-title" style={{ margin: 0 }}>
            {t('billRuns.title', { runId })}
          </Typography.Title>
          {r && <StatusTag run={r} />}
          {r?.dryRun && <Tag color="blue">{t('billRuns.dryRun')}</Tag>}
        </Space>
        {r && (
          <Space wrap>
            {r.dryRun && r.status === 'done' && (
              <Button type="primary" danger onClick={commit} data-testid="commit-run">
                {t('billRuns.commit.button')}
              </Button>
            )}
            {(r.status === 'failed' || r.stale) && (
              <Button
                icon={<ReloadOutlined />}
                loading={busy}
                onClick={() => void post('resume')}
                data-testid="resume-run"
              >
                {t('billRuns.resume')}
              </Button>
            )}
            {active(r) && (
              <Button
                icon={<StopOutlined />}
                loading={busy}
                onClick={() => void post('cancel')}
                data-testid="cancel-run"
              >
                {t('billRuns.cancel')}
              </Button>
            )}
          </Space>
        )}
      </Space>
      {run.error && <Alert type="error" showIcon message={run.error.message} />}
      {r && (
        <>
          {r.dryRun && (
            <Alert
              type="info"
              showIcon
              message={r.status === 'done' ? t('billRuns.dryRunDone') : t('billRuns.dryRunNote')}
            />
          )}
          {r.status === 'failed' && (
            <Alert type="error" showIcon message={t('billRuns.failed')} description={r.error} />
          )}
          {r.stale && <Alert type="warning" showIcon message={t('billRuns.staleNote')} />}
          <Card size="small">
            <RunProgress run={r} />
            <Typography.Text type="secondary">
              {t('billRuns.accountsProgress', {
                done: r.accountsDone.toLocaleString(),
                total: r.accountsTotal.toLocaleString(),
              })}
            </Typography.Text>
            <Row gutter={16} style={{ marginTop: 16 }}>
              <Col xs={12} md={4}>
                <Statistic
                  title={r.dryRun ? t('billRuns.billsPriced') : t('billRuns.bills')}
                  value={r.billed}
                />
              </Col>
              <Col xs={12} md={5}>
                <Statistic
                  title={t('billRuns.volume')}
                  value={Number(r.volumeM3)}
                  precision={3}
                  suffix="m³"
                />
              </Col>
              <Col xs={12} md={5}>
                <Statistic title={t('billRuns.amount')} value={yuan(r.amountFen)} />
              </Col>
              <Col xs={12} md={4}>
                <Statistic title={t('billRuns.sms')} value={r.smsQueued} />
              </Col>
              <Col xs={12} md={4}>
                <Statistic
                  title={t('billRuns.exceptions')}
                  value={r.exceptions}
                  valueStyle={r.exceptions ? { color: '#d46b08' } : undefined}
                />
              </Col>
            </Row>
          </Card>
          <Descriptions size="small" bordered column={{ xs: 1, md: 3 }}>
            <Descriptions.Item label={t('billRuns.scope')}>
              <ScopeText run={r} />
            </Descriptions.Item>
            <Descriptions.Item label={t('billRuns.upTo')}>{r.upTo}</Descriptions.Item>
            <Descriptions.Item label={t('billRuns.startedBy')}>
              {r.requestedBy?.fullName ?? t('billRuns.system')}
            </Descriptions.Item>
            <Descriptions.Item label={t('billRuns.createdAt')}>
              {formatDateTime(r.createdAt)}
            </Descriptions.Item>
            <Descriptions.Item label={t('billRuns.startedAt')}>
              {formatDateTime(r.startedAt)}
            </Descriptions.Item>
            <Descriptions.Item label={t('billRuns.finishedAt')}>
              {formatDateTime(r.finishedAt)}
            </Descriptions.Item>
          </Descriptions>
          <Card title={t('billRuns.totals')} size="small" styles={{ body: { padding: 0 } }}>
            <Table
              rowKey="usageType"
              size="small"
              pagination={false}
              dataSource={r.totals}
              data-testid="run-totals"
              locale={{ emptyText: t('billRuns.noBills') }}
              columns={[
                {
                  title: t('billRuns.usageType'),
                  key: 'u',
                  render: (_, x) => x.name?.[lang] ?? x.usageType,
                },
                {
                  title: t('billRuns.bills'),
                  dataIndex: 'bills',
                  align: 'right',
                  render: (n: number) => n.toLocaleString(),
                },
                {
                  title: t('billRuns.volume'),
                  dataIndex: 'volumeM3',
                  align: 'right',
                  render: (v: string) => `${v} m³`,
                },
                {
                  title: t('billRuns.amount'),
                  dataIndex: 'amountFen',
                  align: 'right',
                  render: (fen: number) => yuan(fen),
                },
              ]}
              summary={(rows) =>
                rows.length > 1 ? (
                  <Table.Summary.Row>
                    <Table.Summary.Cell index={0}>
                      <Typography.Text strong>{t('billRuns.total')}</Typography.Text>
                    </Table.Summary.Cell>
                    <Table.Summary.Cell index={1} align="right">
                      {rows.reduce((s, x) => s + x.bills, 0).toLocaleString()}
                    </Table.Summary.Cell>
                    <Table.Summary.Cell index={2} align="right">
                      {r.volumeM3} m³
                    </Table.Summary.Cell>
                    <Table.Summary.Cell index={3} align="right">
                      <Typography.Text strong>
                        {yuan(rows.reduce((s, x) => s + x.amountFen, 0))}
                      </Typography.Text>
                    </Table.Summary.Cell>
                  </Table.Summary.Row>
                ) : null
              }
            />
          </Card>
          <Card
            title={t('billRuns.exceptionList')}
            size="small"
            styles={{ body: { padding: 0 } }}
            extra={
              (exceptions.data?.byCode.length ?? 0) > 0 && (
                <Select
                  allowClear
                  style={{ minWidth: 240 }}
                  placeholder={t('billRuns.allReasons')}
                  value={code}
                  onChange={(v) => {
                    setCode(v);
                    setPage(1);
                  }}
                  options={(exceptions.data?.byCode ?? []).map((c) => ({
                    value: c.code,
                    label: `${t(`billRuns.reason.${c.code}`, { defaultValue: c.code })} (${c.n})`,
                  }))}
                />
              )
            }
          >
            <Table<ExceptionRow>
              rowKey={(x) => `${x.accountId}:${x.readingId}`}
              size="small"
              loading={exceptions.loading && !exceptions.data}
              dataSource={exceptions.data?.items ?? []}
              locale={{ emptyText: t('billRuns.noExceptions') }}
              pagination={{
                current: page,
                pageSize: PAGE_SIZE,
                total: exceptions.data?.total ?? 0,
                onChange: setPage,
                hideOnSinglePage: true,
                showSizeChanger: false,
              }}
              scroll={{ x: 900 }}
              data-testid="run-exceptions"
              columns={[
                {
                  title: t('billRuns.customer'),
                  key: 'c',
                  width: 220,
                  render: (_, x) => (
                    <Space direction="vertical" size={0}>
                      <Link to={`/customers/${x.accountId}?tab=readings`}>
                        {x.customerName ?? x.accountId}
                      </Link>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {x.customerCode ?? ''} · {x.meterNo ?? ''}
                      </Typography.Text>
                    </Space>
                  ),
                },
                {
                  title: t('billRuns.readAt'),
                  key: 'at',
                  width: 150,
                  render: (_, x) => formatDateTime(x.readAt),
                },
                { title: t('billRuns.usageType'), dataIndex: 'usageType', width: 90 },
                {
                  title: t('billRuns.reasonLabel'),
                  key: 'reason',
                  render: (_, x) => (
                    <Space direction="vertical" size={0}>
                      <Tag color="orange">{t(`billRuns.reason.${x.code}`, { defaultValue: x.code })}</Tag>
                      <Typography.Text>{x.message[lang]}</Typography.Text>
                    </Space>
                  ),
                },
              ]}
            />
          </Card>
        </>
      )}
    </Space>
  );
}

export default function BillRunsPage() {
  const { runId } = useParams();
  const id = Number(runId);
  return runId && Number.isSafeInteger(id) ? <RunDetailView key={id} runId={id} /> : <RunsList />;
}
