import { PlayCircleOutlined } from '@ant-design/icons';
import { formatFenAsYuan } from '@meterline/domain';
import { Alert, App, Button, Card, Col, Empty, Row, Space, Statistic, Table, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { Chart, type ChartOption } from '../components/Chart';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { MonthInput, OfficeSelect, thisMonth, useOfficeParam, useParam } from '../reading/common';
import { yuan } from './money';

interface Figures {
  loadsFen: number;
  revenueFen: number;
  closingFen: number;
}

interface PrepaidSummary {
  month: string;
  officeId: number | null;
  totals: Figures & { accounts: number; negativeAccounts: number; arrearsFen: number };
  byOffice: (Figures & { officeId: number; officeName: string })[];
  trend: (Figures & { month: string })[];
}

interface DeductResult {
  upTo: string;
  deducted: number;
  deductedFen: number;
  reversed: number;
  reversedFen: number;
  lowBalanceSms: number;
}

/** The deduction job on demand (billing.run): bills of periods up to a month, in the caller's offices. */
function DeductionRun({ officeId, onDone }: { officeId: number | undefined; onDone: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [upTo, setUpTo] = useState(thisMonth());
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<DeductResult | null>(null);

  const run = async () => {
    setBusy(true);
    try {
      const r = await api<DeductResult>('/api/prepaid/deductions', {
        method: 'POST',
        body: { upTo, ...(officeId ? { officeId } : {}) },
      });
      setResult(r);
      void message.success(t('prepaid.run.title'));
      onDone();
    } catch (e) {
      handle(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card size="small" title={t('prepaid.run.title')} data-testid="prepaid-run">
      <Space wrap>
        <Typography.Text>{t('prepaid.run.upTo')}</Typography.Text>
        <MonthInput value={upTo} onChange={setUpTo} />
        <Button
          type="primary"
          icon={<PlayCircleOutlined />}
          loading={busy}
          onClick={run}
          data-testid="prepaid-run-start"
        >
          {t('prepaid.run.start')}
        </Button>
      </Space>
      {result && (
        <Alert
          style={{ marginTop: 12 }}
          type="success"
          showIcon
          data-testid="prepaid-run-result"
          message={t('prepaid.run.result', {
            deducted: result.deducted,
            deductedAmount: yuan(result.deductedFen),
            reversed: result.reversed,
            reversedAmount: yuan(result.reversedFen),
            sms: result.lowBalanceSms,
          })}
        />
      )}
      <Typography.Paragraph type="secondary" style={{ margin: '8px 0 0' }}>
        {t('prepaid.run.hint')}
      </Typography.Paragraph>
    </Card>
  );
}

/**
 * Prepaid IC-card accounts for finance (预付费汇总): a month's loads, deductions posted as revenue and
 * the closing prepayment balance, by office, with the 12-month trend; and the deduction run.
 */
export default function PrepaidPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const [officeId, setOfficeId, allOffices] = useOfficeParam({ allowAll: true });
  const [month, setMonth] = useParam('month', thisMonth());
  const summary = useApi<PrepaidSummary>(officeId || allOffices ? '/api/prepaid/summary' : null, {
    officeId,
    month,
  });
  const data = summary.data;

  const trend = useMemo<ChartOption | null>(() => {
    if (!data || data.trend.every((r) => r.loadsFen === 0 && r.revenueFen === 0 && r.closingFen === 0))
      return null;
    return {
      tooltip: {
        trigger: 'axis',
        formatter: (items: { dataIndex: number }[]) => {
          const r = data.trend[items[0]?.dataIndex ?? 0];
          if (!r) return '';
          return `${r.month}<br/>${t('prepaid.summary.loads')}: ${yuan(r.loadsFen)}<br/>${t(
            'prepaid.summary.revenue',
          )}: ${yuan(r.revenueFen)}<br/>${t('prepaid.summary.closing')}: ${yuan(r.closingFen)}`;
        },
      },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: 'category', data: data.trend.map((r) => r.month) },
      yAxis: { type: 'value', name: t('bills.yuanUnit') },
      series: [
        {
          name: t('prepaid.summary.loads'),
          type: 'bar',
          barMaxWidth: 28,
          data: data.trend.map((r) => r.loadsFen / 100),
        },
        {
          name: t('prepaid.summary.revenue'),
          type: 'bar',
          barMaxWidth: 28,
          data: data.trend.map((r) => r.revenueFen / 100),
        },
        {
          name: t('prepaid.summary.closing'),
          type: 'line',
          data: data.trend.map((r) => r.closingFen / 100),
        },
      ],
    };
  }, [data, t]);

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('prepaid.summary.title')}
        </Typography.Title>
        <Space wrap>
          <OfficeSelect value={officeId} onChange={setOfficeId} allowAll />
          <MonthInput value={month} onChange={setMonth} />
        </Space>
      </Space>
      {summary.error && <Alert type="error" showIcon message={summary.error.message} />}
      <Row gutter={[16, 16]}>
        <Col xs={24} md={6}>
          <Card size="small" data-testid="prepaid-loads">
            <Statistic title={t('prepaid.summary.loads')} value={data ? yuan(data.totals.loadsFen) : '—'} />
          </Card>
        </Col>
        <Col xs={24} md={6}>
          <Card size="small" data-testid="prepaid-revenue">
            <Statistic
              title={t('prepaid.summary.revenue')}
              value={data ? yuan(data.totals.revenueFen) : '—'}
            />
          </Card>
        </Col>
        <Col xs={24} md={6}>
          <Card size="small" data-testid="prepaid-closing">
            <Statistic
              title={t('prepaid.summary.closing')}
              value={data ? yuan(data.totals.closingFen) : '—'}
            />
          </Card>
        </Col>
        <Col xs={24} md={6}>
          <Card size="small">
            <Statistic title={t('prepaid.summary.accounts')} value={data?.totals.accounts ?? '—'} />
            {data && data.totals.negativeAccounts > 0 && (
              <Typography.Text type="danger">
                {t('prepaid.summary.negative', {
                  count: data.totals.negativeAccounts,
                  amount: yuan(data.totals.arrearsFen),
                })}
              </Typography.Text>
            )}
          </Card>
        </Col>
      </Row>
      <Card size="small" title={t('prepaid.summary.trend')}>
        {trend ? (
          <Chart option={trend} label={t('prepaid.summary.trend')} testId="prepaid-trend" />
        ) : (
          <Empty description={t('prepaid.summary.empty')} />
        )}
      </Card>
      <Card size="small" title={t('prepaid.summary.byOffice')}>
        <Table
          rowKey="officeId"
          size="small"
          pagination={false}
          loading={summary.loading}
          dataSource={data?.byOffice ?? []}
          locale={{ emptyText: <Empty description={t('prepaid.summary.empty')} /> }}
          data-testid="prepaid-by-office"
          columns={[
            { title: t('prepaid.summary.office'), dataIndex: 'officeName' },
            ...(['loadsFen', 'revenueFen', 'closingFen'] as const).map((key) => ({
              title: t(
                `prepaid.summary.${key === 'loadsFen' ? 'loads' : key === 'revenueFen' ? 'revenue' : 'closing'}`,
              ),
              dataIndex: key,
              align: 'right' as const,
              width: 180,
              render: (v: number) => formatFenAsYuan(v),
            })),
          ]}
        />
      </Card>
      {can('billing.run') && <DeductionRun officeId={officeId} onDone={summary.reload} />}
    </Space>
  );
}
