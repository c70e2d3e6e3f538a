import {
  Alert,
  App,
  Button,
  Card,
  Descriptions,
  Empty,
  Form,
  Input,
  List,
  Radio,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router-dom';
import { ApiError, api } from '../api';
import { yuan } from '../billing/money';
import { yuanTextToFen } from '../billing/PrepaidTab';
import { openPdf } from '../billing/pdf';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import type { SearchResult } from '../customers/types';
import { OnlinePayButton } from './OnlinePayButton';
import { CreditAndDeposits, OpenBillsTable, PaymentList, PositionCards } from './PaymentsTab';
import { type AccountPosition, COUNTER_CHANNELS, newKey, type Payment } from './types';

interface TakeForm {
  amountYuan: string;
  channel: string;
  purpose: 'bills' | 'prepayment' | 'deposit';
  depositKind?: string;
  note?: string;
}

/** Finds the customer by code, name, phone, meter number or address. */
function FindCustomer() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const [q, setQ] = useState('');
  const result = useApi<SearchResult>(q ? '/api/customers' : null, { q, pageSize: 10 });
  const hits = result.data?.items ?? [];
  useEffect(() => {
    // An exact hit (a customer code or meter number scanned from the notice) opens at once.
    if (hits.length === 1 && hits[0]?.exact) navigate(`/payments/counter/${hits[0].accountId}`);
  }, [hits, navigate]);
  return (
    <Card size="small" title={t('pay.counter.find')}>
      <Input.Search
        autoFocus
        allowClear
        enterButton
        placeholder={t('pay.counter.findPlaceholder')}
        onSearch={(v) => setQ(v.trim())}
        data-testid="counter-search"
        loading={result.loading}
      />
      {q && (
        <List
          size="small"
          style={{ marginTop: 8 }}
          dataSource={hits}
          locale={{ emptyText: t('pay.counter.noHits') }}
          renderItem={(h) => (
            <List.Item
              actions={[
                <Link
                  key="pay"
                  to={`/payments/counter/${h.accountId}`}
                  data-testid={`counter-pick-${h.customerCode}`}
                >
                  {t('pay.counter.pick')}
                </Link>,
              ]}
            >
              <List.Item.Meta
                title={`${h.customerCode}  ${h.name}`}
                description={`${h.officeName} · ${h.address}`}
              />
            </List.Item>
          )}
        />
      )}
    </Card>
  );
}

/** The payment form: amount (defaults to what is due), channel, purpose; confirmation above the limit. */
function TakePayment({ position, onTaken }: { position: AccountPosition; onTaken: (p: Payment) => void }) {
  const { t } = useTranslation();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<TakeForm>();
  const [busy, setBusy] = useState(false);
  const purpose = Form.useWatch('purpose', form);
  // One key per payment: a retry of the same submission (a lost answer) reuses it.
  const key = useRef<{ key: string; body: string } | null>(null);

  useEffect(() => {
    form.setFieldsValue({ amountYuan: (position.dueFen / 100).toFixed(2) });
  }, [position.dueFen, form]);

  const send = async (body: Record<string, unknown>): Promise<void> => {
    const text = JSON.stringify(body);
    if (key.current?.body !== text) key.current = { key: newKey('payment'), body: text };
    setBusy(true);
    try {
      const payment = await api<Payment>(`/api/customers/${position.accountId}/payments`, {
        method: 'POST',
        body,
        headers: { 'Idempotency-Key': key.current.key },
      });
      key.current = null;
      void message.success(t('pay.take.done', { amount: yuan(payment.amountFen), no: payment.paymentNo }));
      onTaken(payment);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'PAYMENT_NEEDS_CONFIRMATION') {
        modal.confirm({
          title: t('pay.take.confirmTitle'),
          content: e.message,
          okText: t('pay.take.confirm'),
          onOk: () => send({ ...body, confirmed: true }),
        });
      } else if (e instanceof ApiError && e.fields.some((f) => f.path === 'amountFen')) {
        form.setFields([
          {
            name: 'amountYuan',
            errors: e.fields.filter((f) => f.path === 'amountFen').map((f) => f.message),
          },
        ]);
      } else handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const submit = async () => {
    const v = await validated(form);
    if (!v) return;
    const amountFen = yuanTextToFen(v.amountYuan);
    if (amountFen === null || amountFen <= 0) {
      form.setFields([{ name: 'amountYuan', errors: [t('pay.take.amountFormat')] }]);
      return;
    }
    await send({
      amountFen,
      channel: v.channel,
      purpose: v.purpose,
      depositKind: v.purpose === 'deposit' ? v.depositKind : undefined,
      note: v.note?.trim() || undefined,
    });
  };

  return (
    <Card size="small" title={t('pay.take.title')}>
      <Form<TakeForm>
        form={form}
        name="takePayment"
        layout="vertical"
        initialValues={{ channel: 'cash', purpose: 'bills', depositKind: 'household' }}
        onFinish={submit}
        data-testid="take-payment-form"
      >
        <Space wrap align="start" size="large">
          <Form.Item
            name="amountYuan"
            label={t('pay.take.amount')}
            rules={[{ required: true, whitespace: true, message: t('pay.take.amountFormat') }]}
          >
            <Input
              prefix="¥"
              inputMode="decimal"
              style={{ width: 180, fontSize: 18 }}
              data-testid="pay-amount"
            />
          </Form.Item>
          <Form.Item name="channel" label={t('pay.take.channel')}>
            <Radio.Group
              optionType="button"
              buttonStyle="solid"
              options={COUNTER_CHANNELS.map((c) => ({ value: c, label: t(`pay.channel.${c}`) }))}
              data-testid="pay-channel"
            />
          </Form.Item>
          <Form.Item name="purpose" label={t('pay.take.purpose')}>
            <Select
              style={{ width: 150 }}
              options={(['bills', 'prepayment', 'deposit'] as const).map((p) => ({
                value: p,
                label: t(`pay.purpose.${p}`),
              }))}
            />
          </Form.Item>
          {purpose === 'deposit' && (
            <Form.Item name="depositKind" label={t('pay.take.depositKind')}>
              <Select
                style={{ width: 170 }}
                options={['household', 'large_user', 'developer'].map((k) => ({
                  value: k,
                  label: t(`pay.deposit.kind.${k}`),
                }))}
              />
            </Form.Item>
          )}
          <Form.Item name="note" label={t('pay.take.note')}>
            <Input maxLength={200} style={{ width: 200 }} />
          </Form.Item>
        </Space>
        <Button type="primary" size="large" htmlType="submit" loading={busy} data-testid="pay-submit">
          {t('pay.take.submit')}
        </Button>
      </Form>
    </Card>
  );
}

/** The payment just taken: what it settled and its slip to print. */
function Taken({ payment }: { payment: Payment }) {
  const { t } = useTranslation();
  const slip = payment.receipts.find((r) => r.status === 'issued');
  return (
    <Alert
      type="success"
      showIcon
      data-testid="payment-taken"
      message={t('pay.take.done', { amount: yuan(payment.amountFen), no: payment.paymentNo })}
      description={
        <Space direction="vertical" style={{ width: '100%' }}>
          <Table
            size="small"
            rowKey="billId"
            pagination={false}
            dataSource={payment.allocations}
            columns={[
              { title: t('pay.bill.no'), dataIndex: 'billNo' },
              { title: t('pay.bill.period'), dataIndex: 'period' },
              {
                title: t('pay.bill.principal'),
                dataIndex: 'principalFen',
                align: 'right',
                render: (v: number) => yuan(v),
              },
              {
                title: t('pay.bill.lateFee'),
                dataIndex: 'lateFeeFen',
                align: 'right',
                render: (v: number) => yuan(v),
              },
            ]}
          />
          <Descriptions size="small" column={3}>
            <Descriptions.Item label={t('pay.list.toCredit')}>{yuan(payment.creditFen)}</Descriptions.Item>
            <Descriptions.Item label={t('pay.list.creditApplied')}>
              {yuan(payment.creditAppliedFen)}
            </Descriptions.Item>
            <Descriptions.Item label={t('pay.list.receipts')}>
              {payment.receipts.map((r) => (
                <Tag key={r.receiptId}>{r.receiptNo}</Tag>
              ))}
            </Descriptions.Item>
          </Descriptions>
          {slip && (
            <Button
              type="primary"
              data-testid="print-slip"
              onClick={() => openPdf(`/api/customers/${payment.accountId}/receipts/${slip.receiptId}/pdf`)}
            >
              {t('pay.receipt.printSlip')}
            </Button>
          )}
        </Space>
      }
    />
  );
}

/**
 * The counter (收费台): find the customer, see what is owed bill by bill, take the payment (oldest
 * bills first, late fees as configured, overpayment to credit), print the slip, exchange it for an
 * invoice, and ask for a reversal or refund — the day closes on the cashier-close page.
 */
export default function CounterPage() {
  const { t } = useTranslation();
  const { accountId: param } = useParams();
  const accountId = param ? Number(param) : null;
  const position = useApi<AccountPosition>(accountId ? `/api/customers/${accountId}/account` : null);
  const payments = useApi<{ items: Payment[] }>(accountId ? `/api/customers/${accountId}/payments` : null);
  const [taken, setTaken] = useState<Payment | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new customer clears the last payment shown.
  useEffect(() => setTaken(null), [accountId]);
  const reload = () => {
    position.reload();
    payments.reload();
  };
  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('pay.counter.title')}
      </Typography.Title>
      <FindCustomer />
      {accountId === null && <Empty description={t('pay.counter.pickFirst')} />}
      {position.error && <Alert type="error" showIcon message={position.error.message} />}
      {position.data && (
        <>
          <Card
            size="small"
            title={
              <Space>
                <Link to={`/customers/${position.data.accountId}`}>{position.data.customerCode}</Link>
                <span data-testid="counter-customer">{position.data.name}</span>
              </Space>
            }
          >
            <Space direction="vertical" size="middle" style={{ width: '100%' }}>
              <PositionCards position={position.data} />
              <OpenBillsTable bills={position.data.openBills} />
            </Space>
          </Card>
          <TakePayment
            position={position.data}
            onTaken={(p) => {
              setTaken(p);
              reload();
            }}
          />
          {taken && <Taken payment={taken} />}
          {/* Always shown: an order in progress must stay on screen once it has paid what was due. */}
          <Card size="small" title={t('pay.counter.online')}>
            <OnlinePayButton accountId={position.data.accountId} onPaid={reload} />
          </Card>
          <CreditAndDeposits position={position.data} onChanged={reload} />
          <Card size="small" title={t('pay.list.title')}>
            <PaymentList
              accountId={position.data.accountId}
              payments={payments.data?.items ?? []}
              onChanged={reload}
            />
          </Card>
        </>
      )}
      {taken === null && accountId !== null && position.loading && <Card loading />}
    </Space>
  );
}
