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
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { yuan } from '../billing/money';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { newKey } from '../payments/types';

/** A shut-off or restore work order as the API returns it (collections/shutoff.ts WorkOrderView). */
export interface WorkOrder {
  accountId: number;
  orderId: number;
  kind: 'shutoff' | 'restore';
  orderNo: string;
  officeId: number;
  customerCode: string;
  customerName: string;
  customerState: string;
  utility: string;
  address: string;
  meterNo: string;
  arrearsFen: number;
  status: 'dispatched' | 'done' | 'mismatch' | 'obstructed' | 'cancelled';
  action: string | null;
  cause: string | null;
  meterRemoved: boolean;
  dispatchedAt: string;
  dueAt: string | null;
  completedAt: string | null;
  completedBy: string | null;
  resultNote: string;
  late: boolean;
  hoursTaken: number | null;
  hoursAllowed: number | null;
}

const STATUS_COLOR: Record<WorkOrder['status'], string> = {
  dispatched: 'processing',
  done: 'green',
  mismatch: 'orange',
  obstructed: 'red',
  cancelled: 'default',
};

/** Time left until a deadline, ticking each minute: "5 h 12 min", or how late it is. */
function Countdown({ dueAt, doneAt }: { dueAt: string; doneAt: string | null }) {
  const { t } = useTranslation();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (doneAt) return;
    const timer = setInterval(() => setNow(Date.now()), 60_000);
    return () => clearInterval(timer);
  }, [doneAt]);
  const end = doneAt ? Date.parse(doneAt) : now;
  const leftMs = Date.parse(dueAt) - end;
  const abs = Math.abs(leftMs);
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const span = t('escalation.orders.span', { h, m });
  if (doneAt)
    return leftMs >= 0 ? (
      <Tag color="green">{t('escalation.orders.onTime')}</Tag>
    ) : (
      <Tag color="red">{t('escalation.orders.lateBy', { span })}</Tag>
    );
  return leftMs >= 0 ? (
    <Typography.Text data-testid="countdown">{t('escalation.orders.left', { span })}</Typography.Text>
  ) : (
    <Typography.Text type="danger" strong data-testid="countdown">
      {t('escalation.orders.overdueBy', { span })}
    </Typography.Text>
  );
}

/**
 * The work orders of shut-off and restore: deadline with a countdown, late restores highlighted,
 * the field result recorded (meter number confirmed; mismatch; obstruction → inspectors), printable.
 */
export function WorkOrdersTable({ kind, reloadKey }: { kind?: 'shutoff' | 'restore'; reloadKey?: number }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [status, setStatus] = useState<string>('dispatched');
  const [lateOnly, setLateOnly] = useState(false);
  const list = useApi<{ items: WorkOrder[] }>('/api/collections/work-orders', {
    kind,
    status: status === 'all' ? undefined : status,
    lateOnly: lateOnly ? 'true' : undefined,
  });
  const { reload } = list;
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new reloadKey means "load again".
  useEffect(() => {
    if (reloadKey) reload();
  }, [reloadKey]);
  const [recording, setRecording] = useState<WorkOrder | null>(null);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm();
  const mayRecord = can('collection.manage') || can('collection.field');

  const submit = async () => {
    if (!recording) return;
    const values = await form.validateFields();
    setBusy(true);
    try {
      await api(`/api/customers/${recording.accountId}/work-orders/${recording.orderId}/result`, {
        method: 'POST',
        body: recording.kind === 'restore' ? { outcome: 'done', note: values.note } : values,
        headers: { 'Idempotency-Key': newKey('order-result') },
      });
      void message.success(t('escalation.orders.recorded'));
      setRecording(null);
      form.resetFields();
      list.reload();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const columns: ColumnsType<WorkOrder> = [
    { title: t('escalation.orders.no'), dataIndex: 'orderNo', width: 140 },
    {
      title: t('escalation.orders.kind'),
      dataIndex: 'kind',
      width: 90,
      render: (k: string, o) => (
        <Tag color={k === 'shutoff' ? 'volcano' : 'cyan'}>
          {t(`escalation.orders.kinds.${k}.${o.utility === 'gas' ? 'gas' : 'water'}`)}
        </Tag>
      ),
    },
    {
      title: t('escalation.customer'),
      key: 'customer',
      render: (_, o) => (
        <Space direction="vertical" size={0}>
          <span>
            {o.customerCode} {o.customerName}
          </span>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {o.address}
          </Typography.Text>
        </Space>
      ),
    },
    { title: t('escalation.orders.meterNo'), dataIndex: 'meterNo', width: 120 },
    {
      title: t('escalation.arrears'),
      dataIndex: 'arrearsFen',
      width: 100,
      align: 'right',
      render: (v: number) => yuan(v),
    },
    {
      title: t('escalation.orders.dispatchedAt'),
      dataIndex: 'dispatchedAt',
      width: 150,
      render: (v: string) => formatDateTime(v),
    },
    {
      title: t('escalation.orders.deadline'),
      key: 'deadline',
      width: 200,
      render: (_, o) =>
        o.dueAt ? (
          <Space direction="vertical" size={0}>
            <span data-testid={`deadline-${o.orderNo}`}>{formatDateTime(o.dueAt)}</span>
            {o.status !== 'cancelled' && <Countdown dueAt={o.dueAt} doneAt={o.completedAt} />}
          </Space>
        ) : (
          '—'
        ),
    },
    {
      title: t('escalation.orders.status'),
      key: 'status',
      width: 150,
      render: (_, o) => (
        <Space direction="vertical" size={0}>
          <Tag color={STATUS_COLOR[o.status]} data-testid={`order-status-${o.orderNo}`}>
            {t(`escalation.orders.statuses.${o.status}`)}
          </Tag>
          {o.action && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t(`escalation.orders.actions.${o.action}`)} {o.completedBy ?? ''}
            </Typography.Text>
          )}
          {o.late && <Tag color="red">{t('escalation.orders.late')}</Tag>}
        </Space>
      ),
    },
    {
      title: '',
      key: 'ops',
      width: 170,
      render: (_, o) => (
        <Space>
          <a
            href={`/api/customers/${o.accountId}/work-orders/${o.orderId}/pdf`}
            target="_blank"
            rel="noreferrer"
          >
            {t('escalation.print')}
          </a>
          {o.status === 'dispatched' && mayRecord && (
            <Button size="small" data-testid={`record-${o.orderNo}`} onClick={() => setRecording(o)}>
              {t('escalation.orders.record')}
            </Button>
          )}
        </Space>
      ),
    },
  ];

  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Space wrap>
        <Segmented
          value={status}
          onChange={(v) => setStatus(String(v))}
          options={['dispatched', 'done', 'mismatch', 'obstructed', 'cancelled', 'all'].map((s) => ({
            value: s,
            label: t(`escalation.orders.statuses.${s}`),
          }))}
        />
        <Button
          type={lateOnly ? 'primary' : 'default'}
          danger={lateOnly}
          onClick={() => setLateOnly(!lateOnly)}
        >
          {t('escalation.orders.lateOnly')}
        </Button>
      </Space>
      {list.error && <Alert type="error" showIcon message={list.error.message} />}
      <Table<WorkOrder>
        size="small"
        rowKey={(o) => `${o.accountId}/${o.orderId}`}
        loading={list.loading}
        columns={columns}
        dataSource={list.data?.items ?? []}
        rowClassName={(o) => (o.late ? 'row-late' : '')}
        onRow={(o) => (o.late ? { style: { background: '#fff1f0' } } : {})}
        data-testid={`work-orders${kind ? `-${kind}` : ''}`}
        scroll={{ x: 1100 }}
      />
      <Modal
        open={recording !== null}
        title={recording ? `${t('escalation.orders.record')} ${recording.orderNo}` : ''}
        onCancel={() => setRecording(null)}
        onOk={() => void submit()}
        confirmLoading={busy}
        okButtonProps={{ 'data-testid': 'order-result-ok' } as never}
        destroyOnClose
      >
        {recording?.kind === 'shutoff' ? (
          <Form form={form} layout="vertical" initialValues={{ outcome: 'done', action: 'valve_closed' }}>
            <Alert
              type="warning"
              showIcon
              style={{ marginBottom: 12 }}
              message={t('escalation.orders.checkMeter', { meterNo: recording.meterNo })}
            />
            <Form.Item name="outcome" label={t('escalation.orders.outcome')}>
              <Radio.Group>
                <Radio value="done" data-testid="outcome-done">
                  {t('escalation.orders.outcomes.done')}
                </Radio>
                <Radio value="mismatch">{t('escalation.orders.outcomes.mismatch')}</Radio>
                <Radio value="obstructed">{t('escalation.orders.outcomes.obstructed')}</Radio>
              </Radio.Group>
            </Form.Item>
            <Form.Item noStyle shouldUpdate>
              {({ getFieldValue }) =>
                getFieldValue('outcome') === 'done' && (
                  <Form.Item name="action" label={t('escalation.orders.action')}>
                    <Radio.Group>
                      <Radio value="valve_closed">{t('escalation.orders.actions.valve_closed')}</Radio>
                      <Radio value="meter_removed">{t('escalation.orders.actions.meter_removed')}</Radio>
                    </Radio.Group>
                  </Form.Item>
                )
              }
            </Form.Item>
            <Form.Item name="confirmedMeterNo" label={t('escalation.orders.confirmedMeterNo')}>
              <Input data-testid="confirmed-meter-no" />
            </Form.Item>
            <Form.Item name="note" label={t('escalation.note')}>
              <Input.TextArea rows={2} />
            </Form.Item>
          </Form>
        ) : (
          <Form form={form} layout="vertical">
            <Typography.Paragraph>{t('escalation.orders.restoreDone')}</Typography.Paragraph>
            <Form.Item name="note" label={t('escalation.note')}>
              <Input.TextArea rows={2} />
            </Form.Item>
          </Form>
        )}
      </Modal>
    </Space>
  );
}

/** 停复水工单: every shut-off and restore work order of the caller's offices. */
export default function WorkOrdersPage() {
  const { t } = useTranslation();
  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('escalation.orders.title')}
      </Typography.Title>
      <Card size="small">
        <WorkOrdersTable />
      </Card>
    </Space>
  );
}
