import { formatFenAsYuan } from '@meterline/domain';
import { App, Descriptions, Form, Input, Modal } from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import type { BillRow } from './billTypes';

/**
 * Asks for the reason of a cancel-and-rebill (更正：作废重开) of one bill and sends the request; the
 * office manager approves it on the bill corrections page. A retry of the same request (one dialog)
 * carries the same Idempotency-Key.
 */
export function BillCorrectionDialog({
  bill,
  onClose,
  onRequested,
}: {
  bill: BillRow | null;
  onClose: () => void;
  onRequested: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<{ reason: string }>();
  const [busy, setBusy] = useState(false);
  // One key per bill the dialog is opened for: a retried send is recognised by the server.
  const key = useMemo(() => (bill ? `bill-correction-${bill.billId}-${Date.now()}` : ''), [bill]);

  const send = async () => {
    if (!bill) return;
    const values = await validated(form);
    if (!values) return;
    setBusy(true);
    try {
      await api(`/api/customers/${bill.accountId}/bills/${bill.billId}/corrections`, {
        method: 'POST',
        body: { reason: values.reason },
        headers: { 'Idempotency-Key': key },
      });
      void message.success(t('billCorrections.requested'));
      form.resetFields();
      onRequested();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={bill !== null}
      title={bill ? t('billCorrections.dialogTitle', { billNo: bill.billNo }) : ''}
      onOk={send}
      onCancel={() => {
        form.resetFields();
        onClose();
      }}
      confirmLoading={busy}
      okText={t('billCorrections.send')}
      cancelText={t('common.cancel')}
      forceRender
    >
      {bill && (
        <Descriptions size="small" column={1} style={{ marginBottom: 12 }}>
          <Descriptions.Item label={t('bills.period')}>
            {bill.periodFrom} ~ {bill.periodTo}
          </Descriptions.Item>
          <Descriptions.Item label={t('bills.amount')}>¥{formatFenAsYuan(bill.amountFen)}</Descriptions.Item>
        </Descriptions>
      )}
      <p style={{ marginTop: 0 }}>{t('billCorrections.dialogHint')}</p>
      <Form form={form} name="billCorrection" layout="vertical">
        <Form.Item
          name="reason"
          label={t('common.reason')}
          rules={[
            { required: true, whitespace: true, message: t('billCorrections.reasonRequired') },
            { max: 500 },
          ]}
        >
          <Input.TextArea rows={3} data-testid="bill-correction-reason" />
        </Form.Item>
      </Form>
    </Modal>
  );
}
