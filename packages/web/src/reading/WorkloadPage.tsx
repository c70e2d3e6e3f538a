import { Alert, Card, Col, Empty, Row, Space, Table, Tag, Typography } from 'antd';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { useAuth } from '../auth/AuthContext';
import { Chart, type ChartOption } from '../components/Chart';
import { useApi } from '../components/useApi';
import { MonthInput, OfficeSelect, RotationTag, thisMonth, useOfficeParam, useParam } from './common';
import { type BookRow, METER_CATEGORIES, type Workload, type WorkloadReader } from './types';
import { WorkloadFigures } from './WorkloadFigures';

const OVER_COLOR = '#f5222d';
const OK_COLOR = '#1677ff';
const LIMIT_COLOR = '#fa8c16';

/** Reader workload for a month: working days needed against the limit, and the rotation rule. */
export default function WorkloadPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const [officeId, setOfficeId] = useOfficeParam();
  const [month, setMonth] = useParam('month', thisMonth());
  const workload = useApi<Workload>(officeId ? '/api/workload' : null, { officeId, month });
  const books = useApi<BookRow[]>(officeId ? '/api/books' : null, { officeId });
  const readers = workload.data?.readers ?? [];
  const over = readers.filter((r) => r.over);
  const rotation = (books.data ?? [])
    .filter((b) => b.rotation && b.rotation.status !== 'ok')
    .sort((a, b) => a.rotation!.dueOn.localeCompare(b.rotation!.dueOn));

  const option = useMemo<ChartOption | null>(() => {
    if (readers.length === 0) return null;
    return {
      tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
      legend: { top: 0 },
      grid: { left: 8, right: 16, bottom: 8, top: 36, containLabel: true },
      xAxis: { type: 'category', data: readers.map((r) => r.readerName), axisLabel: { interval: 0 } },
      yAxis: { type: 'value', name: t('reading.workload.daysAxis'), minInterval: 1 },
      series: [
        {
          name: t('reading.workload.days'),
          type: 'bar',
          barMaxWidth: 48,
          label: { show: true, position: 'top' },
          data: readers.map((r) => ({ value: r.days, itemStyle: { color: r.over ? OVER_COLOR : OK_COLOR } })),
        },
        {
          name: t('reading.workload.limit'),
          type: 'line',
          step: 'middle',
          symbol: 'none',
          lineStyle: { type: 'dashed', color: LIMIT_COLOR, width: 2 },
          itemStyle: { color: LIMIT_COLOR },
          data: readers.map((r) => r.limit),
        },
      ],
    };
  }, [readers, t]);

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.workload')}
        </Typography.Title>
        <Space wrap>
          <OfficeSelect value={officeId} onChange={setOfficeId} />
          <MonthInput value={month} onChange={setMonth} />
          {can('reading.plan') && officeId && (
            <WorkloadFigures
              officeId={officeId}
              onSaved={() => {
                workload.reload();
                books.reload();
              }}
            />
          )}
        </Space>
      </Space>
      {workload.error && <Alert type="error" showIcon message={workload.error.message} />}
      {workload.data?.workingDays !== undefined && (
        <Typography.Text type="secondary">
          {t('reading.workload.workingDays', { month, days: workload.data.workingDays })}
        </Typography.Text>
      )}
      {(workload.data?.unassigned?.length ?? 0) > 0 && (
        <Alert
          type="warning"
          showIcon
          message={t('reading.workload.unassigned', {
            books: workload.data!.unassigned!.map((b) => b.code).join('、'),
          })}
        />
      )}
      {over.length > 0 && (
        <Alert
          type="error"
          showIcon
          data-testid="workload-over"
          message={t('reading.workload.overAlert', {
            count: over.length,
            names: over.map((r) => r.readerName).join('、'),
          })}
        />
      )}
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={14}>
          <Card size="small" title={t('reading.workload.chartTitle', { month })}>
            {option ? (
              <Chart
                option={option}
                label={t('reading.workload.chartTitle', { month })}
                testId="workload-chart"
              />
            ) : (
              <Empty description={t('reading.workload.empty')} />
            )}
          </Card>
        </Col>
        <Col xs={24} xl={10}>
          <Card size="small" title={t('reading.workload.rotationTitle')} data-testid="rotation-warnings">
            {rotation.length === 0 ? (
              <Empty description={t('reading.workload.rotationNone')} image={Empty.PRESENTED_IMAGE_SIMPLE} />
            ) : (
              <Table<BookRow>
                rowKey="bookId"
                size="small"
                pagination={false}
                dataSource={rotation}
                columns={[
                  {
                    title: t('reading.book'),
                    key: 'b',
                    render: (_, b) => <Link to={`/reading/books/${b.bookId}`}>{b.code}</Link>,
                  },
                  { title: t('reading.reader'), dataIndex: 'readerName' },
                  { title: t('reading.books.readerSince'), dataIndex: 'readerSince', width: 110 },
                  {
                    title: t('reading.rotation.title'),
                    key: 'r',
                    render: (_, b) => <RotationTag rotation={b.rotation} />,
                  },
                ]}
              />
            )}
          </Card>
        </Col>
      </Row>
      <Card size="small" title={t('reading.workload.tableTitle')} styles={{ body: { padding: 0 } }}>
        <Table<WorkloadReader>
          rowKey="readerId"
          size="small"
          loading={workload.loading}
          dataSource={readers}
          pagination={false}
          scroll={{ x: 1100 }}
          rowClassName={(r) => (r.over ? 'row-over' : '')}
          data-testid="workload-table"
          columns={[
            {
              title: t('reading.reader'),
              dataIndex: 'readerName',
              fixed: 'left',
              width: 120,
              render: (n: string, r) => (
                <Space size={4}>
                  {n}
                  {r.over && <Tag color="red">{t('reading.workload.over')}</Tag>}
                </Space>
              ),
            },
            {
              title: t('reading.workload.books'),
              key: 'books',
              render: (_, r) => (
                <Space size={[4, 4]} wrap>
                  {r.books.map((b) => (
                    <Link key={b.bookId} to={`/reading/books/${b.bookId}`}>
                      <Tag
                        color={
                          b.rotation?.status === 'over'
                            ? 'red'
                            : b.rotation?.status === 'warn'
                              ? 'orange'
                              : undefined
                        }
                        title={
                          b.rotation ? t('reading.rotation.dueOn', { date: b.rotation.dueOn }) : undefined
                        }
                      >
                        {b.code}
                      </Tag>
                    </Link>
                  ))}
                </Space>
              ),
            },
            ...METER_CATEGORIES.map((c) => ({
              title: t(`reading.category.${c}`),
              key: c,
              width: 100,
              align: 'right' as const,
              render: (_: unknown, r: WorkloadReader) => r.meters?.[c] ?? 0,
            })),
            {
              title: t('reading.workload.days'),
              dataIndex: 'days',
              width: 90,
              align: 'right',
              render: (d: number, r) => (
                <Typography.Text strong type={r.over ? 'danger' : undefined}>
                  {d}
                </Typography.Text>
              ),
            },
            { title: t('reading.workload.limit'), dataIndex: 'limit', width: 80, align: 'right' },
          ]}
        />
      </Card>
    </Space>
  );
}
