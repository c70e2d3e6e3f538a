import { DownloadOutlined } from '@ant-design/icons';
import { todayInChina } from '@meterline/domain';
import { Alert, Button, Card, Col, Progress, Row, Space, Statistic, Table, Tooltip, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { ApiError, uploadWithProgress } from '../api';
import { FileDrop } from '../components/FileDrop';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { currentLang, type Lang } from '../i18n';
import { OfficeSelect, useOfficeParam } from './common';

/** The outcomes of a file's rows, in the order the bar shows them, with their colours. */
const OUTCOMES = [
  ['accepted', '#52c41a'],
  ['review', '#fa8c16'],
  ['conflict', '#722ed1'],
  ['duplicate', '#bfbfbf'],
  ['rejected', '#f5222d'],
] as const;
type Outcome = (typeof OUTCOMES)[number][0];

interface RowError {
  rowNo: number;
  meterNo: string;
  code: string;
  message: string;
  messages: Record<Lang, string>;
}

/** POST /api/readings/bulk's answer. */
interface BulkReport extends Record<Outcome, number> {
  fileName: string;
  officeId: number;
  rows: number;
  errors: RowError[];
  seconds: number;
}

/** GET /api/readings/bulk: a file as its stored chunks recorded it. */
interface BulkFile extends Record<Outcome, number> {
  requestId: string;
  fileName: string;
  officeName: string;
  staffName: string;
  lastAt: string;
  chunks: number;
  rows: number;
}

/** How many of the office's latest files are listed. */
const RECENT_FILES = 20;

/**
 * A file a user can start from: the header and a row of each kind, read at midnight this morning
 * (a smart meter's daily freeze).
 */
function sampleFile(): string {
  const day = todayInChina();
  return (
    '\uFEFF表号,抄表时间,读数,异常代码\r\n' +
    `W000000001,${day} 00:00,1234.5,\r\n` +
    `W000000002,${day} 00:00,,no_access\r\n` +
    `W000000003,${day}T00:00:00+08:00,88,leak\r\n`
  );
}

/**
 * Smart-meter files (远传表): an office's readings from the remote-reading system, uploaded as one
 * CSV. The upload shows its progress, then the outcome of every row as a bar and counts, the rows
 * refused with their reasons (in the UI's language), and the way to the review queue.
 */
export default function SmartFilesPage() {
  const { t } = useTranslation();
  const handle = useErrorHandler();
  const lang = currentLang();
  const [officeId, setOfficeId] = useOfficeParam();
  const [phase, setPhase] = useState<'idle' | 'sending' | 'storing'>('idle');
  const [sent, setSent] = useState(0);
  const [storingSince, setStoringSince] = useState<number | null>(null);
  const [now, setNow] = useState(Date.now());
  const [report, setReport] = useState<BulkReport | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const recent = useApi<BulkFile[]>(officeId ? '/api/readings/bulk' : null, {
    officeId,
    limit: RECENT_FILES,
  });

  // The seconds spent storing, ticking while the server checks and stores the rows.
  useEffect(() => {
    if (storingSince === null) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [storingSince]);

  const upload = async (file: File) => {
    if (!officeId) return;
    const body = new FormData();
    body.append('file', file, file.name);
    setReport(null);
    setFileError(null);
    setSent(0);
    setPhase('sending');
    try {
      const answer = await uploadWithProgress<BulkReport>('/api/readings/bulk', {
        query: { officeId },
        body,
        onProgress: (share) => {
          setSent(share);
          if (share >= 1) {
            setPhase('storing');
            setStoringSince(Date.now());
            setNow(Date.now());
          }
        },
      });
      setReport(answer);
      recent.reload();
    } catch (e) {
      // A file refused whole (no header, too many rows, too large, empty): shown at the file, in the
      // error's own words (they name the limit; the field's are shorter).
      if (e instanceof ApiError && (e.status === 413 || e.fields.some((f) => f.path === 'file'))) {
        setFileError(e.message);
      } else handle(e);
    } finally {
      setPhase('idle');
      setStoringSince(null);
    }
  };

  const toReview = report ? report.review + report.conflict : 0;

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.smartFiles')}
        </Typography.Title>
        <OfficeSelect value={officeId} onChange={setOfficeId} />
      </Space>
      <Card size="small">
        <Row gutter={[16, 16]}>
          <Col xs={24} md={10}>
            <Space direction="vertical">
              <Typography.Paragraph style={{ marginBottom: 0 }}>{t('smartFiles.hint')}</Typography.Paragraph>
              <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
                {t('smartFiles.format')}
              </Typography.Paragraph>
              <a
                href={`data:text/csv;charset=utf-8,${encodeURIComponent(sampleFile())}`}
                download="smart-meter-sample.csv"
              >
                <Button icon={<DownloadOutlined />}>{t('smartFiles.sample')}</Button>
              </a>
            </Space>
          </Col>
          <Col xs={24} md={14} data-testid="smart-upload">
            <FileDrop
              accept=".csv,text/csv"
              disabled={!officeId || phase !== 'idle'}
              onFile={(file) => void upload(file)}
              text={
                phase === 'sending'
                  ? t('smartFiles.sending')
                  : phase === 'storing'
                    ? t('smartFiles.storing', {
                        seconds: Math.max(0, Math.round((now - (storingSince ?? now)) / 1000)),
                      })
                    : t('smartFiles.drop')
              }
              hint={t('smartFiles.dropHint')}
            />
            {phase !== 'idle' && (
              <Progress
                percent={Math.floor(sent * 100)}
                status="active"
                showInfo={phase === 'sending'}
                data-testid="smart-progress"
              />
            )}
            {fileError && (
              <Alert
                type="error"
                showIcon
                style={{ marginTop: 12 }}
                message={t('smartFiles.fileError')}
                description={fileError}
                data-testid="smart-file-error"
              />
            )}
          </Col>
        </Row>
      </Card>

      {report && (
        <Card
          size="small"
          data-testid="smart-report"
          title={
            <Space wrap>
              {t('smartFiles.result')}
              <Typography.Text type="secondary">{report.fileName}</Typography.Text>
              <Typography.Text type="secondary">
                {t('smartFiles.seconds', {
                  seconds: report.seconds.toFixed(1),
                  rate: Math.round(report.rows / Math.max(report.seconds, 0.001)).toLocaleString(lang),
                })}
              </Typography.Text>
            </Space>
          }
        >
          <Space direction="vertical" size="middle" style={{ width: '100%' }}>
            <OutcomeBar counts={report} total={report.rows} />
            <Row gutter={16}>
              <Col xs={12} md={4}>
                <Statistic title={t('smartFiles.rows')} value={report.rows} />
              </Col>
              {OUTCOMES.map(([o, colour]) => (
                <Col xs={12} md={4} key={o}>
                  <Statistic
                    title={t(`smartFiles.outcome.${o}`)}
                    value={report[o]}
                    valueStyle={{ color: report[o] ? colour : undefined }}
                    data-testid={`smart-count-${o}`}
                  />
                </Col>
              ))}
            </Row>
            {toReview > 0 && (
              <Alert
                type="warning"
                showIcon
                message={t('smartFiles.toReview', { count: toReview })}
                action={
                  <Link to={`/reading/review?officeId=${report.officeId}`}>
                    <Button size="small">{t('smartFiles.openReview')}</Button>
                  </Link>
                }
              />
            )}
            {report.rejected === 0 && (
              <Alert type="success" showIcon message={t('smartFiles.allGood', { count: report.rows })} />
            )}
            {report.rejected > 0 && (
              <>
                <Typography.Text strong>{t('smartFiles.errors')}</Typography.Text>
                {report.errors.length < report.rejected && (
                  <Typography.Text type="secondary">
                    {t('smartFiles.errorsCapped', { total: report.rejected, shown: report.errors.length })}
                  </Typography.Text>
                )}
                <Table<RowError>
                  rowKey={(e) => `${e.rowNo}:${e.code}`}
                  size="small"
                  dataSource={report.errors}
                  pagination={{ pageSize: 20, showSizeChanger: false }}
                  data-testid="smart-errors"
                  columns={[
                    { title: t('smartFiles.row'), dataIndex: 'rowNo', width: 90 },
                    { title: t('smartFiles.meterNo'), dataIndex: 'meterNo', width: 160 },
                    {
                      title: t('smartFiles.problem'),
                      key: 'problem',
                      // Both languages come with each row: a language switch re-words them.
                      render: (_, e) => e.messages?.[lang] ?? e.message,
                    },
                  ]}
                />
              </>
            )}
          </Space>
        </Card>
      )}

      <Card size="small" title={t('smartFiles.recent')}>
        <Table<BulkFile>
          rowKey="requestId"
          size="small"
          loading={recent.loading}
          dataSource={recent.data ?? []}
          pagination={false}
          data-testid="smart-recent"
          columns={[
            {
              title: t('smartFiles.at'),
              dataIndex: 'lastAt',
              width: 150,
              render: (v: string) => formatDateTime(v),
            },
            { title: t('smartFiles.file'), dataIndex: 'fileName', ellipsis: true },
            { title: t('smartFiles.by'), dataIndex: 'staffName', width: 100 },
            { title: t('smartFiles.rows'), dataIndex: 'rows', width: 100, align: 'right' },
            {
              title: t('smartFiles.outcomes'),
              key: 'outcomes',
              width: 260,
              render: (_, f) => <OutcomeBar counts={f} total={f.rows} />,
            },
            ...OUTCOMES.map(([o]) => ({
              title: t(`smartFiles.outcome.${o}`),
              dataIndex: o,
              width: 90,
              align: 'right' as const,
            })),
          ]}
        />
      </Card>
    </Space>
  );
}

/** The rows of a file by outcome, as one bar in the outcomes' colours. */
function OutcomeBar({ counts, total }: { counts: Record<Outcome, number>; total: number }) {
  const { t } = useTranslation();
  if (total === 0) return null;
  return (
    <div
      style={{ display: 'flex', height: 18, borderRadius: 4, overflow: 'hidden', width: '100%' }}
      data-testid="smart-outcome-bar"
    >
      {OUTCOMES.filter(([o]) => counts[o] > 0).map(([o, colour]) => (
        <Tooltip key={o} title={`${t(`smartFiles.outcome.${o}`)}: ${counts[o].toLocaleString()}`}>
          <div style={{ width: `${(counts[o] / total) * 100}%`, minWidth: 3, background: colour }} />
        </Tooltip>
      ))}
    </div>
  );
}
