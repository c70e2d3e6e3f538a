import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Form,
  Input,
  Row,
  Space,
  Statistic,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api } from '../api';
import { yuan } from '../billing/money';
import { yuanTextToFen } from '../billing/PrepaidTab';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { newKey } from './types';

export interface CloseView {
  closeId: number;
  officeName: string;
  staffName: string;
  businessDay: string;
  byChannelFen: Record<string, number>;
  payments: number;
  systemCashFen: number;
  countedCashFen: number;
  differenceFen: number;
  differenceReason: string;
  bankVoucherNo: string;
  handedOverFen: number;
  closedAt: string;
}

interface Preview {
  byChannelFen: Record<string, number>;
  payments: number;
  systemTotalFen: number;
  systemCashFen: number;
  businessDay: string;
  staffName: string;
  firstAt: string | null;
  lastAt: string | null;
  list: {
    paymentId: number;
    paymentNo: string;
    channel: string;
    amountFen: number;
    status: string;
    createdAt: string;
    customerCode: string;
  }[];
}

interface CloseForm {
  countedYuan: string;
  handedOverYuan?: string;
  bankVoucherNo?: string;
  differenceReason?: string;
  note?: string;
}

/** A close's channels as tags: 现金 ¥120.00 · 银行卡 ¥45.00. */
export function ChannelAmounts({ byChannelFen }: { byChannelFen: Record<string, number> }) {
  const { t } = useTranslation();
  return (
    <Space size={4} wrap>
      {Object.entries(byChannelFen).map(([c, fen]) => (
        <Tag key={c}>
          {t(`pay.channel.${c}`, { defaultValue: c })} {yuan(fen)}
        </Tag>
      ))}
    </Space>
  );
}

/**
 * The cashier's close (日结): the clerk's payments since the last close by channel, the cash counted
 * against the system's cash (the difference shown live, and recorded with its reason), the
 * handover to the bank with its voucher number, and the closes before.
 */
export default function CashierClosePage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<CloseForm>();
  const preview = useApi<Preview>('/api/cashier/close');
  const closes = useApi<{ items: CloseView[] }>('/api/cashier/closes');
  const [busy, setBusy] = useState(false);
  const counted = Form.useWatch('countedYuan', form);
  const countedFen = counted ? yuanTextToFen(counted) : null;
  const p = preview.data;
  const differenceFen = p && countedFen !== null ? countedFen - p.systemCashFen : null;
  const key = useRef<string | null>(null);

  const submit = async () => {
    const v = await validated(form);
    if (!v || !p) return;
    const counted = yuanTextToFen(v.countedYuan);
    const handed = v.handedOverYuan ? yuanTextToFen(v.handedOverYuan) : 0;
    if (counted === null || counted < 0) {
      form.setFields([{ name: 'countedYuan', errors: [t('pay.take.amountFormat')] }]);
      return;
    }
    if (handed === null || handed < 0) {
      form.setFields([{ name: 'handedOverYuan', errors: [t('pay.take.amountFormat')] }]);
      return;
    }
    key.current ??= newKey('close');
    setBusy(true);
    try {
      const out = await api<CloseView>('/api/cashier/close', {
        method: 'POST',
        body: {
          countedCashFen: counted,
          handedOverFen: handed,
          bankVoucherNo: v.bankVoucherNo?.trim() ?? '',
          differenceReason: v.differenceReason?.trim() || undefined,
          note: v.note?.trim() || undefined,
        },
        headers: { 'Idempotency-Key': key.current },
      });
      key.current = null;
      void message.success(t('pay.close.done', { payments: out.payments, diff: yuan(out.differenceFen) }));
      form.resetFields();
      preview.reload();
      closes.reload();
    } catch (e) {
      key.current = null;
      // The server's amounts in fen are the form's amounts in yuan.
      const map: Record<string, string> = { countedCashFen: 'countedYuan', handedOverFen: 'handedOverYuan' };
      if (e instanceof ApiError && e.fields.length) {
        form.setFields(
          e.fields.map((f) => ({ name: (map[f.path] ?? f.path) as keyof CloseForm, errors: [f.message] })),
        );
        void message.error(e.message);
      } else handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const closeColumns: ColumnsType<CloseView> = [
    { title: t('pay.close.day'), dataIndex: 'businessDay', width: 110 },
    { title: t('pay.close.clerk'), dataIndex: 'staffName', width: 90 },
    { title: t('pay.close.payments'), dataIndex: 'payments', width: 80, align: 'right' },
    {
      title: t('pay.close.byChannel'),
      key: 'ch',
      render: (_, c) => <ChannelAmounts byChannelFen={c.byChannelFen} />,
    },
    {
      title: t('pay.close.systemCash'),
      dataIndex: 'systemCashFen',
      align: 'right',
      render: (v: number) => yuan(v),
    },
    {
      title: t('pay.close.counted'),
      dataIndex: 'countedCashFen',
      align: 'right',
      render: (v: number) => yuan(v),
    },
    {
      title: t('pay.close.difference'),
      dataIndex: 'differenceFen',
      align: 'right',
      render: (v: number, c) => (
        <Space direction="vertical" size={0}>
          <Typography.Text type={v === 0 ? 'success' : 'danger'}>{yuan(v)}</Typography.Text>
          {c.differenceReason && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {c.differenceReason}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    {
      title: t('pay.close.voucher'),
      dataIndex: 'bankVoucherNo',
      render: (v: string, c) => (v ? `${v} · ${yuan(c.handedOverFen)}` : '—'),
    },
    { title: t('pay.close.at'), dataIndex: 'closedAt', width: 150, render: (v: string) => formatDateTime(v) },
  ];

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('pay.close.title')}
      </Typography.Title>
      {preview.error && <Alert type="error" showIcon message={preview.error.message} />}
      {p && (
        <Card size="small" title={t('pay.close.since', { name: p.staffName })} data-testid="close-preview">
          <Row gutter={[12, 12]}>
            <Col xs={12} md={6}>
              <Statistic title={t('pay.close.payments')} value={p.payments} />
            </Col>
            <Col xs={12} md={6}>
              <Statistic title={t('pay.close.systemTotal')} value={yuan(p.systemTotalFen)} />
            </Col>
            <Col xs={12} md={6}>
              <Statistic title={t('pay.close.systemCash')} value={yuan(p.systemCashFen)} />
              <span data-testid="system-cash" data-fen={p.systemCashFen} />
            </Col>
            <Col xs={12} md={6}>
              <Statistic
                title={t('pay.close.difference')}
                value={differenceFen === null ? '—' : yuan(differenceFen)}
                valueStyle={{ color: differenceFen === null || differenceFen === 0 ? undefined : '#cf1322' }}
              />
            </Col>
          </Row>
          <div style={{ margin: '8px 0' }}>
            <ChannelAmounts byChannelFen={p.byChannelFen} />
          </div>
          <Form<CloseForm>
            form={form}
            layout="inline"
            name="cashierClose"
            onFinish={submit}
            data-testid="close-form"
          >
            <Form.Item
              name="countedYuan"
              label={t('pay.close.counted')}
              rules={[{ required: true, whitespace: true, message: t('pay.close.countedRequired') }]}
            >
              <Input prefix="¥" inputMode="decimal" style={{ width: 150 }} data-testid="close-counted" />
            </Form.Item>
            <Form.Item name="handedOverYuan" label={t('pay.close.handedOver')}>
              <Input prefix="¥" inputMode="decimal" style={{ width: 150 }} data-testid="close-handed" />
            </Form.Item>
            <Form.Item name="bankVoucherNo" label={t('pay.close.voucher')}>
              <Input style={{ width: 160 }} maxLength={60} data-testid="close-voucher" />
            </Form.Item>
            {differenceFen !== null && differenceFen !== 0 && (
              <Form.Item
                name="differenceReason"
                label={t('pay.close.reason')}
                rules={[{ required: true, whitespace: true, message: t('pay.close.reasonRequired') }]}
              >
                <Input style={{ width: 240 }} maxLength={500} data-testid="close-reason" />
              </Form.Item>
            )}
            <Form.Item>
              <Button
                type="primary"
                htmlType="submit"
                loading={busy}
                disabled={p.list.length === 0}
                data-testid="close-submit"
              >
                {t('pay.close.submit')}
              </Button>
            </Form.Item>
          </Form>
          <Table
            size="small"
            style={{ marginTop: 12 }}
            rowKey="paymentId"
            pagination={{ pageSize: 10, hideOnSinglePage: true }}
            dataSource={p.list}
            columns={[
              { title: t('pay.list.time'), dataIndex: 'createdAt', render: (v: string) => formatDateTime(v) },
              { title: t('pay.list.no'), dataIndex: 'paymentNo' },
              { title: t('pay.requests.customer'), dataIndex: 'customerCode' },
              {
                title: t('pay.list.channel'),
                dataIndex: 'channel',
                render: (c: string) => t(`pay.channel.${c}`, { defaultValue: c }),
              },
              {
                title: t('pay.list.amount'),
                dataIndex: 'amountFen',
                align: 'right',
                render: (v: number, r) => (
                  <Typography.Text delete={r.status === 'reversed'}>{yuan(v)}</Typography.Text>
                ),
              },
            ]}
          />
        </Card>
      )}
      <Card size="small" title={t('pay.close.history')}>
        <Table<CloseView>
          size="small"
          rowKey="closeId"
          loading={closes.loading}
          columns={closeColumns}
          dataSource={closes.data?.items ?? []}
          data-testid="close-history"
        />
      </Card>
    </Space>
  );
}
