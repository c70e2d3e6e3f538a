import { DeleteOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import { App, Button, Checkbox, Form, Input, Modal, Popconfirm, Select, Space, Table, Tag } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api';
import { useAuth } from '../../auth/AuthContext';
import { useErrorHandler } from '../../components/useErrorHandler';
import { phoneRule } from '../rules';
import { CONTACT_RELATIONS, type ContactRow, type CustomerDetail } from '../types';

interface Values {
  name: string;
  relation: string;
  phone: string;
  isPrimary: boolean;
  remarks: string;
}

export function ContactsTab({ data, onChanged }: { data: CustomerDetail; onChanged: () => void }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<Values>();
  const [editing, setEditing] = useState<ContactRow | 'new' | null>(null);
  const [busy, setBusy] = useState(false);
  const base = `/api/customers/${data.customer.account_id}/contacts`;
  const editable = can('customer.write');

  const open = (row: ContactRow | 'new') => {
    setEditing(row);
    form.setFieldsValue(
      row === 'new'
        ? { name: '', relation: 'self', phone: '', isPrimary: false, remarks: '' }
        : {
            name: row.name,
            relation: row.relation,
            phone: row.phone,
            isPrimary: row.is_primary,
            remarks: row.remarks,
          },
    );
  };

  const save = async () => {
    const values = await form.validateFields();
    setBusy(true);
    try {
      if (editing === 'new') await api(base, { method: 'POST', body: values });
      else if (editing) await api(`${base}/${editing.contact_id}`, { method: 'PUT', body: values });
      void message.success(t('common.saved'));
      setEditing(null);
      onChanged();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const remove = async (row: ContactRow) => {
    try {
      await api(`${base}/${row.contact_id}`, { method: 'DELETE' });
      void message.success(t('common.deleted'));
      onChanged();
    } catch (e) {
      handle(e);
    }
  };

  return (
    <>
      {editable && (
        <Button icon={<PlusOutlined />} onClick={() => open('new')} style={{ marginBottom: 12 }}>
          {t('contact.add')}
        </Button>
      )}
      <Table<ContactRow>
        rowKey="contact_id"
        size="small"
        pagination={false}
        dataSource={data.contacts}
        data-testid="contacts-table"
        columns={[
          {
            title: t('contact.name'),
            dataIndex: 'name',
            render: (name: string, row) => (
              <Space>
                {name || '—'}
                {row.is_primary && <Tag color="blue">{t('contact.primary')}</Tag>}
              </Space>
            ),
          },
          {
            title: t('contact.relation'),
            dataIndex: 'relation',
            render: (r: string) => t(`enum.relation.${r}`),
          },
          { title: t('contact.phone'), dataIndex: 'phone' },
          { title: t('contact.remarks'), dataIndex: 'remarks' },
          ...(editable
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  width: 160,
                  render: (_: unknown, row: ContactRow) => (
                    <Space>
                      <Button size="small" icon={<EditOutlined />} onClick={() => open(row)}>
                        {t('common.edit')}
                      </Button>
                      <Popconfirm title={t('contact.confirmDelete')} onConfirm={() => remove(row)}>
                        <Button
                          size="small"
                          danger
                          icon={<DeleteOutlined />}
                          aria-label={t('common.delete')}
                        />
                      </Popconfirm>
                    </Space>
                  ),
                },
              ]
            : []),
        ]}
      />
      <Modal
        open={editing !== null}
        title={editing === 'new' ? t('contact.add') : t('contact.edit')}
        onOk={save}
        onCancel={() => setEditing(null)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        forceRender
      >
        <Form form={form} name="contact" layout="vertical" data-testid="contact-form">
          <Form.Item name="name" label={t('contact.name')} rules={[{ max: 50 }]}>
            <Input />
          </Form.Item>
          <Form.Item name="relation" label={t('contact.relation')}>
            <Select options={CONTACT_RELATIONS.map((r) => ({ value: r, label: t(`enum.relation.${r}`) }))} />
          </Form.Item>
          <Form.Item
            name="phone"
            label={t('contact.phone')}
            rules={[{ required: true }, phoneRule]}
            validateFirst
          >
            <Input />
          </Form.Item>
          <Form.Item name="isPrimary" valuePropName="checked">
            <Checkbox>{t('contact.primary')}</Checkbox>
          </Form.Item>
          <Form.Item name="remarks" label={t('contact.remarks')} rules={[{ max: 200 }]}>
            <Input />
          </Form.Item>
        </Form>
      </Modal>
    </>
  );
}
