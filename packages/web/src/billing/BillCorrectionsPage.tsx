import { CheckOutlined, CloseOutlined } from '@ant-design/icons';
import { formatFenAsYuan } from '@meterline/domain';
import { Alert, App, Button, Card, Form, Input, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { Chart, type ChartOption } from '../components/Chart';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { OfficeSelect, useOfficeParam, useParam, volume } from '../reading/common';
import { RequestedBy } from '../reading/PlanChanges';
import { itemsOf, type Paged } from '../reading/types';
import { useBilingual } from './BillsTab';
import type { Bilingual } from './billTypes';
import { yuan } from './money';

/** Corrections in one page of the list. */
const PAGE_SIZE = 50;

type Status = 'requested' | 'approved' | 'rejected';

interface LineDifference {
  kind: string;
  code: string;
  blockNo: number | null;
  tariffVersion: string | null;
  description: Bilingual;
  oldVolumeM3: string;
  oldAmountFen: number;
  newVolumeM3: string;
  newAmountFen: number;
  deltaVolumeM3: string;
  deltaFen: number;
}

interface BillDifference {
  readingId: number | null;
  periodFrom: string;
  periodTo: string;
  old: { billId: number; billNo: string; amountFen: number } | null;
  new: { billId: number; billNo: string; amountFen: number } | null;
  lines: LineDifference[];
  deltaFen: number;
}

export interface BillCorrectionRow {
  accountId: number;
  correctionId: number;
  billId: number;
  billNo: string;
  billPeriodFrom: string;
  billPeriodTo: string;
  billAmountFen: number;
  customerCode: string;
  customerName: string;
  source: 'request' | 'reading_correction';
  readingCorrectionId: number | null;
  reason: string;
  requestedBy: number;
  requestedByName: string | null;
  requestedAt: string;
  status: Status;
  decidedByName: string | null;
  decidedAt: string | null;
  decisionNote: string;
  oldTotalFen: number | null;
  newTotalFen: number | null;
  differenceFen: number | null;
  difference: { bills: BillDifference[] } | null;
}

const STATUS_COLORS: Record<Status, string> = { requested: 'gold', approved: 'green', rejected: 'default' };

/** A signed amount in yuan, coloured: more to pay red, less green. */
export function FenDelta({ fen }: { fen: number | null }) {
  if (fen === null) return <>—</>;
  const text = `${fen > 0 ? '+' : fen < 0 ? '−' : ''}¥${formatFenAsYuan(Math.abs(fen))}`;
  return (
    <Typography.Text
      strong
      type={fen > 0 ? 'danger' : fen < 0 ? 'success' : undefined}
      data-testid="fen-delta"
    >
      {text}
    </Typography.Text>
  );
}

/** Old against new amount of each bill of the correction, as bars (yuan). */
function DifferenceChart({ bills }: { bills: BillDifference[] }) {
  const { t } = useTranslation();
  const option = useMemo<ChartOption>(
    () => ({
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 32, containLabel: true },
      xAxis: { type: 'category', data: bills.map((b) => b.periodTo) },
      yAxis: { type: 'value', name: t('bills.yuanUnit') },
      series: [
        {
          name: t('billCorrections.old'),
          type: 'bar',
          barMaxWidth: 28,
          itemStyle: { color: '#bfbfbf' },
          data: bills.map((b) => (b.old?.amountFen ?? 0) / 100),
        },
        {
          name: t('billCorrections.new'),
          type: 'bar',
          barMaxWidth: 28,
          data: bills.map((b) => (b.new?.amountFen ?? 0) / 100),
        },
      ],
    }),
    [bills, t],
  );
  return (
    <Chart option={option} height={200} label={t('billCorrections.chartTitle')} testId="correction-chart" />
  );
}

/** The difference of an approved correction: each bill old → new, line by line, and the chart. */
export function CorrectionDifference({ row }: { row: BillCorrectionRow }) {
  const { t } = useTranslation();
  const text = useBilingual();
  const bills = row.difference?.bills ?? [];
  if (bills.length === 0) return <Typography.Text type="secondary">—</Typography.Text>;
  return (
    <Space
      direction="vertical"
      style={{ width: '100%' }}
      data-testid={`correction-difference-${row.correctionId}`}
    >
      <DifferenceChart bills={bills} />
      {bills.map((b) => (
        <Card
          key={`${b.old?.billId ?? ''}-${b.new?.billId ?? ''}`}
          size="small"
          title={
            <Space wrap>
              <span>
                {b.periodFrom} ~ {b.periodTo}
              </span>
              <Typography.Text delete type="secondary">
                {b.old ? `${b.old.billNo} ${yuan(b.old.amountFen)}` : '—'}
              </Typography.Text>
              →
              <Typography.Text strong>
                {b.new ? `${b.new.billNo} ${yuan(b.new.amountFen)}` : t('billCorrections.noNewBill')}
              </Typography.Text>
              <FenDelta fen={b.deltaFen} />
            </Space>
          }
        >
          <Table<LineDifference>
            rowKey={(l) => `${l.kind}|${l.code}|${l.blockNo ?? ''}|${l.tariffVersion ?? ''}`}
            size="small"
            pagination={false}
            dataSource={b.lines}
            columns={[
              { title: t('bills.line.item'), key: 'd', render: (_, l) => text(l.description) },
              { title: t('bills.line.tariffVersion'), dataIndex: 'tariffVersion', width: 90 },
              {
                title: t('billCorrections.volume'),
                key: 'v',
                align: 'right',
                width: 190,
                render: (_, l) => (
                  <span>
                    {volume(l.oldVolumeM3)} → {volume(l.newVolumeM3)}
                  </span>
                ),
              },
              {
                title: t('billCorrections.amount'),
                key: 'a',
                align: 'right',
                width: 200,
                render: (_, l) => (
                  <span>
                    {formatFenAsYuan(l.oldAmountFen)} → {formatFenAsYuan(l.newAmountFen)}
                  </span>
                ),
              },
              {
                title: t('billCorrections.delta'),
                key: 'x',
                align: 'right',
                width: 110,
                render: (_, l) => <FenDelta fen={l.deltaFen} />,
              },
            ]}
          />
        </Card>
      ))}
    </Space>
  );
}

/**
 * Bill corrections (账单更正，作废重开) of the office: requests waiting for approval first, with
 * approve / reject for holders of billing.approve; for approved ones the difference old → new.
 */
export default function BillCorrectionsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [officeId, setOfficeId] = useOfficeParam();
  const [status, setStatus] = useParam('status', 'requested');
  const [page, setPage] = useState(1);
  const list = useApi<Paged<BillCorrectionRow>>(officeId ? '/api/bill-corrections' : null, {
    officeId,
    status: status === 'all' ? undefined : status,
    page,
    pageSize: PAGE_SIZE,
  });
  const [deciding, setDeciding] = useState<{ row: BillCorrectionRow; approve: boolean; key: string } | null>(
    null,
  );
  const [form] = Form.useForm<{ note: string }>();
  const [busy, setBusy] = useState(false);
  const approver = can('billing.approve');

  const decide = async () => {
    if (!deciding) return;
    const values = await validated(form);
    if (!values) return;
    setBusy(true);
    try {
      await api(
        `/api/customers/${deciding.row.accountId}/bill-corrections/${deciding.row.correctionId}/decide`,
        {
          method: 'POST',
          body: { approve: deciding.approve, note: values.note ?? '' },
          headers: { 'Idempotency-Key': deciding.key },
        },
      );
      void message.success(deciding.approve ? t('billCorrections.approved') : t('billCorrections.rejected'));
      setDeciding(null);
      list.reload();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const open = (row: BillCorrectionRow, approve: boolean) => {
    form.resetFields();
    setDeciding({ row, approve, key: `bill-correction-decide-${row.correctionId}-${Date.now()}` });
  };

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.billCorrections')}
        </Typography.Title>
        <Space wrap>
          <OfficeSelect value={officeId} onChange={setOfficeId} />
          <Select
            value={status}
            onChange={(s) => {
              setStatus(s);
              setPage(1);
            }}
            style={{ width: 140 }}
            aria-label={t('billCorrections.status')}
            options={['requested', 'approved', 'rejected', 'all'].map((s) => ({
              value: s,
              label: t(`billCorrections.statusName.${s}`),
            }))}
            data-testid="bill-corrections-status"
          />
        </Space>
      </Space>
      <Typography.Text type="secondary">{t('billCorrections.hint')}</Typography.Text>
      {list.error && <Alert type="error" showIcon message={list.error.message} />}
      <Card styles={{ body: { padding: 0 } }}>
        <Table<BillCorrectionRow>
          rowKey={(r) => `${r.accountId}:${r.correctionId}`}
          size="middle"
          loading={list.loading}
          dataSource={itemsOf(list.data)}
          pagination={{
            current: page,
            pageSize: PAGE_SIZE,
            total: list.data?.total ?? 0,
            onChange: setPage,
            hideOnSinglePage: true,
            showSizeChanger: false,
          }}
          scroll={{ x: 1200 }}
          data-testid="bill-corrections-table"
          expandable={{
            rowExpandable: (r) => r.status === 'approved',
            expandedRowRender: (r) => <CorrectionDifference row={r} />,
          }}
          columns={[
            {
              title: t('customer.name'),
              key: 'c',
              width: 200,
              render: (_, r) => (
                <Space direction="vertical" size={0}>
                  <Link to={`/customers/${r.accountId}?tab=bills`}>{r.customerName}</Link>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {r.customerCode}
                  </Typography.Text>
                </Space>
              ),
            },
            {
              title: t('bills.billNo'),
              key: 'b',
              width: 200,
              render: (_, r) => (
                <Space direction="vertical" size={0}>
                  <span>{r.billNo}</span>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {r.billPeriodFrom} ~ {r.billPeriodTo}
                  </Typography.Text>
                </Space>
              ),
            },
            {
              title: t('billCorrections.totals'),
              key: 't',
              width: 230,
              align: 'right',
              render: (_, r) =>
                r.status === 'approved' ? (
                  <Space direction="vertical" size={0} align="end">
                    <span data-testid="correction-totals">
                      {yuan(r.oldTotalFen)} → {yuan(r.newTotalFen)}
                    </span>
                    <FenDelta fen={r.differenceFen} />
                  </Space>
                ) : (
                  yuan(r.billAmountFen)
                ),
            },
            {
              title: t('common.reason'),
              key: 'r',
              width: 240,
              render: (_, r) => (
                <Space direction="vertical" size={0}>
                  <span>{r.reason}</span>
                  {r.source === 'reading_correction' && (
                    <Tag color="purple">{t('billCorrections.fromReadingCorrection')}</Tag>
                  )}
                </Space>
              ),
            },
            {
              title: t('billCorrections.requestedBy'),
              key: 'req',
              width: 170,
              render: (_, r) => <RequestedBy name={r.requestedByName} at={r.requestedAt} />,
            },
            {
              title: t('billCorrections.status'),
              dataIndex: 'status',
              width: 180,
              render: (s: Status, r) => (
                <Space direction="vertical" size={0}>
                  <Tag color={STATUS_COLORS[s]} data-testid="bill-correction-status">
                    {t(`billCorrections.statusName.${s}`)}
                  </Tag>
                  {r.decidedByName && (
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {r.decidedByName}
                    </Typography.Text>
                  )}
                  {r.decisionNote && (
                    <Typography.Text style={{ fontSize: 12 }}>{r.decisionNote}</Typography.Text>
                  )}
                </Space>
              ),
            },
            ...(approver
              ? [
                  {
                    title: t('common.actions'),
                    key: 'a',
                    width: 180,
                    render: (_: unknown, r: BillCorrectionRow) =>
                      r.status === 'requested' ? (
                        <Space>
                          <Button
                            size="small"
                            type="primary"
                            icon={<CheckOutlined />}
                            onClick={() => open(r, true)}
                            data-testid="bill-correction-approve"
                          >
                            {t('billCorrections.approve')}
                          </Button>
                          <Button
                            size="small"
                            danger
                            icon={<CloseOutlined />}
                            onClick={() => open(r, false)}
                            data-testid="bill-correction-reject"
                          >
                            {t('billCorrections.reject')}
                          </Button>
                        </Space>
                      ) : null,
                  },
                ]
              : []),
          ]}
        />
      </Card>
      <Modal
        open={deciding !== null}
        title={
          deciding
            ? t(deciding.approve ? 'billCorrections.approveTitle' : 'billCorrections.rejectTitle', {
                billNo: deciding.row.billNo,
              })
            : ''
        }
        onOk={decide}
        onCancel={() => setDeciding(null)}
        confirmLoading={busy}
        okText={deciding?.approve ? t('billCorrections.approve') : t('billCorrections.reject')}
        okButtonProps={{ danger: deciding ? !deciding.approve : false }}
        cancelText={t('common.cancel')}
        forceRender
      >
        {deciding && (
          <Space direction="vertical" style={{ marginBottom: 12 }}>
            <span>
              {t('common.reason')}：{deciding.row.reason}
            </span>
            {deciding.approve && (
              <Typography.Text type="secondary">{t('billCorrections.approveHint')}</Typography.Text>
            )}
          </Space>
        )}
        <Form form={form} name="decideBillCorrection" layout="vertical">
          <Form.Item
            name="note"
            label={t('billCorrections.note')}
            rules={[{ required: deciding ? !deciding.approve : false, whitespace: true }, { max: 500 }]}
          >
            <Input.TextArea rows={3} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
