import {
  Alert,
  App,
  Button,
  Card,
  Form,
  Input,
  Modal,
  Radio,
  Segmented,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { yuan } from '../billing/money';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { newKey } from '../payments/types';
import { OfficeSelect, useOfficeParam } from '../reading/common';

/**
 * 水费异议 (docs/arrears.md "Disputes"): the office's disputes with their classification, the
 * customer's claim and the amount held out of escalation; the office manager passes each on to the
 * next department, upholds or rejects it with a note. Disputes are recorded from the customer page.
 */

export type DisputeStatus = 'open' | 'passed_on' | 'upheld' | 'rejected';

export interface Dispute {
  accountId: number;
  disputeId: number;
  officeId: number;
  customerCode: string;
  customerName: string;
  category: string;
  categoryName: { 'zh-CN': string; en: string };
  description: string;
  claim: string;
  disputedFen: number;
  bills: { billId: number; billNo: string; period: string; disputedFen: number }[];
  status: DisputeStatus;
  held: boolean;
  passedTo: string;
  recordedBy: string;
  recordedAt: string;
  reviewedBy: string | null;
  decidedBy: string | null;
  decidedAt: string | null;
  reviewNote: string;
}

export const DISPUTE_STATUS_COLOR: Record<DisputeStatus, string> = {
  open: 'orange',
  passed_on: 'blue',
  upheld: 'green',
  rejected: 'default',
};

/** The review dialog (pass on / uphold / reject with a note), used here and on the customer page. */
export function ReviewDisputeModal({
  dispute,
  onClose,
  onDone,
}: {
  dispute: Dispute | null;
  onClose: () => void;
  onDone: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<{ action: 'pass_on' | 'uphold' | 'reject'; note: string; passedTo?: string }>();
  const [busy, setBusy] = useState(false);
  const action = Form.useWatch('action', form);
  const submit = async () => {
    if (!dispute) return;
    const values = await form.validateFields();
    setBusy(true);
    try {
      await api(`/api/customers/${dispute.accountId}/disputes/${dispute.disputeId}/review`, {
        method: 'POST',
        body: values,
        headers: { 'Idempotency-Key': newKey('dispute-review') },
      });
      void message.success(t('disputes.reviewed'));
      form.resetFields();
      onDone();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open={dispute !== null}
      title={t('disputes.reviewTitle')}
      onCancel={onClose}
      onOk={submit}
      confirmLoading={busy}
      okButtonProps={{ 'data-testid': 'review-ok' } as never}
      destroyOnClose
    >
      {dispute && (
        <Form
          form={form}
          layout="vertical"
          initialValues={{ action: dispute.status === 'open' ? 'pass_on' : 'reject' }}
        >
          <Typography.Paragraph>
            {dispute.customerCode} {dispute.customerName} · {yuan(dispute.disputedFen)}
            <br />
            <Typography.Text type="secondary">{dispute.claim}</Typography.Text>
          </Typography.Paragraph>
          <Form.Item name="action" label={t('disputes.action')} rules={[{ required: true }]}>
            <Radio.Group>
              {dispute.status === 'open' && <Radio value="pass_on">{t('disputes.actions.pass_on')}</Radio>}
              <Radio value="uphold">{t('disputes.actions.uphold')}</Radio>
              <Radio value="reject">{t('disputes.actions.reject')}</Radio>
            </Radio.Group>
          </Form.Item>
          {action === 'pass_on' && (
            <Form.Item name="passedTo" label={t('disputes.passedTo')} rules={[{ required: true }]}>
              <Input maxLength={100} placeholder={t('disputes.passedToHint')} />
            </Form.Item>
          )}
          <Form.Item name="note" label={t('disputes.note')} rules={[{ required: true }]}>
            <Input.TextArea rows={3} maxLength={1000} data-testid="review-note" />
          </Form.Item>
        </Form>
      )}
    </Modal>
  );
}

export function useDisputeColumns(
  onReview: (d: Dispute) => void,
  withCustomer: boolean,
): ColumnsType<Dispute> {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const lang = i18n.language === 'en' ? 'en' : 'zh-CN';
  return [
    {
      title: t('disputes.recordedAt'),
      dataIndex: 'recordedAt',
      width: 140,
      render: (v: string) => formatDateTime(v),
    },
    ...(withCustomer
      ? ([
          {
            title: t('disputes.customer'),
            key: 'customer',
            render: (_: unknown, d: Dispute) => (
              <Link to={`/customers/${d.accountId}`}>
                {d.customerCode} {d.customerName}
              </Link>
            ),
          },
        ] as ColumnsType<Dispute>)
      : []),
    {
      title: t('disputes.category'),
      dataIndex: 'category',
      width: 100,
      render: (_: string, d) => <Tag>{d.categoryName[lang]}</Tag>,
    },
    {
      title: t('disputes.claim'),
      key: 'claim',
      render: (_, d) => (
        <Space direction="vertical" size={0}>
          <span>{d.description}</span>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t('disputes.claimLabel')}: {d.claim}
          </Typography.Text>
          {d.bills.length > 0 && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {d.bills.map((b) => `${b.period} ${yuan(b.disputedFen)}`).join('、')}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    {
      title: t('disputes.amount'),
      dataIndex: 'disputedFen',
      align: 'right',
      width: 110,
      render: (v: number) => yuan(v),
    },
    {
      title: t('disputes.status'),
      key: 'status',
      width: 200,
      render: (_, d) => (
        <Space direction="vertical" size={0}>
          <Space size={4}>
            <Tag color={DISPUTE_STATUS_COLOR[d.status]}>{t(`disputes.statuses.${d.status}`)}</Tag>
            {d.held && <Tag color="purple">{t('disputes.held')}</Tag>}
          </Space>
          {d.passedTo && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('disputes.passedTo')}: {d.passedTo}
            </Typography.Text>
          )}
          {d.reviewNote && (
            <Typography.Text type="secondary" style={{ fontSize: 12, whiteSpace: 'pre-line' }}>
              {d.reviewNote}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    { title: t('disputes.recordedBy'), dataIndex: 'recordedBy', width: 90 },
    {
      title: '',
      key: 'actions',
      width: 90,
      render: (_, d) =>
        d.held && can('collection.manage') ? (
          <Button
            size="small"
            type="primary"
            onClick={() => onReview(d)}
            data-testid={`review-${d.disputeId}`}
          >
            {t('disputes.review')}
          </Button>
        ) : null,
    },
  ];
}

export default function DisputesPage() {
  const { t } = useTranslation();
  const [officeId, setOfficeId] = useOfficeParam({ allowAll: true });
  const [status, setStatus] = useState<DisputeStatus | 'undecided' | 'all'>('undecided');
  const [page, setPage] = useState(1);
  const list = useApi<{ items: Dispute[]; total: number }>('/api/collections/disputes', {
    officeId,
    status: status === 'all' ? undefined : status,
    page,
    pageSize: 50,
  });
  const [reviewing, setReviewing] = useState<Dispute | null>(null);
  const columns = useDisputeColumns(setReviewing, true);
  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('disputes.title')}
      </Typography.Title>
      <Typography.Text type="secondary">{t('disputes.intro')}</Typography.Text>
      <Space wrap>
        <OfficeSelect value={officeId} onChange={setOfficeId} allowAll />
        <Segmented
          value={status}
          onChange={(v) => {
            setStatus(v as typeof status);
            setPage(1);
          }}
          options={(['undecided', 'open', 'passed_on', 'upheld', 'rejected', 'all'] as const).map((s) => ({
            value: s,
            label: t(`disputes.statuses.${s}`),
          }))}
        />
      </Space>
      {list.error && <Alert type="error" showIcon message={list.error.message} />}
      <Card size="small">
        <Table<Dispute>
          size="small"
          rowKey={(d) => `${d.accountId}/${d.disputeId}`}
          loading={list.loading}
          columns={columns}
          dataSource={list.data?.items ?? []}
          pagination={{
            current: page,
            pageSize: 50,
            total: list.data?.total ?? 0,
            onChange: setPage,
            showSizeChanger: false,
          }}
          data-testid="disputes-table"
        />
      </Card>
      <ReviewDisputeModal
        dispute={reviewing}
        onClose={() => setReviewing(null)}
        onDone={() => {
          setReviewing(null);
          list.reload();
        }}
      />
    </Space>
  );
}
