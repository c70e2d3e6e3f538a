import { CheckOutlined, CloseOutlined } from '@ant-design/icons';
import { App, Button, Form, Input, Modal, Select, Space, Table, Tag, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import type { PlanChange } from './types';

export const CHANGE_STATUS_COLORS: Record<string, string> = {
  pending: 'gold',
  approved: 'green',
  rejected: 'red',
};

/** Who asked for a change and when (plan moves and index corrections alike). */
export function RequestedBy({ name, at }: { name?: string | null; at: string }) {
  return (
    <Space direction="vertical" size={0}>
      <span>{name ?? '—'}</span>
      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
        {formatDateTime(at)}
      </Typography.Text>
    </Space>
  );
}

/** A request's status with who decided it, when, and their note. */
export function Decision({
  status,
  decidedByName,
  decidedAt,
  decisionNote,
}: {
  status: string;
  decidedByName?: string | null;
  decidedAt?: string | null;
  decisionNote?: string;
}) {
  const { t } = useTranslation();
  return (
    <Space direction="vertical" size={0}>
      <Tag color={CHANGE_STATUS_COLORS[status]}>{t(`reading.changes.statusName.${status}`)}</Tag>
      {decidedByName && (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {decidedByName} {formatDateTime(decidedAt)}
        </Typography.Text>
      )}
      {decisionNote && <Typography.Text style={{ fontSize: 12 }}>{decisionNote}</Typography.Text>}
    </Space>
  );
}

/**
 * Requested moves of a book's reading date: the office manager approves or rejects each with a
 * note. `refreshKey` reloads the list when the page made a new request.
 */
export function PlanChanges({
  officeId,
  refreshKey,
  onDecided,
}: {
  officeId: number | undefined;
  refreshKey: number;
  onDecided: () => void;
}) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [status, setStatus] = useState<string>('pending');
  const changes = useApi<PlanChange[]>(officeId ? '/api/reading-plan/changes' : null, {
    officeId,
    status: status === 'all' ? undefined : status,
  });
  const { reload } = changes;
  // biome-ignore lint/correctness/useExhaustiveDependencies: reload when the page made a request.
  useEffect(() => {
    if (refreshKey > 0) reload();
  }, [refreshKey]);
  const [deciding, setDeciding] = useState<{ change: PlanChange; approve: boolean } | null>(null);
  const [form] = Form.useForm<{ note: string }>();
  const [busy, setBusy] = useState(false);
  const approver = can('reading.approve');

  const open = (change: PlanChange, approve: boolean) => {
    form.resetFields();
    setDeciding({ change, approve });
  };
  const decide = async () => {
    if (!deciding) return;
    const values = await validated(form);
    if (!values) return;
    const { note } = values;
    setBusy(true);
    try {
      await api(`/api/reading-plan/changes/${deciding.change.changeId}/decide`, {
        method: 'POST',
        body: { approve: deciding.approve, note: note ?? '' },
      });
      void message.success(deciding.approve ? t('reading.changes.approved') : t('reading.changes.rejected'));
      setDeciding(null);
      changes.reload();
      onDecided();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Space style={{ marginBottom: 12 }}>
        <Select
          value={status}
          onChange={setStatus}
          style={{ width: 140 }}
          aria-label={t('reading.changes.status')}
          options={['pending', 'approved', 'rejected', 'all'].map((s) => ({
            value: s,
            label: t(`reading.changes.statusName.${s}`),
          }))}
        />
      </Space>
      <Table<PlanChange>
        rowKey="changeId"
        size="small"
        loading={changes.loading}
        dataSource={changes.data ?? []}
        pagination={{ pageSize: 20, hideOnSinglePage: true }}
        data-testid="plan-changes"
        scroll={{ x: 900 }}
        columns={[
          {
            title: t('reading.book'),
            key: 'book',
            render: (_, c) => `${c.bookCode ?? c.bookId} ${c.bookName ?? ''}`,
          },
          { title: t('reading.period'), dataIndex: 'period', width: 90 },
          {
            title: t('reading.changes.move'),
            key: 'move',
            width: 220,
            render: (_, c) => (
              <span>
                <Typography.Text delete>{c.fromDate}</Typography.Text> →{' '}
                <Typography.Text strong>{c.toDate}</Typography.Text>
              </span>
            ),
          },
          { title: t('common.reason'), dataIndex: 'reason' },
          {
            title: t('reading.changes.requested'),
            key: 'req',
            width: 180,
            render: (_, c) => <RequestedBy name={c.requestedByName} at={c.requestedAt} />,
          },
          {
            title: t('reading.changes.status'),
            dataIndex: 'status',
            width: 200,
            render: (s: string, c) => (
              <Decision
                status={s}
                decidedByName={c.decidedByName}
                decidedAt={c.decidedAt}
                decisionNote={c.decisionNote}
              />
            ),
          },
          ...(approver
            ? [
                {
                  title: t('common.actions'),
                  key: 'a',
                  width: 180,
                  render: (_: unknown, c: PlanChange) =>
                    c.status === 'pending' ? (
                      <Space>
                        <Button
                          size="small"
                          type="primary"
                          icon={<CheckOutlined />}
                          onClick={() => open(c, true)}
                          data-testid="change-approve"
                        >
                          {t('reading.changes.approve')}
                        </Button>
                        <Button
                          size="small"
                          danger
                          icon={<CloseOutlined />}
                          onClick={() => open(c, false)}
                          data-testid="change-reject"
                        >
                          {t('reading.changes.reject')}
                        </Button>
                      </Space>
                    ) : null,
                },
              ]
            : []),
        ]}
      />
      <Modal
        open={deciding !== null}
        title={
          deciding
            ? t(deciding.approve ? 'reading.changes.approveTitle' : 'reading.changes.rejectTitle', {
                book: deciding.change.bookCode ?? deciding.change.bookId,
                from: deciding.change.fromDate,
                to: deciding.change.toDate,
              })
            : ''
        }
        onOk={decide}
        onCancel={() => setDeciding(null)}
        confirmLoading={busy}
        okText={deciding?.approve ? t('reading.changes.approve') : t('reading.changes.reject')}
        okButtonProps={{ danger: deciding ? !deciding.approve : false }}
        cancelText={t('common.cancel')}
        forceRender
      >
        {deciding && (
          <Typography.Paragraph>
            {t('common.reason')}：{deciding.change.reason}
          </Typography.Paragraph>
        )}
        <Form form={form} name="decideChange" layout="vertical">
          <Form.Item
            name="note"
            label={t('reading.changes.note')}
            rules={[{ required: deciding ? !deciding.approve : false }, { max: 500 }]}
          >
            <Input.TextArea rows={3} />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
