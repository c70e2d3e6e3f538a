import { formatFenAsYuan, PREPAID_LOAD_CHANNELS, yuanToFen } from '@meterline/domain';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Empty,
  Form,
  Input,
  Row,
  Select,
  Space,
  Statistic,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { Chart, type ChartOption } from '../components/Chart';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { newKey } from '../payments/types';
import { volume } from '../reading/common';
import { yuan } from './money';

export interface PrepaidLine {
  entryId: number;
  kind: 'load' | 'deduction' | 'reversal';
  amountFen: number;
  balanceAfterFen: number;
  postedAt: string;
  channel: string;
  cardNo: string;
  note: string;
  createdBy: string | null;
  reversesEntryId: number | null;
  bill: {
    billId: number;
    billNo: string;
    period: string;
    payableM3: string;
    amountFen: number;
    status: 'open' | 'cancelled';
  } | null;
}

export interface PrepaidStatement {
  accountId: number;
  prepaid: boolean;
  cards: { meterNo: string; cardNo: string }[];
  balanceFen: number;
  arrearsFen: number;
  thresholdFen: number;
  low: boolean;
  maxLoadFen: number;
  openingFen: number;
  lines: PrepaidLine[];
  total: number;
}

interface LoadForm {
  amountYuan: string;
  channel: string;
  note?: string;
}

/** Yuan typed by a person → whole fen, exactly (no float): '100' → 10000, '0.1' → 10; null if not. */
export function yuanTextToFen(text: string): number | null {
  const fen = yuanToFen(text);
  if (fen === null || !/^-?\d+$/.test(fen)) return null;
  return Number(fen);
}

/** The balance after each entry as a step line, oldest first. */
function BalanceChart({ lines }: { lines: PrepaidLine[] }) {
  const { t } = useTranslation();
  const option = useMemo<ChartOption | null>(() => {
    if (lines.length === 0) return null;
    return {
      tooltip: {
        trigger: 'axis',
        formatter: (items: { dataIndex: number }[]) => {
          const l = lines[items[0]?.dataIndex ?? 0];
          if (!l) return '';
          return `${formatDateTime(l.postedAt)}<br/>${t(`prepaid.kind.${l.kind}`)}: ${yuan(l.amountFen)}<br/>${t(
            'prepaid.balance',
          )}: ${yuan(l.balanceAfterFen)}`;
        },
      },
      grid: { left: 8, right: 16, bottom: 8, top: 24, containLabel: true },
      xAxis: { type: 'category', data: lines.map((l) => formatDateTime(l.postedAt).slice(0, 10)) },
      yAxis: { type: 'value', name: t('bills.yuanUnit') },
      series: [
        {
          name: t('prepaid.balance'),
          type: 'line',
          step: 'end',
          // A balance below zero (arrears) is drawn red.
          data: lines.map((l) => ({
            value: l.balanceAfterFen / 100,
            itemStyle: { color: l.balanceAfterFen < 0 ? '#cf1322' : '#1677ff' },
          })),
        },
      ],
    };
  }, [lines, t]);
  if (!option) return null;
  return <Chart option={option} height={220} label={t('prepaid.chartTitle')} testId="prepaid-chart" />;
}

/** The load form (充值): amount in yuan converted to fen exactly, with the server's field errors. */
function LoadMoney({ statement, onLoaded }: { statement: PrepaidStatement; onLoaded: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<LoadForm>();
  const [busy, setBusy] = useState(false);
  // One key per load: a retry of the same submission reuses it; a new load takes a new one.
  const key = useRef<{ key: string; body: string } | null>(null);

  const submit = async () => {
    const values = await validated(form);
    if (!values) return;
    const amountFen = yuanTextToFen(values.amountYuan);
    if (amountFen === null) {
      form.setFields([{ name: 'amountYuan', errors: [t('prepaid.load.amountFormat')] }]);
      return;
    }
    const body = { amountFen, channel: values.channel, note: values.note?.trim() || undefined };
    const text = JSON.stringify(body);
    if (key.current?.body !== text) key.current = { key: newKey('prepaid-load'), body: text };
    setBusy(true);
    try {
      const result = await api<{ amountFen: number; balanceFen: number }>(
        `/api/customers/${statement.accountId}/prepaid/loads`,
        { method: 'POST', body, headers: { 'Idempotency-Key': key.current.key } },
      );
      key.current = null;
      void message.success(
        t('prepaid.load.done', { amount: yuan(result.amountFen), balance: yuan(result.balanceFen) }),
      );
      form.resetFields();
      onLoaded();
    } catch (e) {
      // The amount's problems belong on the amount field, whatever the server calls it.
      if (e instanceof ApiError && e.fields.some((f) => f.path === 'amountFen')) {
        form.setFields([
          {
            name: 'amountYuan',
            errors: e.fields.filter((f) => f.path === 'amountFen').map((f) => f.message),
          },
        ]);
        void message.error(e.message);
      } else handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Card size="small" title={t('prepaid.load.title')}>
      <Form<LoadForm>
        form={form}
        name="prepaidLoad"
        layout="inline"
        initialValues={{ channel: 'cash' }}
        onFinish={submit}
        data-testid="prepaid-load-form"
      >
        <Form.Item
          name="amountYuan"
          label={t('prepaid.load.amount')}
          rules={[{ required: true, whitespace: true, message: t('prepaid.load.amountFormat') }]}
          extra={t('prepaid.load.max', { max: yuan(statement.maxLoadFen) })}
        >
          <Input style={{ width: 160 }} inputMode="decimal" prefix="¥" data-testid="prepaid-amount" />
        </Form.Item>
        <Form.Item name="channel" label={t('prepaid.load.channel')} rules={[{ required: true }]}>
          <Select
            style={{ width: 140 }}
            data-testid="prepaid-channel"
            options={PREPAID_LOAD_CHANNELS.map((c) => ({ value: c, label: t(`prepaid.channel.${c}`) }))}
          />
        </Form.Item>
        <Form.Item name="note" label={t('prepaid.load.note')} rules={[{ max: 200 }]}>
          <Input style={{ width: 200 }} maxLength={200} />
        </Form.Item>
        <Form.Item>
          <Button type="primary" htmlType="submit" loading={busy} data-testid="prepaid-load">
            {t('prepaid.load.submit')}
          </Button>
        </Form.Item>
      </Form>
    </Card>
  );
}

/**
 * A customer's prepaid IC-card account (预付费): the balance (arrears when below zero) against the
 * low-balance threshold, the load form for counter staff, the balance over time and the statement —
 * every load, deduction (with its bill) and reversal with the running balance.
 */
export function PrepaidTab({ accountId }: { accountId: number }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const statement = useApi<PrepaidStatement>(`/api/customers/${accountId}/prepaid`);
  const data = statement.data;
  const lines = data?.lines ?? [];

  const columns: ColumnsType<PrepaidLine> = [
    {
      title: t('prepaid.col.postedAt'),
      dataIndex: 'postedAt',
      width: 160,
      render: (v: string) => formatDateTime(v),
    },
    {
      title: t('prepaid.col.kind'),
      dataIndex: 'kind',
      width: 80,
      render: (k: PrepaidLine['kind']) => (
        <Tag color={k === 'load' ? 'green' : k === 'deduction' ? 'orange' : 'purple'}>
          {t(`prepaid.kind.${k}`)}
        </Tag>
      ),
    },
    {
      title: t('prepaid.col.bill'),
      key: 'bill',
      width: 150,
      render: (_, l) =>
        l.bill ? (
          l.bill.status === 'cancelled' ? (
            <Typography.Text delete>{l.bill.billNo}</Typography.Text>
          ) : (
            l.bill.billNo
          )
        ) : (
          '—'
        ),
    },
    { title: t('prepaid.col.period'), key: 'period', width: 80, render: (_, l) => l.bill?.period ?? '—' },
    {
      title: t('prepaid.col.volume'),
      key: 'volume',
      align: 'right',
      width: 100,
      render: (_, l) => (l.bill ? volume(l.bill.payableM3) : '—'),
    },
    {
      title: t('prepaid.col.amount'),
      dataIndex: 'amountFen',
      align: 'right',
      width: 110,
      render: (v: number) => (
        <Typography.Text type={v < 0 ? 'danger' : 'success'}>
          {v > 0 ? '+' : ''}
          {formatFenAsYuan(v)}
        </Typography.Text>
      ),
    },
    {
      title: t('prepaid.col.balanceAfter'),
      dataIndex: 'balanceAfterFen',
      align: 'right',
      width: 120,
      render: (v: number) => (
        <Typography.Text strong type={v < 0 ? 'danger' : undefined}>
          {formatFenAsYuan(v)}
        </Typography.Text>
      ),
    },
    {
      title: t('prepaid.col.channel'),
      dataIndex: 'channel',
      width: 100,
      render: (c: string) => (c ? t(`prepaid.channel.${c}`, { defaultValue: c }) : '—'),
    },
    { title: t('prepaid.col.card'), dataIndex: 'cardNo', width: 120, render: (v: string) => v || '—' },
    { title: t('prepaid.col.by'), dataIndex: 'createdBy', width: 90, render: (v: string | null) => v ?? '—' },
  ];

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }} data-testid="prepaid-tab">
      {statement.error && <Alert type="error" showIcon message={statement.error.message} />}
      {data && (
        <Row gutter={[16, 16]}>
          <Col xs={24} md={8}>
            <Card size="small" data-testid="prepaid-balance">
              <Statistic
                title={t('prepaid.balance')}
                value={formatFenAsYuan(data.balanceFen)}
                prefix="¥"
                valueStyle={{ color: data.balanceFen < 0 ? '#cf1322' : undefined }}
              />
              {data.arrearsFen > 0 ? (
                <Tag color="red">
                  {t('prepaid.arrears')} {yuan(data.arrearsFen)}
                </Tag>
              ) : (
                <Tag color={data.low ? 'orange' : 'green'}>
                  {data.low ? t('prepaid.low') : t('prepaid.ok')}
                </Tag>
              )}
            </Card>
          </Col>
          <Col xs={24} md={8}>
            <Card size="small">
              <Statistic
                title={t('prepaid.threshold')}
                value={formatFenAsYuan(data.thresholdFen)}
                prefix="¥"
              />
            </Card>
          </Col>
          <Col xs={24} md={8}>
            <Card size="small">
              <Typography.Text type="secondary">{t('prepaid.cards')}</Typography.Text>
              <div>
                {data.cards.length
                  ? data.cards.map((c) => (
                      <Tag key={c.meterNo}>
                        {c.cardNo || '—'} · {c.meterNo}
                      </Tag>
                    ))
                  : '—'}
              </div>
            </Card>
          </Col>
        </Row>
      )}
      {data && !data.prepaid && <Alert type="info" showIcon message={t('prepaid.notPrepaid')} />}
      {data?.prepaid && can('billing.adjust') && <LoadMoney statement={data} onLoaded={statement.reload} />}
      {lines.length > 0 && (
        <Card size="small" title={t('prepaid.chartTitle')}>
          <BalanceChart lines={lines} />
        </Card>
      )}
      <Card size="small" title={t('prepaid.statement')} styles={{ body: { padding: 0 } }}>
        <Table<PrepaidLine>
          rowKey="entryId"
          size="small"
          loading={statement.loading}
          dataSource={[...lines].reverse()}
          columns={columns}
          scroll={{ x: 'max-content' }}
          pagination={{ pageSize: 20, hideOnSinglePage: true, showSizeChanger: false }}
          locale={{ emptyText: <Empty description={t('prepaid.empty')} /> }}
          data-testid="prepaid-statement"
        />
      </Card>
      {data && data.total > lines.length && (
        <Typography.Text type="secondary">
          {t('prepaid.olderInOpening', { count: data.total - lines.length, opening: yuan(data.openingFen) })}
        </Typography.Text>
      )}
    </Space>
  );
}
