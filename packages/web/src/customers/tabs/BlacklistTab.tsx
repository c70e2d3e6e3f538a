import { PlusOutlined, UnlockOutlined } from '@ant-design/icons';
import {
  App,
  Button,
  Card,
  Descriptions,
  Empty,
  Form,
  Input,
  Modal,
  Select,
  Space,
  Tag,
  Timeline,
} from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api';
import { useAuth } from '../../auth/AuthContext';
import { DateInput, today } from '../../components/DateInput';
import { useErrorHandler } from '../../components/useErrorHandler';
import {
  BLACKLIST_CATEGORIES,
  BLACKLIST_EVENT_KINDS,
  type BlacklistEntryRow,
  type CustomerDetail,
} from '../types';

type Dialog =
  | { kind: 'entry' }
  | { kind: 'event'; entry: BlacklistEntryRow }
  | { kind: 'lift'; entry: BlacklistEntryRow }
  | null;

const EVENT_COLORS: Record<string, string> = { violation: 'red', action: 'blue', inspection: 'green' };

/** Blacklist (黑名单) entries of this customer: violations, actions, inspections; listing and lifting. */
export function BlacklistTab({ data, onChanged }: { data: CustomerDetail; onChanged: () => void }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm();
  const [dialog, setDialog] = useState<Dialog>(null);
  const [busy, setBusy] = useState(false);
  const editable = can('blacklist.write');
  const base = `/api/customers/${data.customer.account_id}/blacklist`;

  const open = (d: NonNullable<Dialog>) => {
    form.resetFields();
    if (d.kind === 'entry') form.setFieldsValue({ category: 'theft', listedOn: today() });
    if (d.kind === 'event') form.setFieldsValue({ kind: 'inspection', occurredOn: today() });
    setDialog(d);
  };

  const submit = async () => {
    if (!dialog) return;
    const values = await form.validateFields();
    setBusy(true);
    try {
      if (dialog.kind === 'entry') await api(base, { method: 'POST', body: values });
      if (dialog.kind === 'event')
        await api(`${base}/${dialog.entry.entry_id}/events`, { method: 'POST', body: values });
      if (dialog.kind === 'lift')
        await api(`${base}/${dialog.entry.entry_id}/lift`, { method: 'POST', body: values });
      void message.success(t('common.saved'));
      setDialog(null);
      onChanged();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      {editable && (
        <Button danger icon={<PlusOutlined />} onClick={() => open({ kind: 'entry' })}>
          {t('blacklist.add')}
        </Button>
      )}
      {data.blacklist.length === 0 && <Empty description={t('blacklist.none')} />}
      {data.blacklist.map((entry) => (
        <Card
          key={entry.entry_id}
          size="small"
          title={
            <Space>
              <Tag color={entry.lifted_on ? 'default' : 'red'}>
                {t(`enum.blacklistCategory.${entry.category}`)}
              </Tag>
              {entry.lifted_on
                ? t('blacklist.lifted', { on: entry.lifted_on })
                : t('blacklist.listedOn', { on: entry.listed_on })}
            </Space>
          }
          extra={
            editable &&
            !entry.lifted_on && (
              <Space>
                <Button size="small" icon={<PlusOutlined />} onClick={() => open({ kind: 'event', entry })}>
                  {t('blacklist.addEvent')}
                </Button>
                <Button size="small" icon={<UnlockOutlined />} onClick={() => open({ kind: 'lift', entry })}>
                  {t('blacklist.lift')}
                </Button>
              </Space>
            )
          }
        >
          <Descriptions size="small" column={1}>
            <Descriptions.Item label={t('blacklist.violation')}>{entry.violation}</Descriptions.Item>
            <Descriptions.Item label={t('blacklist.action')}>{entry.action_taken || '—'}</Descriptions.Item>
            {entry.lifted_on && (
              <Descriptions.Item label={t('blacklist.liftReason')}>{entry.lift_reason}</Descriptions.Item>
            )}
          </Descriptions>
          {entry.events.length > 0 && (
            <Timeline
              style={{ marginTop: 16 }}
              items={entry.events.map((ev) => ({
                color: EVENT_COLORS[ev.kind],
                children: (
                  <>
                    <strong>{ev.occurred_on}</strong> <Tag>{t(`enum.blacklistEvent.${ev.kind}`)}</Tag>
                    {ev.description}
                  </>
                ),
              }))}
            />
          )}
        </Card>
      ))}
      <Modal
        open={dialog !== null}
        title={
          dialog?.kind === 'entry'
            ? t('blacklist.add')
            : dialog?.kind === 'event'
              ? t('blacklist.addEvent')
              : t('blacklist.lift')
        }
        onOk={submit}
        onCancel={() => setDialog(null)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        forceRender
      >
        <Form form={form} name="blacklist" layout="vertical">
          {dialog?.kind === 'entry' && (
            <>
              <Form.Item name="category" label={t('blacklist.category')} rules={[{ required: true }]}>
                <Select
                  options={BLACKLIST_CATEGORIES.map((c) => ({
                    value: c,
                    label: t(`enum.blacklistCategory.${c}`),
                  }))}
                />
              </Form.Item>
              <Form.Item
                name="violation"
                label={t('blacklist.violation')}
                rules={[{ required: true }, { max: 1000 }]}
              >
                <Input.TextArea rows={3} />
              </Form.Item>
              <Form.Item name="actionTaken" label={t('blacklist.action')} rules={[{ max: 1000 }]}>
                <Input.TextArea rows={2} />
              </Form.Item>
              <Form.Item name="listedOn" label={t('blacklist.listedOnLabel')} rules={[{ required: true }]}>
                <DateInput notFuture allowClear={false} />
              </Form.Item>
            </>
          )}
          {dialog?.kind === 'event' && (
            <>
              <Form.Item name="kind" label={t('blacklist.eventKind')} rules={[{ required: true }]}>
                <Select
                  options={BLACKLIST_EVENT_KINDS.map((k) => ({
                    value: k,
                    label: t(`enum.blacklistEvent.${k}`),
                  }))}
                />
              </Form.Item>
              <Form.Item name="occurredOn" label={t('blacklist.occurredOn')} rules={[{ required: true }]}>
                <DateInput notFuture allowClear={false} />
              </Form.Item>
              <Form.Item
                name="description"
                label={t('blacklist.description')}
                rules={[{ required: true }, { max: 1000 }]}
              >
                <Input.TextArea rows={3} />
              </Form.Item>
            </>
          )}
          {dialog?.kind === 'lift' && (
            <Form.Item name="reason" label={t('common.reason')} rules={[{ required: true }, { max: 500 }]}>
              <Input.TextArea rows={3} />
            </Form.Item>
          )}
        </Form>
      </Modal>
    </Space>
  );
}
