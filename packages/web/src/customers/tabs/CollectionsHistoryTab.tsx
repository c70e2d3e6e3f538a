import {
  AlertOutlined,
  AuditOutlined,
  CarOutlined,
  FileProtectOutlined,
  MessageOutlined,
  PhoneOutlined,
  PoweroffOutlined,
  ReloadOutlined,
  ScheduleOutlined,
  SearchOutlined,
  ToolOutlined,
} from '@ant-design/icons';
import type { CollectionHistoryEntry } from '@meterline/domain';
import { Alert, Button, Empty, Space, Spin, Tag, Timeline, Typography } from 'antd';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { yuan } from '../../billing/money';
import { formatDateTime } from '../../components/format';
import { useApi } from '../../components/useApi';

/**
 * 催缴记录: the customer's collection history as one timeline, newest first (GET
 * /api/customers/:accountId/collection-history) — notice and dunning messages, field visits,
 * letters, shut-off requests and work orders, reconnection checks, disputes and installment
 * agreements, each with its date, status, reference, amount and who did it. Entries still waiting
 * on someone (domain isOpenHistoryEntry) are blue.
 */

type Entry = CollectionHistoryEntry & { open: boolean };

const BAD = new Set([
  'failed',
  'refused',
  'nobody_found',
  'rejected',
  'defaulted',
  'mismatch',
  'obstructed',
  'reconnected',
]);

function icon(e: Entry): ReactNode {
  switch (e.kind) {
    case 'message':
      return e.subKind === 'voice' ? <PhoneOutlined /> : <MessageOutlined />;
    case 'visit':
      return <CarOutlined />;
    case 'letter':
      return <FileProtectOutlined />;
    case 'shutoff_request':
      return <PoweroffOutlined />;
    case 'work_order':
      return <ToolOutlined />;
    case 'reconnection_check':
      return <SearchOutlined />;
    case 'dispute':
      return <AlertOutlined />;
    case 'agreement':
      return <ScheduleOutlined />;
    default:
      return <AuditOutlined />;
  }
}

const TAG_COLORS: Record<string, string> = {
  blue: 'processing',
  red: 'error',
  gray: 'default',
  green: 'success',
};

function color(e: Entry): 'blue' | 'red' | 'gray' | 'green' {
  if (e.open) return 'blue';
  if (BAD.has(e.status)) return 'red';
  if (e.status === 'cancelled' || e.status === 'withdrawn' || e.status === 'expired') return 'gray';
  return 'green';
}

export function CollectionsHistoryTab({ accountId }: { accountId: number }) {
  const { t } = useTranslation();
  const history = useApi<{ items: Entry[]; truncated: boolean }>(
    `/api/customers/${accountId}/collection-history`,
  );
  const k = (key: string, fallback: string) =>
    t(`customerCollections.history.${key}`, { defaultValue: fallback });

  const title = (e: Entry) => {
    const kind = k(`kinds.${e.kind}`, e.kind);
    const sub = e.subKind ? k(`sub.${e.kind}.${e.subKind}`, '') : '';
    return sub ? `${kind} · ${sub}` : kind;
  };
  const status = (e: Entry) => k(`status.${e.kind}.${e.status}`, e.status);

  if (history.error && !history.data) return <Alert type="error" showIcon message={history.error.message} />;
  if (!history.data) return <Spin style={{ display: 'block', margin: '40px auto' }} />;
  const items = history.data.items;

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }} data-testid="collection-history">
      <Space>
        <Typography.Text type="secondary">{k('help', '')}</Typography.Text>
        <Button size="small" icon={<ReloadOutlined />} onClick={history.reload} loading={history.loading}>
          {t('outbox.refresh')}
        </Button>
      </Space>
      {items.length === 0 ? (
        <Empty description={k('empty', '')} />
      ) : (
        <Timeline
          items={items.map((e) => ({
            key: `${e.kind}-${e.id}`,
            color: color(e),
            dot: icon(e),
            children: (
              <div data-testid="history-entry" data-kind={e.kind} data-date={e.date}>
                <Space wrap size={[8, 0]}>
                  <Typography.Text strong>{formatDateTime(e.at).slice(0, 16)}</Typography.Text>
                  <Typography.Text>{title(e)}</Typography.Text>
                  <Tag color={TAG_COLORS[color(e)]}>{status(e)}</Tag>
                  {e.kind === 'message' ? (
                    <Typography.Text type="secondary">
                      {t(`customerCollections.templates.${e.ref}`, { defaultValue: e.ref })}
                    </Typography.Text>
                  ) : (
                    e.ref && <Typography.Text code>{e.ref}</Typography.Text>
                  )}
                  {e.amountFen !== null && <Typography.Text>{yuan(e.amountFen)}</Typography.Text>}
                  {e.staffName && <Typography.Text type="secondary">{e.staffName}</Typography.Text>}
                </Space>
                {e.detail && (
                  <Typography.Paragraph
                    type="secondary"
                    style={{ margin: 0 }}
                    ellipsis={{ rows: 2, tooltip: e.detail }}
                  >
                    {e.detail}
                  </Typography.Paragraph>
                )}
                {e.closedAt && (
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {k(`closed.${e.kind}`, k('closed.default', ''))} {formatDateTime(e.closedAt).slice(0, 16)}
                  </Typography.Text>
                )}
              </div>
            ),
          }))}
        />
      )}
      {history.data.truncated && <Typography.Text type="secondary">{k('truncated', '')}</Typography.Text>}
    </Space>
  );
}
