import { addDays, todayInChina } from '@meterline/domain';
import { Alert, Card, DatePicker, Segmented, Space, Table, Typography } from 'antd';
import dayjs from 'dayjs';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { Chart, type ChartOption } from '../components/Chart';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useReducedMotion } from '../components/useReducedMotion';
import { AnomalyTags, volume } from './common';
import { RegisterFlagTags } from './RegisterChart';

type ExceptionKind = 'flagged' | 'conflict';

/** One row of GET /api/readings/registers/exceptions (volumes and indexes in m³, 3 decimals). */
interface RegisterException {
  kind: ExceptionKind;
  officeId: number;
  accountId: number;
  /** The customer's code (客户编号). */
  customerCode: string;
  customerName: string;
  meterId: number;
  meterNo: string;
  readAt: string;
  indexValue: string;
  consumptionM3: string | null;
  expectedM3: string | null;
  days: number | null;
  flags: string[];
  anomalyCodes: string[];
  /** Conflicts: the index already stored for that meter and time. */
  storedIndex: string | null;
  fileName: string;
}

interface ExceptionsPage {
  /** The China days the server used (inclusive). */
  from: string;
  to: string;
  total: number;
  page: number;
  pageSize: number;
  items: RegisterException[];
  byDay: { day: string; flagged: number; conflict: number }[];
}

/** The span the list starts on: the last 7 days, today included (the server's default too). */
const DEFAULT_SPAN_DAYS = 7;
const PAGE_SIZE = 50;

const COLOURS: Record<ExceptionKind, string> = { flagged: '#fa8c16', conflict: '#722ed1' };

/** Most days the chart spans (two years: what a range picker is sensibly used for). */
const MAX_CHART_DAYS = 731;

type DayCount = ExceptionsPage['byDay'][number];

/** Every day from `from` to `to` with its counts (the server lists only the days that have any). */
function everyDay(from: string, to: string, counted: DayCount[]): DayCount[] {
  const byDay = new Map(counted.map((d) => [d.day, d]));
  const out: DayCount[] = [];
  for (let day = from; day <= to && out.length < MAX_CHART_DAYS; day = addDays(day, 1)) {
    out.push(byDay.get(day) ?? { day, flagged: 0, conflict: 0 });
  }
  return out;
}

/**
 * The office's register-read exceptions (a register going backwards, a rollover, a jump in use, a
 * meter's alarm) or conflicts (another index for a meter and time already stored) over a span of
 * days, a page at a time, with a small chart of their number by day; each row leads to the
 * customer's readings. `refresh` changes when a file was sent.
 */
export function RegisterExceptions({ officeId, refresh }: { officeId: number | undefined; refresh: number }) {
  const { t } = useTranslation();
  const reducedMotion = useReducedMotion();
  const [kind, setKind] = useState<ExceptionKind>('flagged');
  const [range, setRange] = useState<[string, string]>(() => {
    const today = todayInChina();
    return [addDays(today, 1 - DEFAULT_SPAN_DAYS), today];
  });
  const [page, setPage] = useState(1);
  const list = useApi<ExceptionsPage>(officeId ? '/api/readings/registers/exceptions' : null, {
    officeId,
    kind,
    from: range[0],
    to: range[1],
    page,
    pageSize: PAGE_SIZE,
  });
  const { reload } = list;
  useEffect(() => {
    if (refresh > 0) reload();
  }, [refresh, reload]);

  const answer = list.data;
  const byDay = useMemo(
    () => (answer ? everyDay(answer.from ?? range[0], answer.to ?? range[1], answer.byDay) : []),
    [answer, range],
  );
  const option = useMemo<ChartOption>(
    () => ({
      animation: !reducedMotion,
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0, right: 0, itemWidth: 12, itemHeight: 8 },
      grid: { left: 8, right: 8, bottom: 4, top: 24, containLabel: true },
      xAxis: { type: 'category', data: byDay.map((d) => d.day.slice(5)) },
      yAxis: { type: 'value', minInterval: 1 },
      series: (['flagged', 'conflict'] as const).map((k) => ({
        name: t(`registers.exceptions.kind.${k}`),
        type: 'bar',
        stack: 'all',
        barMaxWidth: 24,
        itemStyle: { color: COLOURS[k] },
        data: byDay.map((d) => d[k]),
      })),
    }),
    [byDay, reducedMotion, t],
  );

  const customer = {
    title: t('registers.exceptions.customer'),
    key: 'customer',
    width: 220,
    render: (_: unknown, r: RegisterException) => (
      <Link to={`/customers/${r.accountId}?tab=readings`} data-testid="register-exception-customer">
        {r.customerCode} {r.customerName}
      </Link>
    ),
  };
  const readAt = {
    title: t('registers.exceptions.readAt'),
    dataIndex: 'readAt',
    width: 150,
    render: (v: string) => formatDateTime(v),
  };
  const meterNo = { title: t('registers.exceptions.meterNo'), dataIndex: 'meterNo', width: 130 };
  const file = { title: t('registers.exceptions.file'), dataIndex: 'fileName', ellipsis: true };
  const m3 = (v: string | null) => volume(v);

  return (
    <Card
      size="small"
      title={t('registers.exceptions.title')}
      data-testid="register-exceptions"
      extra={
        <Space wrap>
          <Segmented<ExceptionKind>
            size="small"
            value={kind}
            onChange={(k) => {
              setKind(k);
              setPage(1);
            }}
            data-testid="register-exceptions-kind"
            options={(['flagged', 'conflict'] as const).map((k) => ({
              value: k,
              label: t(`registers.exceptions.kind.${k}`),
            }))}
          />
          <DatePicker.RangePicker
            size="small"
            allowClear={false}
            value={[dayjs(range[0]), dayjs(range[1])]}
            aria-label={t('registers.exceptions.range')}
            data-testid="register-exceptions-range"
            onChange={(v) => {
              if (!v?.[0] || !v[1]) return;
              setRange([v[0].format('YYYY-MM-DD'), v[1].format('YYYY-MM-DD')]);
              setPage(1);
            }}
          />
        </Space>
      }
    >
      <Space direction="vertical" size="middle" style={{ width: '100%' }}>
        {list.error && <Alert type="error" showIcon message={list.error.message} />}
        {byDay.some((d) => d.flagged + d.conflict > 0) && (
          <div>
            <Typography.Text type="secondary">{t('registers.exceptions.byDay')}</Typography.Text>
            <Chart
              option={option}
              height={140}
              label={t('registers.exceptions.byDay')}
              testId="register-exceptions-chart"
            />
          </div>
        )}
        <Table<RegisterException>
          rowKey={(r) => `${r.kind}:${r.accountId}:${r.meterId}:${r.readAt}:${r.indexValue}`}
          size="small"
          loading={list.loading}
          dataSource={list.data?.items ?? []}
          scroll={{ x: 1100 }}
          locale={{
            emptyText: t(
              kind === 'flagged' ? 'registers.exceptions.empty' : 'registers.exceptions.emptyConflict',
            ),
          }}
          pagination={{
            current: page,
            pageSize: PAGE_SIZE,
            total: list.data?.total ?? 0,
            showSizeChanger: false,
            hideOnSinglePage: true,
            showTotal: (total) => t('registers.exceptions.total', { total }),
            onChange: setPage,
          }}
          data-testid="register-exceptions-table"
          columns={
            kind === 'flagged'
              ? [
                  readAt,
                  customer,
                  meterNo,
                  {
                    title: t('registers.exceptions.index'),
                    dataIndex: 'indexValue',
                    width: 110,
                    align: 'right',
                    render: m3,
                  },
                  {
                    title: t('registers.exceptions.consumption'),
                    dataIndex: 'consumptionM3',
                    width: 100,
                    align: 'right',
                    render: m3,
                  },
                  {
                    title: t('registers.exceptions.expected'),
                    dataIndex: 'expectedM3',
                    width: 100,
                    align: 'right',
                    render: m3,
                  },
                  {
                    title: t('registers.exceptions.days'),
                    dataIndex: 'days',
                    width: 70,
                    align: 'right',
                    render: (d: number | null) => d ?? '—',
                  },
                  {
                    title: t('registers.exceptions.flags'),
                    key: 'flags',
                    render: (_, r) => (
                      <>
                        <RegisterFlagTags flags={r.flags} />
                        <AnomalyTags codes={r.anomalyCodes} />
                      </>
                    ),
                  },
                  file,
                ]
              : [
                  readAt,
                  customer,
                  meterNo,
                  {
                    title: t('registers.exceptions.storedIndex'),
                    dataIndex: 'storedIndex',
                    width: 120,
                    align: 'right',
                    render: m3,
                  },
                  {
                    title: t('registers.exceptions.sentIndex'),
                    dataIndex: 'indexValue',
                    width: 120,
                    align: 'right',
                    render: m3,
                  },
                  {
                    title: t('registers.exceptions.flags'),
                    key: 'flags',
                    render: (_, r) => <AnomalyTags codes={r.anomalyCodes} />,
                  },
                  file,
                ]
          }
        />
      </Space>
    </Card>
  );
}
