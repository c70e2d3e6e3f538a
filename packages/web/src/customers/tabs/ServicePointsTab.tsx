import { EditOutlined, PlusOutlined } from '@ant-design/icons';
import { formatAddress } from '@meterline/domain';
import { App, Button, Form, Input, Modal, Select, Switch, Table, Tag } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api';
import { useAuth } from '../../auth/AuthContext';
import { useMeta } from '../../components/meta';
import { useErrorHandler } from '../../components/useErrorHandler';
import type { CustomerDetail, ServicePointRow } from '../types';

interface Values {
  addressId: number;
  usageTypeCode: string;
  description: string;
  meterLocation: string;
  meterBoxNo: string;
  resettlement: boolean;
  active?: boolean;
}

/** Usage types (用水性质 / 用气性质) of one utility, in the UI language. */
export function useUsageTypeOptions(utility: string | undefined) {
  const meta = useMeta();
  const { i18n } = useTranslation();
  return (meta?.usageTypes ?? [])
    .filter((u) => !utility || u.utility === utility)
    .map((u) => ({ value: u.code, label: i18n.language === 'en' ? u.name_en : u.name_zh }));
}

export function ServicePointsTab({ data, onChanged }: { data: CustomerDetail; onChanged: () => void }) {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<Values>();
  const [editing, setEditing] = useState<ServicePointRow | 'new' | null>(null);
  const [busy, setBusy] = useState(false);
  const usageOptions = useUsageTypeOptions(data.customer.utility);
  const base = `/api/customers/${data.customer.account_id}/service-points`;
  const editable = can('customer.write');
  const addressOptions = data.addresses.map((a) => ({ value: a.address_id, label: formatAddress(a) }));
  const addressText = (id: number) => addressOptions.find((a) => a.value === id)?.label ?? String(id);

  const open = (row: ServicePointRow | 'new') => {
    setEditing(row);
    form.resetFields();
    form.setFieldsValue(
      row === 'new'
        ? {
            addressId: data.addresses[0]?.address_id,
            usageTypeCode: undefined,
            description: '',
            meterLocation: '',
            meterBoxNo: '',
            resettlement: false,
          }
        : {
            addressId: row.address_id,
            usageTypeCode: row.usage_type_code,
            description: row.description,
            meterLocation: row.meter_location,
            meterBoxNo: row.meter_box_no,
            resettlement: row.resettlement,
            active: row.active,
          },
    );
  };

  const save = async () => {
    const values = await form.validateFields();
    setBusy(true);
    try {
      if (editing === 'new') await api(base, { method: 'POST', body: values });
      else if (editing) await api(`${base}/${editing.service_point_id}`, { method: 'PUT', body: values });
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
          {t('servicePoint.add')}
        </Button>
      )}
      <Table<ServicePointRow>
        rowKey="service_point_id"
        size="small"
        pagination={false}
        dataSource={data.servicePoints}
        scroll={{ x: 900 }}
        columns={[
          { title: t('servicePoint.id'), dataIndex: 'service_point_id', width: 70 },
          {
            title: t('servicePoint.usageType'),
            key: 'usage',
            render: (_, sp) => (i18n.language === 'en' ? sp.usage_name_en : sp.usage_name_zh),
          },
          {
            title: t('servicePoint.address'),
            dataIndex: 'address_id',
            render: (id: number) => addressText(id),
          },
          { title: t('servicePoint.meterLocation'), dataIndex: 'meter_location' },
          { title: t('servicePoint.meterBoxNo'), dataIndex: 'meter_box_no' },
          { title: t('servicePoint.description'), dataIndex: 'description' },
          {
            title: t('servicePoint.flags'),
            key: 'flags',
            render: (_, sp) => (
              <>
                {sp.resettlement && <Tag>{t('servicePoint.resettlement')}</Tag>}
                {!sp.active && <Tag color="red">{t('servicePoint.inactive')}</Tag>}
              </>
            ),
          },
          ...(editable
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  width: 90,
                  render: (_: unknown, row: ServicePointRow) => (
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
        title={editing === 'new' ? t('servicePoint.add') : t('servicePoint.edit')}
        onOk={save}
        onCancel={() => setEditing(null)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        forceRender
      >
        <Form form={form} name="servicePoint" layout="vertical">
          <Form.Item name="addressId" label={t('servicePoint.address')} rules={[{ required: true }]}>
            <Select options={addressOptions} />
          </Form.Item>
          <Form.Item name="usageTypeCode" label={t('servicePoint.usageType')} rules={[{ required: true }]}>
            <Select options={usageOptions} />
          </Form.Item>
          <Form.Item name="meterLocation" label={t('servicePoint.meterLocation')} rules={[{ max: 60 }]}>
            <Input />
          </Form.Item>
          <Form.Item name="meterBoxNo" label={t('servicePoint.meterBoxNo')} rules={[{ max: 30 }]}>
            <Input />
          </Form.Item>
          <Form.Item name="description" label={t('servicePoint.description')} rules={[{ max: 120 }]}>
            <Input />
          </Form.Item>
          <Form.Item name="resettlement" label={t('servicePoint.resettlement')} valuePropName="checked">
            <Switch />
          </Form.Item>
          {editing !== 'new' && (
            <Form.Item name="active" label={t('servicePoint.active')} valuePropName="checked">
              <Switch />
            </Form.Item>
          )}
        </Form>
      </Modal>
    </>
  );
}
