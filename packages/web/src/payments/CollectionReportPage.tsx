import { Alert, Card, Col, DatePicker, Row, Space, Statistic, Table, Typography } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { yuan } from '../billing/money';
import { Chart, type ChartOption } from '../components/Chart';
import { useApi } from '../components/useApi';
import { ChannelAmounts, type CloseView } from './CashierClosePage';

interface Report {
  from: string;
  to: string;
  channels: string[];
  days: { day: string; byChannelFen: Record<string, number>; totalFen: number; payments: number }[];
  totals: { byChannelFen: Record<string, number>; totalFen: number; payments: number; reversedFen: number };
  closes: CloseView[];
}

/**
 * The daily collection report (收费日报): money taken per business day, stacked by channel, with the
 * totals and the cashier closes of the period (differences in red).
 */
export default function CollectionReportPage() {
  const { t } = useTranslation();
  const [range, setRange] = useState<[Dayjs, Dayjs]>([dayjs().subtract(29, 'day'), dayjs()]);
  const report = useApi<Report>('/api/payments/report', {
    from: range[0].format('YYYY-MM-DD'),
    to: range[1].format('YYYY-MM-DD'),
  });
  const r = report.data;
  const option = useMemo<ChartOption | null>(() => {
    if (!r) return null;
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 32, containLabel: true },
      xAxis: { type: 'category', data: r.days.map((d) => d.day.slice(5)) },
      yAxis: { type: 'value', name: t('bills.yuanUnit') },
      series: r.channels.map((c) => ({
        name: t(`pay.channel.${c}`, { defaultValue: c }),
        type: 'bar',
        stack: 'total',
        data: r.days.map((d) => (d.byChannelFen[c] ?? 0) / 100),
      })),
    };
  }, [r, t]);
  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('pay.report.title')}
      </Typography.Title>
      <DatePicker.RangePicker
        value={range}
        allowClear={false}
        onChange={(v) => v?.[0] && v[1] && setRange([v[0], v[1]])}
      />
      {report.error && <Alert type="error" showIcon message={report.error.message} />}
      {r && (
        <>
          <Row gutter={[12, 12]}>
            <Col xs={12} md={6}>
              <Card size="small">
                <Statistic title={t('pay.report.total')} value={yuan(r.totals.totalFen)} />
              </Card>
            </Col>
            <Col xs={12} md={6}>
              <Card size="small">
                <Statistic title={t('pay.report.payments')} value={r.totals.payments} />
              </Card>
            </Col>
            <Col xs={12} md={6}>
              <Card size="small">
                <Statistic title={t('pay.report.reversed')} value={yuan(r.totals.reversedFen)} />
              </Card>
            </Col>
            <Col xs={24} md={6}>
              <Card size="small" title={t('pay.close.byChannel')}>
                <ChannelAmounts byChannelFen={r.totals.byChannelFen} />
              </Card>
            </Col>
          </Row>
          {option && (
            <Card size="small">
              <Chart option={option} height={300} label={t('pay.report.chart')} testId="collection-chart" />
            </Card>
          )}
          <Card size="small" title={t('pay.report.byDay')}>
            <Table
              size="small"
              rowKey="day"
              pagination={false}
              dataSource={[...r.days].reverse().filter((d) => d.payments > 0)}
              columns={[
                { title: t('pay.close.day'), dataIndex: 'day', width: 120 },
                { title: t('pay.report.payments'), dataIndex: 'payments', width: 90, align: 'right' },
                {
                  title: t('pay.close.byChannel'),
                  key: 'ch',
                  render: (_, d) => <ChannelAmounts byChannelFen={d.byChannelFen} />,
                },
                {
                  title: t('pay.report.total'),
                  dataIndex: 'totalFen',
                  align: 'right',
                  render: (v: number) => yuan(v),
                },
              ]}
            />
          </Card>
          <Card size="small" title={t('pay.report.closes')}>
            <Table<CloseView>
              size="small"
              rowKey="closeId"
              pagination={{ pageSize: 20, hideOnSinglePage: true }}
              dataSource={r.closes}
              columns={[
                { title: t('pay.close.day'), dataIndex: 'businessDay', width: 110 },
                { title: t('pay.close.clerk'), dataIndex: 'staffName', width: 90 },
                {
                  title: t('pay.close.systemCash'),
                  dataIndex: 'systemCashFen',
                  align: 'right',
                  render: (v: number) => yuan(v),
                },
                {
                  title: t('pay.close.counted'),
                  dataIndex: 'countedCashFen',
                  align: 'right',
                  render: (v: number) => yuan(v),
                },
                {
                  title: t('pay.close.difference'),
                  dataIndex: 'differenceFen',
                  align: 'right',
                  render: (v: number) => (
                    <Typography.Text type={v === 0 ? 'success' : 'danger'}>{yuan(v)}</Typography.Text>
                  ),
                },
                { title: t('pay.close.voucher'), dataIndex: 'bankVoucherNo' },
              ]}
            />
          </Card>
        </>
      )}
    </Space>
  );
}
