import { Card, Col, Row, Select, Space, Statistic, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useMe } from '../auth/AuthContext';
import { Chart, type ChartOption } from '../components/Chart';
import { useApi } from '../components/useApi';

interface CustomerStats {
  totals: { customers: number; lowIncome: number; blacklisted: number; meters: number };
  byOfficeState: { officeId: number; officeName: string; state: string; customers: number }[];
  meters: { utility: string; caliberDn: number | null; mounting: string; role: string; meters: number }[];
}

const STATES = ['active', 'vacant', 'suspended', 'sealed', 'demolished', 'pending', 'closed'];
const STATE_COLORS = ['#52c41a', '#bfbfbf', '#fa8c16', '#f5222d', '#722ed1', '#faad14', '#595959'];
const MOUNTINGS = ['wall', 'buried', 'indoor', 'well'];

/** The customer file at a glance: customers by office and state, water meters by caliber and mounting. */
export default function OverviewPage() {
  const { t } = useTranslation();
  const me = useMe();
  const [officeId, setOfficeId] = useState<number | undefined>(undefined);
  const { data } = useApi<CustomerStats>('/api/stats/customers', { officeId });

  const byOffice = useMemo<ChartOption | null>(() => {
    if (!data) return null;
    const offices = [...new Map(data.byOfficeState.map((x) => [x.officeId, x.officeName])).entries()];
    return {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: offices.map(([, name]) => name), inverse: true },
      series: STATES.map((state, i) => ({
        name: t(`enum.state.${state}`),
        type: 'bar',
        stack: 'customers',
        itemStyle: { color: STATE_COLORS[i] },
        data: offices.map(
          ([id]) => data.byOfficeState.find((x) => x.officeId === id && x.state === state)?.customers ?? 0,
        ),
      })),
    };
  }, [data, t]);

  const byCaliber = useMemo<ChartOption | null>(() => {
    if (!data) return null;
    const water = data.meters.filter((m) => m.utility === 'water' && m.caliberDn !== null);
    const calibers = [...new Set(water.map((m) => m.caliberDn!))].sort((a, b) => a - b);
    return {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: 'category', data: calibers.map((c) => `DN${c}`) },
      yAxis: { type: 'log', logBase: 10, min: 1 },
      series: MOUNTINGS.map((mounting) => ({
        name: t(`enum.mounting.${mounting}`),
        type: 'bar',
        // Side by side: stacked bars do not add up on a log axis.
        data: calibers.map(
          (c) =>
            water
              .filter((m) => m.caliberDn === c && m.mounting === mounting)
              .reduce((s, m) => s + m.meters, 0) || null,
        ),
      })),
    };
  }, [data, t]);

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.overview')}
        </Typography.Title>
        <Select
          allowClear
          style={{ minWidth: 200 }}
          placeholder={t('overview.allOffices')}
          value={officeId}
          onChange={setOfficeId}
          options={me?.offices.map((o) => ({ value: o.officeId, label: o.name }))}
        />
      </Space>
      <Row gutter={[16, 16]}>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('overview.customers')} value={data?.totals.customers ?? '—'} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('overview.meters')} value={data?.totals.meters ?? '—'} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('overview.lowIncome')} value={data?.totals.lowIncome ?? '—'} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic
              title={t('overview.blacklisted')}
              value={data?.totals.blacklisted ?? '—'}
              valueStyle={{ color: '#cf1322' }}
            />
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card size="small" title={t('overview.byOfficeState')}>
            {byOffice && <Chart option={byOffice} label={t('overview.byOfficeState')} />}
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card size="small" title={t('overview.byCaliber')}>
            {byCaliber && <Chart option={byCaliber} label={t('overview.byCaliber')} />}
          </Card>
        </Col>
      </Row>
    </Space>
  );
}
