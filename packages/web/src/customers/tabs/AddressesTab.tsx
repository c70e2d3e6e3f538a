import { EditOutlined, PlusOutlined } from '@ant-design/icons';
import { formatAddress } from '@meterline/domain';
import { App, Button, Form, Modal, Table, Tag } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api';
import { useAuth } from '../../auth/AuthContext';
import { useErrorHandler } from '../../components/useErrorHandler';
import { AddressFields, EMPTY_ADDRESS } from '../AddressFields';
import type { AddressRow, CustomerDetail } from '../types';

type Values = typeof EMPTY_ADDRESS;

export function AddressesTab({ data, onChanged }: { data: CustomerDetail; onChanged: () => void }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<Values>();
  const [editing, setEditing] = useState<AddressRow | 'new' | null>(null);
  const [busy, setBusy] = useState(false);
  const base = `/api/customers/${data.customer.account_id}/addresses`;
  const editable = can('customer.write');

  const open = (row: AddressRow | 'new') => {
    setEditing(row);
    form.resetFields();
    form.setFieldsValue(row === 'new' ? { ...EMPTY_ADDRESS, kind: 'mailing' } : row);
  };

  const save = async () => {
    const values = await form.validateFields();
    setBusy(true);
    try {
      const body = { ...EMPTY_ADDRESS, ...values, floor: values.floor ?? null };
      if (editing === 'new') await api(base, { method: 'POST', body });
      else if (editing) await api(`${base}/${editing.address_id}`, { method: 'PUT', body });
      void message.success(t('common.saved'));
      setEditing(null);
      onChanged();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      {editable && (
        <Button icon={<PlusOutlined />} onClick={() => open('new')} style={{ marginBottom: 12 }}>
          {t('address.add')}
        </Button>
      )}
      <Table<AddressRow>
        rowKey="address_id"
        size="small"
        pagination={false}
        dataSource={data.addresses}
        scroll={{ x: 900 }}
        columns={[
          {
            title: t('address.kind'),
            dataIndex: 'kind',
            width: 90,
            render: (k: string) => (
              <Tag color={k === 'supply' ? 'blue' : undefined}>{t(`enum.addressKind.${k}`)}</Tag>
            ),
          },
          { title: t('address.full'), key: 'full', render: (_, a) => formatAddress(a) },
          { title: t('address.district'), dataIndex: 'district' },
          { title: t('address.community'), dataIndex: 'community' },
          { title: t('address.building'), dataIndex: 'building', width: 70 },
          { title: t('address.unit'), dataIndex: 'unit', width: 70 },
          { title: t('address.door'), dataIndex: 'door', width: 70 },
          { title: t('address.floor'), dataIndex: 'floor', width: 60 },
          ...(editable
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  width: 90,
                  render: (_: unknown, row: AddressRow) => (
                    <Button size="small" icon={<EditOutlined />} onClick={() => open(row)}>
                      {t('common.edit')}
                    </Button>
                  ),
                },
              ]
            : []),
        ]}
      />
      <Modal
        open={editing !== null}
        title={editing === 'new' ? t('address.add') : t('address.edit')}
        onOk={save}
        onCancel={() => setEditing(null)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        width={720}
        forceRender
      >
        <Form form={form} name="address" layout="vertical">
          <AddressFields form={form} showKind />
        </Form>
      </Modal>
    </>
  );
}
