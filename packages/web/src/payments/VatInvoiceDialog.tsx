import { App, Form, Input, Modal } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { newKey } from './types';

interface BuyerForm {
  name: string;
  taxNo: string;
  address: string;
  phone: string;
  bank: string;
  bankAccount: string;
}

/** Asks for a VAT invoice (增值税发票) for a payment with the buyer's details; finance issues it. */
export function VatInvoiceDialog({
  accountId,
  paymentId,
  onClose,
}: {
  accountId: number;
  paymentId: number | null;
  onClose: (filed: boolean) => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<BuyerForm>();
  const [busy, setBusy] = useState(false);
  if (paymentId === null) return null;
  const submit = async () => {
    const buyer = await validated(form);
    if (!buyer) return;
    setBusy(true);
    try {
      await api(`/api/customers/${accountId}/vat-invoice-requests`, {
        method: 'POST',
        body: { paymentId, buyer },
        headers: { 'Idempotency-Key': newKey('vat') },
      });
      void message.success(t('pay.vat.filed'));
      form.resetFields();
      onClose(true);
    } catch (e) {
      handle(e, form, 'buyer.');
    } finally {
      setBusy(false);
    }
  };
  const required = [{ required: true, whitespace: true, message: t('pay.vat.required') }];
  return (
    <Modal
      open
      title={t('pay.vat.title')}
      onCancel={() => onClose(false)}
      onOk={submit}
      okText={t('pay.request.submit')}
      confirmLoading={busy}
      destroyOnHidden
    >
      <Form form={form} layout="vertical" name="vatInvoice">
        <Form.Item name="name" label={t('pay.vat.buyer')} rules={required}>
          <Input maxLength={100} />
        </Form.Item>
        <Form.Item name="taxNo" label={t('pay.vat.taxNo')} rules={required} extra={t('pay.vat.taxNoHint')}>
          <Input maxLength={18} />
        </Form.Item>
        <Form.Item name="address" label={t('pay.vat.address')} rules={required}>
          <Input maxLength={200} />
        </Form.Item>
        <Form.Item name="phone" label={t('pay.vat.phone')} rules={required}>
          <Input maxLength={40} />
        </Form.Item>
        <Form.Item name="bank" label={t('pay.vat.bank')} rules={required}>
          <Input maxLength={100} />
        </Form.Item>
        <Form.Item name="bankAccount" label={t('pay.vat.bankAccount')} rules={required}>
          <Input maxLength={30} inputMode="numeric" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
