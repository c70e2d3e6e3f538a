import { DownloadOutlined } from '@ant-design/icons';
import { todayInChina } from '@meterline/domain';
import { Alert, Button, Card, Col, Progress, Row, Segmented, Space, Table, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { ApiError, uploadWithProgress } from '../api';
import { FileDrop } from '../components/FileDrop';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { OfficeSelect, useOfficeParam, useParam } from './common';
import { FileReportCard, OutcomeBar, type RowError } from './FileOutcomes';
import { RegisterBilling } from './RegisterBilling';
import { RegisterExceptions } from './RegisterExceptions';
import {
  RegisterRecentFiles,
  type RegisterReport,
  RegisterReportCard,
  registerSampleFile,
} from './RegisterFiles';

/** The outcomes of a file's rows, in the order the bar shows them, with their colours. */
const OUTCOMES = [
  ['accepted', '#52c41a'],
  ['review', '#fa8c16'],
  ['conflict', '#722ed1'],
  ['duplicate', '#bfbfbf'],
  ['rejected', '#f5222d'],
] as const;
type Outcome = (typeof OUTCOMES)[number][0];

/**
 * The kinds of file: billing readings (结算读数, stored as readings and billed) and smart meters'
 * register reads (日冻结读数, stored apart and checked for exceptions, never billed).
 */
const FILE_KINDS = ['billing', 'registers'] as const;
type FileKind = (typeof FILE_KINDS)[number];

/**
 * What the page shows: a kind of file to upload, or the billing readings taken from register reads
 * (远传结算, RegisterBilling), which has no file.
 */
const PAGE_KINDS = [...FILE_KINDS, 'billing-reads'] as const;
type PageKind = (typeof PAGE_KINDS)[number];

/** Where each kind of file is sent. */
const UPLOAD_PATHS: Record<FileKind, string> = {
  billing: '/api/readings/bulk',
  registers: '/api/readings/registers',
};

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
 * refused with their reasons (in the UI's language), and the way to the review queue. A file of
 * register reads (日冻结读数) goes to the register store instead: its outcome, the office's latest
 * register files and the exceptions found are shown by RegisterFiles and RegisterExceptions. The third
 * kind, 远传结算, has no file: the billing readings taken from register reads (RegisterBilling).
 */
export default function SmartFilesPage() {
  const { t } = useTranslation();
  const handle = useErrorHandler();
  const [officeId, setOfficeId] = useOfficeParam();
  const [kindParam, setKind] = useParam('kind', 'billing');
  const kind: PageKind = PAGE_KINDS.find((k) => k === kindParam) ?? 'billing';
  const [phase, setPhase] = useState<'idle' | 'sending' | 'storing'>('idle');
  const [sent, setSent] = useState(0);
  const [storingSince, setStoringSince] = useState<number | null>(null);
  const [now, setNow] = useState(Date.now());
  const [report, setReport] = useState<BulkReport | null>(null);
  const [registerReport, setRegisterReport] = useState<RegisterReport | null>(null);
  // Counts the register files sent, for their lists to reload.
  const [registerUploads, setRegisterUploads] = useState(0);
  const [fileError, setFileError] = useState<string | null>(null);
  const recent = useApi<BulkFile[]>(officeId && kind === 'billing' ? '/api/readings/bulk' : null, {
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
    if (!officeId || kind === 'billing-reads') return;
    const body = new FormData();
    body.append('file', file, file.name);
    const sending: FileKind = kind;
    setReport(null);
    setRegisterReport(null);
    setFileError(null);
    setSent(0);
    setPhase('sending');
    try {
      const answer = await uploadWithProgress<BulkReport | RegisterReport>(UPLOAD_PATHS[sending], {
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
      if (sending === 'registers') {
        setRegisterReport(answer as RegisterReport);
        setRegisterUploads((n) => n + 1);
      } else {
        setReport(answer as BulkReport);
        recent.reload();
      }
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

  const chooseKind = (next: PageKind) => {
    setKind(next);
    setReport(null);
    setRegisterReport(null);
    setFileError(null);
  };

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.smartFiles')}
        </Typography.Title>
        <OfficeSelect value={officeId} onChange={setOfficeId} />
      </Space>
      <Segmented<PageKind>
        value={kind}
        onChange={chooseKind}
        disabled={phase !== 'idle'}
        aria-label={t('registers.fileKind')}
        data-testid="smart-file-kind"
        options={PAGE_KINDS.map((k) => ({ value: k, label: t(`registers.kind.${k}`) }))}
      />
      {kind === 'billing-reads' && <RegisterBilling officeId={officeId} />}
      {kind !== 'billing-reads' && (
        <Card size="small">
          <Row gutter={[16, 16]}>
            <Col xs={24} md={10}>
              <Space direction="vertical">
                <Typography.Paragraph style={{ marginBottom: 0 }}>
                  {t(kind === 'registers' ? 'registers.hint' : 'smartFiles.hint')}
                </Typography.Paragraph>
                <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
                  {t(kind === 'registers' ? 'registers.format' : 'smartFiles.format')}
                </Typography.Paragraph>
                <a
                  href={`data:text/csv;charset=utf-8,${encodeURIComponent(
                    kind === 'registers' ? registerSampleFile() : sampleFile(),
                  )}`}
                  download={kind === 'registers' ? 'register-reads-sample.csv' : 'smart-meter-sample.csv'}
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
      )}

      {kind === 'registers' && (
        <>
          {registerReport && <RegisterReportCard report={registerReport} />}
          <RegisterExceptions officeId={officeId} refresh={registerUploads} />
          <RegisterRecentFiles officeId={officeId} refresh={registerUploads} />
        </>
      )}

      {kind === 'billing' && report && (
        <FileReportCard
          report={report}
          outcomes={OUTCOMES}
          outcomeName={(o) => t(`smartFiles.outcome.${o}`)}
          texts="smartFiles"
          testId="smart"
          notice={
            toReview > 0 && (
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
            )
          }
        />
      )}

      {kind === 'billing' && (
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
                render: (_, f) => (
                  <OutcomeBar
                    outcomes={OUTCOMES}
                    counts={f}
                    total={f.rows}
                    name={(o) => t(`smartFiles.outcome.${o}`)}
                  />
                ),
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
      )}
    </Space>
  );
}
