import { ArrowRightOutlined } from '@ant-design/icons';
import { App, Button, Form, Input, Modal, Space, Table, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api } from '../../api';
import { formatDateTime } from '../../components/format';
import { StateTag } from '../../components/StateTag';
import { useErrorHandler } from '../../components/useErrorHandler';
import type { CustomerDetail, StateChangeRow } from '../types';

/** The customer state, the transitions the rules allow (disabled where the role may not), history. */
export function StateTab({ data, onChanged }: { data: CustomerDetail; onChanged: () => void }) {
  const { t } = useTranslation();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<{ reason: string }>();
  const [target, setTarget] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const c = data.customer;

  const change = async () => {
    if (!target) return;
    const { reason } = await form.validateFields();
    setBusy(true);
    try {
      await api(`/api/customers/${c.account_id}/state`, {
        method: 'POST',
        body: { to: target, reason, version: c.version },
      });
      void message.success(t('state.changed', { state: t(`enum.state.${target}`) }));
      setTarget(null);
      onChanged();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'VERSION_CONFLICT') {
        setTarget(null);
        modal.warning({ title: t('customer.versionConflictTitle'), content: e.message, onOk: onChanged });
      } else handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Space direction="vertical" size="large" style={{ width: '100%' }}>
      <Space size="middle" wrap>
        <Typography.Text>{t('state.current')}</Typography.Text>
        <StateTag state={c.state} />
        <Typography.Text type="secondary">
          {t('state.since', { at: formatDateTime(c.state_changed_at) })}
        </Typography.Text>
      </Space>
      <div>
        <Typography.Title level={5}>{t('state.changeTo')}</Typography.Title>
        {data.transitions.length === 0 ? (
          <Typography.Text type="secondary">{t('state.final')}</Typography.Text>
        ) : (
          <Space wrap>
            {data.transitions.map((tr) => {
              const button = (
                <Button
                  key={tr.to}
                  disabled={!tr.allowed}
                  danger={tr.to === 'closed' || tr.to === 'sealed'}
                  onClick={() => {
                    form.resetFields();
                    setTarget(tr.to);
                  }}
                  data-testid={`transition-${tr.to}`}
                >
                  {t(`enum.state.${tr.to}`)}
                </Button>
              );
              return tr.allowed ? (
                button
              ) : (
                <Tooltip key={tr.to} title={t('state.notPermitted')}>
                  <span>{button}</span>
                </Tooltip>
              );
            })}
          </Space>
        )}
      </div>
      <Table<StateChangeRow>
        rowKey="change_id"
        size="small"
        pagination={{ pageSize: 10, hideOnSinglePage: true }}
        dataSource={data.stateChanges}
        locale={{ emptyText: t('state.noHistory') }}
        columns={[
          { title: t('common.time'), dataIndex: 'changed_at', width: 180, render: formatDateTime },
          {
            title: t('state.change'),
            key: 'change',
            width: 220,
            render: (_, s) => (
              <Space size={4}>
                <StateTag state={s.from_state} />
                <ArrowRightOutlined />
                <StateTag state={s.to_state} />
              </Space>
            ),
          },
          { title: t('common.reason'), dataIndex: 'reason' },
          { title: t('common.staff'), dataIndex: 'changed_by_name', width: 120 },
        ]}
      />
      <Modal
        open={target !== null}
        title={
          <Space>
            {t('state.changeTo')}
            {target && <StateTag state={target} />}
          </Space>
        }
        onOk={change}
        onCancel={() => setTarget(null)}
        confirmLoading={busy}
        okText={t('common.confirm')}
        cancelText={t('common.cancel')}
        forceRender
      >
        <Form form={form} name="stateChange" layout="vertical">
          <Form.Item name="reason" label={t('common.reason')} rules={[{ required: true }, { max: 500 }]}>
            <Input.TextArea rows={3} autoFocus />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
