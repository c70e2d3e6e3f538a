import { PlayCircleOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Progress, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useAuth, useMe } from '../auth/AuthContext';
import { Chart, type ChartOption } from '../components/Chart';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';

/**
 * 催缴运行 (docs/dunning.md): the daily dunning runs with their progress, the messages queued by
 * step (a chart over the days), the exceptions of a run (no number to send to), and a button that
 * runs (or resumes) today's run now. One run covers every office.
 */

type StepCounts = Record<string, { queued: number; already: number; exceptions: number }>;

interface RunView {
  runId: number;
  runDate: string;
  windowFrom: string;
  policyFrom: string | null;
  status: 'running' | 'done' | 'failed';
  billsTotal: number;
  billsExamined: number;
  progressPercent: number;
  messagesQueued: number;
  alreadyQueued: number;
  exceptions: number;
  counts: StepCounts;
  chunks: number;
  via: string;
  error: string;
  startedAt: string;
  finishedAt: string | null;
}

interface RunDetail extends RunView {
  exceptionList: { accountId: number; billId: number; stepCode: string; code: string; message: string }[];
}

const STATUS_COLORS = { running: 'processing', done: 'success', failed: 'error' } as const;
/** While a run is going, the list is read again this often. */
const POLL_MS = 2_000;

export default function DunningRunsPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { can } = useAuth();
  const me = useMe();
  const handle = useErrorHandler();
  const runs = useApi<{ items: RunView[] }>('/api/dunning/runs');
  const [selected, setSelected] = useState<number | null>(null);
  const detail = useApi<RunDetail>(selected === null ? null : `/api/dunning/runs/${selected}`);
  const [starting, setStarting] = useState(false);
  const mayRun = can('collection.policy') && me.orgWide;
  const items = runs.data?.items ?? [];
  const active = items.some((r) => r.status === 'running');

  const reload = runs.reload;
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(reload, POLL_MS);
    return () => clearInterval(timer);
  }, [active, reload]);

  const runToday = async () => {
    setStarting(true);
    try {
      const run = await api<RunView & { ran: boolean }>('/api/dunning/runs', { method: 'POST', body: {} });
      void message.success(
        run.ran
          ? t('dunning.runs.started', { date: run.runDate, queued: run.messagesQueued })
          : t('dunning.runs.alreadyDone', { date: run.runDate }),
      );
      runs.reload();
      setSelected(run.runId);
    } catch (e) {
      handle(e);
    } finally {
      setStarting(false);
    }
  };

  const steps = useMemo(() => [...new Set(items.flatMap((r) => Object.keys(r.counts)))].sort(), [items]);
  const chart = useMemo<ChartOption | null>(() => {
    if (items.length === 0) return null;
    const days = [...items].reverse();
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 32, containLabel: true },
      xAxis: { type: 'category', data: days.map((r) => r.runDate) },
      yAxis: { type: 'value', name: t('dunning.runs.messages') },
      series: [
        ...steps.map((code) => ({
          name: t(`dunning.stepCode.${code}`, { defaultValue: code }),
          type: 'bar',
          stack: 'queued',
          barMaxWidth: 24,
          data: days.map((r) => r.counts[code]?.queued ?? 0),
        })),
        {
          name: t('dunning.runs.exceptions'),
          type: 'line',
          data: days.map((r) => r.exceptions),
        },
      ],
    };
  }, [items, steps, t]);

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }} data-testid="dunning-runs-page">
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={3} style={{ margin: 0 }}>
          {t('dunning.runs.title')}
        </Typography.Title>
        {mayRun && (
          <Button
            type="primary"
            icon={<PlayCircleOutlined />}
            loading={starting}
            onClick={() => void runToday()}
            data-testid="dunning-run-today"
          >
            {t('dunning.runs.runToday')}
          </Button>
        )}
      </Space>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t('dunning.runs.hint')}
      </Typography.Paragraph>
      {runs.error && <Alert type="error" showIcon message={runs.error.message} />}
      <Card size="small" title={t('dunning.runs.byDay')}>
        {chart ? (
          <Chart option={chart} height={260} label={t('dunning.runs.byDay')} testId="dunning-runs-chart" />
        ) : (
          <Typography.Text type="secondary">—</Typography.Text>
        )}
      </Card>
      <Card size="small" title={t('dunning.runs.list')}>
        <Table<RunView>
          rowKey="runId"
          size="small"
          loading={runs.loading && !runs.data}
          dataSource={items}
          pagination={{ pageSize: 15, showSizeChanger: false }}
          scroll={{ x: 'max-content' }}
          data-testid="dunning-runs-table"
          onRow={(r) => ({ onClick: () => setSelected(r.runId), style: { cursor: 'pointer' } })}
          columns={[
            { title: t('dunning.runs.runDate'), dataIndex: 'runDate', width: 110 },
            {
              title: t('dunning.runs.window'),
              key: 'window',
              width: 190,
              render: (_, r) => (r.windowFrom === r.runDate ? r.runDate : `${r.windowFrom} ~ ${r.runDate}`),
            },
            {
              title: t('dunning.runs.status'),
              dataIndex: 'status',
              width: 90,
              render: (s: RunView['status']) => (
                <Tag color={STATUS_COLORS[s]}>{t(`dunning.runs.statusName.${s}`)}</Tag>
              ),
            },
            {
              title: t('dunning.runs.progress'),
              key: 'progress',
              width: 200,
              render: (_, r) => (
                <Progress
                  percent={r.progressPercent}
                  size="small"
                  status={r.status === 'failed' ? 'exception' : r.status === 'running' ? 'active' : 'success'}
                  format={() => `${r.billsExamined}/${r.billsTotal}`}
                />
              ),
            },
            ...steps.map((code) => ({
              title: t(`dunning.stepCode.${code}`, { defaultValue: code }),
              key: `step-${code}`,
              align: 'right' as const,
              width: 110,
              render: (_: unknown, r: RunView) => {
                const c = r.counts[code];
                if (!c) return '—';
                return c.exceptions ? `${c.queued}（${c.exceptions}）` : String(c.queued);
              },
            })),
            { title: t('dunning.runs.queued'), dataIndex: 'messagesQueued', align: 'right', width: 90 },
            { title: t('dunning.runs.already'), dataIndex: 'alreadyQueued', align: 'right', width: 90 },
            { title: t('dunning.runs.exceptions'), dataIndex: 'exceptions', align: 'right', width: 90 },
            {
              title: t('dunning.runs.via'),
              dataIndex: 'via',
              width: 80,
              render: (v: string) => t(`dunning.runs.viaName.${v}`, { defaultValue: v }),
            },
            {
              title: t('dunning.runs.error'),
              dataIndex: 'error',
              render: (v: string) => (v ? <Typography.Text type="danger">{v}</Typography.Text> : ''),
            },
          ]}
        />
      </Card>
      {selected !== null && detail.data && (
        <Card
          size="small"
          title={t('dunning.runs.exceptionsOf', { date: detail.data.runDate })}
          data-testid="dunning-run-exceptions"
        >
          <Table
            rowKey={(r) => `${r.accountId}/${r.billId}/${r.stepCode}`}
            size="small"
            dataSource={detail.data.exceptionList}
            pagination={{ pageSize: 20, showSizeChanger: false }}
            columns={[
              { title: t('dunning.runs.account'), dataIndex: 'accountId', width: 110 },
              { title: t('dunning.runs.bill'), dataIndex: 'billId', width: 110 },
              {
                title: t('dunning.runs.step'),
                dataIndex: 'stepCode',
                width: 120,
                render: (v: string) => t(`dunning.stepCode.${v}`, { defaultValue: v }),
              },
              { title: t('dunning.runs.reason'), dataIndex: 'message' },
            ]}
          />
        </Card>
      )}
    </Space>
  );
}
