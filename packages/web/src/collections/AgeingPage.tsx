import { Alert, Breadcrumb, Card, Col, Row, Segmented, Space, Statistic, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useCallback, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { yuan } from '../billing/money';
import { Chart, type ChartOption } from '../components/Chart';
import { useApi } from '../components/useApi';
import { OfficeSelect, useOfficeParam } from '../reading/common';

/**
 * 欠费账龄 (docs/arrears.md "Ageing"): the meters in arrears by billing cycles or days overdue, per
 * office, book, reader or customer, with the buckets over time (the daily snapshots; months before
 * the first snapshot reconstructed from bill and payment dates). Rows drill down to the customers.
 */

type Basis = 'cycles' | 'days';
type Group = 'office' | 'book' | 'reader' | 'customer';

interface Cell {
  meters: number;
  accounts: number;
  owedFen: number;
}

interface AgeingRow {
  key: number;
  label: string;
  officeId: number | null;
  buckets: Record<string, Cell>;
  meters: number;
  accounts: number;
  owedFen: number;
  oldestDueOn?: string;
  cycles?: number;
  days?: number;
}

interface AgeingReport {
  asOf: string;
  buckets: string[];
  totals: { buckets: Record<string, Cell>; meters: number; accounts: number; owedFen: number };
  rows: AgeingRow[];
  total: number;
}

interface History {
  buckets: string[];
  points: { day: string; derived: boolean; buckets: Record<string, { meters: number; owedFen: number }> }[];
}

const COLORS = ['#91caff', '#ffd666', '#ff9c6e', '#cf1322', '#5c0011'];

export default function AgeingPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const [officeId, setOfficeId] = useOfficeParam({ allowAll: true });
  const basis = (params.get('basis') as Basis) || 'cycles';
  const groupBy = (params.get('groupBy') as Group) || 'office';
  const bookId = params.get('bookId') ?? undefined;
  const readerId = params.get('readerId') ?? undefined;
  const bucket = params.get('bucket') ?? undefined;
  const page = Number(params.get('page') ?? 1);
  const measure = (params.get('measure') as 'meters' | 'owedFen') || 'meters';
  const setMeasure = (m: string) => set({ measure: m });

  function set(next: Record<string, string | undefined>) {
    setParams(
      (p) => {
        const out = new URLSearchParams(p);
        for (const [k, v] of Object.entries(next)) {
          if (v === undefined) out.delete(k);
          else out.set(k, v);
        }
        if (!('page' in next)) out.delete('page');
        return out;
      },
      { replace: true },
    );
  }

  const report = useApi<AgeingReport>('/api/collections/ageing', {
    basis,
    groupBy,
    officeId,
    bookId,
    readerId,
    bucket,
    page,
    pageSize: groupBy === 'customer' ? 50 : undefined,
  });
  const history = useApi<History>('/api/collections/ageing/history', { basis, officeId });
  const labelOf = useCallback((b: string) => t(`ageing.bucket.${basis}`, { b }), [basis, t]);

  const option = useMemo<ChartOption | null>(() => {
    const h = history.data;
    if (!h || h.points.length === 0) return null;
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      xAxis: {
        type: 'category',
        data: h.points.map((p) => (p.derived ? `${p.day}*` : p.day)),
      },
      yAxis: { type: 'value', name: measure === 'meters' ? t('ageing.meters') : t('ageing.yuan') },
      series: h.buckets.map((b, i) => ({
        name: labelOf(b),
        type: 'bar',
        stack: 'ageing',
        barMaxWidth: 40,
        itemStyle: { color: COLORS[Math.min(i, COLORS.length - 1)] },
        data: h.points.map((p) =>
          measure === 'meters' ? (p.buckets[b]?.meters ?? 0) : (p.buckets[b]?.owedFen ?? 0) / 100,
        ),
      })),
    };
  }, [history.data, measure, labelOf, t]);

  const drill = (row: AgeingRow, b?: string) => {
    if (groupBy === 'office') set({ groupBy: 'book', officeId: String(row.key), bucket: b });
    else if (groupBy === 'book') set({ groupBy: 'customer', bookId: String(row.key), bucket: b });
    else if (groupBy === 'reader') set({ groupBy: 'customer', readerId: String(row.key), bucket: b });
  };

  const buckets = report.data?.buckets ?? [];
  const columns: ColumnsType<AgeingRow> = [
    {
      title: t(`ageing.group.${groupBy}`),
      key: 'label',
      fixed: 'left',
      render: (_, r) =>
        groupBy === 'customer' ? (
          <Link to={`/customers/${r.key}`}>{r.label}</Link>
        ) : r.key === 0 ? (
          r.label
        ) : (
          <Typography.Link onClick={() => drill(r)}>{r.label}</Typography.Link>
        ),
    },
    ...(groupBy === 'customer'
      ? ([
          { title: t('ageing.oldestDue'), dataIndex: 'oldestDueOn', width: 110 },
          { title: t('ageing.cycles'), dataIndex: 'cycles', width: 80, align: 'right' },
          { title: t('ageing.days'), dataIndex: 'days', width: 80, align: 'right' },
        ] as ColumnsType<AgeingRow>)
      : []),
    ...buckets.map((b) => ({
      title: labelOf(b),
      key: b,
      align: 'right' as const,
      render: (_: unknown, r: AgeingRow) => {
        const c = r.buckets[b];
        if (!c || c.meters === 0) return <Typography.Text type="secondary">—</Typography.Text>;
        const text = (
          <span>
            {c.meters} / {yuan(c.owedFen)}
          </span>
        );
        return groupBy === 'customer' || r.key === 0 ? (
          text
        ) : (
          <Typography.Link onClick={() => drill(r, b)}>{text}</Typography.Link>
        );
      },
    })),
    { title: t('ageing.meters'), dataIndex: 'meters', align: 'right', width: 90 },
    {
      title: t('ageing.owed'),
      dataIndex: 'owedFen',
      align: 'right',
      width: 130,
      render: (v: number) => yuan(v),
    },
  ];

  const filters = [
    bookId && { k: 'bookId', text: t('ageing.filter.book', { id: bookId }) },
    readerId && { k: 'readerId', text: t('ageing.filter.reader', { id: readerId }) },
    bucket && { k: 'bucket', text: labelOf(bucket) },
  ].filter(Boolean) as { k: string; text: string }[];

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Breadcrumb items={[{ title: t('menu.collections') }, { title: t('ageing.title') }]} />
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('ageing.title')}
      </Typography.Title>
      <Space wrap>
        <OfficeSelect value={officeId} onChange={(o) => setOfficeId(o)} allowAll />
        <Segmented
          value={basis}
          onChange={(v) => set({ basis: String(v), bucket: undefined })}
          options={(['cycles', 'days'] as const).map((b) => ({ value: b, label: t(`ageing.basis.${b}`) }))}
          data-testid="ageing-basis"
        />
        <Segmented
          value={groupBy}
          onChange={(v) => set({ groupBy: String(v) })}
          options={(['office', 'book', 'reader', 'customer'] as const).map((g) => ({
            value: g,
            label: t(`ageing.group.${g}`),
          }))}
          data-testid="ageing-group"
        />
        {filters.map((f) => (
          <Tag key={f.k} closable onClose={() => set({ [f.k]: undefined })}>
            {f.text}
          </Tag>
        ))}
      </Space>
      {report.error && <Alert type="error" showIcon message={report.error.message} />}
      <Row gutter={16}>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('ageing.meters')} value={report.data?.totals.meters ?? 0} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('ageing.accounts')} value={report.data?.totals.accounts ?? 0} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('ageing.owed')} value={yuan(report.data?.totals.owedFen ?? 0)} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic
              title={t('ageing.beyondTwo')}
              value={
                basis === 'cycles'
                  ? buckets.slice(2).reduce((s, b) => s + (report.data?.totals.buckets[b]?.meters ?? 0), 0)
                  : '—'
              }
            />
          </Card>
        </Col>
      </Row>
      <Card
        size="small"
        title={t('ageing.chartTitle')}
        extra={
          <Segmented
            size="small"
            value={measure}
            onChange={(v) => setMeasure(String(v))}
            options={[
              { value: 'meters', label: t('ageing.meters') },
              { value: 'owedFen', label: t('ageing.yuan') },
            ]}
          />
        }
      >
        {option ? (
          <Chart option={option} height={300} label={t('ageing.chartTitle')} testId="ageing-chart" />
        ) : (
          <Typography.Text type="secondary">{t('ageing.noHistory')}</Typography.Text>
        )}
        <Typography.Paragraph type="secondary" style={{ marginTop: 8, marginBottom: 0, fontSize: 12 }}>
          {t('ageing.derivedNote')}
        </Typography.Paragraph>
      </Card>
      <Card size="small">
        <Table<AgeingRow>
          size="small"
          rowKey="key"
          loading={report.loading}
          columns={columns}
          dataSource={report.data?.rows ?? []}
          scroll={{ x: true }}
          data-testid="ageing-table"
          pagination={
            groupBy === 'customer'
              ? {
                  current: page,
                  pageSize: 50,
                  total: report.data?.total ?? 0,
                  showSizeChanger: false,
                  onChange: (p) => set({ page: String(p) }),
                }
              : false
          }
          summary={() =>
            report.data && groupBy !== 'customer' ? (
              <Table.Summary.Row>
                <Table.Summary.Cell index={0}>{t('ageing.total')}</Table.Summary.Cell>
                {buckets.map((b, i) => (
                  <Table.Summary.Cell key={b} index={i + 1} align="right">
                    {report.data!.totals.buckets[b]?.meters ?? 0} /{' '}
                    {yuan(report.data!.totals.buckets[b]?.owedFen ?? 0)}
                  </Table.Summary.Cell>
                ))}
                <Table.Summary.Cell index={buckets.length + 1} align="right">
                  {report.data.totals.meters}
                </Table.Summary.Cell>
                <Table.Summary.Cell index={buckets.length + 2} align="right">
                  {yuan(report.data.totals.owedFen)}
                </Table.Summary.Cell>
              </Table.Summary.Row>
            ) : null
          }
        />
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {t('ageing.asOf', { day: report.data?.asOf ?? '' })} · {t('ageing.cellHint')}
        </Typography.Text>
      </Card>
    </Space>
  );
}
