import { WarningOutlined } from '@ant-design/icons';
import { Alert, Card, Col, Progress, Row, Space, Statistic, Table, Tag, Tooltip, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { DateInput, today } from '../components/DateInput';
import { formatClock } from '../components/format';
import { useMeta } from '../components/meta';
import { useApi } from '../components/useApi';
import { OfficeSelect, useOfficeParam, useParam } from './common';
import type { DayMonitor, MonitorRow } from './types';

const DEFAULT_DAY_START = '08:30';
const DEFAULT_UPLOAD_BY = '17:00';

/** The analyst's view of one working day: each reader's progress, start and upload times. */
export default function DayMonitorPage() {
  const { t } = useTranslation();
  const meta = useMeta();
  const [officeId, setOfficeId, allOffices] = useOfficeParam({ allowAll: true });
  const [date, setDate] = useParam('date', today());
  const monitor = useApi<DayMonitor>(officeId || allOffices ? '/api/readings/day-monitor' : null, {
    officeId,
    date,
  });
  const dayStart = monitor.data?.dayStart ?? meta?.readingDayStart ?? DEFAULT_DAY_START;
  const uploadBy = monitor.data?.uploadBy ?? meta?.readingUploadBy ?? DEFAULT_UPLOAD_BY;
  const readers = monitor.data?.readers ?? [];
  const sum = (f: (r: MonitorRow) => number) => readers.reduce((s, r) => s + f(r), 0);
  // The server's verdicts when it gives them, else the times themselves (both in China time).
  const late = (r: MonitorRow) => {
    if (r.startedLate !== undefined) return r.startedLate;
    const first = formatClock(r.firstReadAt);
    return first !== null && first > dayStart;
  };
  const lateUpload = (r: MonitorRow) => {
    if (r.uploadedLate !== undefined && r.uploadedAt) return r.uploadedLate;
    const last = formatClock(r.uploadedAt ?? r.lastReadAt);
    return last !== null && last > uploadBy;
  };
  // Meters of the day's route done: read or estimated, less those read off the route.
  const onRoute = (r: MonitorRow) => r.read + r.estimated - (r.offRoute ?? 0);
  const due = sum((r) => r.due);
  const done = sum(onRoute);

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.monitor')}
        </Typography.Title>
        <Space wrap>
          <OfficeSelect value={officeId} onChange={setOfficeId} allowAll />
          <DateInput
            value={date}
            onChange={(d) => d && setDate(d)}
            allowClear={false}
            style={{ width: 150 }}
          />
        </Space>
      </Space>
      <Typography.Text type="secondary">{t('reading.monitor.rules', { dayStart, uploadBy })}</Typography.Text>
      {monitor.error && <Alert type="error" showIcon message={monitor.error.message} />}
      <Row gutter={[16, 16]}>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic title={t('reading.monitor.due')} value={due} />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic
              title={t('reading.monitor.done')}
              value={done}
              suffix={due > 0 ? `(${Math.round((done / due) * 100)}%)` : undefined}
            />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic
              title={t('reading.monitor.lateStart')}
              value={readers.filter(late).length}
              valueStyle={{ color: '#fa8c16' }}
            />
          </Card>
        </Col>
        <Col xs={12} md={6}>
          <Card size="small">
            <Statistic
              title={t('reading.monitor.lateUpload')}
              value={readers.filter(lateUpload).length}
              valueStyle={{ color: '#f5222d' }}
            />
          </Card>
        </Col>
      </Row>
      <Card styles={{ body: { padding: 0 } }}>
        <Table<MonitorRow>
          rowKey="readerId"
          size="middle"
          loading={monitor.loading}
          dataSource={readers}
          pagination={false}
          scroll={{ x: 1000 }}
          data-testid="monitor-table"
          columns={[
            {
              title: t('reading.reader'),
              dataIndex: 'readerName',
              width: 130,
              fixed: 'left',
              render: (n: string, r) => (
                <Space direction="vertical" size={0}>
                  <span>{n}</span>
                  {allOffices && r.officeName && (
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {r.officeName}
                    </Typography.Text>
                  )}
                  {r.books && r.books.length > 0 && (
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {r.books.map((b) => b.code).join('、')}
                    </Typography.Text>
                  )}
                </Space>
              ),
            },
            {
              title: t('reading.monitor.progress'),
              key: 'p',
              width: 220,
              render: (_, r) => {
                const pct = r.due > 0 ? Math.round((onRoute(r) / r.due) * 100) : 0;
                return (
                  <Tooltip
                    title={t('reading.monitor.progressTip', {
                      read: r.read,
                      estimated: r.estimated,
                      due: r.due,
                    })}
                  >
                    <Progress
                      percent={pct}
                      success={{
                        percent: r.due > 0 ? Math.round(((r.read - (r.offRoute ?? 0)) / r.due) * 100) : 0,
                      }}
                      size="small"
                      status={pct >= 100 ? 'success' : 'active'}
                      data-testid="monitor-progress"
                    />
                  </Tooltip>
                );
              },
            },
            { title: t('reading.monitor.due'), dataIndex: 'due', width: 70, align: 'right' },
            {
              title: <Tooltip title={t('reading.monitor.remoteHint')}>{t('reading.monitor.remote')}</Tooltip>,
              dataIndex: 'remote',
              width: 70,
              align: 'right',
              render: (n: number | undefined) => n ?? 0,
            },
            { title: t('reading.monitor.read'), dataIndex: 'read', width: 70, align: 'right' },
            { title: t('reading.monitor.estimated'), dataIndex: 'estimated', width: 70, align: 'right' },
            {
              title: t('reading.monitor.skipped'),
              dataIndex: 'skipped',
              width: 70,
              align: 'right',
              render: (n: number) => (n > 0 ? <Typography.Text type="warning">{n}</Typography.Text> : n),
            },
            {
              title: (
                <Tooltip title={t('reading.monitor.offRouteTip')}>{t('reading.monitor.offRoute')}</Tooltip>
              ),
              dataIndex: 'offRoute',
              width: 80,
              align: 'right',
              render: (n: number | undefined) => n ?? 0,
            },
            {
              title: t('reading.monitor.first'),
              dataIndex: 'firstReadAt',
              width: 120,
              render: (v: string | null, r) =>
                v ? (
                  late(r) ? (
                    <Tag color="orange" icon={<WarningOutlined />} data-testid="late-start">
                      {formatClock(v)}
                    </Tag>
                  ) : (
                    formatClock(v)
                  )
                ) : (
                  <Typography.Text type="secondary">{t('reading.monitor.notStarted')}</Typography.Text>
                ),
            },
            {
              title: t('reading.monitor.last'),
              key: 'last',
              width: 150,
              render: (_, r) => {
                const last = formatClock(r.lastReadAt);
                const upload = formatClock(r.uploadedAt);
                if (!last && !upload) return '—';
                return (
                  <Space direction="vertical" size={0}>
                    {last && <span>{t('reading.monitor.lastRead', { time: last })}</span>}
                    {upload && (
                      <span>
                        {lateUpload(r) ? (
                          <Tag color="red" icon={<WarningOutlined />} data-testid="late-upload">
                            {t('reading.monitor.uploaded', { time: upload })}
                          </Tag>
                        ) : (
                          t('reading.monitor.uploaded', { time: upload })
                        )}
                      </span>
                    )}
                    {!upload && last && lateUpload(r) && (
                      <Tag color="red" icon={<WarningOutlined />} data-testid="late-upload">
                        {t('reading.monitor.afterUploadBy', { time: uploadBy })}
                      </Tag>
                    )}
                  </Space>
                );
              },
            },
            {
              title: t('reading.monitor.anomalies'),
              dataIndex: 'anomalies',
              width: 90,
              align: 'right',
              render: (n: number) => (n > 0 ? <Tag color="magenta">{n}</Tag> : 0),
            },
            {
              title: t('reading.monitor.review'),
              dataIndex: 'review',
              width: 80,
              align: 'right',
              render: (n: number | undefined) => (n ? <Tag color="orange">{n}</Tag> : (n ?? '—')),
            },
            {
              title: t('reading.monitor.downloaded'),
              dataIndex: 'downloadedAt',
              width: 100,
              render: (v: string | null | undefined) => formatClock(v) ?? '—',
            },
          ]}
        />
      </Card>
    </Space>
  );
}
