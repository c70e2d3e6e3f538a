import { EditOutlined, PlusOutlined } from '@ant-design/icons';
import { FEE_KINDS, type FeeKind, fenToYuan, formatFenAsYuan, yuanToFen } from '@meterline/domain';
import {
  Alert,
  App,
  Button,
  Card,
  Form,
  Input,
  InputNumber,
  Modal,
  Select,
  Space,
  Switch,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { useBilingual } from './BillsTab';

/**
 * The fee catalogue (收费项目, docs/billing.md "Late fees and other charges"): the charges other
 * than consumption that clerks bill from the customer page. tariff.admin holders add and edit;
 * everyone else reads.
 */

/** GET /api/fee-catalogue */
export interface FeeRow {
  code: string;
  name: { 'zh-CN': string; en: string };
  kind: FeeKind;
  defaultAmountFen: number | null;
  taxable: boolean;
  active: boolean;
  sortOrder: number;
  revision: number;
  updatedAt: string;
}

interface FeeForm {
  code: string;
  nameZh: string;
  nameEn: string;
  kind: FeeKind;
  /** Yuan as typed; sent as fen (the server's field errors land here). */
  defaultAmountFen: string;
  taxable: boolean;
  active: boolean;
  sortOrder: number;
}

/** Yuan text → fen for the API: '' → null; a number the server then judges (negative, fractions of a fen). */
export function yuanTextToFen(text: string | undefined | null): number | null {
  const trimmed = (text ?? '').trim();
  if (trimmed === '') return null;
  const fen = yuanToFen(trimmed);
  return fen === null ? Number.NaN : Number(fen);
}

export const YUAN_TEXT = /^-?\d{1,7}(\.\d+)?$/;

function FeeDialog({
  editing,
  onClose,
  onSaved,
}: {
  editing: FeeRow | 'new' | null;
  onClose: () => void;
  onSaved: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<FeeForm>();
  const [busy, setBusy] = useState(false);
  const isNew = editing === 'new';
  const initial: Partial<FeeForm> =
    editing && editing !== 'new'
      ? {
          code: editing.code,
          nameZh: editing.name['zh-CN'],
          nameEn: editing.name.en,
          kind: editing.kind,
          defaultAmountFen:
            editing.defaultAmountFen === null ? '' : (fenToYuan(String(editing.defaultAmountFen)) ?? ''),
          taxable: editing.taxable,
          active: editing.active,
          sortOrder: editing.sortOrder,
        }
      : { kind: 'other', taxable: false, active: true, sortOrder: 100, defaultAmountFen: '' };

  const save = async () => {
    const values = await validated(form);
    if (!values || !editing) return;
    setBusy(true);
    try {
      const body = {
        name: { 'zh-CN': values.nameZh ?? '', en: values.nameEn ?? '' },
        kind: values.kind,
        defaultAmountFen: yuanTextToFen(values.defaultAmountFen),
        taxable: values.taxable,
        active: values.active,
        sortOrder: values.sortOrder ?? 0,
      };
      if (editing === 'new') {
        await api('/api/fee-catalogue', { method: 'POST', body: { ...body, code: values.code } });
      } else {
        await api(`/api/fee-catalogue/${encodeURIComponent(editing.code)}`, {
          method: 'PUT',
          body: { ...body, revision: editing.revision },
        });
      }
      void message.success(t('common.saved'));
      onSaved();
    } catch (e) {
      // The server's paths: name.zh-CN / name.en → the two name fields.
      if (e instanceof Error && 'fields' in e) {
        const fields = (e as { fields: { path: string }[] }).fields;
        for (const f of fields) {
          if (f.path === 'name.zh-CN') f.path = 'nameZh';
          if (f.path === 'name.en') f.path = 'nameEn';
        }
      }
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={editing !== null}
      title={isNew ? t('charges.catalogue.add') : t('charges.catalogue.edit')}
      onCancel={onClose}
      onOk={() => void save()}
      okText={t('common.save')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      destroyOnHidden
    >
      <Form<FeeForm>
        form={form}
        layout="vertical"
        initialValues={initial}
        preserve={false}
        data-testid="fee-form"
      >
        <Form.Item name="code" label={t('charges.catalogue.code')} rules={[{ required: true }]}>
          <Input disabled={!isNew} maxLength={30} data-testid="fee-code" />
        </Form.Item>
        <Form.Item name="nameZh" label={t('charges.catalogue.nameZh')}>
          <Input maxLength={40} data-testid="fee-name-zh" />
        </Form.Item>
        <Form.Item name="nameEn" label={t('charges.catalogue.nameEn')}>
          <Input maxLength={80} data-testid="fee-name-en" />
        </Form.Item>
        <Form.Item name="kind" label={t('charges.catalogue.kind')} rules={[{ required: true }]}>
          <Select
            options={FEE_KINDS.map((k) => ({ value: k, label: t(`charges.kind.${k}`) }))}
            data-testid="fee-kind"
          />
        </Form.Item>
        <Form.Item
          name="defaultAmountFen"
          label={t('charges.catalogue.defaultAmount')}
          extra={t('charges.catalogue.defaultAmountHint')}
          rules={[{ pattern: YUAN_TEXT, message: t('charges.catalogue.amountFormat') }]}
        >
          <Input inputMode="decimal" prefix="¥" data-testid="fee-amount" />
        </Form.Item>
        <Space size="large">
          <Form.Item name="taxable" label={t('charges.catalogue.taxable')} valuePropName="checked">
            <Switch />
          </Form.Item>
          <Form.Item name="active" label={t('charges.catalogue.active')} valuePropName="checked">
            <Switch />
          </Form.Item>
          <Form.Item name="sortOrder" label={t('charges.catalogue.sortOrder')}>
            <InputNumber min={0} max={10_000} precision={0} />
          </Form.Item>
        </Space>
      </Form>
    </Modal>
  );
}

export default function FeeCataloguePage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const text = useBilingual();
  const fees = useApi<FeeRow[]>('/api/fee-catalogue');
  const [editing, setEditing] = useState<FeeRow | 'new' | null>(null);
  const admin = can('tariff.admin');

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }} data-testid="fee-catalogue-page">
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('charges.catalogue.title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('charges.catalogue.hint')}</Typography.Paragraph>
      {!admin && <Alert type="info" showIcon message={t('charges.catalogue.readOnly')} />}
      {fees.error && <Alert type="error" showIcon message={fees.error.message} />}
      <Card
        size="small"
        extra={
          admin && (
            <Button
              type="primary"
              icon={<PlusOutlined />}
              onClick={() => setEditing('new')}
              data-testid="fee-add"
            >
              {t('charges.catalogue.add')}
            </Button>
          )
        }
      >
        <Table<FeeRow>
          rowKey="code"
          size="small"
          loading={fees.loading}
          dataSource={fees.data ?? []}
          pagination={false}
          data-testid="fee-table"
          columns={[
            { title: t('charges.catalogue.code'), dataIndex: 'code', width: 150 },
            { title: t('charges.catalogue.nameZh'), key: 'name', render: (_, f) => text(f.name) },
            {
              title: t('charges.catalogue.kind'),
              dataIndex: 'kind',
              width: 130,
              render: (k: FeeKind) => <Tag>{t(`charges.kind.${k}`)}</Tag>,
            },
            {
              title: t('charges.catalogue.defaultAmount'),
              dataIndex: 'defaultAmountFen',
              align: 'right',
              width: 150,
              render: (v: number | null) =>
                v === null ? (
                  <Typography.Text type="secondary">{t('charges.catalogue.perCharge')}</Typography.Text>
                ) : (
                  formatFenAsYuan(v)
                ),
            },
            {
              title: t('charges.catalogue.taxable'),
              dataIndex: 'taxable',
              width: 80,
              render: (v: boolean) => (v ? t('charges.catalogue.yes') : t('charges.catalogue.no')),
            },
            {
              title: t('charges.catalogue.active'),
              dataIndex: 'active',
              width: 80,
              render: (v: boolean) => (
                <Tag color={v ? 'green' : 'default'}>
                  {v ? t('charges.catalogue.yes') : t('charges.catalogue.no')}
                </Tag>
              ),
            },
            ...(admin
              ? [
                  {
                    title: t('common.actions'),
                    key: 'actions',
                    width: 90,
                    render: (_: unknown, f: FeeRow) => (
                      <Button
                        size="small"
                        icon={<EditOutlined />}
                        onClick={() => setEditing(f)}
                        data-testid={`fee-edit-${f.code}`}
                      >
                        {t('common.edit')}
                      </Button>
                    ),
                  },
                ]
              : []),
          ]}
        />
      </Card>
      <FeeDialog
        editing={editing}
        onClose={() => setEditing(null)}
        onSaved={() => {
          setEditing(null);
          fees.reload();
        }}
      />
    </Space>
  );
}
