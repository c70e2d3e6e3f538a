import { EditOutlined } from '@ant-design/icons';
import { App, Button, Card, Form, Input, InputNumber, Modal, Space, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { DateInput, today } from '../components/DateInput';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import type { SettingRow } from './types';

/** Settings that hold a time of day as "HH:MM" (the reader's day: start by, upload by). */
const TIME_OF_DAY_KEYS: ReadonlySet<string> = new Set(['reading.dayStart', 'reading.uploadBy']);
const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;

/** Whether a setting holds a time of day: a known key, or a string default shaped like one. */
export function isTimeOfDaySetting(row: Pick<SettingRow, 'key' | 'default'>): boolean {
  return TIME_OF_DAY_KEYS.has(row.key) || (typeof row.default === 'string' && TIME_OF_DAY.test(row.default));
}

/** Configuration as data: each value is set from a date on, and its history is kept. */
export default function SettingsPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<{ value: number | string; effectiveFrom: string }>();
  const settings = useApi<SettingRow[]>('/api/settings');
  const [editing, setEditing] = useState<SettingRow | null>(null);
  const [busy, setBusy] = useState(false);

  const open = (row: SettingRow) => {
    form.resetFields();
    form.setFieldsValue({ value: row.value, effectiveFrom: today() });
    setEditing(row);
  };

  const save = async () => {
    if (!editing) return;
    const values = await validated(form);
    if (!values) return;
    setBusy(true);
    try {
      const value = typeof values.value === 'string' ? values.value.trim() : values.value;
      await api(`/api/settings/${encodeURIComponent(editing.key)}`, {
        method: 'PUT',
        body: { ...values, value },
      });
      void message.success(t('common.saved'));
      setEditing(null);
      settings.reload();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={4} className="page-title">
        {t('menu.settings')}
      </Typography.Title>
      <Card styles={{ body: { padding: 0 } }}>
        <Table<SettingRow>
          rowKey="key"
          size="middle"
          pagination={false}
          loading={settings.loading}
          dataSource={settings.data ?? []}
          expandable={{
            rowExpandable: (r) => r.history.length > 0,
            expandedRowRender: (r) => (
              <Table
                rowKey="effective_from"
                size="small"
                pagination={false}
                dataSource={r.history}
                columns={[
                  { title: t('settings.effectiveFrom'), dataIndex: 'effective_from', width: 140 },
                  {
                    title: t('settings.value'),
                    dataIndex: 'value',
                    render: (v: unknown) => JSON.stringify(v),
                  },
                  { title: t('settings.updatedAt'), dataIndex: 'updated_at', render: formatDateTime },
                ]}
              />
            ),
          }}
          columns={[
            {
              title: t('settings.key'),
              dataIndex: 'key',
              render: (key: string) => (
                <Space direction="vertical" size={0}>
                  <Typography.Text>{t(`settingLabel.${key}`, { defaultValue: key })}</Typography.Text>
                  <Typography.Text type="secondary" code>
                    {key}
                  </Typography.Text>
                </Space>
              ),
            },
            {
              title: t('settings.value'),
              dataIndex: 'value',
              width: 160,
              render: (v: unknown, r) => (
                <Space>
                  <Typography.Text strong>{String(v)}</Typography.Text>
                  {v !== r.default && <Tag color="orange">{t('settings.changed')}</Tag>}
                </Space>
              ),
            },
            {
              title: t('settings.default'),
              dataIndex: 'default',
              width: 140,
              render: (v: unknown) => String(v),
            },
            { title: t('settings.history'), key: 'h', width: 100, render: (_, r) => r.history.length },
            {
              title: t('common.actions'),
              key: 'a',
              width: 100,
              render: (_, row) => (
                <Button size="small" icon={<EditOutlined />} onClick={() => open(row)}>
                  {t('common.edit')}
                </Button>
              ),
            },
          ]}
        />
      </Card>
      <Modal
        open={editing !== null}
        title={editing ? t(`settingLabel.${editing.key}`, { defaultValue: editing.key }) : ''}
        onOk={save}
        onCancel={() => setEditing(null)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        forceRender
      >
        <Form form={form} name="setting" layout="vertical">
          <Form.Item
            name="value"
            label={t('settings.value')}
            rules={[
              { required: true, whitespace: true },
              ...(editing && isTimeOfDaySetting(editing)
                ? [{ pattern: TIME_OF_DAY, message: t('settings.timeOfDay') }]
                : typeof editing?.default === 'string'
                  ? [{ max: 200 }]
                  : []),
            ]}
            extra={
              editing
                ? `${t('settings.defaultIs', { value: String(editing.default) })}${
                    isTimeOfDaySetting(editing) ? `；${t('settings.timeOfDayHint')}` : ''
                  }`
                : undefined
            }
          >
            {typeof editing?.default === 'number' ? (
              <InputNumber min={0} style={{ width: '100%' }} />
            ) : (
              <Input
                placeholder={editing && isTimeOfDaySetting(editing) ? String(editing.default) : undefined}
                maxLength={editing && isTimeOfDaySetting(editing) ? 5 : 200}
                style={editing && isTimeOfDaySetting(editing) ? { width: 120 } : undefined}
                data-testid="setting-text"
              />
            )}
          </Form.Item>
          <Form.Item name="effectiveFrom" label={t('settings.effectiveFrom')} rules={[{ required: true }]}>
            <DateInput allowClear={false} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
