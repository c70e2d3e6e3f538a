import { DownloadOutlined } from '@ant-design/icons';
import { formatFenAsYuan } from '@meterline/domain';
import { Alert, Button, Card, Col, Empty, Row, Select, Space, Statistic, Table, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useAuth } from '../auth/AuthContext';
import { Chart, type ChartOption } from '../components/Chart';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { MonthInput, OfficeSelect, thisMonth, useOfficeParam, useParam, volume } from '../reading/common';
import type { BookRow } from '../reading/types';
import { useBilingual } from './BillsTab';
import type { BillingSummary, SummaryFigures } from './billTypes';
import { yuan } from './money';
import { downloadPdf } from './pdf';

type UsageRow = BillingSummary['byUsageType'][number];
type OfficeRow = BillingSummary['byOffice'][number];

/** m³ given as decimal strings, added exactly in litres (at most three decimals). */
function litres(m3: string): number {
  return Math.round(Number(m3) * 1000);
}

/**
 * A book's notices for a period as one PDF, one notice per page in route order, for the reader to
 * deliver (needs billing.run or reading.plan).
 */
function NoticeBatch({ officeId, month }: { officeId: number | undefined; month: string }) {
  const { t } = useTranslation();
  const handle = useErrorHandler();
  const books = useApi<BookRow[]>(officeId ? '/api/books' : null, { officeId });
  const [bookId, setBookId] = useState<number | undefined>(undefined);
  const [period, setPeriod] = useState(month);
  const [busy, setBusy] = useState(false);
  const book = books.data?.find((b) => b.bookId === bookId);
  // The batch follows the page's month until another is picked here.
  useEffect(() => setPeriod(month), [month]);

  const download = async () => {
    if (!book) return;
    setBusy(true);
    try {
      await downloadPdf(
        `/api/books/${book.bookId}/notices.pdf?period=${period}`,
        `notices-${book.code}-${period}.pdf`,
      );
    } catch (e) {
      handle(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card size="small" title={t('bills.batch.title')} data-testid="notice-batch">
      <Space wrap>
        <Select<number>
          showSearch
          style={{ minWidth: 240 }}
          placeholder={officeId ? t('bills.batch.book') : t('bills.batch.pickOffice')}
          disabled={!officeId}
          loading={books.loading}
          value={book ? bookId : undefined}
          onChange={setBookId}
          optionFilterProp="label"
          aria-label={t('bills.batch.book')}
          data-testid="batch-book"
          options={(books.data ?? []).map((b) => ({
            value: b.bookId,
            label: `${b.code} ${b.name}${b.readerName ? ` · ${b.readerName}` : ''}`,
          }))}
        />
        <MonthInput value={period} onChange={setPeriod} />
        <Button
          type="primary"
          icon={<DownloadOutlined />}
          disabled={!book}
          loading={busy}
          onClick={download}
          data-testid="batch-download"
        >
          {t('bills.batch.download')}
        </Button>
      </Space>
      <Typography.Paragraph type="secondary" style={{ margin: '8px 0 0' }}>
        {t('bills.batch.hint')}
      </Typography.Paragraph>
    </Card>
  );
}

/**
 * Billing summary (开账汇总): the month's standing bills by usage type (and by office when several are
 * shown), the 12-month trend of amount and volume, and the notice batch of a book for delivery.
 */
export default function BillingSummaryPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const text = useBilingual();
  const [officeId, setOfficeId, allOffices] = useOfficeParam({ allowAll: true });
  const [month, setMonth] = useParam('month', thisMonth());
  const summary = useApi<BillingSummary>(officeId || allOffices ? '/api/billing/summary' : null, {
    officeId,
    month,
  });
  const data = summary.data;

  const trend = useMemo<ChartOption | null>(() => {
    if (!data || data.trend.every((r) => r.bills === 0)) return null;
    return {
      tooltip: {
        trigger: 'axis',
        formatter: (items: { dataIndex: number }[]) => {
          const r = data.trend[items[0]?.dataIndex ?? 0];
          if (!r) return '';
          return `${r.month}<br/>${t('bills.amount')}: ${yuan(r.amountFen)}<br/>${t('bills.payable')}: ${volume(
            r.payableM3,
          )} m³<br/>${t('bills.summary.bills')}: ${r.bills}`;
        },
      },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: 'category', data: data.trend.map((r) => r.month) },
      yAxis: [
        { type: 'value', name: t('bills.yuanUnit') },
        { type: 'value', name: 'm³', splitLine: { show: false } },
      ],
      series: [
        {
          name: t('bills.amount'),
          type: 'bar',
          barMaxWidth: 36,
          data: data.trend.map((r) => r.amountFen / 100),
        },
        {
          name: t('bills.payable'),
          type: 'line',
          yAxisIndex: 1,
          data: data.trend.map((r) => litres(r.payableM3) / 1000),
        },
      ],
    };
  }, [data, t]);

  const figureColumns = <T extends SummaryFigures>(): ColumnsType<T> => [
    { title: t('bills.summary.bills'), dataIndex: 'bills', align: 'right', width: 100 },
    {
      title: t('bills.consumption'),
      dataIndex: 'consumptionM3',
      align: 'right',
      width: 140,
      render: (v: string) => volume(v),
    },
    {
      title: t('bills.payable'),
      dataIndex: 'payableM3',
      align: 'right',
      width: 140,
      render: (v: string) => volume(v),
    },
    {
      title: t('bills.amountYuan'),
      dataIndex: 'amountFen',
      align: 'right',
      width: 160,
      render: (v: number) => formatFenAsYuan(v),
    },
  ];
  const totalsRow = (first: number) =>
    data && (
      <Table.Summary.Row>
        <Table.Summary.Cell index={0} colSpan={first}>
          <Typography.Text strong>{t('bills.total')}</Typography.Text>
        </Table.Summary.Cell>
        <Table.Summary.Cell index={first} align="right">
          <Typography.Text strong>{data.totals.bills}</Typography.Text>
        </Table.Summary.Cell>
        <Table.Summary.Cell index={first + 1} align="right">
          <Typography.Text strong>{volume(data.totals.consumptionM3)}</Typography.Text>
        </Table.Summary.Cell>
        <Table.Summary.Cell index={first + 2} align="right">
          <Typography.Text strong>{volume(data.totals.payableM3)}</Typography.Text>
        </Table.Summary.Cell>
        <Table.Summary.Cell index={first + 3} align="right">
          <Typography.Text strong>{formatFenAsYuan(data.totals.amountFen)}</Typography.Text>
        </Table.Summary.Cell>
      </Table.Summary.Row>
    );

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.billingSummary')}
        </Typography.Title>
        <Space wrap>
          <OfficeSelect value={officeId} onChange={setOfficeId} allowAll />
          <MonthInput value={month} onChange={setMonth} />
        </Space>
      </Space>
      {summary.error && <Alert type="error" showIcon message={summary.error.message} />}
      <Row gutter={[16, 16]}>
        <Col xs={24} md={8}>
          <Card size="small">
            <Statistic title={t('bills.summary.bills')} value={data?.totals.bills ?? '—'} />
          </Card>
        </Col>
        <Col xs={24} md={8}>
          <Card size="small">
            <Statistic
              title={`${t('bills.payable')} (m³)`}
              value={data ? volume(data.totals.payableM3) : '—'}
            />
          </Card>
        </Col>
        <Col xs={24} md={8}>
          <Card size="small" data-testid="summary-amount">
            <Statistic title={t('bills.amountYuan')} value={data ? yuan(data.totals.amountFen) : '—'} />
          </Card>
        </Col>
      </Row>
      <Card size="small" title={t('bills.summary.byUsageType')}>
        <Table<UsageRow>
          rowKey={(r) => r.usageType ?? 'none'}
          size="small"
          pagination={false}
          loading={summary.loading}
          dataSource={data?.byUsageType ?? []}
          data-testid="summary-by-usage"
          locale={{ emptyText: <Empty description={t('bills.summary.empty')} /> }}
          columns={[
            {
              title: t('bills.usageType'),
              key: 'name',
              render: (_, r) => (r.name ? text(r.name) : t('bills.summary.otherCharges')),
            },
            ...figureColumns<UsageRow>(),
          ]}
          summary={() => (data && data.byUsageType.length > 1 ? totalsRow(1) : null)}
        />
      </Card>
      {data && data.byOffice.length > 1 && (
        <Card size="small" title={t('bills.summary.byOffice')}>
          <Table<OfficeRow>
            rowKey="officeId"
            size="small"
            pagination={false}
            dataSource={data.byOffice}
            columns={[{ title: t('reading.office'), dataIndex: 'officeName' }, ...figureColumns<OfficeRow>()]}
            summary={() => totalsRow(1)}
          />
        </Card>
      )}
      <Card size="small" title={t('bills.summary.trendTitle')}>
        {trend ? (
          <Chart option={trend} label={t('bills.summary.trendTitle')} testId="summary-trend" />
        ) : (
          <Empty description={t('bills.summary.empty')} />
        )}
      </Card>
      {(can('billing.run') || can('reading.plan')) && <NoticeBatch officeId={officeId} month={month} />}
    </Space>
  );
}
