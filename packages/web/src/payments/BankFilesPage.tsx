import { DownloadOutlined } from '@ant-design/icons';
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
  Tooltip,
  Typography,
} from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api, withQuery } from '../api';
import { useMe } from '../auth/AuthContext';
import { yuan } from '../billing/money';
import { FileDrop } from '../components/FileDrop';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import i18n, { currentLang } from '../i18n';

/**
 * Bank direct debit (代扣, docs/bank-files.md): choose a bank, see who would be debited and download
 * the debit-request file; upload the bank's result file and read its report — lines posted,
 * rejected, unmatched and duplicate, and every problem with its line number.
 */

interface Bank {
  bankCode: string;
  nameZh: string;
  nameEn: string;
  kind: 'csv' | 'fixed';
  encoding: 'utf8' | 'gbk';
  active: boolean;
}

interface Preview {
  bankCode: string;
  rows: number;
  totalFen: number;
  items: { accountId: number; accountRef: string; name: string; holderName: string; amountFen: number }[];
}

type Outcome = 'posted' | 'rejected' | 'unmatched' | 'duplicate' | 'error';

interface ReportProblem {
  lineNo: number;
  code: string;
  outcome: Outcome | 'invalid' | 'file';
  accountRef?: string;
  amountFen?: number;
  bankTxnRef?: string;
  message: { 'zh-CN': string; en: string };
}

interface Report {
  fileId: number;
  direction: 'export' | 'import';
  bankCode: string;
  fileName: string;
  status: 'processing' | 'done' | 'failed';
  rows: number;
  totalFen: number;
  createdAt: string;
  createdBy: string | null;
  counts: Record<Outcome | 'pending', number>;
  amounts: Record<Outcome, number>;
  fileError: ReportProblem | null;
  problems: ReportProblem[];
  problemsTruncated: boolean;
  duplicateOf?: { fileId: number; createdAt: string; createdBy: string | null };
}

interface FileItem {
  fileId: number;
  direction: 'export' | 'import';
  bankCode: string;
  fileName: string;
  status: string;
  rows: number;
  totalFen: number;
  createdAt: string;
  createdBy: string | null;
}

/** How often a report still being settled is fetched again. */
const REPORT_POLL_MS = 2_000;

const OUTCOME_COLORS: Record<string, string> = {
  posted: 'green',
  rejected: 'orange',
  unmatched: 'red',
  duplicate: 'default',
  error: 'red',
  invalid: 'volcano',
  file: 'purple',
};

const dateTime = (iso: string) => new Date(iso).toLocaleString(currentLang() === 'en' ? 'en-GB' : 'zh-CN');

/** Downloads a file the API makes with a POST; the file name comes from Content-Disposition. */
async function postDownload(path: string, fallbackName: string): Promise<{ rows: number }> {
  const res = await fetch(path, { method: 'POST', credentials: 'same-origin' });
  if (!res.ok) {
    let error: { code?: string; message?: string } | undefined;
    try {
      error = (await res.json())?.error;
    } catch {
      // Not JSON: a generic message below.
    }
    throw new ApiError(
      res.status,
      error?.code ?? `HTTP_${res.status}`,
      error?.message ?? i18n.t('errors.http', { status: res.status }),
    );
  }
  const disposition = res.headers.get('content-disposition') ?? '';
  const encoded = /filename\*=UTF-8''([^;]+)/.exec(disposition)?.[1];
  const name = encoded ? decodeURIComponent(encoded) : fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return { rows: Number(res.headers.get('x-bank-file-rows') ?? 0) };
}

export default function BankFilesPage() {
  const { t } = useTranslation();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const me = useMe();
  const lang = currentLang();
  const banks = useApi<{ items: Bank[] }>('/api/banks');
  const [bankCode, setBankCode] = useState<string | undefined>(undefined);
  const [officeId, setOfficeId] = useState<number | undefined>(undefined);
  const preview = useApi<Preview>(bankCode ? '/api/bank-files/exports' : null, { bankCode, officeId });
  const files = useApi<{ items: FileItem[] }>('/api/bank-files', { bankCode, limit: 50 });
  const [exporting, setExporting] = useState(false);
  const [uploading, setUploading] = useState(false);
  const [report, setReport] = useState<Report | null>(null);

  const bankName = (b: Bank) => (lang === 'en' ? b.nameEn : b.nameZh);
  const bank = banks.data?.items.find((b) => b.bankCode === bankCode);

  const download = async (force = false) => {
    if (!bankCode) return;
    setExporting(true);
    try {
      const { rows } = await postDownload(
        withQuery('/api/bank-files/exports', { bankCode, officeId, force: force || undefined }),
        `DEBIT_${bankCode}.txt`,
      );
      void message.success(t('bankFiles.exported', { rows }));
      files.reload();
    } catch (e) {
      // The last file has no result yet: a second one would debit the same customers twice.
      if (e instanceof ApiError && e.code === 'BANK_EXPORT_OUTSTANDING')
        modal.confirm({
          title: t('bankFiles.outstandingTitle'),
          content: e.message,
          okText: t('bankFiles.makeAnyway'),
          okButtonProps: { danger: true },
          onOk: () => download(true),
        });
      else handle(e);
    } finally {
      setExporting(false);
    }
  };

  // A large file is settled in the background: its report is fetched again until it is done.
  const processingId = report?.status === 'processing' ? report.fileId : null;
  useEffect(() => {
    if (processingId === null) return;
    const timer = setInterval(() => {
      api<Report>(`/api/bank-files/${processingId}`)
        .then((r) => {
          setReport(r);
          if (r.status !== 'processing') files.reload();
        })
        .catch(() => {
          // The next tick tries again; a real failure shows in the report once it ends.
        });
    }, REPORT_POLL_MS);
    return () => clearInterval(timer);
  }, [processingId, files.reload]);

  const upload = async (file: File) => {
    if (!bankCode) return;
    const body = new FormData();
    body.append('file', file, file.name);
    setUploading(true);
    try {
      const r = await api<Report>('/api/bank-files/imports', { method: 'POST', query: { bankCode }, body });
      setReport(r);
      if (r.duplicateOf)
        void message.info(
          t('bankFiles.duplicateFile', { id: r.duplicateOf.fileId, at: dateTime(r.duplicateOf.createdAt) }),
          6,
        );
      files.reload();
      preview.reload();
    } catch (e) {
      handle(e);
    } finally {
      setUploading(false);
    }
  };

  const openReport = async (fileId: number) => {
    try {
      setReport(await api<Report>(`/api/bank-files/${fileId}`));
    } catch (e) {
      handle(e);
    }
  };

  const total = report ? Object.values(report.counts).reduce((s, n) => s + n, 0) : 0;
  const pct = (n: number) => (total ? Math.round((n / total) * 1000) / 10 : 0);

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={4} className="page-title">
        {t('menu.bankFiles')}
      </Typography.Title>

      <Card size="small">
        <Row gutter={[16, 16]}>
          <Col xs={24} md={10}>
            <Space direction="vertical" style={{ width: '100%' }}>
              <Typography.Text strong>{t('bankFiles.bank')}</Typography.Text>
              <Select
                style={{ width: '100%' }}
                placeholder={t('bankFiles.chooseBank')}
                value={bankCode}
                onChange={(v) => {
                  setBankCode(v);
                  setReport(null);
                }}
                loading={banks.loading}
                options={(banks.data?.items ?? [])
                  .filter((b) => b.active)
                  .map((b) => ({ value: b.bankCode, label: `${bankName(b)}（${b.bankCode}）` }))}
                data-testid="bank-select"
              />
              {bank && (
                <Typography.Text type="secondary">
                  {t('bankFiles.layout', {
                    kind: t(`bankFiles.kind.${bank.kind}`),
                    encoding: bank.encoding === 'gbk' ? 'GBK' : 'UTF-8',
                  })}
                </Typography.Text>
              )}
              <Typography.Text strong>{t('bankFiles.office')}</Typography.Text>
              <Select
                style={{ width: '100%' }}
                allowClear
                placeholder={t('bankFiles.allOffices')}
                value={officeId}
                onChange={setOfficeId}
                options={me.offices.map((o) => ({ value: o.officeId, label: o.name }))}
              />
            </Space>
          </Col>
          <Col xs={24} md={14}>
            <Space direction="vertical" style={{ width: '100%' }}>
              <Typography.Text strong>{t('bankFiles.export')}</Typography.Text>
              <Space size="large" wrap>
                <Statistic
                  title={t('bankFiles.customers')}
                  value={preview.data?.rows ?? 0}
                  loading={preview.loading}
                />
                <Statistic
                  title={t('bankFiles.totalToDebit')}
                  value={yuan(preview.data?.totalFen ?? 0)}
                  loading={preview.loading}
                />
              </Space>
              <Button
                type="primary"
                icon={<DownloadOutlined />}
                disabled={!bankCode || !preview.data?.rows}
                loading={exporting}
                onClick={() => void download()}
                data-testid="bank-export"
              >
                {t('bankFiles.download')}
              </Button>
              <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
                {t('bankFiles.exportHint')}
              </Typography.Paragraph>
            </Space>
          </Col>
        </Row>
      </Card>

      <Card size="small" title={t('bankFiles.import')}>
        <FileDrop
          accept=".txt,.csv,.dat"
          disabled={!bankCode || uploading}
          onFile={(file) => void upload(file)}
          text={
            !bankCode
              ? t('bankFiles.chooseBankFirst')
              : uploading
                ? t('bankFiles.uploading')
                : t('bankFiles.drop')
          }
          hint={t('bankFiles.dropHint')}
          testId="bank-upload"
        />
      </Card>

      {report && (
        <Card
          size="small"
          data-testid="bank-report"
          title={
            <Space wrap>
              {t('bankFiles.report', { id: report.fileId })}
              <Typography.Text type="secondary">{report.fileName}</Typography.Text>
              <Tag color={report.status === 'done' ? 'green' : report.status === 'failed' ? 'red' : 'blue'}>
                {t(`bankFiles.status.${report.status}`)}
              </Tag>
              {report.duplicateOf && <Tag>{t('bankFiles.sameFileAgain')}</Tag>}
            </Space>
          }
        >
          <Space direction="vertical" size="middle" style={{ width: '100%' }}>
            {report.fileError && (
              <Alert
                type="error"
                showIcon
                message={report.fileError.message[lang]}
                description={t('bankFiles.nothingPosted')}
              />
            )}
            {report.direction === 'import' && !report.fileError && (
              <>
                <Row gutter={[16, 16]}>
                  {(['posted', 'rejected', 'unmatched', 'duplicate', 'error'] as const).map((o) => (
                    <Col key={o} xs={12} md={4}>
                      <Statistic
                        title={t(`bankFiles.outcome.${o}`)}
                        value={report.counts[o]}
                        suffix={<Typography.Text type="secondary">{yuan(report.amounts[o])}</Typography.Text>}
                      />
                    </Col>
                  ))}
                </Row>
                <Tooltip
                  title={(['posted', 'rejected', 'unmatched', 'duplicate'] as const)
                    .map((o) => `${t(`bankFiles.outcome.${o}`)} ${report.counts[o]}`)
                    .join(' / ')}
                >
                  <Progress
                    percent={pct(
                      report.counts.posted +
                        report.counts.rejected +
                        report.counts.unmatched +
                        report.counts.duplicate +
                        report.counts.error,
                    )}
                    success={{ percent: pct(report.counts.posted) }}
                    status={report.counts.error + report.counts.unmatched > 0 ? 'exception' : 'normal'}
                    format={() => `${report.counts.posted}/${total}`}
                  />
                </Tooltip>
              </>
            )}
            {report.problemsTruncated && <Alert type="warning" showIcon message={t('bankFiles.truncated')} />}
            <Table<ReportProblem>
              size="small"
              rowKey={(p, i) => `${p.lineNo}-${p.code}-${i}`}
              dataSource={report.problems}
              pagination={{ pageSize: 20, hideOnSinglePage: true }}
              locale={{ emptyText: t('bankFiles.noProblems') }}
              columns={[
                {
                  title: t('bankFiles.lineNo'),
                  dataIndex: 'lineNo',
                  width: 80,
                  render: (n: number) => n || '—',
                },
                {
                  title: t('bankFiles.outcomeColumn'),
                  dataIndex: 'outcome',
                  width: 110,
                  render: (o: string) => <Tag color={OUTCOME_COLORS[o]}>{t(`bankFiles.outcome.${o}`)}</Tag>,
                },
                {
                  title: t('bankFiles.accountRef'),
                  dataIndex: 'accountRef',
                  width: 140,
                  render: (v?: string) => v ?? '',
                },
                {
                  title: t('bankFiles.amount'),
                  dataIndex: 'amountFen',
                  width: 120,
                  align: 'right',
                  render: (v?: number) => (v === undefined ? '' : yuan(v)),
                },
                {
                  title: t('bankFiles.problem'),
                  dataIndex: 'message',
                  render: (m: ReportProblem['message']) => m[lang],
                },
              ]}
            />
          </Space>
        </Card>
      )}

      <Card size="small" title={t('bankFiles.recent')}>
        <Table<FileItem>
          size="small"
          rowKey="fileId"
          loading={files.loading}
          dataSource={files.data?.items ?? []}
          pagination={{ pageSize: 10, hideOnSinglePage: true }}
          columns={[
            { title: t('bankFiles.when'), dataIndex: 'createdAt', width: 170, render: dateTime },
            {
              title: t('bankFiles.direction'),
              dataIndex: 'direction',
              width: 90,
              render: (d: string) => <Tag>{t(`bankFiles.directions.${d}`)}</Tag>,
            },
            { title: t('bankFiles.bank'), dataIndex: 'bankCode', width: 80 },
            { title: t('bankFiles.fileName'), dataIndex: 'fileName' },
            { title: t('bankFiles.lines'), dataIndex: 'rows', width: 80, align: 'right' },
            { title: t('bankFiles.amount'), dataIndex: 'totalFen', width: 130, align: 'right', render: yuan },
            {
              title: t('bankFiles.statusColumn'),
              dataIndex: 'status',
              width: 90,
              render: (s: string) => t(`bankFiles.status.${s}`),
            },
            { title: t('bankFiles.by'), dataIndex: 'createdBy', width: 100 },
            {
              key: 'actions',
              width: 170,
              render: (_: unknown, f: FileItem) => (
                <Space>
                  {f.direction === 'import' && (
                    <Button size="small" onClick={() => void openReport(f.fileId)}>
                      {t('bankFiles.viewReport')}
                    </Button>
                  )}
                  <a href={`/api/bank-files/${f.fileId}/content`} download>
                    <Button size="small" icon={<DownloadOutlined />} />
                  </a>
                </Space>
              ),
            },
          ]}
        />
      </Card>
    </Space>
  );
}
