import { EditOutlined, PlusOutlined, SaveOutlined, UndoOutlined } from '@ant-design/icons';
import {
  Alert,
  App,
  Button,
  Card,
  Checkbox,
  Form,
  Input,
  Modal,
  Space,
  Switch,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useMeta } from '../components/meta';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import type { RoleRow } from './types';

interface Draft {
  nameZh: string;
  nameEn: string;
  orgWide: boolean;
  permissions: string[];
}

const ORG_WIDE_ROW = '__orgWide';

function draftOf(r: RoleRow): Draft {
  return {
    nameZh: r.name_zh,
    nameEn: r.name_en,
    orgWide: r.org_wide,
    permissions: [...r.permissions].sort(),
  };
}

function same(a: Draft, b: Draft): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Roles × permissions as one checkbox matrix: tick what each role may do, then save the changed
 * roles together. The org-wide row lets a role see every office instead of its staff's own.
 */
export default function RolesPage() {
  const { t, i18n } = useTranslation();
  const meta = useMeta();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const roles = useApi<RoleRow[]>('/api/roles');
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  const [busy, setBusy] = useState(false);
  const [naming, setNaming] = useState<string | 'new' | null>(null);
  const [form] = Form.useForm();
  const en = i18n.language === 'en';

  useEffect(() => {
    if (roles.data) setDrafts(Object.fromEntries(roles.data.map((r) => [r.role_code, draftOf(r)])));
  }, [roles.data]);

  const original = useMemo(
    () => Object.fromEntries((roles.data ?? []).map((r) => [r.role_code, draftOf(r)])),
    [roles.data],
  );
  const changed = Object.keys(drafts).filter(
    (code) => original[code] && !same(drafts[code]!, original[code]!),
  );

  const toggle = (code: string, permission: string, on: boolean) =>
    setDrafts((d) => {
      const draft = d[code]!;
      if (permission === ORG_WIDE_ROW) return { ...d, [code]: { ...draft, orgWide: on } };
      const set = new Set(draft.permissions);
      if (on) set.add(permission);
      else set.delete(permission);
      return { ...d, [code]: { ...draft, permissions: [...set].sort() } };
    });

  const saveAll = async () => {
    setBusy(true);
    try {
      for (const code of changed) {
        await api(`/api/roles/${code}`, { method: 'PUT', body: drafts[code] });
      }
      void message.success(t('roles.saved', { count: changed.length }));
      roles.reload();
    } catch (e) {
      handle(e);
    } finally {
      setBusy(false);
    }
  };

  const openNaming = (code: string | 'new') => {
    form.resetFields();
    if (code === 'new')
      form.setFieldsValue({
        roleCode: '',
        nameZh: '',
        nameEn: '',
        orgWide: false,
        permissions: ['customer.read'],
      });
    else form.setFieldsValue({ nameZh: drafts[code]?.nameZh, nameEn: drafts[code]?.nameEn });
    setNaming(code);
  };

  const saveNaming = async () => {
    const values = await form.validateFields();
    setBusy(true);
    try {
      if (naming === 'new') {
        await api('/api/roles', { method: 'POST', body: values });
      } else if (naming) {
        await api(`/api/roles/${naming}`, { method: 'PUT', body: { ...drafts[naming], ...values } });
      }
      void message.success(t('common.saved'));
      setNaming(null);
      roles.reload();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const rows = [
    { code: ORG_WIDE_ROW, label: t('roles.orgWide') },
    ...(meta?.permissions ?? []).map((p) => ({ code: p.code, label: en ? p.label.en : p.label['zh-CN'] })),
  ];

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={4} className="page-title">
        {t('menu.roles')}
      </Typography.Title>
      <Space wrap>
        <Button
          type="primary"
          icon={<SaveOutlined />}
          disabled={changed.length === 0}
          loading={busy}
          onClick={saveAll}
        >
          {t('roles.saveChanges', { count: changed.length })}
        </Button>
        <Button
          icon={<UndoOutlined />}
          disabled={changed.length === 0}
          onClick={() => setDrafts(structuredClone(original))}
        >
          {t('common.reset')}
        </Button>
        <Button icon={<PlusOutlined />} onClick={() => openNaming('new')}>
          {t('roles.add')}
        </Button>
      </Space>
      {changed.length > 0 && <Alert type="info" showIcon message={t('roles.unsaved')} />}
      <Card styles={{ body: { padding: 0 } }}>
        <Table
          rowKey="code"
          size="small"
          pagination={false}
          loading={roles.loading}
          dataSource={rows}
          scroll={{ x: 'max-content' }}
          data-testid="roles-matrix"
          columns={[
            {
              title: t('roles.permission'),
              dataIndex: 'label',
              fixed: 'left',
              width: 260,
              render: (label: string, row) =>
                row.code === ORG_WIDE_ROW ? (
                  <Typography.Text strong>{label}</Typography.Text>
                ) : (
                  <Tooltip title={row.code}>{label}</Tooltip>
                ),
            },
            ...(roles.data ?? []).map((role) => ({
              key: role.role_code,
              align: 'center' as const,
              width: 110,
              title: (
                <Space direction="vertical" size={0}>
                  <Button
                    type="link"
                    size="small"
                    onClick={() => openNaming(role.role_code)}
                    icon={<EditOutlined />}
                  >
                    {en ? drafts[role.role_code]?.nameEn : drafts[role.role_code]?.nameZh}
                  </Button>
                  {changed.includes(role.role_code) && <Tag color="orange">{t('roles.modified')}</Tag>}
                  {!role.builtin && <Tag>{t('roles.custom')}</Tag>}
                </Space>
              ),
              render: (_: unknown, row: { code: string }) => {
                const draft = drafts[role.role_code];
                if (!draft) return null;
                const checked =
                  row.code === ORG_WIDE_ROW ? draft.orgWide : draft.permissions.includes(row.code);
                return (
                  <Checkbox
                    checked={checked}
                    onChange={(e) => toggle(role.role_code, row.code, e.target.checked)}
                    aria-label={`${role.role_code} ${row.code}`}
                  />
                );
              },
            })),
          ]}
        />
      </Card>
      <Modal
        open={naming !== null}
        title={naming === 'new' ? t('roles.add') : t('roles.rename')}
        onOk={saveNaming}
        onCancel={() => setNaming(null)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        forceRender
      >
        <Form form={form} name="role" layout="vertical">
          {naming === 'new' && (
            <Form.Item
              name="roleCode"
              label={t('roles.code')}
              rules={[{ required: true }, { max: 20 }, { pattern: /^[0-9A-Za-z_-]+$/ }]}
            >
              <Input />
            </Form.Item>
          )}
          <Form.Item name="nameZh" label={t('roles.nameZh')} rules={[{ required: true }, { max: 40 }]}>
            <Input />
          </Form.Item>
          <Form.Item name="nameEn" label={t('roles.nameEn')} rules={[{ required: true }, { max: 60 }]}>
            <Input />
          </Form.Item>
          {naming === 'new' && (
            <>
              <Form.Item name="orgWide" label={t('roles.orgWide')} valuePropName="checked">
                <Switch />
              </Form.Item>
              <Form.Item name="permissions" label={t('roles.permissions')}>
                <Checkbox.Group
                  style={{ display: 'flex', flexDirection: 'column', gap: 4 }}
                  options={(meta?.permissions ?? []).map((p) => ({
                    value: p.code,
                    label: en ? p.label.en : p.label['zh-CN'],
                  }))}
                />
              </Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </Space>
  );
}
