import { DownloadOutlined, ReloadOutlined, StopOutlined } from '@ant-design/icons';
import {
  App,
  Button,
  Card,
  DatePicker,
  Popconfirm,
  Select,
  Space,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { Chart, type ChartOption } from '../components/Chart';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';

/**
 * 消息发送 (docs/outbox.md): every SMS, voice-call entry and letter on the outbox, with its delivery
 * status; a stacked chart of the messages by day and status; retry of a failed message and cancel
 * of a pending one; the day's voice-call list for download. The SMSC itself is configured on the
 * settings page (smsc.*, outbox.*, voice.*).
 */

type Status = 'pending' | 'sending' | 'sent' | 'delivered' | 'failed' | 'cancelled';
type Channel = 'sms' | 'voice' | 'letter';

interface OutboxItem {
  accountId: number;
  messageId: number;
  officeId: number;
  customerCode: string;
  customerName: string;
  channel: Channel;
  recipient: string;
  template: string;
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
}

interface Stats {
  from: string;
  to: string;
  byDay: { day: string; status: Status; count: number }[];
  /** `expired`: of the cancelled, those the sender found stale (docs/outbox.md "Stale messages"). */
  totals: Partial<Record<Status | 'expired', number>>;
}

const STATUSES: Status[] = ['pending', 'sending', 'sent', 'delivered', 'failed', 'cancelled'];
const CHANNELS: Channel[] = ['sms', 'voice', 'letter'];
const STATUS_COLORS: Record<Status, string> = {
  pending: 'default',
  sending: 'processing',
  sent: 'blue',
  delivered: 'success',
  failed: 'error',
  cancelled: 'warning',
};
const CHART_COLORS: Record<Status, string> = {
  pending: '#bfbfbf',
  sending: '#69b1ff',
  sent: '#1677ff',
  delivered: '#52c41a',
  failed: '#ff4d4f',
  cancelled: '#faad14',
};

const when = (iso: string | null) => (iso ? dayjs(iso).format('YYYY-MM-DD HH:mm') : '—');

export default function OutboxPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { can } = useAuth();
  const handle = useErrorHandler();
  // 'expired': the cancelled the sender found stale (status cancelled, reason expired).
  const [status, setStatus] = useState<Status | 'expired' | undefined>();
  const [channel, setChannel] = useState<Channel | undefined>();
  const [page, setPage] = useState(1);
  const [voiceDate, setVoiceDate] = useState<Dayjs>(dayjs());
  const pageSize = 20;
  const list = useApi<{ items: OutboxItem[]; total: number }>('/api/outbox', {
    status: status === 'expired' ? undefined : status,
    reason: status === 'expired' ? 'expired' : undefined,
    channel,
    page,
    pageSize,
  });
  const stats = useApi<Stats>('/api/outbox/stats', { channel });
  const mayAct = can('collection.manage') || can('collection.policy');

  const act = async (item: OutboxItem, action: 'retry' | 'cancel') => {
    try {
      await api(`/api/customers/${item.accountId}/messages/${item.messageId}/${action}`, {
        method: 'POST',
        body: action === 'cancel' ? { reason: '' } : {},
      });
      void message.success(t(`outbox.${action}Done`));
      list.reload();
      stats.reload();
    } catch (e) {
      handle(e);
    }
  };

  const chart = useMemo<ChartOption | null>(() => {
    const s = stats.data;
    if (!s) return null;
    const days: string[] = [];
    for (let d = dayjs(s.from); !d.isAfter(dayjs(s.to)); d = d.add(1, 'day'))
      days.push(d.format('YYYY-MM-DD'));
    const counts = new Map(s.byDay.map((r) => [`${r.day}|${r.status}`, r.count]));
    return {
      tooltip: { trigger: 'axis' },
      legend: { top: 0 },
      grid: { left: 8, right: 8, bottom: 8, top: 32, containLabel: true },
      xAxis: { type: 'category', data: days.map((d) => d.slice(5)) },
      yAxis: { type: 'value', name: t('outbox.messages') },
      series: STATUSES.map((st) => ({
        name: t(`outbox.status.${st}`),
        type: 'bar',
        stack: 'status',
        barMaxWidth: 24,
        itemStyle: { color: CHART_COLORS[st] },
        data: days.map((d) => counts.get(`${d}|${st}`) ?? 0),
      })),
    };
  }, [stats.data, t]);

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }} data-testid="outbox-page">
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('outbox.title')}
      </Typography.Title>
      <Card size="small" title={t('outbox.chartTitle')}>
        <Space wrap style={{ marginBottom: 8 }}>
          {STATUSES.map((st) => (
            <Tag key={st} color={STATUS_COLORS[st]}>
              {t(`outbox.status.${st}`)}: {stats.data?.totals[st] ?? 0}
            </Tag>
          ))}
          {(stats.data?.totals.expired ?? 0) > 0 && (
            <Tag data-testid="outbox-expired-total">
              {t('outbox.expiredTotal')}: {stats.data?.totals.expired}
            </Tag>
          )}
        </Space>
        {chart && <Chart option={chart} height={260} label={t('outbox.chartTitle')} testId="outbox-chart" />}
      </Card>
      <Card
        size="small"
        title={t('outbox.voiceList')}
        extra={
          <Space>
            <DatePicker value={voiceDate} onChange={(d) => d && setVoiceDate(d)} allowClear={false} />
            <Button
              icon={<DownloadOutlined />}
              href={`/api/outbox/voice-list?format=csv&date=${voiceDate.format('YYYY-MM-DD')}`}
              download
            >
              {t('outbox.downloadCsv')}
            </Button>
          </Space>
        }
      >
        <Typography.Text type="secondary">{t('outbox.voiceListHelp')}</Typography.Text>
      </Card>
      <Card size="small">
        <Space wrap style={{ marginBottom: 12 }}>
          <Select
            allowClear
            placeholder={t('outbox.statusFilter')}
            style={{ width: 160 }}
            data-testid="outbox-status-filter"
            value={status}
            onChange={(v) => {
              setStatus(v);
              setPage(1);
            }}
            options={[
              ...STATUSES.map((s) => ({ value: s, label: t(`outbox.status.${s}`) })),
              { value: 'expired', label: t('outbox.statusExpired') },
            ]}
          />
          <Select
            allowClear
            placeholder={t('outbox.channelFilter')}
            style={{ width: 140 }}
            value={channel}
            onChange={(v) => {
              setChannel(v);
              setPage(1);
            }}
            options={CHANNELS.map((c) => ({ value: c, label: t(`outbox.channel.${c}`) }))}
          />
          <Button
            icon={<ReloadOutlined />}
            onClick={() => {
              list.reload();
              stats.reload();
            }}
          >
            {t('outbox.refresh')}
          </Button>
        </Space>
        <Table<OutboxItem>
          rowKey={(r) => `${r.accountId}-${r.messageId}`}
          size="small"
          loading={list.loading}
          dataSource={list.data?.items ?? []}
          pagination={{
            current: page,
            pageSize,
            total: list.data?.total ?? 0,
            onChange: setPage,
            showSizeChanger: false,
          }}
          columns={[
            { title: t('outbox.createdAt'), dataIndex: 'createdAt', render: when, width: 140 },
            {
              title: t('outbox.customer'),
              render: (_, r) => (
                <Link to={`/customers/${r.accountId}`}>{`${r.customerCode} ${r.customerName}`}</Link>
              ),
            },
            {
              title: t('outbox.channelCol'),
              dataIndex: 'channel',
              render: (c: Channel) => t(`outbox.channel.${c}`),
              width: 70,
            },
            { title: t('outbox.recipient'), dataIndex: 'recipient', width: 120 },
            {
              title: t('outbox.body'),
              dataIndex: 'body',
              ellipsis: { showTitle: false },
              render: (b: string, r) => (
                <Tooltip title={b}>
                  {r.segments > 1 ? `[${t('outbox.parts', { n: r.segments })}] ` : ''}
                  {b}
                </Tooltip>
              ),
            },
            {
              title: t('outbox.statusCol'),
              dataIndex: 'status',
              width: 110,
              render: (s: Status, r) => (
                <Tooltip title={r.lastError || r.deliveryStatus || undefined}>
                  <Tag color={STATUS_COLORS[s]}>
                    {s === 'cancelled' && r.lastError === 'expired'
                      ? t('outbox.statusExpired')
                      : t(`outbox.status.${s}`)}
                  </Tag>
                </Tooltip>
              ),
            },
            { title: t('outbox.attempts'), dataIndex: 'attempts', width: 70 },
            { title: t('outbox.deliveredAt'), dataIndex: 'deliveredAt', render: when, width: 140 },
            ...(mayAct
              ? [
                  {
                    title: '',
                    width: 100,
                    render: (_: unknown, r: OutboxItem) =>
                      r.status === 'failed' || r.status === 'cancelled' ? (
                        <Button size="small" icon={<ReloadOutlined />} onClick={() => void act(r, 'retry')}>
                          {t('outbox.retry')}
                        </Button>
                      ) : r.status === 'pending' ? (
                        <Popconfirm title={t('outbox.cancelConfirm')} onConfirm={() => void act(r, 'cancel')}>
                          <Button size="small" danger icon={<StopOutlined />}>
                            {t('outbox.cancel')}
                          </Button>
                        </Popconfirm>
                      ) : null,
                  },
                ]
              : []),
          ]}
        />
      </Card>
    </Space>
  );
}
