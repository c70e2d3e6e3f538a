import { Alert, App, Button, Card, Input, Modal, Segmented, Space, Table, Tag, Typography } from 'antd';
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
import { newKey, type PaymentRequest } from './types';

/**
 * Reversals (冲正), refunds and deposit requests waiting for a second person: each with who asked,
 * why and how much; approving posts the entry, rejecting records the note. Nobody decides their own.
 */
export default function PaymentRequestsPage() {
  const { t } = useTranslation();
  const { can, me } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [status, setStatus] = useState<'pending' | 'approved' | 'rejected'>('pending');
  const list = useApi<{ items: PaymentRequest[] }>('/api/payment-requests', { status });
  const [deciding, setDeciding] = useState<{ r: PaymentRequest; approve: boolean } | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);

  const decide = async () => {
    if (!deciding) return;
    setBusy(true);
    try {
      await api(`/api/customers/${deciding.r.accountId}/payment-requests/${deciding.r.requestId}/decision`, {
        method: 'POST',
        body: { approve: deciding.approve, note: note.trim() || undefined },
        headers: { 'Idempotency-Key': newKey('decision') },
      });
      void message.success(t(deciding.approve ? 'pay.requests.approved' : 'pay.requests.rejected'));
      setDeciding(null);
      setNote('');
      list.reload();
    } catch (e) {
      handle(e);
    } finally {
      setBusy(false);
    }
  };

  const columns: ColumnsType<PaymentRequest> = [
    {
      title: t('pay.requests.at'),
      dataIndex: 'requestedAt',
      width: 150,
      render: (v: string) => formatDateTime(v),
    },
    {
      title: t('pay.requests.kind'),
      dataIndex: 'kind',
      width: 110,
      render: (k: string) => (
        <Tag color={k === 'reversal' ? 'red' : 'blue'}>{t(`pay.requests.kinds.${k}`)}</Tag>
      ),
    },
    {
      title: t('pay.requests.customer'),
      key: 'customer',
      render: (_, r) => (
        <Link to={`/payments/counter/${r.accountId}`}>
          {r.customerCode} {r.customerName}
        </Link>
      ),
    },
    {
      title: t('pay.requests.payment'),
      dataIndex: 'paymentNo',
      width: 160,
      render: (v: string | null) => v ?? '—',
    },
    {
      title: t('pay.requests.amount'),
      dataIndex: 'amountFen',
      align: 'right',
      width: 110,
      render: (v: number) => yuan(v),
    },
    { title: t('pay.requests.reason'), dataIndex: 'reason' },
    { title: t('pay.requests.by'), dataIndex: 'requestedBy', width: 90 },
    {
      title: t('pay.requests.decision'),
      key: 'decision',
      width: 190,
      render: (_, r) =>
        r.status === 'pending' ? (
          can('payment.approve') && r.requestedBy !== me?.fullName ? (
            <Space>
              <Button
                size="small"
                type="primary"
                data-testid={`approve-${r.requestId}`}
                onClick={() => setDeciding({ r, approve: true })}
              >
                {t('pay.requests.approve')}
              </Button>
              <Button size="small" danger onClick={() => setDeciding({ r, approve: false })}>
                {t('pay.requests.reject')}
              </Button>
            </Space>
          ) : (
            <Typography.Text type="secondary">{t('pay.requests.waiting')}</Typography.Text>
          )
        ) : (
          <Space direction="vertical" size={0}>
            <Tag color={r.status === 'approved' ? 'green' : 'default'}>
              {t(`pay.requests.status.${r.status}`)}
            </Tag>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {r.decidedBy} {r.decidedAt ? formatDateTime(r.decidedAt) : ''} {r.decisionNote}
            </Typography.Text>
          </Space>
        ),
    },
  ];

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('pay.requests.title')}
      </Typography.Title>
      <Segmented
        value={status}
        onChange={(v) => setStatus(v as typeof status)}
        options={(['pending', 'approved', 'rejected'] as const).map((s) => ({
          value: s,
          label: t(`pay.requests.status.${s}`),
        }))}
      />
      {list.error && <Alert type="error" showIcon message={list.error.message} />}
      <Card size="small">
        <Table<PaymentRequest>
          size="small"
          rowKey={(r) => `${r.accountId}/${r.requestId}`}
          loading={list.loading}
          columns={columns}
          dataSource={list.data?.items ?? []}
          data-testid="payment-requests"
        />
      </Card>
      <Modal
        open={deciding !== null}
        title={deciding ? t(deciding.approve ? 'pay.requests.approveTitle' : 'pay.requests.rejectTitle') : ''}
        onCancel={() => setDeciding(null)}
        onOk={decide}
        confirmLoading={busy}
        okButtonProps={{ danger: deciding?.approve === false }}
      >
        {deciding && (
          <Space direction="vertical" style={{ width: '100%' }}>
            <Typography.Text>
              {t(`pay.requests.kinds.${deciding.r.kind}`)} · {deciding.r.customerCode}{' '}
              {deciding.r.customerName} · {yuan(deciding.r.amountFen)}
            </Typography.Text>
            <Typography.Text type="secondary">{deciding.r.reason}</Typography.Text>
            <Input.TextArea
              rows={3}
              maxLength={500}
              placeholder={t('pay.requests.note')}
              value={note}
              onChange={(e) => setNote(e.target.value)}
            />
          </Space>
        )}
      </Modal>
    </Space>
  );
}
