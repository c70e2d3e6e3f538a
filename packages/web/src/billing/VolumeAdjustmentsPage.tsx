import { CheckOutlined, CloseOutlined, EditOutlined, FilePdfOutlined } from '@ant-design/icons';
import {
  Alert,
  App,
  Button,
  Card,
  Form,
  Input,
  Modal,
  Select,
  Space,
  Spin,
  Steps,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { OfficeSelect, useOfficeParam, useParam, volume } from '../reading/common';
import type { BillRow } from './billTypes';
import { openPdf } from './pdf';
import {
  type AdjustmentLine,
  AdjustmentLines,
  type AdjustmentPricing,
  SignedYuan,
} from './VolumeAdjustmentDialog';

/** GET /api/volume-adjustments (items) */
export interface AdjustmentRow {
  accountId: number;
  adjustmentId: number;
  orderNo: string;
  kind: 'reduce' | 'supplement';
  status: 'requested' | 'checked' | 'approved' | 'rejected';
  customerCode: string;
  customerName: string;
  officeId: number;
  officeName: string;
  meterId: number;
  meterNo: string;
  billId: number | null;
  billNo: string | null;
  periodFrom: string;
  periodTo: string;
  volumeM3: string;
  billedM3: string;
  adjustedM3: string;
  basis: string;
  basisNote: string;
  amountFen: number;
  requestedBy: number;
  requestedByName: string;
  requestedAt: string;
  checkedBy: number | null;
  checkedByName: string | null;
  checkedAt: string | null;
  checkNote: string;
  decidedBy: number | null;
  decidedByName: string | null;
  decidedAt: string | null;
  decisionNote: string;
  resultBillId: number | null;
  resultBillNo: string | null;
}

const PAGE_SIZE = 50;
const STATUS_COLORS: Record<AdjustmentRow['status'], string> = {
  requested: 'gold',
  checked: 'blue',
  approved: 'green',
  rejected: 'default',
};

/** The three steps of a work order — request, check, signature — with who and when. */
export function AdjustmentSteps({ row }: { row: AdjustmentRow }) {
  const { t } = useTranslation();
  const rejectedAtCheck =
    row.status === 'rejected' && row.checkedBy !== null && row.checkedBy === row.decidedBy;
  const current = row.status === 'requested' ? 1 : row.status === 'checked' ? 2 : rejectedAtCheck ? 1 : 3;
  const who = (name: string | null, at: string | null) => (name ? `${name} ${formatDateTime(at)}` : '');
  return (
    <Steps
      size="small"
      current={current}
      status={row.status === 'rejected' ? 'error' : row.status === 'approved' ? 'finish' : 'process'}
      items={[
        { title: t('adjustments.step.request'), description: who(row.requestedByName, row.requestedAt) },
        {
          title: t('adjustments.step.check'),
          description: rejectedAtCheck
            ? who(row.decidedByName, row.decidedAt)
            : who(row.checkedByName, row.checkedAt),
        },
        {
          title: t('adjustments.step.sign'),
          description: rejectedAtCheck ? '' : who(row.decidedByName, row.decidedAt),
        },
      ]}
    />
  );
}

/** A work order opened: its steps, notes and what it comes to (the bill made, or the price now). */
function OrderDetail({ row }: { row: AdjustmentRow }) {
  const { t } = useTranslation();
  const detail = useApi<AdjustmentRow & { pricing: AdjustmentPricing | null }>(
    `/api/customers/${row.accountId}/volume-adjustments/${row.adjustmentId}`,
  );
  const bill = useApi<BillRow>(
    row.resultBillId ? `/api/customers/${row.accountId}/bills/${row.resultBillId}` : null,
  );
  const lines: AdjustmentLine[] | null = row.resultBillId
    ? (bill.data?.lines.map((l) => ({
        code: l.code,
        blockNo: l.blockNo,
        description: l.description,
        volumeM3: l.volumeM3,
        unitPriceFen: l.unitPriceFen,
        amountFen: l.amountFen,
        from: l.from ?? '',
        to: l.to ?? '',
        tariffVersion: l.tariffVersion ?? '',
      })) ?? null)
    : (detail.data?.pricing?.lines ?? null);
  const total = row.resultBillId
    ? (bill.data?.amountFen ?? row.amountFen)
    : (detail.data?.pricing?.amountFen ?? 0);
  return (
    <Space direction="vertical" style={{ width: '100%' }} data-testid={`adjustment-detail-${row.orderNo}`}>
      <AdjustmentSteps row={row} />
      <Space wrap>
        <Typography.Text>
          {t('adjustments.volumes', { billed: volume(row.billedM3), adjusted: volume(row.adjustedM3) })}
        </Typography.Text>
        <Button
          size="small"
          icon={<FilePdfOutlined />}
          onClick={() =>
            openPdf(`/api/customers/${row.accountId}/volume-adjustments/${row.adjustmentId}/order.pdf`)
          }
          data-testid={`adjustment-pdf-${row.orderNo}`}
        >
          {t('adjustments.print')}
        </Button>
      </Space>
      <Typography.Text>
        {t('adjustments.basis')}：{t(`adjustments.basisName.${row.basis}`)} — {row.basisNote}
      </Typography.Text>
      {row.checkNote && (
        <Typography.Text type="secondary">
          {t('adjustments.checkNote')}：{row.checkNote}
        </Typography.Text>
      )}
      {row.decisionNote && (
        <Typography.Text type="secondary">
          {t('adjustments.decisionNote')}：{row.decisionNote}
        </Typography.Text>
      )}
      {row.resultBillNo && (
        <Typography.Text>
          {t('adjustments.resultBill')}：
          <Link to={`/customers/${row.accountId}?tab=bills`}>{row.resultBillNo}</Link>
        </Typography.Text>
      )}
      {detail.loading || bill.loading ? (
        <Spin />
      ) : lines ? (
        <AdjustmentLines lines={lines} totalFen={total} />
      ) : row.status === 'requested' || row.status === 'checked' ? (
        <Alert type="warning" showIcon message={t('adjustments.cannotPrice')} />
      ) : null}
    </Space>
  );
}

/**
 * Volume adjustment work orders (调量 / 补量工单): the reading specialist checks those requested, the
 * department manager signs those checked — never their own — and a signed one shows the adjustment
 * bill it made.
 */
export default function VolumeAdjustmentsPage() {
  const { t } = useTranslation();
  const { can, me } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [officeId, setOfficeId] = useOfficeParam();
  const [status, setStatus] = useParam('status', 'all');
  const [page, setPage] = useState(1);
  const list = useApi<{ items: AdjustmentRow[]; total: number }>(
    officeId ? '/api/volume-adjustments' : null,
    {
      officeId,
      status: status === 'all' ? undefined : status,
      page,
      pageSize: PAGE_SIZE,
    },
  );
  const [acting, setActing] = useState<{
    row: AdjustmentRow;
    step: 'check' | 'sign';
    approve: boolean;
  } | null>(null);
  const [form] = Form.useForm<{ note: string }>();
  const [busy, setBusy] = useState(false);
  const mine = (staffId: number | null) => staffId !== null && staffId === me?.staffId;

  const act = async () => {
    if (!acting) return;
    const values = await validated(form);
    if (!values) return;
    setBusy(true);
    try {
      await api(
        `/api/customers/${acting.row.accountId}/volume-adjustments/${acting.row.adjustmentId}/${acting.step}`,
        {
          method: 'POST',
          body: { approve: acting.approve, note: values.note ?? '' },
        },
      );
      void message.success(
        t(acting.approve ? `adjustments.done.${acting.step}` : 'adjustments.done.rejected', {
          orderNo: acting.row.orderNo,
        }),
      );
      setActing(null);
      list.reload();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const open = (row: AdjustmentRow, step: 'check' | 'sign', approve: boolean) => {
    form.resetFields();
    setActing({ row, step, approve });
  };

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.volumeAdjustments')}
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
            aria-label={t('adjustments.status')}
            data-testid="adjustment-status-filter"
            options={['all', 'requested', 'checked', 'approved', 'rejected'].map((s) => ({
              value: s,
              label: t(`adjustments.statusName.${s}`),
            }))}
          />
        </Space>
      </Space>
      <Typography.Text type="secondary">{t('adjustments.hint')}</Typography.Text>
      {list.error && <Alert type="error" showIcon message={list.error.message} />}
      <Card styles={{ body: { padding: 0 } }}>
        <Table<AdjustmentRow>
          rowKey={(r) => `${r.accountId}:${r.adjustmentId}`}
          size="middle"
          loading={list.loading}
          dataSource={list.data?.items ?? []}
          pagination={{
            current: page,
            pageSize: PAGE_SIZE,
            total: list.data?.total ?? 0,
            onChange: setPage,
            hideOnSinglePage: true,
            showSizeChanger: false,
          }}
          scroll={{ x: 1200 }}
          data-testid="adjustments-table"
          expandable={{ expandedRowRender: (r) => <OrderDetail row={r} /> }}
          columns={[
            {
              title: t('adjustments.orderNo'),
              key: 'no',
              width: 190,
              render: (_, r) => (
                <Space size={4}>
                  <Tag color={r.kind === 'reduce' ? 'green' : 'volcano'}>
                    {t(`adjustments.kindShort.${r.kind}`)}
                  </Tag>
                  <span data-testid="adjustment-order-no">{r.orderNo}</span>
                </Space>
              ),
            },
            {
              title: t('customer.name'),
              key: 'c',
              width: 200,
              render: (_, r) => (
                <Space direction="vertical" size={0}>
                  <Link to={`/customers/${r.accountId}?tab=bills`}>{r.customerName}</Link>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {r.customerCode} · {r.meterNo}
                  </Typography.Text>
                </Space>
              ),
            },
            {
              title: t('adjustments.billOrPeriod'),
              key: 'b',
              width: 200,
              render: (_, r) => (
                <Space direction="vertical" size={0}>
                  <span>{r.billNo ?? t('adjustments.noBill')}</span>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {r.periodFrom} ~ {r.periodTo}
                  </Typography.Text>
                </Space>
              ),
            },
            {
              title: t('adjustments.volume'),
              key: 'v',
              width: 110,
              align: 'right',
              render: (_, r) => `${r.kind === 'reduce' ? '−' : '+'}${volume(r.volumeM3)} m³`,
            },
            {
              title: t('adjustments.amount'),
              dataIndex: 'amountFen',
              width: 120,
              align: 'right',
              render: (v: number) => <SignedYuan fen={v} strong />,
            },
            {
              title: t('adjustments.basis'),
              key: 'basis',
              render: (_, r) => (
                <Space direction="vertical" size={0}>
                  <span>{t(`adjustments.basisName.${r.basis}`)}</span>
                  <Typography.Text
                    type="secondary"
                    style={{ fontSize: 12 }}
                    ellipsis={{ tooltip: r.basisNote }}
                  >
                    {r.basisNote}
                  </Typography.Text>
                </Space>
              ),
            },
            {
              title: t('adjustments.status'),
              dataIndex: 'status',
              width: 110,
              render: (s: AdjustmentRow['status']) => (
                <Tag color={STATUS_COLORS[s]} data-testid="adjustment-status">
                  {t(`adjustments.statusName.${s}`)}
                </Tag>
              ),
            },
            {
              title: t('common.actions'),
              key: 'a',
              width: 200,
              fixed: 'right',
              render: (_, r) => {
                const step =
                  r.status === 'requested' && can('reading.review') && !mine(r.requestedBy)
                    ? 'check'
                    : r.status === 'checked' &&
                        can('billing.approve') &&
                        !mine(r.requestedBy) &&
                        !mine(r.checkedBy)
                      ? 'sign'
                      : null;
                if (!step) return null;
                return (
                  <Space>
                    <Button
                      size="small"
                      type="primary"
                      icon={step === 'sign' ? <EditOutlined /> : <CheckOutlined />}
                      onClick={() => open(r, step, true)}
                      data-testid={`adjustment-${step}`}
                    >
                      {t(`adjustments.action.${step}`)}
                    </Button>
                    <Button
                      size="small"
                      danger
                      icon={<CloseOutlined />}
                      onClick={() => open(r, step, false)}
                      data-testid="adjustment-reject"
                    >
                      {t('adjustments.action.reject')}
                    </Button>
                  </Space>
                );
              },
            },
          ]}
        />
      </Card>
      <Modal
        open={acting !== null}
        width={720}
        title={
          acting
            ? t(acting.approve ? `adjustments.title.${acting.step}` : 'adjustments.title.reject', {
                orderNo: acting.row.orderNo,
              })
            : ''
        }
        onOk={act}
        onCancel={() => setActing(null)}
        confirmLoading={busy}
        okText={
          acting ? t(acting.approve ? `adjustments.action.${acting.step}` : 'adjustments.action.reject') : ''
        }
        okButtonProps={{ danger: acting ? !acting.approve : false }}
        cancelText={t('common.cancel')}
        forceRender
      >
        {acting && <OrderDetail row={acting.row} />}
        <Form form={form} name="adjustmentDecision" layout="vertical" style={{ marginTop: 12 }}>
          <Form.Item
            name="note"
            label={t('adjustments.note')}
            rules={[{ required: acting ? !acting.approve : false, whitespace: true }, { max: 500 }]}
          >
            <Input.TextArea rows={2} data-testid="adjustment-note" />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
