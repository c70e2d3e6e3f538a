import { Alert, App, Button, Card, Segmented, Space, Table, Tag, Typography } from 'antd';
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
import { newKey } from './types';

interface VatRequest {
  accountId: number;
  requestId: number;
  paymentNo: string;
  amountFen: number;
  customerCode: string;
  customerName: string;
  buyer: { name: string; taxNo: string; address: string; phone: string; bank: string; bankAccount: string };
  status: 'requested' | 'issued' | 'rejected';
  receiptNo: string | null;
  requestedBy: string | null;
  requestedAt: string;
  decidedBy: string | null;
  note: string;
}

/** Finance's list of VAT invoice requests (增值税发票): issue one (the slip is taken back) or reject it. */
export default function VatInvoicesPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const [status, setStatus] = useState<VatRequest['status']>('requested');
  const list = useApi<{ items: VatRequest[] }>('/api/vat-invoice-requests', { status });
  const decide = (r: VatRequest, issue: boolean) =>
    modal.confirm({
      title: t(issue ? 'pay.vat.issueTitle' : 'pay.vat.rejectTitle'),
      content: `${r.buyer.name} · ${r.buyer.taxNo} · ${yuan(r.amountFen)}`,
      okButtonProps: { danger: !issue },
      onOk: async () => {
        try {
          await api(`/api/customers/${r.accountId}/vat-invoice-requests/${r.requestId}/decision`, {
            method: 'POST',
            body: { issue },
            headers: { 'Idempotency-Key': newKey('vat-decision') },
          });
          void message.success(t(issue ? 'pay.vat.issued' : 'pay.vat.rejected'));
          list.reload();
        } catch (e) {
          handle(e);
        }
      },
    });
  const columns: ColumnsType<VatRequest> = [
    {
      title: t('pay.requests.at'),
      dataIndex: 'requestedAt',
      width: 150,
      render: (v: string) => formatDateTime(v),
    },
    {
      title: t('pay.requests.customer'),
      key: 'c',
      render: (_, r) => (
        <Link to={`/payments/counter/${r.accountId}`}>
          {r.customerCode} {r.customerName}
        </Link>
      ),
    },
    { title: t('pay.requests.payment'), dataIndex: 'paymentNo', width: 160 },
    {
      title: t('pay.requests.amount'),
      dataIndex: 'amountFen',
      align: 'right',
      render: (v: number) => yuan(v),
    },
    {
      title: t('pay.vat.buyer'),
      key: 'buyer',
      render: (_, r) => (
        <Space direction="vertical" size={0}>
          <Typography.Text>{r.buyer.name}</Typography.Text>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {r.buyer.taxNo} · {r.buyer.bank} {r.buyer.bankAccount}
          </Typography.Text>
        </Space>
      ),
    },
    { title: t('pay.requests.by'), dataIndex: 'requestedBy', width: 90 },
    {
      title: t('pay.requests.decision'),
      key: 'd',
      width: 200,
      render: (_, r) =>
        r.status === 'requested' ? (
          can('payment.finance') ? (
            <Space>
              <Button size="small" type="primary" onClick={() => decide(r, true)}>
                {t('pay.vat.issue')}
              </Button>
              <Button size="small" danger onClick={() => decide(r, false)}>
                {t('pay.requests.reject')}
              </Button>
            </Space>
          ) : (
            <Tag>{t('pay.vat.status.requested')}</Tag>
          )
        ) : (
          <Space>
            <Tag color={r.status === 'issued' ? 'green' : 'default'}>{t(`pay.vat.status.${r.status}`)}</Tag>
            {r.receiptNo}
          </Space>
        ),
    },
  ];
  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('pay.vat.pageTitle')}
      </Typography.Title>
      <Segmented
        value={status}
        onChange={(v) => setStatus(v as VatRequest['status'])}
        options={(['requested', 'issued', 'rejected'] as const).map((s) => ({
          value: s,
          label: t(`pay.vat.status.${s}`),
        }))}
      />
      {list.error && <Alert type="error" showIcon message={list.error.message} />}
      <Card size="small">
        <Table<VatRequest>
          size="small"
          rowKey={(r) => `${r.accountId}/${r.requestId}`}
          loading={list.loading}
          columns={columns}
          dataSource={list.data?.items ?? []}
        />
      </Card>
    </Space>
  );
}
