import { EditOutlined, PlusOutlined } from '@ant-design/icons';
import { App, Button, Card, Form, Input, Modal, Select, Space, Switch, Table, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import type { BranchRow, OfficeRow } from './types';

type Editing = { kind: 'branch'; row: BranchRow | null } | { kind: 'office'; row: OfficeRow | null } | null;

const CODE_RULE = { pattern: /^[0-9A-Za-z_-]+$/ };

/** Branches (分公司) and their business offices (营业所). */
export default function OfficesPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm();
  const branches = useApi<BranchRow[]>('/api/branches');
  const offices = useApi<OfficeRow[]>('/api/offices');
  const [editing, setEditing] = useState<Editing>(null);
  const [busy, setBusy] = useState(false);

  const open = (e: NonNullable<Editing>) => {
    form.resetFields();
    if (e.kind === 'branch') form.setFieldsValue(e.row ?? { code: '', name: '', active: true });
    else
      form.setFieldsValue(
        e.row
          ? {
              branchId: e.row.branch_id,
              code: e.row.code,
              name: e.row.name,
              address: e.row.address,
              phone: e.row.phone,
              active: e.row.active,
            }
          : {
              branchId: branches.data?.[0]?.branch_id,
              code: '',
              name: '',
              address: '',
              phone: '',
              active: true,
            },
      );
    setEditing(e);
  };

  const save = async () => {
    if (!editing) return;
    const values = await form.validateFields();
    setBusy(true);
    try {
      if (editing.kind === 'branch') {
        const body = { code: values.code, name: values.name, active: values.active };
        if (editing.row) await api(`/api/branches/${editing.row.branch_id}`, { method: 'PUT', body });
        else await api('/api/branches', { method: 'POST', body });
        branches.reload();
      } else {
        if (editing.row) await api(`/api/offices/${editing.row.office_id}`, { method: 'PUT', body: values });
        else await api('/api/offices', { method: 'POST', body: values });
      }
      offices.reload();
      void message.success(t('common.saved'));
      setEditing(null);
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const activeTag = (active: boolean) =>
    active ? <Tag color="green">{t('staff.active')}</Tag> : <Tag>{t('staff.inactive')}</Tag>;

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={4} className="page-title">
        {t('menu.offices')}
      </Typography.Title>
      <Card
        title={t('offices.branches')}
        size="small"
        extra={
          <Button icon={<PlusOutlined />} onClick={() => open({ kind: 'branch', row: null })}>
            {t('offices.addBranch')}
          </Button>
        }
      >
        <Table<BranchRow>
          rowKey="branch_id"
          size="small"
          pagination={false}
          loading={branches.loading}
          dataSource={branches.data ?? []}
          columns={[
            { title: t('offices.code'), dataIndex: 'code', width: 120 },
            { title: t('offices.name'), dataIndex: 'name' },
            { title: t('staff.status'), dataIndex: 'active', width: 100, render: activeTag },
            {
              title: t('common.actions'),
              key: 'a',
              width: 100,
              render: (_, row) => (
                <Button size="small" icon={<EditOutlined />} onClick={() => open({ kind: 'branch', row })}>
                  {t('common.edit')}
                </Button>
              ),
            },
          ]}
        />
      </Card>
      <Card
        title={t('offices.offices')}
        size="small"
        extra={
          <Button type="primary" icon={<PlusOutlined />} onClick={() => open({ kind: 'office', row: null })}>
            {t('offices.addOffice')}
          </Button>
        }
      >
        <Table<OfficeRow>
          rowKey="office_id"
          size="small"
          pagination={false}
          loading={offices.loading}
          dataSource={offices.data ?? []}
          columns={[
            { title: t('offices.code'), dataIndex: 'code', width: 90 },
            { title: t('offices.name'), dataIndex: 'name' },
            { title: t('offices.branch'), dataIndex: 'branch_name' },
            { title: t('offices.address'), dataIndex: 'address' },
            { title: t('offices.phone'), dataIndex: 'phone', width: 140 },
            { title: t('offices.staffCount'), dataIndex: 'staff_count', width: 80, align: 'right' },
            { title: t('staff.status'), dataIndex: 'active', width: 90, render: activeTag },
            {
              title: t('common.actions'),
              key: 'a',
              width: 100,
              render: (_, row) => (
                <Button size="small" icon={<EditOutlined />} onClick={() => open({ kind: 'office', row })}>
                  {t('common.edit')}
                </Button>
              ),
            },
          ]}
        />
      </Card>
      <Modal
        open={editing !== null}
        title={
          editing?.kind === 'branch'
            ? editing.row
              ? t('offices.editBranch')
              : t('offices.addBranch')
            : editing?.row
              ? t('offices.editOffice')
              : t('offices.addOffice')
        }
        onOk={save}
        onCancel={() => setEditing(null)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        forceRender
      >
        <Form form={form} name="office" layout="vertical">
          {editing?.kind === 'office' && (
            <Form.Item name="branchId" label={t('offices.branch')} rules={[{ required: true }]}>
              <Select options={(branches.data ?? []).map((b) => ({ value: b.branch_id, label: b.name }))} />
            </Form.Item>
          )}
          <Form.Item
            name="code"
            label={t('offices.code')}
            rules={[{ required: true }, { max: 20 }, CODE_RULE]}
          >
            <Input />
          </Form.Item>
          <Form.Item name="name" label={t('offices.name')} rules={[{ required: true }, { max: 60 }]}>
            <Input />
          </Form.Item>
          {editing?.kind === 'office' && (
            <>
              <Form.Item name="address" label={t('offices.address')} rules={[{ max: 200 }]}>
                <Input />
              </Form.Item>
              <Form.Item name="phone" label={t('offices.phone')} rules={[{ max: 40 }]}>
                <Input />
              </Form.Item>
            </>
          )}
          <Form.Item name="active" label={t('staff.active')} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
