import { Alert, App, Button, Card, DatePicker, Form, Input, Modal, Select, Space, Table, Tag } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { newKey } from './types';

interface Mandate {
  mandateId: number;
  bankCode: string;
  bankName: string;
  bankAccountNo: string;
  holderName: string;
  signedOn: string;
  status: 'active' | 'cancelled';
  cancelledOn: string | null;
}

interface MandateForm {
  bankCode: string;
  bankAccountNo: string;
  holderName: string;
  signedOn: Dayjs;
}

/** The customer's direct-debit mandates (代扣协议): sign one at the counter, or end it. */
export function MandateCard({ accountId, holderName }: { accountId: number; holderName?: string }) {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const data = useApi<{ items: Mandate[]; banks: { bankCode: string; name: Record<string, string> }[] }>(
    `/api/customers/${accountId}/debit-mandates`,
  );
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<MandateForm>();
  const items = data.data?.items ?? [];
  const active = items.find((m) => m.status === 'active');

  const sign = async () => {
    const v = await validated(form);
    if (!v) return;
    setBusy(true);
    try {
      await api(`/api/customers/${accountId}/debit-mandates`, {
        method: 'POST',
        body: { ...v, signedOn: v.signedOn.format('YYYY-MM-DD') },
        headers: { 'Idempotency-Key': newKey('mandate') },
      });
      void message.success(t('pay.mandate.signed'));
      setOpen(false);
      form.resetFields();
      data.reload();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };
  const cancel = (m: Mandate) =>
    modal.confirm({
      title: t('pay.mandate.cancelTitle'),
      content: `${m.bankName} ${m.bankAccountNo}`,
      okButtonProps: { danger: true },
      onOk: async () => {
        try {
          await api(`/api/customers/${accountId}/debit-mandates/${m.mandateId}/cancel`, {
            method: 'POST',
            headers: { 'Idempotency-Key': newKey('mandate-cancel') },
          });
          data.reload();
        } catch (e) {
          handle(e);
        }
      },
    });

  return (
    <Card
      size="small"
      title={t('pay.mandate.title')}
      data-testid="mandates"
      extra={
        can('payment.take') &&
        !active && (
          <Button size="small" onClick={() => setOpen(true)} data-testid="mandate-add">
            {t('pay.mandate.add')}
          </Button>
        )
      }
    >
      {data.error && <Alert type="error" showIcon message={data.error.message} />}
      <Table<Mandate>
        size="small"
        rowKey="mandateId"
        pagination={false}
        dataSource={items}
        locale={{ emptyText: t('pay.mandate.none') }}
        columns={[
          { title: t('pay.mandate.bank'), dataIndex: 'bankName' },
          { title: t('pay.vat.bankAccount'), dataIndex: 'bankAccountNo' },
          { title: t('pay.mandate.holder'), dataIndex: 'holderName' },
          { title: t('pay.mandate.signedOn'), dataIndex: 'signedOn' },
          {
            title: t('pay.list.status'),
            key: 's',
            render: (_, m) =>
              m.status === 'active' ? (
                <Space>
                  <Tag color="green">{t('pay.mandate.active')}</Tag>
                  {can('payment.take') && (
                    <Button size="small" type="link" danger onClick={() => cancel(m)}>
                      {t('pay.mandate.cancel')}
                    </Button>
                  )}
                </Space>
              ) : (
                <Tag>
                  {t('pay.mandate.cancelled')} {m.cancelledOn}
                </Tag>
              ),
          },
        ]}
      />
      <Modal
        open={open}
        title={t('pay.mandate.add')}
        onCancel={() => setOpen(false)}
        onOk={sign}
        confirmLoading={busy}
        destroyOnHidden
      >
        <Form<MandateForm>
          form={form}
          layout="vertical"
          name="mandate"
          initialValues={{ holderName, signedOn: dayjs() }}
        >
          <Form.Item
            name="bankCode"
            label={t('pay.mandate.bank')}
            rules={[{ required: true, message: t('pay.vat.required') }]}
          >
            <Select
              data-testid="mandate-bank"
              options={(data.data?.banks ?? []).map((b) => ({
                value: b.bankCode,
                label: `${b.name[i18n.language] ?? b.name['zh-CN']}（${b.bankCode}）`,
              }))}
            />
          </Form.Item>
          <Form.Item
            name="bankAccountNo"
            label={t('pay.vat.bankAccount')}
            rules={[{ required: true, whitespace: true, message: t('pay.vat.required') }]}
          >
            <Input inputMode="numeric" maxLength={40} data-testid="mandate-account" />
          </Form.Item>
          <Form.Item
            name="holderName"
            label={t('pay.mandate.holder')}
            rules={[{ required: true, whitespace: true }]}
          >
            <Input maxLength={50} />
          </Form.Item>
          <Form.Item name="signedOn" label={t('pay.mandate.signedOn')} rules={[{ required: true }]}>
            <DatePicker />
          </Form.Item>
        </Form>
      </Modal>
    </Card>
  );
}
