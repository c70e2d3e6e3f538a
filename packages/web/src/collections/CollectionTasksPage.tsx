import { todayInChina } from '@meterline/domain';
import {
  App,
  Button,
  Card,
  Col,
  Empty,
  Input,
  Progress,
  Row,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { yuan } from '../billing/money';
import { DateInput } from '../components/DateInput';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import type { SearchResult } from '../customers/types';
import type { CollectionTask, TaskDay } from './fieldTypes';

/**
 * 催缴任务: the day's collection tasks per reader/collector (DOMAIN.md §6 "Field tasks"). The office
 * manager generates the day (idempotent), and adjusts each list by hand: remove, add, reorder.
 */
export default function CollectionTasksPage() {
  const { t } = useTranslation();
  const { me, can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const offices = me?.offices ?? [];
  const [officeId, setOfficeId] = useState<number | undefined>(offices[0]?.officeId);
  const [date, setDate] = useState(todayInChina());
  const [assigneeId, setAssigneeId] = useState<number | undefined>(undefined);
  const day = useApi<TaskDay>('/api/collections/tasks', { date, officeId });
  const [busy, setBusy] = useState(false);
  const [addCode, setAddCode] = useState('');
  const manage = can('collection.manage');

  const lists = day.data?.lists ?? [];
  const selected = assigneeId ?? lists[0]?.assigneeId;
  const items = useMemo(
    () => (day.data?.items ?? []).filter((i) => i.assigneeId === selected),
    [day.data, selected],
  );
  const onList = items.filter((i) => i.status !== 'removed' && i.status !== 'carried');

  const run = async (fn: () => Promise<unknown>, done?: string) => {
    setBusy(true);
    try {
      await fn();
      if (done) void message.success(done);
      day.reload();
    } catch (e) {
      handle(e);
    } finally {
      setBusy(false);
    }
  };

  const generate = () =>
    run(async () => {
      const r = await api<{
        carried: number;
        readingDay: number;
        repeat: number;
        collectionDay: number;
        workingDaysLeft: number;
      }>('/api/collections/tasks/generate', { method: 'POST', body: { officeId, date } });
      void message.info(t('fieldCollection.tasks.generated', r));
    });

  const move = (task: CollectionTask, by: -1 | 1) => {
    const order = [...onList];
    const at = order.findIndex((x) => x.taskId === task.taskId && x.accountId === task.accountId);
    const to = at + by;
    if (at < 0 || to < 0 || to >= order.length) return;
    [order[at], order[to]] = [order[to]!, order[at]!];
    void run(() =>
      api('/api/collections/tasks/reorder', {
        method: 'POST',
        body: {
          officeId: task.officeId,
          date,
          assigneeId: task.assigneeId,
          order: order.map((x) => ({ accountId: x.accountId, taskId: x.taskId })),
        },
      }),
    );
  };

  const remove = (task: CollectionTask) =>
    run(
      () =>
        api(`/api/customers/${task.accountId}/collection-tasks/${task.taskId}/remove`, {
          method: 'POST',
          body: { reason: '' },
        }),
      t('fieldCollection.tasks.removed'),
    );

  const add = () =>
    run(async () => {
      const found = await api<SearchResult>('/api/customers', { query: { q: addCode.trim(), pageSize: 5 } });
      const hit = found.items.find((h) => h.customerCode === addCode.trim()) ?? found.items[0];
      if (!hit) throw new Error(t('fieldCollection.tasks.noSuchCustomer'));
      await api(`/api/customers/${hit.accountId}/collection-tasks`, {
        method: 'POST',
        body: { assigneeId: selected, date },
      });
      setAddCode('');
    }, t('fieldCollection.tasks.added'));

  const columns: ColumnsType<CollectionTask> = [
    { title: '#', key: 'seq', width: 50, render: (_, __, i) => i + 1 },
    {
      title: t('fieldCollection.tasks.customer'),
      key: 'customer',
      render: (_, r) => (
        <>
          <div>
            {r.customerCode} {r.customerName}
          </div>
          <Typography.Text type="secondary">{r.address}</Typography.Text>
        </>
      ),
    },
    { title: t('fieldCollection.tasks.book'), dataIndex: 'bookCode', width: 100, render: (v) => v ?? '—' },
    {
      title: t('fieldCollection.tasks.kind'),
      dataIndex: 'kind',
      width: 100,
      render: (k: string) => <Tag>{t(`fieldCollection.kind.${k}`)}</Tag>,
    },
    {
      title: t('fieldCollection.tasks.arrears'),
      key: 'arrears',
      width: 150,
      align: 'right',
      render: (_, r) => (
        <>
          <Tag color={r.arrearsCycles >= 3 ? 'red' : r.arrearsCycles === 2 ? 'orange' : 'blue'}>
            {t('fieldCollection.tasks.cycles', { n: r.arrearsCycles })}
          </Tag>
          {yuan(r.arrearsFen)}
        </>
      ),
    },
    {
      title: t('fieldCollection.tasks.status'),
      key: 'status',
      width: 140,
      render: (_, r) => (
        <Space size={4} wrap>
          <Tag color={r.status === 'visited' ? 'green' : r.status === 'removed' ? 'default' : 'processing'}>
            {t(`fieldCollection.status.${r.status}`)}
          </Tag>
          {r.lastOutcome && <Tag>{t(`fieldCollection.outcome.${r.lastOutcome}`)}</Tag>}
          {r.manual.added && <Tag color="purple">{t('fieldCollection.tasks.manualAdded')}</Tag>}
        </Space>
      ),
    },
    ...(manage
      ? [
          {
            title: '',
            key: 'actions',
            width: 170,
            render: (_: unknown, r: CollectionTask) =>
              r.status === 'open' ? (
                <Space size={4}>
                  <Button
                    size="small"
                    onClick={() => move(r, -1)}
                    disabled={busy}
                    data-testid={`task-up-${r.accountId}`}
                  >
                    ↑
                  </Button>
                  <Button size="small" onClick={() => move(r, 1)} disabled={busy}>
                    ↓
                  </Button>
                  <Button
                    size="small"
                    danger
                    onClick={() => void remove(r)}
                    disabled={busy}
                    data-testid={`task-remove-${r.accountId}`}
                  >
                    {t('fieldCollection.tasks.remove')}
                  </Button>
                </Space>
              ) : null,
          },
        ]
      : []),
  ];

  return (
    <Card
      title={t('fieldCollection.tasks.title')}
      extra={
        <Space wrap>
          {offices.length > 1 && (
            <Select
              style={{ width: 180 }}
              value={officeId}
              onChange={(v) => {
                setOfficeId(v);
                setAssigneeId(undefined);
              }}
              options={offices.map((o) => ({ value: o.officeId, label: `${o.code} ${o.name}` }))}
            />
          )}
          <DateInput
            value={date}
            onChange={(d) => d && setDate(d)}
            allowClear={false}
            style={{ width: 150 }}
          />
          {manage && (
            <Button
              type="primary"
              onClick={() => void generate()}
              loading={busy}
              disabled={!officeId}
              data-testid="tasks-generate"
            >
              {t('fieldCollection.tasks.generate')}
            </Button>
          )}
        </Space>
      }
    >
      {lists.length === 0 && !day.loading && <Empty description={t('fieldCollection.tasks.none')} />}
      <Row gutter={[12, 12]} style={{ marginBottom: 16 }}>
        {lists.map((l) => (
          <Col key={l.assigneeId} xs={24} sm={12} md={8} lg={6}>
            <Card
              size="small"
              hoverable
              onClick={() => setAssigneeId(l.assigneeId)}
              style={l.assigneeId === selected ? { borderColor: '#1677ff' } : undefined}
              data-testid={`tasks-list-${l.assigneeId}`}
            >
              <Typography.Text strong>{l.assigneeName}</Typography.Text>
              <div>{t('fieldCollection.tasks.progress', { visited: l.visited, total: l.total })}</div>
              <Progress percent={l.total ? Math.round((l.visited / l.total) * 100) : 0} size="small" />
            </Card>
          </Col>
        ))}
      </Row>
      {manage && selected !== undefined && (
        <Space style={{ marginBottom: 12 }}>
          <Input
            placeholder={t('fieldCollection.tasks.addPlaceholder')}
            value={addCode}
            onChange={(e) => setAddCode(e.target.value)}
            style={{ width: 220 }}
            onPressEnter={() => addCode.trim() && void add()}
          />
          <Button onClick={() => void add()} disabled={!addCode.trim() || busy}>
            {t('fieldCollection.tasks.add')}
          </Button>
        </Space>
      )}
      <Table<CollectionTask>
        rowKey={(r) => `${r.accountId}:${r.taskId}`}
        size="small"
        loading={day.loading}
        columns={columns}
        dataSource={items}
        pagination={false}
        data-testid="tasks-table"
      />
    </Card>
  );
}
