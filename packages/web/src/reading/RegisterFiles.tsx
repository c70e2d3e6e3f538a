import { todayInChina } from '@meterline/domain';
import { Alert, Card, Col, Row, Space, Statistic, Table, Tag, Tooltip, Typography } from 'antd';
import { type HTMLAttributes, useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { currentLang, type Lang } from '../i18n';

/**
 * Smart meters' register reads (远传日冻结读数) on the smart-meter files page: the outcome of an
 * uploaded file and the office's latest files. The exceptions are in RegisterExceptions.tsx. The
 * outcome bar and the rejected rows' table serve the billing file's report as well.
 */

/** A row of a file that was not stored, with its reason in both languages. */
export interface RowError {
  rowNo: number;
  meterNo: string;
  code: string;
  message: string;
  messages: Record<Lang, string>;
}

/** Outcomes of a file's rows, in the order a bar shows them, each with its colour. */
export type Outcomes<O extends string = string> = readonly (readonly [O, string])[];

/** A register file's outcomes (the counts of POST /api/readings/registers and of its file list). */
export const REGISTER_OUTCOMES = [
  ['stored', '#52c41a'],
  ['flagged', '#fa8c16'],
  ['conflict', '#722ed1'],
  ['duplicate', '#bfbfbf'],
  ['rejected', '#f5222d'],
] as const;
type RegisterOutcome = (typeof REGISTER_OUTCOMES)[number][0];

/** POST /api/readings/registers's answer. */
export interface RegisterReport extends Record<RegisterOutcome, number> {
  fileId: number;
  fileName: string;
  officeId: number;
  rows: number;
  errors: RowError[];
  chunks: number;
  seconds: number;
}

/** GET /api/readings/registers/files: a file as its stored chunks counted it. */
interface RegisterFile extends Record<RegisterOutcome, number> {
  fileId: number;
  fileName: string;
  officeId: number;
  officeName: string;
  staffName: string | null;
  startedAt: string;
  /** Null: the file stopped halfway; the counts are of its stored chunks. */
  finishedAt: string | null;
  rows: number;
  chunks: number;
}

/** How many of the office's latest register files are listed. */
const RECENT_FILES = 20;

/**
 * A register file a user can start from: each meter's daily freeze at midnight this morning, China
 * time, one with an anomaly code (a leak the meter reports).
 */
export function registerSampleFile(): string {
  const day = todayInChina();
  return (
    '\uFEFF表号,抄表时间,读数,异常代码\r\n' +
    `W000000001,${day} 00:00,1234.5,\r\n` +
    `W000000002,${day} 00:00,87.125,\r\n` +
    `W000000003,${day}T00:00:00+08:00,402,leak\r\n`
  );
}

/** The rows of a file by outcome, as one bar in the outcomes' colours. */
export function OutcomeBar<O extends string>({
  outcomes,
  counts,
  total,
  name,
}: {
  outcomes: Outcomes<O>;
  counts: Record<O, number>;
  total: number;
  /** An outcome's name in the UI language. */
  name: (outcome: O) => string;
}) {
  if (total === 0) return null;
  return (
    <div
      style={{ display: 'flex', height: 18, borderRadius: 4, overflow: 'hidden', width: '100%' }}
      data-testid="smart-outcome-bar"
    >
      {outcomes
        .filter(([o]) => (counts[o] ?? 0) > 0)
        .map(([o, colour]) => (
          <Tooltip key={o} title={`${name(o)}: ${(counts[o] ?? 0).toLocaleString()}`}>
            <div
              style={{ width: `${((counts[o] ?? 0) / total) * 100}%`, minWidth: 3, background: colour }}
              data-outcome={o}
            />
          </Tooltip>
        ))}
    </div>
  );
}

/** The rows of a file that were not stored, with their reasons in the UI language. */
export function RejectedRows({
  errors,
  rejected,
  testId,
}: {
  errors: RowError[];
  /** How many rows were rejected (the server lists the first of them). */
  rejected: number;
  testId: string;
}) {
  const { t } = useTranslation();
  const lang = currentLang();
  return (
    <>
      <Typography.Text strong>{t('smartFiles.errors')}</Typography.Text>
      {errors.length < rejected && (
        <Typography.Text type="secondary">
          {t('smartFiles.errorsCapped', { total: rejected, shown: errors.length })}
        </Typography.Text>
      )}
      <Table<RowError>
        rowKey={(e) => `${e.rowNo}:${e.code}`}
        size="small"
        dataSource={errors}
        pagination={{ pageSize: 20, showSizeChanger: false, hideOnSinglePage: true }}
        data-testid={testId}
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
  );
}

/** The outcome of an uploaded register file: a bar, the counts, and the rejected rows. */
export function RegisterReportCard({ report }: { report: RegisterReport }) {
  const { t } = useTranslation();
  const lang = currentLang();
  const exceptions = report.flagged + report.conflict;
  return (
    <Card
      size="small"
      data-testid="register-report"
      title={
        <Space wrap>
          {t('registers.result')}
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
        <OutcomeBar
          outcomes={REGISTER_OUTCOMES}
          counts={report}
          total={report.rows}
          name={(o) => t(`registers.outcome.${o}`)}
        />
        <Row gutter={16}>
          <Col xs={12} md={4}>
            <Statistic title={t('registers.rows')} value={report.rows} data-testid="register-count-rows" />
          </Col>
          {REGISTER_OUTCOMES.map(([o, colour]) => (
            <Col xs={12} md={4} key={o}>
              <Statistic
                title={t(`registers.outcome.${o}`)}
                value={report[o]}
                valueStyle={{ color: report[o] ? colour : undefined }}
                data-testid={`register-count-${o}`}
              />
            </Col>
          ))}
        </Row>
        {exceptions > 0 && (
          <Alert type="warning" showIcon message={t('registers.toExceptions', { count: exceptions })} />
        )}
        {report.rejected === 0 ? (
          <Alert type="success" showIcon message={t('registers.allGood', { count: report.rows })} />
        ) : (
          <RejectedRows errors={report.errors} rejected={report.rejected} testId="register-errors" />
        )}
      </Space>
    </Card>
  );
}

/** The office's latest register files, newest first; `refresh` changes when a file was sent. */
export function RegisterRecentFiles({
  officeId,
  refresh,
}: {
  officeId: number | undefined;
  refresh: number;
}) {
  const { t } = useTranslation();
  const files = useApi<RegisterFile[]>(officeId ? '/api/readings/registers/files' : null, {
    officeId,
    limit: RECENT_FILES,
  });
  const { reload } = files;
  useEffect(() => {
    if (refresh > 0) reload();
  }, [refresh, reload]);

  return (
    <Card size="small" title={t('registers.recent')}>
      <Table<RegisterFile>
        rowKey="fileId"
        size="small"
        loading={files.loading}
        dataSource={files.data ?? []}
        pagination={false}
        scroll={{ x: 1100 }}
        data-testid="register-files"
        columns={[
          {
            title: t('registers.startedAt'),
            dataIndex: 'startedAt',
            width: 150,
            render: (v: string) => formatDateTime(v),
          },
          {
            title: t('smartFiles.file'),
            dataIndex: 'fileName',
            ellipsis: true,
            render: (name: string, f) => (
              <Space size={4}>
                <span>{name}</span>
                {f.finishedAt === null && (
                  <Tooltip title={t('registers.stoppedHint')}>
                    <Tag color="orange" data-testid="register-file-stopped">
                      {t('registers.stopped')}
                    </Tag>
                  </Tooltip>
                )}
              </Space>
            ),
          },
          { title: t('smartFiles.by'), dataIndex: 'staffName', width: 100, render: (n) => n ?? '—' },
          { title: t('registers.rows'), dataIndex: 'rows', width: 90, align: 'right' },
          {
            title: t('smartFiles.outcomes'),
            key: 'outcomes',
            width: 220,
            render: (_, f) => (
              <OutcomeBar
                outcomes={REGISTER_OUTCOMES}
                counts={f}
                total={f.rows}
                name={(o) => t(`registers.outcome.${o}`)}
              />
            ),
          },
          ...REGISTER_OUTCOMES.map(([o]) => ({
            title: t(`registers.outcome.${o}`),
            dataIndex: o,
            width: 90,
            align: 'right' as const,
            onCell: () => ({ 'data-outcome': o }) as HTMLAttributes<HTMLElement>,
          })),
        ]}
      />
    </Card>
  );
}
