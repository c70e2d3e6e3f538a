import { Alert, Card, Col, Row, Space, Statistic, Table, Tooltip, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { currentLang, type Lang } from '../i18n';

/**
 * The outcome of an uploaded smart-meter file, billing readings (结算读数) or register reads (日冻结读数)
 * alike: its rows by outcome as a bar and counts, a notice, and the rows rejected with their reasons.
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

/** An uploaded file's answer: its rows by outcome and the first of those rejected. */
export interface FileReport {
  fileName: string;
  rows: number;
  rejected: number;
  errors: RowError[];
  seconds: number;
}

/**
 * The outcome of an uploaded file: `texts` names its i18n section (result, rows, allGood),
 * `testId` prefixes its test ids (`-report`, `-count-<outcome>`, `-errors`).
 */
export function FileReportCard<O extends string>({
  report,
  outcomes,
  texts,
  testId,
  notice,
  outcomeName,
}: {
  report: FileReport & Record<O, number>;
  outcomes: Outcomes<O>;
  /** An outcome's name in the UI language. */
  outcomeName: (outcome: O) => string;
  texts: 'smartFiles' | 'registers';
  testId: string;
  /** Shown under the counts (the way to what waits for the analyst). */
  notice?: ReactNode;
}) {
  const { t } = useTranslation();
  const lang = currentLang();
  return (
    <Card
      size="small"
      data-testid={`${testId}-report`}
      title={
        <Space wrap>
          {t(`${texts}.result`)}
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
        <OutcomeBar outcomes={outcomes} counts={report} total={report.rows} name={outcomeName} />
        <Row gutter={16}>
          <Col xs={12} md={4}>
            <Statistic title={t(`${texts}.rows`)} value={report.rows} data-testid={`${testId}-count-rows`} />
          </Col>
          {outcomes.map(([o, colour]) => (
            <Col xs={12} md={4} key={o}>
              <Statistic
                title={outcomeName(o)}
                value={report[o]}
                valueStyle={{ color: report[o] ? colour : undefined }}
                data-testid={`${testId}-count-${o}`}
              />
            </Col>
          ))}
        </Row>
        {notice}
        {report.rejected === 0 ? (
          <Alert type="success" showIcon message={t(`${texts}.allGood`, { count: report.rows })} />
        ) : (
          <RejectedRows errors={report.errors} rejected={report.rejected} testId={`${testId}-errors`} />
        )}
      </Space>
    </Card>
  );
}
