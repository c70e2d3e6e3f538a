import { EditOutlined, KeyOutlined, PlusOutlined, UnlockOutlined } from '@ant-design/icons';
import {
  App,
  Button,
  Card,
  Form,
  Input,
  Modal,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { phoneRule } from '../customers/rules';
import type { Page } from '../customers/types';
import type { OfficeRow, RoleRow, StaffRow } from './types';

interface Values {
  username?: string;
  password?: string;
  fullName: string;
  phone: string;
  roleCode: string;
  officeIds: number[];
  homeOfficeId: number;
  active: boolean;
}

const PAGE_SIZE = 20;

export default function StaffPage() {
  const { t, i18n } = useTranslation();
  const { can, me } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<Values>();
  const [resetForm] = Form.useForm<{ password: string }>();
  const [q, setQ] = useState('');
  const [officeId, setOfficeId] = useState<number | undefined>();
  const [roleCode, setRoleCode] = useState<string | undefined>();
  const [page, setPage] = useState(1);
  const [editing, setEditing] = useState<StaffRow | 'new' | null>(null);
  const [resetting, setResetting] = useState<StaffRow | null>(null);
  const [busy, setBusy] = useState(false);
  const staff = useApi<Page<StaffRow>>('/api/staff', { q, officeId, roleCode, page, pageSize: PAGE_SIZE });
  const offices = useApi<OfficeRow[]>('/api/offices');
  const roles = useApi<RoleRow[]>('/api/roles');
  const admin = can('staff.admin');
  const officeIdsSelected = Form.useWatch('officeIds', form) ?? [];

  const roleName = (code: string) => {
    const r = roles.data?.find((x) => x.role_code === code);
    return r ? (i18n.language === 'en' ? r.name_en : r.name_zh) : code;
  };
  const officeName = (id: number | null) =>
    offices.data?.find((o) => o.office_id === id)?.name ?? String(id ?? '—');
  const scopeOffices = (offices.data ?? []).filter((o) => o.in_scope);
  const officeOptions = scopeOffices.map((o) => ({ value: o.office_id, label: o.name }));

  const open = (row: StaffRow | 'new') => {
    setEditing(row);
    form.resetFields();
    form.setFieldsValue(
      row === 'new'
        ? {
            username: '',
            password: '',
            fullName: '',
            phone: '',
            roleCode: 'clerk',
            officeIds: me?.homeOfficeId ? [me.homeOfficeId] : [],
            homeOfficeId: me?.homeOfficeId ?? undefined,
            active: true,
          }
        : {
            fullName: row.full_name,
            phone: row.phone,
            roleCode: row.role_code,
            officeIds: row.office_ids,
            homeOfficeId: row.home_office_id ?? undefined,
            active: row.active,
          },
    );
  };

  const save = async () => {
    const values = await form.validateFields();
    setBusy(true);
    try {
      if (editing === 'new') await api('/api/staff', { method: 'POST', body: values });
      else if (editing)
        await api(`/api/staff/${editing.staff_id}`, {
          method: 'PUT',
          body: { ...values, version: editing.version },
        });
      void message.success(t('common.saved'));
      setEditing(null);
      staff.reload();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const resetPassword = async () => {
    if (!resetting) return;
    const values = await resetForm.validateFields();
    setBusy(true);
    try {
      await api(`/api/staff/${resetting.staff_id}/reset-password`, { method: 'POST', body: values });
      void message.success(t('staff.passwordReset', { name: resetting.full_name }));
      setResetting(null);
      staff.reload();
    } catch (e) {
      handle(e, resetForm);
    } finally {
      setBusy(false);
    }
  };

  const unlock = async (row: StaffRow) => {
    try {
      await api(`/api/staff/${row.staff_id}/unlock`, { method: 'POST' });
      void message.success(t('staff.unlocked', { name: row.full_name }));
      staff.reload();
    } catch (e) {
      handle(e);
    }
  };

  const isLocked = (row: StaffRow) => !!row.locked_until && new Date(row.locked_until).getTime() > Date.now();

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={4} className="page-title">
        {t('menu.staff')}
      </Typography.Title>
      <Card size="small">
        <Space wrap>
          <Input.Search
            allowClear
            placeholder={t('staff.searchPlaceholder')}
            style={{ width: 260 }}
            onSearch={(v) => {
              setQ(v);
              setPage(1);
            }}
          />
          <Select
            allowClear
            style={{ width: 180 }}
            placeholder={t('search.filter.officeId')}
            value={officeId}
            onChange={(v) => {
              setOfficeId(v);
              setPage(1);
            }}
            options={officeOptions}
          />
          <Select
            allowClear
            style={{ width: 200 }}
            placeholder={t('staff.role')}
            value={roleCode}
            onChange={(v) => {
              setRoleCode(v);
              setPage(1);
            }}
            options={(roles.data ?? []).map((r) => ({ value: r.role_code, label: roleName(r.role_code) }))}
          />
          {admin && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => open('new')}>
              {t('staff.add')}
            </Button>
          )}
        </Space>
      </Card>
      <Card styles={{ body: { padding: 0 } }}>
        <Table<StaffRow>
          rowKey="staff_id"
          size="middle"
          loading={staff.loading}
          dataSource={staff.data?.items ?? []}
          scroll={{ x: 1000 }}
          pagination={{
            current: page,
            pageSize: PAGE_SIZE,
            total: staff.data?.total ?? 0,
            showSizeChanger: false,
            onChange: setPage,
          }}
          columns={[
            { title: t('staff.username'), dataIndex: 'username', width: 120 },
            { title: t('staff.fullName'), dataIndex: 'full_name', width: 110 },
            { title: t('staff.phone'), dataIndex: 'phone', width: 130 },
            { title: t('staff.role'), dataIndex: 'role_code', render: roleName },
            { title: t('staff.homeOffice'), dataIndex: 'home_office_id', render: officeName },
            {
              title: t('staff.offices'),
              dataIndex: 'office_ids',
              render: (ids: number[]) => ids.map((id) => <Tag key={id}>{officeName(id)}</Tag>),
            },
            {
              title: t('staff.status'),
              key: 'status',
              render: (_, row) => (
                <Space size={2} wrap>
                  {row.active ? (
                    <Tag color="green">{t('staff.active')}</Tag>
                  ) : (
                    <Tag>{t('staff.inactive')}</Tag>
                  )}
                  {isLocked(row) && (
                    <Tooltip title={formatDateTime(row.locked_until)}>
                      <Tag color="red">{t('staff.locked')}</Tag>
                    </Tooltip>
                  )}
                  {row.must_change_password && <Tag color="orange">{t('staff.mustChange')}</Tag>}
                </Space>
              ),
            },
            ...(admin
              ? [
                  {
                    title: t('common.actions'),
                    key: 'actions',
                    width: 250,
                    render: (_: unknown, row: StaffRow) => (
                      <Space size={4} wrap>
                        <Button size="small" icon={<EditOutlined />} onClick={() => open(row)}>
                          {t('common.edit')}
                        </Button>
                        <Button
                          size="small"
                          icon={<KeyOutlined />}
                          onClick={() => {
                            resetForm.resetFields();
                            setResetting(row);
                          }}
                        >
                          {t('staff.resetPassword')}
                        </Button>
                        {isLocked(row) && (
                          <Button size="small" icon={<UnlockOutlined />} onClick={() => unlock(row)}>
                            {t('staff.unlock')}
                          </Button>
                        )}
                      </Space>
                    ),
                  },
                ]
              : []),
          ]}
        />
      </Card>
      <Modal
        open={editing !== null}
        title={editing === 'new' ? t('staff.add') : t('staff.edit', { name: editing?.full_name ?? '' })}
        onOk={save}
        onCancel={() => setEditing(null)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        forceRender
      >
        <Form form={form} name="staff" layout="vertical">
          {editing === 'new' && (
            <>
              <Form.Item
                name="username"
                label={t('staff.username')}
                rules={[{ required: true }, { max: 40 }]}
              >
                <Input autoComplete="off" />
              </Form.Item>
              <Form.Item
                name="password"
                label={t('staff.initialPassword')}
                rules={[{ required: true }]}
                extra={t('staff.initialPasswordHint')}
              >
                <Input.Password autoComplete="new-password" />
              </Form.Item>
            </>
          )}
          <Form.Item name="fullName" label={t('staff.fullName')} rules={[{ required: true }, { max: 40 }]}>
            <Input />
          </Form.Item>
          <Form.Item name="phone" label={t('staff.phone')} rules={[phoneRule]}>
            <Input />
          </Form.Item>
          <Form.Item name="roleCode" label={t('staff.role')} rules={[{ required: true }]}>
            <Select
              options={(roles.data ?? []).map((r) => ({ value: r.role_code, label: roleName(r.role_code) }))}
            />
          </Form.Item>
          <Form.Item name="officeIds" label={t('staff.offices')} rules={[{ required: true }]}>
            <Select mode="multiple" options={officeOptions} />
          </Form.Item>
          <Form.Item name="homeOfficeId" label={t('staff.homeOffice')} rules={[{ required: true }]}>
            <Select options={officeOptions.filter((o) => officeIdsSelected.includes(o.value))} />
          </Form.Item>
          <Form.Item name="active" label={t('staff.active')} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={resetting !== null}
        title={t('staff.resetPasswordFor', { name: resetting?.full_name ?? '' })}
        onOk={resetPassword}
        onCancel={() => setResetting(null)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        forceRender
      >
        <Form form={resetForm} name="staffPassword" layout="vertical">
          <Form.Item
            name="password"
            label={t('staff.newPassword')}
            rules={[{ required: true }]}
            extra={t('staff.initialPasswordHint')}
          >
            <Input.Password autoComplete="new-password" />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
