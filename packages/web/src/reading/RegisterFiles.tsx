import { todayInChina } from '@meterline/domain';
import { Alert, Card, Space, Table, Tag, Tooltip } from 'antd';
import { type HTMLAttributes, useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { FileReportCard, OutcomeBar, type RowError } from './FileOutcomes';

/**
 * Smart meters' register reads (远传日冻结读数) on the smart-meter files page: the outcome of an
 * uploaded file and the office's latest files. The exceptions are in RegisterExceptions.tsx.
 */

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

/** The outcome of an uploaded register file: a bar, the counts, and the rejected rows. */
export function RegisterReportCard({ report }: { report: RegisterReport }) {
  const { t } = useTranslation();
  const exceptions = report.flagged + report.conflict;
  return (
    <FileReportCard
      report={report}
      outcomes={REGISTER_OUTCOMES}
      outcomeName={(o) => t(`registers.outcome.${o}`)}
      texts="registers"
      testId="register"
      notice={
        exceptions > 0 && (
          <Alert type="warning" showIcon message={t('registers.toExceptions', { count: exceptions })} />
        )
      }
    />
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
