import { DownloadOutlined, FileExcelOutlined, ReloadOutlined } from '@ant-design/icons';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Progress,
  Row,
  Select,
  Space,
  Statistic,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useMe } from '../auth/AuthContext';
import { FileDrop } from '../components/FileDrop';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { currentLang } from '../i18n';
import { type ImportBatch, type ImportStatus, isFinished, itemsOf, toBatch, toRowError } from './batch';

/** How often a running import is asked for its progress. */
const POLL_MS = 1000;
const ERRORS_PAGE_SIZE = 20;

const STATUS_COLORS: Record<ImportStatus, string> = {
  queued: 'default',
  running: 'processing',
  done: 'success',
  failed: 'error',
};

/**
 * Bulk import of customers from CSV or XLSX for one office: upload, watch the progress, read the
 * rows that were refused and download them as a report to correct and import again.
 */
export default function ImportPage() {
  const { t } = useTranslation();
  const me = useMe();
  const handle = useErrorHandler();
  const { message } = App.useApp();
  const lang = currentLang();
  const [officeId, setOfficeId] = useState<number | undefined>(me.homeOfficeId ?? me.offices[0]?.officeId);
  const [uploading, setUploading] = useState(false);
  const [batchId, setBatchId] = useState<number | null>(null);
  // Kept as the server sent it, so a language switch re-words its messages.
  const [batchRaw, setBatchRaw] = useState<Record<string, unknown> | null>(null);
  const batch = batchRaw ? toBatch(batchRaw, lang) : null;
  const [errorsPage, setErrorsPage] = useState(1);
  const recent = useApi<unknown>('/api/imports', { pageSize: 10 });

  // Poll the chosen batch until it is done or failed.
  // biome-ignore lint/correctness/useExhaustiveDependencies: one poll loop per batch; handle and reload are stable.
  useEffect(() => {
    if (batchId === null) return;
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const raw = await api<Record<string, unknown>>(`/api/imports/${batchId}`);
        if (!live) return;
        setBatchRaw(raw);
        if (isFinished(toBatch(raw, 'zh-CN').status)) {
          recent.reload();
          return;
        }
      } catch (e) {
        if (!live) return;
        handle(e);
      }
      timer = setTimeout(poll, POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      if (timer) clearTimeout(timer);
    };
  }, [batchId]);

  const finished = batch ? isFinished(batch.status) : false;
  const errors = useApi<unknown>(
    batchId !== null && finished && (batch?.errorRows ?? 0) > 0 ? `/api/imports/${batchId}/errors` : null,
    { page: errorsPage, pageSize: ERRORS_PAGE_SIZE },
  );
  const errorList = itemsOf(errors.data);
  const errorRows = errorList.items.map((raw, i) => toRowError(raw, lang, i));

  const upload = async (file: File) => {
    if (!officeId) return;
    const body = new FormData();
    body.append('file', file, file.name);
    setUploading(true);
    try {
      const raw = await api<Record<string, unknown>>('/api/imports', {
        method: 'POST',
        query: { officeId },
        body,
      });
      setBatchRaw(raw);
      setErrorsPage(1);
      setBatchId(toBatch(raw, lang).importId);
      // The same file sent to the same office again: the server answers with the first batch.
      const duplicate = raw.duplicateOf as { importId?: number; createdAt?: string } | undefined;
      if (duplicate?.importId)
        void message.info(
          t('imports.duplicate', { id: duplicate.importId, at: formatDateTime(duplicate.createdAt ?? null) }),
          6,
        );
      recent.reload();
    } catch (e) {
      handle(e);
    } finally {
      setUploading(false);
    }
  };

  const percent = batch
    ? batch.status === 'done'
      ? 100
      : batch.totalRows > 0
        ? Math.floor((batch.processedRows / batch.totalRows) * 100)
        : 0
    : 0;
  const recentRaw = itemsOf(recent.data).items;
  const officeName = (id: number | null) => me.offices.find((o) => o.officeId === id)?.name ?? '';

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={4} className="page-title">
        {t('menu.imports')}
      </Typography.Title>
      <Card size="small">
        <Row gutter={[16, 16]}>
          <Col xs={24} md={8}>
            <Space direction="vertical" style={{ width: '100%' }}>
              <Typography.Text strong>{t('imports.office')}</Typography.Text>
              <Select
                style={{ width: '100%' }}
                value={officeId}
                onChange={setOfficeId}
                options={me.offices.map((o) => ({ value: o.officeId, label: o.name }))}
                data-testid="import-office"
              />
              <Typography.Text strong>{t('imports.template')}</Typography.Text>
              <Space wrap>
                <a href="/api/imports/template?format=xlsx" download>
                  <Button icon={<FileExcelOutlined />}>{t('imports.templateXlsx')}</Button>
                </a>
                <a href="/api/imports/template?format=csv" download>
                  <Button icon={<DownloadOutlined />}>{t('imports.templateCsv')}</Button>
                </a>
              </Space>
              <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
                {t('imports.hint')}
              </Typography.Paragraph>
            </Space>
          </Col>
          <Col xs={24} md={16} data-testid="import-upload">
            <FileDrop
              accept=".csv,.xlsx"
              disabled={!officeId || uploading}
              onFile={(file) => void upload(file)}
              text={uploading ? t('imports.uploading') : t('imports.drop')}
              hint={t('imports.dropHint')}
            />
          </Col>
        </Row>
      </Card>

      {batch && (
        <Card
          size="small"
          data-testid="import-batch"
          title={
            <Space>
              {t('imports.batch', { id: batch.importId })}
              <Typography.Text type="secondary">{batch.fileName}</Typography.Text>
              <Tag color={STATUS_COLORS[batch.status]} data-testid="import-status" data-status={batch.status}>
                {t(`imports.status.${batch.status}`)}
              </Tag>
            </Space>
          }
        >
          <Space direction="vertical" size="middle" style={{ width: '100%' }}>
            <Progress
              percent={percent}
              status={
                batch.status === 'failed' ? 'exception' : batch.status === 'done' ? 'success' : 'active'
              }
              data-testid="import-progress"
            />
            <Row gutter={16}>
              <Col xs={12} md={5}>
                <Statistic title={t('imports.total')} value={batch.totalRows} />
              </Col>
              <Col xs={12} md={5}>
                <Statistic title={t('imports.processed')} value={batch.processedRows} />
              </Col>
              <Col xs={8} md={5}>
                <Statistic
                  title={t('imports.imported')}
                  value={batch.importedRows}
                  valueStyle={{ color: '#389e0d' }}
                  data-testid="import-imported"
                />
              </Col>
              <Col xs={8} md={4}>
                <Statistic title={t('imports.unchanged')} value={batch.unchangedRows} />
              </Col>
              <Col xs={8} md={5}>
                <Statistic
                  title={t('imports.errors')}
                  value={batch.errorRows}
                  valueStyle={{ color: batch.errorRows ? '#cf1322' : undefined }}
                  data-testid="import-errors"
                />
              </Col>
            </Row>
            {batch.fileError && (
              <Alert type="error" showIcon message={t('imports.fileError')} description={batch.fileError} />
            )}
            {finished && batch.errorRows > 0 && (
              <>
                <Space wrap>
                  <a href={`/api/imports/${batch.importId}/report?format=csv`} download>
                    <Button type="primary" icon={<DownloadOutlined />} data-testid="download-report-csv">
                      {t('imports.reportCsv')}
                    </Button>
                  </a>
                  <a href={`/api/imports/${batch.importId}/report?format=xlsx`} download>
                    <Button icon={<FileExcelOutlined />}>{t('imports.reportXlsx')}</Button>
                  </a>
                </Space>
                <Table
                  rowKey="key"
                  size="small"
                  loading={errors.loading}
                  dataSource={errorRows}
                  data-testid="import-error-table"
                  pagination={{
                    current: errorsPage,
                    pageSize: ERRORS_PAGE_SIZE,
                    total: errorList.total,
                    showSizeChanger: false,
                    onChange: setErrorsPage,
                  }}
                  columns={[
                    { title: t('imports.row'), dataIndex: 'rowNo', width: 80 },
                    { title: t('imports.column'), dataIndex: 'column', width: 160 },
                    { title: t('imports.problem'), dataIndex: 'message' },
                    {
                      title: t('imports.values'),
                      dataIndex: 'raw',
                      ellipsis: true,
                      render: (values: unknown) => {
                        const text =
                          values && typeof values === 'object'
                            ? Object.entries(values as Record<string, unknown>)
                                .filter(([, v]) => v !== '' && v !== null)
                                .map(([k, v]) => `${k}: ${v}`)
                                .join(' · ')
                            : '';
                        return <span title={text}>{text}</span>;
                      },
                    },
                  ]}
                />
              </>
            )}
            {batch.status === 'done' && batch.errorRows === 0 && (
              <Alert type="success" showIcon message={t('imports.allGood', { count: batch.importedRows })} />
            )}
          </Space>
        </Card>
      )}

      <Card
        size="small"
        title={t('imports.recent')}
        extra={
          <Button
            size="small"
            icon={<ReloadOutlined />}
            onClick={recent.reload}
            aria-label={t('common.reload')}
          />
        }
      >
        <Table<ImportBatch>
          rowKey="importId"
          size="small"
          className="clickable-rows"
          loading={recent.loading}
          dataSource={recentRaw.map((raw) => toBatch(raw, lang))}
          pagination={false}
          onRow={(b, index) => ({
            onClick: () => {
              setBatchRaw(recentRaw[index ?? 0] ?? null);
              setErrorsPage(1);
              setBatchId(b.importId);
            },
          })}
          columns={[
            { title: '#', dataIndex: 'importId', width: 60 },
            { title: t('imports.file'), dataIndex: 'fileName', ellipsis: true },
            {
              title: t('customer.office'),
              key: 'office',
              width: 120,
              render: (_, b) => b.officeName || officeName(b.officeId),
            },
            {
              title: t('imports.statusLabel'),
              dataIndex: 'status',
              width: 100,
              render: (s: ImportStatus) => <Tag color={STATUS_COLORS[s]}>{t(`imports.status.${s}`)}</Tag>,
            },
            { title: t('imports.total'), dataIndex: 'totalRows', width: 80, align: 'right' },
            { title: t('imports.imported'), dataIndex: 'importedRows', width: 80, align: 'right' },
            { title: t('imports.unchanged'), dataIndex: 'unchangedRows', width: 80, align: 'right' },
            { title: t('imports.errors'), dataIndex: 'errorRows', width: 80, align: 'right' },
            { title: t('imports.createdAt'), dataIndex: 'createdAt', width: 170, render: formatDateTime },
          ]}
        />
      </Card>
    </Space>
  );
}
