import { Alert, Card, Col, Empty, Row, Space, Statistic, Table, Tabs, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Chart, type ChartOption } from '../components/Chart';
import { useApi } from '../components/useApi';
import { MonthInput, OfficeSelect, percent, thisMonth, useOfficeParam, useParam } from './common';
import type { ReadingStats, StatRow } from './types';

/** The "four standards" (四个百分百): reading rate and accuracy are both to be 100 %. */
const TARGET_PERCENT = 100;

function Rate({ value }: { value: number | null }) {
  if (value === null || value === undefined) return <>—</>;
  return (
    <Typography.Text type={value < 1 ? 'danger' : 'success'} strong={value < 1}>
      {percent(value)}
    </Typography.Text>
  );
}

/** Reading rate and accuracy for a month by office, book and reader, with the 12-month trend. */
export default function StatsPage() {
  const { t } = useTranslation();
  const [officeId, setOfficeId, allOffices] = useOfficeParam({ allowAll: true });
  const [month, setMonth] = useParam('month', thisMonth());
  const stats = useApi<ReadingStats>(officeId || allOffices ? '/api/readings/stats' : null, {
    officeId,
    month,
  });
  const data = stats.data;
  const office = data?.totals ?? data?.byOffice.find((o) => o.officeId === officeId) ?? data?.byOffice[0];

  const trend = useMemo<ChartOption | null>(() => {
    if (!data || data.trend.length === 0) return null;
    const pct = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 10);
    return {
      tooltip: { trigger: 'axis', valueFormatter: (v: number | null) => (v === null ? '—' : `${v}%`) },
      legend: { top: 0 },
      grid: { left: 8, right: 24, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: 'category', data: data.trend.map((r) => r.month) },
      yAxis: {
        type: 'value',
        min: (v: { min: number }) => Math.max(0, Math.floor(Math.min(v.min, 90) / 5) * 5),
        max: TARGET_PERCENT,
        axisLabel: { formatter: '{value}%' },
      },
      series: [
        {
          name: t('reading.stats.readingRate'),
          type: 'line',
          smooth: false,
          data: data.trend.map((r) => pct(r.readingRate)),
          markLine: {
            symbol: 'none',
            lineStyle: { type: 'dashed', color: '#52c41a', width: 2 },
            label: { formatter: t('reading.stats.target'), position: 'insideEndTop' },
            data: [{ yAxis: TARGET_PERCENT }],
          },
        },
        {
          name: t('reading.stats.accuracy'),
          type: 'line',
          smooth: false,
          data: data.trend.map((r) => pct(r.accuracy)),
        },
      ],
    };
  }, [data, t]);

  const rateColumns: ColumnsType<StatRow> = [
    {
      title: t('reading.stats.toRead'),
      dataIndex: 'toRead',
      width: 100,
      align: 'right',
      sorter: (a, b) => a.toRead - b.toRead,
    },
    { title: t('reading.stats.read'), dataIndex: 'read', width: 100, align: 'right' },
    {
      title: t('reading.stats.readingRate'),
      dataIndex: 'readingRate',
      width: 110,
      align: 'right',
      sorter: (a, b) => (a.readingRate ?? 2) - (b.readingRate ?? 2),
      render: (v: number | null) => <Rate value={v} />,
    },
    {
      title: t('reading.stats.accuracy'),
      dataIndex: 'accuracy',
      width: 110,
      align: 'right',
      sorter: (a, b) => (a.accuracy ?? 2) - (b.accuracy ?? 2),
      render: (v: number | null) => <Rate value={v} />,
    },
    {
      title: t('reading.stats.estimatedShare'),
      dataIndex: 'estimatedShare',
      width: 100,
      align: 'right',
      render: (v: number | null | undefined) => percent(v),
    },
  ];
  const table = (rows: StatRow[] | undefined, first: ColumnsType<StatRow>, key: (r: StatRow) => string) => (
    <Table<StatRow>
      rowKey={key}
      size="small"
      dataSource={rows ?? []}
      loading={stats.loading}
      pagination={{ pageSize: 20, hideOnSinglePage: true }}
      rowClassName={(r) => ((r.readingRate ?? 1) < 1 || (r.accuracy ?? 1) < 1 ? 'row-below' : '')}
      columns={[...first, ...rateColumns]}
    />
  );

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.stats')}
        </Typography.Title>
        <Space wrap>
          <OfficeSelect value={officeId} onChange={setOfficeId} allowAll />
          <MonthInput value={month} onChange={setMonth} />
        </Space>
      </Space>
      {stats.error && <Alert type="error" showIcon message={stats.error.message} />}
      <Row gutter={[16, 16]}>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('reading.stats.toRead')} value={office?.toRead ?? '—'} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('reading.stats.read')} value={office?.read ?? '—'} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small" data-testid="stat-rate">
            <Statistic
              title={t('reading.stats.readingRate')}
              value={percent(office?.readingRate)}
              valueStyle={{ color: (office?.readingRate ?? 1) < 1 ? '#cf1322' : '#389e0d' }}
            />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic
              title={t('reading.stats.accuracy')}
              value={percent(office?.accuracy)}
              valueStyle={{ color: (office?.accuracy ?? 1) < 1 ? '#cf1322' : '#389e0d' }}
            />
          </Card>
        </Col>
      </Row>
      <Card size="small" title={t('reading.stats.trendTitle')}>
        {trend ? (
          <Chart option={trend} label={t('reading.stats.trendTitle')} testId="stats-trend" />
        ) : (
          <Empty description={t('reading.stats.empty')} />
        )}
      </Card>
      <Card size="small" styles={{ body: { paddingTop: 4 } }}>
        <Tabs
          items={[
            {
              key: 'office',
              label: t('reading.stats.byOffice'),
              children: table(
                data?.byOffice,
                [{ title: t('reading.office'), dataIndex: 'officeName' }],
                (r) => String(r.officeId),
              ),
            },
            {
              key: 'book',
              label: t('reading.stats.byBook'),
              children: table(
                data?.byBook,
                [
                  {
                    title: t('reading.book'),
                    key: 'b',
                    sorter: (a, b) => (a.bookCode ?? '').localeCompare(b.bookCode ?? ''),
                    render: (_, r) => `${r.bookCode ?? ''} ${r.bookName ?? ''}`,
                  },
                  { title: t('reading.reader'), dataIndex: 'readerName' },
                ],
                (r) => String(r.bookId),
              ),
            },
            {
              key: 'reader',
              label: t('reading.stats.byReader'),
              children: table(
                data?.byReader,
                [
                  {
                    title: t('reading.reader'),
                    dataIndex: 'readerName',
                    render: (n: string | null) => n ?? '—',
                  },
                ],
                (r) => String(r.readerId ?? 'none'),
              ),
            },
          ]}
        />
      </Card>
    </Space>
  );
}
