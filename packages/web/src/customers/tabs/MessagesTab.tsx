import { ReloadOutlined, StopOutlined } from '@ant-design/icons';
import { App, Button, Popconfirm, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { api } from '../../api';
import { useAuth } from '../../auth/AuthContext';
import { formatDateTime } from '../../components/format';
import { useApi } from '../../components/useApi';
import { useErrorHandler } from '../../components/useErrorHandler';

/**
 * 消息 (docs/outbox.md): the customer's SMS, voice-call entries and letters on the outbox, newest
 * first — channel, template, text, status with the delivery time; each row expands to its attempts
 * (the delivery audit). Staff with collection.manage / collection.policy retry a failed or
 * cancelled message and cancel a pending one, as on the outbox page.
 */

type Status = 'pending' | 'sending' | 'sent' | 'delivered' | 'failed' | 'cancelled';

interface Attempt {
  attemptNo: number;
  at: string | null;
  outcome: string;
  error: string;
  smscMessageId: string | null;
}

export interface CustomerMessage {
  accountId: number;
  messageId: number;
  channel: 'sms' | 'voice' | 'letter';
  recipient: string;
  template: string;
  purpose: string;
  body: string;
  status: Status;
  attempts: number;
  lastError: string;
  notBefore: string;
  createdAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  deliveryStatus: string | null;
  segments: number;
  callListDate: string | null;
  attemptLog: Attempt[];
}

const STATUS_COLORS: Record<Status, string> = {
  pending: 'default',
  sending: 'processing',
  sent: 'blue',
  delivered: 'success',
  failed: 'error',
  cancelled: 'warning',
};

/** A cancelled message's reason as the sender or staff wrote it: stale, paid, or by whom. */
function cancelReason(lastError: string): 'expired' | 'paid' | 'staff' {
  if (lastError === 'expired') return 'expired';
  if (lastError === 'paid') return 'paid';
  return 'staff';
}

export function MessagesTab({ accountId }: { accountId: number }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { can } = useAuth();
  const handle = useErrorHandler();
  const list = useApi<{ items: CustomerMessage[] }>(`/api/customers/${accountId}/messages`, { limit: 200 });
  const mayAct = can('collection.manage') || can('collection.policy');

  const act = async (m: CustomerMessage, action: 'retry' | 'cancel') => {
    try {
      await api(`/api/customers/${accountId}/messages/${m.messageId}/${action}`, {
        method: 'POST',
        body: action === 'cancel' ? { reason: '' } : {},
      });
      void message.success(t(`outbox.${action}Done`));
      list.reload();
    } catch (e) {
      handle(e);
    }
  };

  const statusCell = (m: CustomerMessage) => {
    const tag = (
      <Tag color={STATUS_COLORS[m.status]} data-testid={`message-status-${m.messageId}`}>
        {m.status === 'cancelled' && cancelReason(m.lastError) !== 'staff'
          ? t(`customerCollections.messages.cancelledAs.${cancelReason(m.lastError)}`)
          : t(`outbox.status.${m.status}`)}
      </Tag>
    );
    const when =
      m.status === 'delivered'
        ? m.deliveredAt
        : m.status === 'sent' || m.status === 'failed'
          ? (m.sentAt ?? null)
          : m.status === 'pending'
            ? m.notBefore
            : null;
    return (
      <Space size={4} direction="vertical">
        <Tooltip title={m.lastError || m.deliveryStatus || undefined}>{tag}</Tooltip>
        {when && (
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {m.status === 'pending' ? t('customerCollections.messages.dueAt') : ''}
            {formatDateTime(when)}
          </Typography.Text>
        )}
        {m.status === 'sent' && m.callListDate && (
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t('customerCollections.messages.callList', { date: m.callListDate })}
          </Typography.Text>
        )}
      </Space>
    );
  };

  return (
    <Space direction="vertical" size="small" style={{ width: '100%' }}>
      <Space>
        <Typography.Text type="secondary">{t('customerCollections.messages.help')}</Typography.Text>
        <Button size="small" icon={<ReloadOutlined />} onClick={list.reload}>
          {t('outbox.refresh')}
        </Button>
      </Space>
      <Table<CustomerMessage>
        size="small"
        rowKey="messageId"
        data-testid="messages-table"
        loading={list.loading}
        dataSource={list.data?.items ?? []}
        pagination={{ pageSize: 20, showSizeChanger: false, hideOnSinglePage: true }}
        expandable={{
          rowExpandable: (m) => m.attemptLog.length > 0,
          expandedRowRender: (m) => (
            <Table<Attempt>
              size="small"
              rowKey="attemptNo"
              pagination={false}
              dataSource={m.attemptLog}
              data-testid={`message-attempts-${m.messageId}`}
              columns={[
                { title: '#', dataIndex: 'attemptNo', width: 50 },
                {
                  title: t('customerCollections.messages.attemptAt'),
                  dataIndex: 'at',
                  width: 170,
                  render: formatDateTime,
                },
                {
                  title: t('customerCollections.messages.outcome'),
                  dataIndex: 'outcome',
                  width: 140,
                  render: (o: string) => t(`customerCollections.messages.outcomes.${o}`, { defaultValue: o }),
                },
                { title: t('customerCollections.messages.error'), dataIndex: 'error' },
                {
                  title: t('customerCollections.messages.smscId'),
                  dataIndex: 'smscMessageId',
                  width: 160,
                  render: (v: string | null) => v ?? '—',
                },
              ]}
            />
          ),
        }}
        columns={[
          {
            title: t('outbox.createdAt'),
            dataIndex: 'createdAt',
            width: 150,
            render: formatDateTime,
          },
          {
            title: t('outbox.channelCol'),
            dataIndex: 'channel',
            width: 70,
            render: (c: CustomerMessage['channel']) => t(`outbox.channel.${c}`),
          },
          {
            title: t('customerCollections.messages.template'),
            dataIndex: 'template',
            width: 150,
            render: (v: string) => t(`customerCollections.templates.${v}`, { defaultValue: v }),
          },
          { title: t('outbox.recipient'), dataIndex: 'recipient', width: 120 },
          {
            title: t('outbox.body'),
            dataIndex: 'body',
            render: (b: string, m) => (
              <Typography.Paragraph style={{ margin: 0 }} ellipsis={{ rows: 2, tooltip: b }}>
                {m.segments > 1 ? `[${t('outbox.parts', { n: m.segments })}] ` : ''}
                {b}
              </Typography.Paragraph>
            ),
          },
          { title: t('outbox.statusCol'), key: 'status', width: 160, render: (_, m) => statusCell(m) },
          { title: t('outbox.attempts'), dataIndex: 'attempts', width: 60 },
          ...(mayAct
            ? [
                {
                  title: '',
                  key: 'act',
                  width: 90,
                  render: (_: unknown, m: CustomerMessage) =>
                    m.status === 'failed' || m.status === 'cancelled' ? (
                      <Button
                        size="small"
                        icon={<ReloadOutlined />}
                        onClick={() => void act(m, 'retry')}
                        data-testid={`message-retry-${m.messageId}`}
                      >
                        {t('outbox.retry')}
                      </Button>
                    ) : m.status === 'pending' ? (
                      <Popconfirm title={t('outbox.cancelConfirm')} onConfirm={() => void act(m, 'cancel')}>
                        <Button
                          size="small"
                          danger
                          icon={<StopOutlined />}
                          data-testid={`message-cancel-${m.messageId}`}
                        >
                          {t('outbox.cancel')}
                        </Button>
                      </Popconfirm>
                    ) : null,
                },
              ]
            : []),
        ]}
      />
    </Space>
  );
}
