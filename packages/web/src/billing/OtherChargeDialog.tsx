import { formatFenAsYuan } from '@meterline/domain';
import { App, Form, Input, InputNumber, Modal, Select, Statistic } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, newUuid } from '../api';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { useBilingual } from './BillsTab';
import { type FeeRow, YUAN_TEXT, yuanTextToFen } from './FeeCataloguePage';

/**
 * 新增其他费用: charges a customer a fee from the catalogue (docs/billing.md "Late fees and other
 * charges"). The result is a bill of kind 'other' with one line. The Idempotency-Key is made when
 * the dialog opens, so a retried request (a double click, a lost reply) makes one bill.
 */

/** Fields the bills list adds for late fees and payments (GET /api/customers/:accountId/bills). */
export interface BillMoneyFields {
  paidFen?: number;
  unpaidFen?: number;
  lateFeeFen?: number;
  lateFeeDays?: number;
}

interface ChargeForm {
  feeCode: string;
  /** Unit amount in yuan as typed (server errors on `amountFen` land here). */
  amountFen: string;
  quantity: number;
  note: string;
}

interface ChargeResult {
  billId: number;
  billNo: string;
  amountFen: number;
}

export function OtherChargeDialog({
  accountId,
  open,
  onClose,
  onCharged,
}: {
  accountId: number;
  open: boolean;
  onClose: () => void;
  onCharged: (charge: ChargeResult) => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const text = useBilingual();
  const [form] = Form.useForm<ChargeForm>();
  const [busy, setBusy] = useState(false);
  const [key, setKey] = useState(newUuid);
  const fees = useApi<FeeRow[]>(open ? '/api/fee-catalogue' : null, { active: 'true' });
  const feeCode = Form.useWatch('feeCode', form);
  const amountText = Form.useWatch('amountFen', form);
  const quantity = Form.useWatch('quantity', form) ?? 1;
  const fee = fees.data?.find((f) => f.code === feeCode);

  // A new key for every opening: one dialog, one bill.
  useEffect(() => {
    if (open) setKey(newUuid());
  }, [open]);

  const typed = yuanTextToFen(amountText);
  const unitFen = typed ?? fee?.defaultAmountFen ?? null;
  const totalFen =
    unitFen !== null && Number.isSafeInteger(unitFen) && Number.isInteger(quantity)
      ? unitFen * quantity
      : null;

  const submit = async () => {
    const values = await validated(form);
    if (!values) return;
    setBusy(true);
    try {
      const amountFen = yuanTextToFen(values.amountFen);
      const charge = await api<ChargeResult>(`/api/customers/${accountId}/charges`, {
        method: 'POST',
        body: {
          feeCode: values.feeCode,
          ...(amountFen === null ? {} : { amountFen }),
          quantity: values.quantity ?? 1,
          ...(values.note?.trim() ? { note: values.note.trim() } : {}),
        },
        headers: { 'Idempotency-Key': `charge-${key}` },
      });
      void message.success(t('charges.charge.done', { billNo: charge.billNo }));
      form.resetFields();
      onCharged(charge);
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      title={t('charges.charge.title')}
      onCancel={onClose}
      onOk={() => void submit()}
      okText={t('charges.charge.submit')}
      cancelText={t('common.cancel')}
      confirmLoading={busy}
      okButtonProps={{ 'data-testid': 'charge-submit' } as never}
      destroyOnHidden
    >
      <Form<ChargeForm>
        form={form}
        layout="vertical"
        initialValues={{ quantity: 1 }}
        data-testid="charge-form"
      >
        <Form.Item name="feeCode" label={t('charges.charge.fee')} rules={[{ required: true }]}>
          <Select
            showSearch
            optionFilterProp="label"
            loading={fees.loading}
            options={(fees.data ?? []).map((f) => ({
              value: f.code,
              label: `${text(f.name)}${f.defaultAmountFen === null ? '' : ` ¥${formatFenAsYuan(f.defaultAmountFen)}`}`,
            }))}
            data-testid="charge-fee"
          />
        </Form.Item>
        <Form.Item
          name="amountFen"
          label={t('charges.charge.amount')}
          extra={t('charges.charge.amountHint')}
          rules={[{ pattern: YUAN_TEXT, message: t('charges.catalogue.amountFormat') }]}
        >
          <Input
            inputMode="decimal"
            prefix="¥"
            placeholder={fee?.defaultAmountFen == null ? '' : formatFenAsYuan(fee.defaultAmountFen)}
            data-testid="charge-amount"
          />
        </Form.Item>
        <Form.Item name="quantity" label={t('charges.charge.quantity')}>
          <InputNumber min={1} max={1000} precision={0} data-testid="charge-quantity" />
        </Form.Item>
        <Form.Item name="note" label={t('charges.charge.note')}>
          <Input maxLength={200} data-testid="charge-note" />
        </Form.Item>
        <Statistic
          title={t('charges.charge.total')}
          value={totalFen === null ? '—' : `¥${formatFenAsYuan(totalFen)}`}
          data-testid="charge-total"
        />
      </Form>
    </Modal>
  );
}
