import { Alert, Card, Col, Row, Space, Statistic, Table, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { yuan } from '../billing/money';
import { Chart, type ChartOption } from '../components/Chart';
import { useApi } from '../components/useApi';
import { MonthInput, OfficeSelect, useOfficeParam } from '../reading/common';

/**
 * 催缴成效 (docs/arrears.md "Results"): dunning coverage today (the "four standards" target 100%:
 * customers in arrears who got every dunning step due) per office and reader, and per month (the
 * month-end snapshot, docs/arrears.md "Coverage over time") beside the collection
 * rate (回收率 = collected ÷ billed, bills of a period) per month, office and reader.
 */

interface RateRow {
  key: string;
  label: string;
  officeId: number | null;
  billedFen: number;
  collectedFen: number;
  rate: number | null;
}

interface CoverageRow {
  key: string;
  label: string;
  officeId: number | null;
  inArrears: number;
  covered: number;
  rate: number | null;
}

/** A month's dunning coverage: its month-end snapshot (derived: reconstructed from dates), or no data. */
interface MonthCoverage {
  month: string;
  day: string | null;
  inArrears: number;
  covered: number;
  rate: number | null;
  derived: boolean;
}

interface Results {
  asOf: string;
  period: string;
  coverageTargetPercent: number;
  coverage: {
    inArrears: number;
    covered: number;
    rate: number | null;
    byOffice: CoverageRow[];
    byReader: CoverageRow[];
    byMonth: MonthCoverage[];
  };
  collection: { byMonth: RateRow[]; byOffice: RateRow[]; byReader: RateRow[] };
}

const pct = (v: number | null) => (v === null ? '—' : `${(Math.round(v * 1000) / 10).toFixed(1)}%`);
const pctNum = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 10);

function lastMonth(): string {
  const d = new Date(Date.now() + 8 * 3600_000);
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - 1);
  return d.toISOString().slice(0, 7);
}

export default function ResultsPage() {
  const { t } = useTranslation();
  const [officeId, setOfficeId] = useOfficeParam({ allowAll: true });
  const [period, setPeriod] = useState(lastMonth());
  const res = useApi<Results>('/api/collections/results', { officeId, period, months: 12 });
  const d = res.data;

  const rateLine = useMemo<ChartOption | null>(() => {
    if (!d) return null;
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: 'category', data: d.collection.byMonth.map((m) => m.key) },
      yAxis: [
        { type: 'value', name: t('results.yuan') },
        { type: 'value', name: '%', max: 100, min: 0 },
      ],
      series: [
        {
          name: t('results.billed'),
          type: 'bar',
          barMaxWidth: 28,
          itemStyle: { color: '#bae0ff' },
          data: d.collection.byMonth.map((m) => m.billedFen / 100),
        },
        {
          name: t('results.collected'),
          type: 'bar',
          barMaxWidth: 28,
          itemStyle: { color: '#4096ff' },
          data: d.collection.byMonth.map((m) => m.collectedFen / 100),
        },
        {
          name: t('results.rate'),
          type: 'line',
          yAxisIndex: 1,
          itemStyle: { color: '#fa541c' },
          data: d.collection.byMonth.map((m) => pctNum(m.rate)),
        },
      ],
    };
  }, [d, t]);

  // Coverage per month at its month end, with the "four standards" target; months without a
  // snapshot are gaps (no data), reconstructed months are marked * on the axis.
  const coverageLine = useMemo<ChartOption | null>(() => {
    if (!d) return null;
    const months = d.coverage.byMonth;
    return {
      tooltip: {
        trigger: 'axis',
        formatter: (params: unknown) => {
          const p = (params as { dataIndex: number }[])[0];
          const m = p ? months[p.dataIndex] : undefined;
          if (!m) return '';
          if (m.day === null) return `${m.month}<br/>${t('results.none')}`;
          return `${m.month} (${m.day}${m.derived ? ' *' : ''})<br/>${t('results.coverage')}: ${pct(m.rate)}<br/>${t(
            'results.coveredOf',
            { covered: m.covered, inArrears: m.inArrears },
          )}`;
        },
      },
      grid: { left: 8, right: 24, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: 'category', data: months.map((m) => (m.derived ? `${m.month}*` : m.month)) },
      yAxis: { type: 'value', name: '%', max: 100, min: 0 },
      series: [
        {
          name: t('results.coverageMonthEnd'),
          type: 'line',
          connectNulls: false,
          itemStyle: { color: '#13c2c2' },
          data: months.map((m) => pctNum(m.rate)),
          markLine: {
            symbol: 'none',
            lineStyle: { type: 'dashed', color: '#52c41a' },
            label: { formatter: `${t('results.target')} ${d.coverageTargetPercent}%` },
            data: [{ yAxis: d.coverageTargetPercent }],
          },
        },
      ],
    };
  }, [d, t]);

  const coverageBars = useMemo<ChartOption | null>(() => {
    if (!d || d.coverage.byReader.length === 0) return null;
    const rows = [...d.coverage.byReader].sort((a, b) => (a.rate ?? 0) - (b.rate ?? 0));
    return {
      tooltip: { trigger: 'axis' },
      grid: { left: 8, right: 24, bottom: 8, top: 24, containLabel: true },
      xAxis: {
        type: 'category',
        data: rows.map((r) => r.label),
        axisLabel: { interval: 0, rotate: rows.length > 8 ? 30 : 0 },
      },
      yAxis: { type: 'value', name: '%', max: 100, min: 0 },
      series: [
        {
          name: t('results.coverage'),
          type: 'bar',
          barMaxWidth: 36,
          data: rows.map((r) => ({
            value: pctNum(r.rate),
            itemStyle: { color: (r.rate ?? 0) * 100 >= d.coverageTargetPercent ? '#52c41a' : '#faad14' },
          })),
          markLine: {
            symbol: 'none',
            lineStyle: { type: 'dashed', color: '#52c41a' },
            label: { formatter: `${t('results.target')} ${d.coverageTargetPercent}%` },
            data: [{ yAxis: d.coverageTargetPercent }],
          },
        },
      ],
    };
  }, [d, t]);

  const readerRateBars = useMemo<ChartOption | null>(() => {
    if (!d || d.collection.byReader.length === 0) return null;
    const rows = d.collection.byReader;
    return {
      tooltip: { trigger: 'axis' },
      grid: { left: 8, right: 24, bottom: 8, top: 24, containLabel: true },
      xAxis: {
        type: 'category',
        data: rows.map((r) => r.label),
        axisLabel: { interval: 0, rotate: rows.length > 8 ? 30 : 0 },
      },
      yAxis: { type: 'value', name: '%', max: 100, min: 0 },
      series: [
        {
          name: t('results.rate'),
          type: 'bar',
          barMaxWidth: 36,
          itemStyle: { color: '#4096ff' },
          data: rows.map((r) => pctNum(r.rate)),
        },
      ],
    };
  }, [d, t]);

  const rateColumns: ColumnsType<RateRow> = [
    { title: t('results.name'), dataIndex: 'label' },
    { title: t('results.billed'), dataIndex: 'billedFen', align: 'right', render: (v: number) => yuan(v) },
    {
      title: t('results.collected'),
      dataIndex: 'collectedFen',
      align: 'right',
      render: (v: number) => yuan(v),
    },
    { title: t('results.rate'), dataIndex: 'rate', align: 'right', render: (v: number | null) => pct(v) },
  ];
  const coverageColumns: ColumnsType<CoverageRow> = [
    { title: t('results.name'), dataIndex: 'label' },
    { title: t('results.inArrears'), dataIndex: 'inArrears', align: 'right' },
    { title: t('results.covered'), dataIndex: 'covered', align: 'right' },
    { title: t('results.coverage'), dataIndex: 'rate', align: 'right', render: (v: number | null) => pct(v) },
  ];
  const periodRate = d?.collection.byMonth.find((m) => m.key === d.period)?.rate ?? null;

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('results.title')}
      </Typography.Title>
      <Space wrap>
        <OfficeSelect value={officeId} onChange={setOfficeId} allowAll />
        <MonthInput value={period} onChange={setPeriod} />
      </Space>
      {res.error && <Alert type="error" showIcon message={res.error.message} />}
      <Row gutter={16}>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic
              title={t('results.coverageToday')}
              value={pct(d?.coverage.rate ?? null)}
              valueStyle={{
                color:
                  d && d.coverage.rate !== null && d.coverage.rate * 100 < d.coverageTargetPercent
                    ? '#d48806'
                    : undefined,
              }}
            />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic
              title={t('results.inArrears')}
              value={d?.coverage.inArrears ?? 0}
              suffix={`/ ${t('results.coveredN', { n: d?.coverage.covered ?? 0 })}`}
            />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('results.rateOf', { period })} value={pct(periodRate)} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('results.asOf')} value={d?.asOf ?? '—'} />
          </Card>
        </Col>
      </Row>
      <Row gutter={16}>
        <Col xs={24} xl={12}>
          <Card size="small" title={t('results.rateByMonth')}>
            {rateLine && (
              <Chart
                option={rateLine}
                height={300}
                label={t('results.rateByMonth')}
                testId="results-rate-chart"
              />
            )}
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card size="small" title={t('results.coverageByMonth')}>
            {coverageLine && (
              <Chart
                option={coverageLine}
                height={300}
                label={t('results.coverageByMonth')}
                testId="results-coverage-month-chart"
              />
            )}
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('results.coverageMonthNote')}
            </Typography.Text>
          </Card>
        </Col>
      </Row>
      <Row gutter={16}>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('results.coverageByReader')}>
            {coverageBars ? (
              <Chart
                option={coverageBars}
                height={260}
                label={t('results.coverageByReader')}
                testId="results-coverage-chart"
              />
            ) : (
              <Typography.Text type="secondary">{t('results.none')}</Typography.Text>
            )}
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('results.rateByReader', { period })}>
            {readerRateBars ? (
              <Chart option={readerRateBars} height={260} label={t('results.rateByReader', { period })} />
            ) : (
              <Typography.Text type="secondary">{t('results.none')}</Typography.Text>
            )}
          </Card>
        </Col>
      </Row>
      <Row gutter={16}>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('results.coverageByOffice')}>
            <Table<CoverageRow>
              size="small"
              rowKey="key"
              loading={res.loading}
              columns={coverageColumns}
              dataSource={d?.coverage.byOffice ?? []}
              pagination={false}
            />
            <Table<CoverageRow>
              size="small"
              rowKey="key"
              style={{ marginTop: 12 }}
              columns={coverageColumns}
              dataSource={d?.coverage.byReader ?? []}
              pagination={{ pageSize: 10 }}
            />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card size="small" title={t('results.rateByOffice', { period })}>
            <Table<RateRow>
              size="small"
              rowKey="key"
              loading={res.loading}
              columns={rateColumns}
              dataSource={d?.collection.byOffice ?? []}
              pagination={false}
            />
            <Table<RateRow>
              size="small"
              rowKey="key"
              style={{ marginTop: 12 }}
              columns={rateColumns}
              dataSource={d?.collection.byReader ?? []}
              pagination={{ pageSize: 10 }}
            />
          </Card>
        </Col>
      </Row>
      <Typography.Paragraph type="secondary" style={{ fontSize: 12 }}>
        {t('results.definition')}
      </Typography.Paragraph>
    </Space>
  );
}
