import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Form,
  Input,
  Modal,
  Row,
  Select,
  Space,
  Statistic,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { yuan } from '../billing/money';
import { yuanTextToFen } from '../billing/PrepaidTab';
import { openPdf } from '../billing/pdf';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { MandateCard } from './MandateCard';
import { OnlinePayButton } from './OnlinePayButton';
import { type AccountPosition, newKey, type OpenBill, type Payment, type ReceiptRef } from './types';
import { VatInvoiceDialog } from './VatInvoiceDialog';

/** What the customer owes, the credit and the deposits held, at a glance. */
export function PositionCards({ position }: { position: AccountPosition }) {
  const { t } = useTranslation();
  return (
    <Row gutter={[12, 12]} data-testid="account-position">
      <Col xs={12} md={5}>
        <Card size="small">
          <Statistic title={t('pay.position.principal')} value={yuan(position.principalFen)} />
        </Card>
      </Col>
      <Col xs={12} md={5}>
        <Card size="small">
          <Statistic title={t('pay.position.lateFee')} value={yuan(position.lateFeeFen)} />
        </Card>
      </Col>
      <Col xs={12} md={5}>
        <Card size="small">
          <Statistic title={t('pay.position.credit')} value={yuan(position.creditFen)} />
        </Card>
      </Col>
      <Col xs={12} md={4}>
        <Card size="small">
          <Statistic title={t('pay.position.deposit')} value={yuan(position.depositFen)} />
        </Card>
      </Col>
      <Col xs={24} md={5}>
        <Card size="small">
          <Statistic
            title={t('pay.position.due')}
            value={yuan(position.dueFen)}
            valueStyle={{ color: position.dueFen > 0 ? '#cf1322' : '#389e0d', fontWeight: 600 }}
          />
          <span data-testid="due-fen" data-fen={position.dueFen} />
        </Card>
      </Col>
    </Row>
  );
}

/** The open bills, oldest first: the order a payment settles them in. */
export function OpenBillsTable({ bills }: { bills: OpenBill[] }) {
  const { t } = useTranslation();
  const columns: ColumnsType<OpenBill> = [
    { title: t('pay.bill.no'), dataIndex: 'billNo', width: 160 },
    { title: t('pay.bill.period'), dataIndex: 'period', width: 90 },
    { title: t('pay.bill.dueOn'), dataIndex: 'dueOn', width: 110 },
    { title: t('pay.bill.unpaid'), dataIndex: 'unpaidFen', align: 'right', render: (v: number) => yuan(v) },
    { title: t('pay.bill.lateFee'), dataIndex: 'lateFeeFen', align: 'right', render: (v: number) => yuan(v) },
    {
      title: t('pay.bill.total'),
      key: 'total',
      align: 'right',
      render: (_, b) => <Typography.Text strong>{yuan(b.unpaidFen + b.lateFeeFen)}</Typography.Text>,
    },
  ];
  return (
    <Table<OpenBill>
      size="small"
      rowKey="billId"
      columns={columns}
      dataSource={bills}
      pagination={false}
      data-testid="open-bills"
      locale={{ emptyText: t('pay.bill.none') }}
    />
  );
}

/** Asks for a reason, then files the request (reversal, refund, deposit refund or application). */
function RequestDialog({
  accountId,
  request,
  onClose,
}: {
  accountId: number;
  request: {
    kind: 'reversal' | 'refund' | 'deposit_refund' | 'deposit_apply';
    paymentId?: number;
    depositId?: number;
    maxFen?: number;
  } | null;
  onClose: (filed: boolean) => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<{ reason: string; amountYuan?: string; channel?: string }>();
  const [busy, setBusy] = useState(false);
  if (!request) return null;
  const submit = async () => {
    const v = await validated(form);
    if (!v) return;
    let amountFen: number | undefined;
    if (request.kind === 'refund' && v.amountYuan) {
      const fen = yuanTextToFen(v.amountYuan);
      if (fen === null) {
        form.setFields([{ name: 'amountYuan', errors: [t('pay.take.amountFormat')] }]);
        return;
      }
      amountFen = fen;
    }
    setBusy(true);
    try {
      await api(`/api/customers/${accountId}/payment-requests`, {
        method: 'POST',
        body: {
          kind: request.kind,
          paymentId: request.paymentId,
          depositId: request.depositId,
          amountFen,
          channel: v.channel,
          reason: v.reason,
        },
        headers: { 'Idempotency-Key': newKey('payment-request') },
      });
      void message.success(t('pay.request.filed'));
      form.resetFields();
      onClose(true);
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open
      title={t(`pay.request.title.${request.kind}`)}
      onCancel={() => onClose(false)}
      onOk={submit}
      okText={t('pay.request.submit')}
      confirmLoading={busy}
      destroyOnHidden
    >
      <Alert type="info" showIcon style={{ marginBottom: 12 }} message={t('pay.request.needsApproval')} />
      <Form form={form} layout="vertical" name="paymentRequest" initialValues={{ channel: 'cash' }}>
        {request.kind === 'refund' && (
          <Form.Item
            name="amountYuan"
            label={t('pay.request.amount')}
            extra={t('pay.request.amountMax', { max: yuan(request.maxFen ?? 0) })}
          >
            <Input prefix="¥" inputMode="decimal" placeholder={yuan(request.maxFen ?? 0)} />
          </Form.Item>
        )}
        {(request.kind === 'refund' || request.kind === 'deposit_refund') && (
          <Form.Item name="channel" label={t('pay.request.channel')}>
            <Select
              options={['cash', 'bank_transfer'].map((c) => ({ value: c, label: t(`pay.channel.${c}`) }))}
            />
          </Form.Item>
        )}
        <Form.Item
          name="reason"
          label={t('pay.request.reason')}
          rules={[{ required: true, whitespace: true, message: t('pay.request.reasonRequired') }]}
        >
          <Input.TextArea rows={3} maxLength={500} data-testid="request-reason" />
        </Form.Item>
      </Form>
    </Modal>
  );
}

/** A customer's payments with their receipts: print, exchange a slip for an invoice, ask for a reversal. */
export function PaymentList({
  accountId,
  payments,
  onChanged,
}: {
  accountId: number;
  payments: Payment[];
  onChanged: () => void;
}) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const [request, setRequest] = useState<{ kind: 'reversal'; paymentId: number } | null>(null);
  const [vatFor, setVatFor] = useState<number | null>(null);
  const exchange = (r: ReceiptRef) =>
    modal.confirm({
      title: t('pay.receipt.exchangeTitle'),
      content: t('pay.receipt.exchangeText', { no: r.receiptNo }),
      okText: t('pay.receipt.exchange'),
      onOk: async () => {
        try {
          const out = await api<{ invoiceId: number; invoiceNo: string }>(
            `/api/customers/${accountId}/receipts/${r.receiptId}/exchange`,
            { method: 'POST', body: { kind: 'invoice' }, headers: { 'Idempotency-Key': newKey('exchange') } },
          );
          void message.success(t('pay.receipt.exchanged', { no: out.invoiceNo }));
          onChanged();
        } catch (e) {
          handle(e);
        }
      },
    });
  const columns: ColumnsType<Payment> = [
    {
      title: t('pay.list.time'),
      dataIndex: 'createdAt',
      width: 150,
      render: (v: string) => formatDateTime(v),
    },
    { title: t('pay.list.no'), dataIndex: 'paymentNo', width: 160 },
    {
      title: t('pay.list.channel'),
      dataIndex: 'channel',
      width: 90,
      render: (c: string, p) => (
        <Space size={2} direction="vertical">
          {t(`pay.channel.${c}`, { defaultValue: c })}
          {p.purpose !== 'bills' && <Tag>{t(`pay.purpose.${p.purpose}`)}</Tag>}
        </Space>
      ),
    },
    {
      title: t('pay.list.amount'),
      dataIndex: 'amountFen',
      align: 'right',
      width: 110,
      render: (v: number, p) => (
        <Typography.Text strong delete={p.status === 'reversed'}>
          {yuan(v)}
        </Typography.Text>
      ),
    },
    {
      title: t('pay.list.settled'),
      key: 'settled',
      render: (_, p) => (
        <Space direction="vertical" size={0}>
          {p.allocations.map((a) => (
            <Typography.Text key={a.billId} type="secondary" style={{ fontSize: 12 }}>
              {a.period} {a.billNo}: {yuan(a.principalFen)}
              {a.lateFeeFen > 0 ? ` + ${t('pay.bill.lateFee')} ${yuan(a.lateFeeFen)}` : ''}
            </Typography.Text>
          ))}
          {p.creditFen > 0 && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('pay.list.toCredit')} {yuan(p.creditFen)}
            </Typography.Text>
          )}
          {p.creditAppliedFen > 0 && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('pay.list.creditApplied')} {yuan(p.creditAppliedFen)}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    {
      title: t('pay.list.status'),
      key: 'status',
      width: 110,
      render: (_, p) =>
        p.status === 'reversed' ? (
          <Tag color="red">{t('pay.status.reversed')}</Tag>
        ) : p.pendingRequest ? (
          <Tag color="orange">{t('pay.status.pendingReversal')}</Tag>
        ) : (
          <Tag color="green">{t('pay.status.posted')}</Tag>
        ),
    },
    {
      title: t('pay.list.receipts'),
      key: 'receipts',
      width: 260,
      render: (_, p) => (
        <Space direction="vertical" size={2}>
          {p.receipts.map((r) => (
            <Space key={r.receiptId} size={4} wrap>
              <Tag color={r.status === 'issued' ? 'blue' : 'default'}>
                {t(`pay.receipt.kind.${r.kind}`)} {r.receiptNo}
                {r.status !== 'issued' ? ` (${t(`pay.receipt.status.${r.status}`)})` : ''}
              </Tag>
              <Button
                size="small"
                type="link"
                data-testid={`print-${r.receiptNo}`}
                onClick={() => openPdf(`/api/customers/${accountId}/receipts/${r.receiptId}/pdf`)}
              >
                {t('pay.receipt.print')}
              </Button>
              {can('payment.take') &&
                r.status === 'issued' &&
                (r.kind === 'slip' || r.kind === 'prepayment_receipt') &&
                p.status === 'posted' && (
                  <Button
                    size="small"
                    type="link"
                    data-testid={`exchange-${r.receiptNo}`}
                    onClick={() => exchange(r)}
                  >
                    {t('pay.receipt.exchange')}
                  </Button>
                )}
            </Space>
          ))}
        </Space>
      ),
    },
    {
      title: '',
      key: 'actions',
      width: 120,
      render: (_, p) =>
        can('payment.take') && p.status === 'posted' ? (
          <Space direction="vertical" size={2}>
            {!p.pendingRequest && (
              <Button
                size="small"
                danger
                onClick={() => setRequest({ kind: 'reversal', paymentId: p.paymentId })}
              >
                {t('pay.list.reverse')}
              </Button>
            )}
            {!p.receipts.some(
              (r) => r.kind !== 'slip' && r.kind !== 'prepayment_receipt' && r.status === 'issued',
            ) && (
              <Button size="small" onClick={() => setVatFor(p.paymentId)}>
                {t('pay.vat.ask')}
              </Button>
            )}
          </Space>
        ) : null,
    },
  ];
  return (
    <>
      <Table<Payment>
        size="small"
        rowKey="paymentId"
        columns={columns}
        dataSource={payments}
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        data-testid="payment-list"
        scroll={{ x: 1000 }}
      />
      <RequestDialog
        accountId={accountId}
        request={request}
        onClose={(filed) => {
          setRequest(null);
          if (filed) onChanged();
        }}
      />
      <VatInvoiceDialog
        accountId={accountId}
        paymentId={vatFor}
        onClose={(filed) => {
          setVatFor(null);
          if (filed) onChanged();
        }}
      />
    </>
  );
}

/** Credit refunds and deposits: what is held and the requests to give it back or use it. */
export function CreditAndDeposits({
  position,
  onChanged,
}: {
  position: AccountPosition;
  onChanged: () => void;
}) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const [request, setRequest] = useState<{
    kind: 'refund' | 'deposit_refund' | 'deposit_apply';
    depositId?: number;
    maxFen?: number;
  } | null>(null);
  if (position.creditFen <= 0 && position.deposits.length === 0) return null;
  return (
    <Card size="small" title={t('pay.credit.title')}>
      <Space direction="vertical" style={{ width: '100%' }}>
        {position.creditFen > 0 && (
          <Space>
            {t('pay.position.credit')}: <Typography.Text strong>{yuan(position.creditFen)}</Typography.Text>
            {can('payment.take') && (
              <Button size="small" onClick={() => setRequest({ kind: 'refund', maxFen: position.creditFen })}>
                {t('pay.credit.refund')}
              </Button>
            )}
          </Space>
        )}
        {position.deposits.map((d) => (
          <Space key={d.depositId} wrap>
            <Tag>{t(`pay.deposit.kind.${d.kind}`)}</Tag>
            {yuan(d.amountFen)}
            <Tag color={d.status === 'held' ? 'blue' : 'default'}>{t(`pay.deposit.status.${d.status}`)}</Tag>
            {formatDateTime(d.createdAt).slice(0, 10)}
            {can('payment.take') && d.status === 'held' && (
              <>
                <Button
                  size="small"
                  onClick={() => setRequest({ kind: 'deposit_refund', depositId: d.depositId })}
                >
                  {t('pay.deposit.refund')}
                </Button>
                <Button
                  size="small"
                  onClick={() => setRequest({ kind: 'deposit_apply', depositId: d.depositId })}
                >
                  {t('pay.deposit.apply')}
                </Button>
              </>
            )}
          </Space>
        ))}
      </Space>
      <RequestDialog
        accountId={position.accountId}
        request={request}
        onClose={(filed) => {
          setRequest(null);
          if (filed) onChanged();
        }}
      />
    </Card>
  );
}

/**
 * The customer page's payments tab (缴费记录): what is owed now, the open bills, credit and
 * deposits, and every payment with its receipts.
 */
export function PaymentsTab({ accountId }: { accountId: number }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const position = useApi<AccountPosition>(`/api/customers/${accountId}/account`);
  const payments = useApi<{ items: Payment[] }>(`/api/customers/${accountId}/payments`);
  const reload = () => {
    position.reload();
    payments.reload();
  };
  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }} data-testid="payments-tab">
      {(position.error ?? payments.error) && (
        <Alert type="error" showIcon message={(position.error ?? payments.error)?.message} />
      )}
      {position.data && <PositionCards position={position.data} />}
      {position.data && <OpenBillsTable bills={position.data.openBills} />}
      {position.data && <CreditAndDeposits position={position.data} onChanged={reload} />}
      {position.data && <MandateCard accountId={accountId} holderName={position.data.name} />}
      {position.data && can('payment.take') && <OnlinePayButton accountId={accountId} onPaid={reload} />}
      <Card size="small" title={t('pay.list.title')}>
        <PaymentList accountId={accountId} payments={payments.data?.items ?? []} onChanged={reload} />
      </Card>
    </Space>
  );
}
