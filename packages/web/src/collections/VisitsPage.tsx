import { todayInChina } from '@meterline/domain';
import { Card, Image, Select, Space, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useAuth } from '../auth/AuthContext';
import { Chart, type ChartOption } from '../components/Chart';
import { DateInput } from '../components/DateInput';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import type { CollectionVisit } from './fieldTypes';

const OUTCOMES = ['signed', 'refused', 'nobody_found'] as const;
const OUTCOME_COLORS: Record<(typeof OUTCOMES)[number], string> = {
  signed: '#52c41a',
  refused: '#f5222d',
  nobody_found: '#fa8c16',
};

/** 走访记录: field collection visits with method and outcome, the photo and signature, filters. */
export default function VisitsPage() {
  const { t } = useTranslation();
  const { me } = useAuth();
  const offices = me?.offices ?? [];
  const today = todayInChina();
  const [officeId, setOfficeId] = useState<number | undefined>(undefined);
  const [from, setFrom] = useState(`${today.slice(0, 8)}01`);
  const [to, setTo] = useState(today);
  const [outcome, setOutcome] = useState<string | undefined>(undefined);
  const visits = useApi<{ items: CollectionVisit[] }>('/api/collections/visits', {
    officeId,
    from,
    to,
    outcome,
  });
  const items = visits.data?.items ?? [];

  const chart = useMemo<ChartOption | null>(() => {
    if (items.length === 0) return null;
    // Days in China time, as the table shows them.
    const dayOf = (v: CollectionVisit) => todayInChina(new Date(v.visitedAt));
    const days = [...new Set(items.map(dayOf))].sort();
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 40, right: 16, top: 32, bottom: 24 },
      xAxis: { type: 'category', data: days },
      yAxis: { type: 'value', minInterval: 1 },
      series: OUTCOMES.map((o) => ({
        name: t(`fieldCollection.outcome.${o}`),
        type: 'bar',
        stack: 'visits',
        barMaxWidth: 36,
        itemStyle: { color: OUTCOME_COLORS[o] },
        data: days.map((d) => items.filter((v) => v.outcome === o && dayOf(v) === d).length),
      })),
    };
  }, [items, t]);

  const image = (v: CollectionVisit, what: 'photo' | 'signature') => (
    <Image
      width={56}
      height={42}
      style={{ objectFit: 'cover' }}
      src={`/api/customers/${v.accountId}/collection-visits/${v.visitId}/${what}`}
      alt={t(`fieldCollection.visits.${what}`)}
      data-testid={`visit-${what}-${v.visitId}`}
    />
  );

  const columns: ColumnsType<CollectionVisit> = [
    {
      title: t('fieldCollection.visits.at'),
      dataIndex: 'visitedAt',
      width: 150,
      render: (v: string) => formatDateTime(v),
    },
    {
      title: t('fieldCollection.tasks.customer'),
      key: 'customer',
      render: (_, v) => (
        <>
          {v.customerCode} {v.customerName}
        </>
      ),
    },
    { title: t('fieldCollection.visits.staff'), dataIndex: 'staffName', width: 100 },
    {
      title: t('fieldCollection.visits.outcome'),
      key: 'outcome',
      width: 170,
      render: (_, v) => (
        <Space size={4} wrap>
          <Tag
            color={v.outcome === 'signed' ? 'green' : v.outcome === 'refused' ? 'red' : 'orange'}
            data-testid="visit-outcome"
          >
            {t(`fieldCollection.outcome.${v.outcome}`)}
          </Tag>
          {v.conflict && <Tag color="magenta">{t('fieldCollection.visits.conflict')}</Tag>}
        </Space>
      ),
    },
    {
      title: t('fieldCollection.visits.method'),
      dataIndex: 'method',
      width: 150,
      render: (m: string) => t(`fieldCollection.method.${m}`),
    },
    {
      title: t('fieldCollection.visits.detail'),
      key: 'detail',
      render: (_, v) => (
        <>
          {v.reason && <div>{t('fieldCollection.visits.reason', { reason: v.reason })}</div>}
          {v.signerName && <div>{t('fieldCollection.visits.signer', { name: v.signerName })}</div>}
          {v.phoneCall && (
            <div>
              {t('fieldCollection.visits.call', {
                phone: v.phoneCall.phone,
                result: t(`fieldCollection.call.${v.phoneCall.result}`),
              })}
            </div>
          )}
          {v.promisedOn && <div>{t('fieldCollection.visits.promised', { date: v.promisedOn })}</div>}
          {v.site && (
            <Typography.Text type="secondary">
              {Object.entries(v.site)
                .filter(([k]) => k !== 'kind')
                .map(([k, x]) => `${t(`fieldCollection.site.${k}`)} ${String(x)}`)
                .join(' · ')}
            </Typography.Text>
          )}
        </>
      ),
    },
    {
      title: t('fieldCollection.visits.images'),
      key: 'images',
      width: 140,
      render: (_, v) => (
        <Space size={4}>
          {v.hasPhoto && image(v, 'photo')}
          {v.hasSignature && image(v, 'signature')}
        </Space>
      ),
    },
  ];

  return (
    <Card
      title={t('fieldCollection.visits.title')}
      extra={
        <Space wrap>
          {offices.length > 1 && (
            <Select
              allowClear
              style={{ width: 180 }}
              placeholder={t('fieldCollection.visits.allOffices')}
              value={officeId}
              onChange={setOfficeId}
              options={offices.map((o) => ({ value: o.officeId, label: `${o.code} ${o.name}` }))}
            />
          )}
          <DateInput
            value={from}
            onChange={(d) => d && setFrom(d)}
            allowClear={false}
            style={{ width: 140 }}
          />
          <DateInput value={to} onChange={(d) => d && setTo(d)} allowClear={false} style={{ width: 140 }} />
          <Select
            allowClear
            style={{ width: 160 }}
            placeholder={t('fieldCollection.visits.allOutcomes')}
            value={outcome}
            onChange={setOutcome}
            options={OUTCOMES.map((o) => ({ value: o, label: t(`fieldCollection.outcome.${o}`) }))}
          />
        </Space>
      }
    >
      {chart && (
        <Chart option={chart} height={220} label={t('fieldCollection.visits.chart')} testId="visits-chart" />
      )}
      <Table<CollectionVisit>
        rowKey={(v) => `${v.accountId}:${v.visitId}`}
        size="small"
        loading={visits.loading}
        columns={columns}
        dataSource={items}
        pagination={{ pageSize: 50 }}
        data-testid="visits-table"
      />
    </Card>
  );
}
