import { todayInChina, yuanToFen } from '@meterline/domain';
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
  Table,
  Typography,
} from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api';
import { useAuth } from '../../auth/AuthContext';
import { yuan } from '../../billing/money';
import { type Dispute, ReviewDisputeModal, useDisputeColumns } from '../../collections/DisputesPage';
import { type Agreement, useAgreementActions, useAgreementColumns } from '../../collections/InstallmentsPage';
import { DateInput } from '../../components/DateInput';
import { useApi } from '../../components/useApi';
import { useErrorHandler } from '../../components/useErrorHandler';
import { type AccountPosition, newKey } from '../../payments/types';

/**
 * The customer's disputes (水费异议) and installment agreements (还欠协议), with what is held out
 * of escalation now; the counter records a dispute or requests an agreement here (docs/arrears.md).
 */
export function ArrearsTab({ accountId }: { accountId: number }) {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const lang = i18n.language === 'en' ? 'en' : 'zh-CN';
  const holds = useApi<{ items: { billId: number | null; heldFen: number; kind: string; refId: number }[] }>(
    `/api/customers/${accountId}/collection-holds`,
  );
  const disputes = useApi<{ items: Dispute[] }>(`/api/customers/${accountId}/disputes`);
  const agreements = useApi<{ items: Agreement[] }>(`/api/customers/${accountId}/installments`);
  const position = useApi<AccountPosition>(
    can('collection.dispute') ? `/api/customers/${accountId}/account` : null,
  );
  const categories = useApi<{ items: { code: string; name: { 'zh-CN': string; en: string } }[] }>(
    '/api/dispute-categories',
  );
  const reload = () => {
    holds.reload();
    disputes.reload();
    agreements.reload();
    position.reload();
  };
  const [reviewing, setReviewing] = useState<Dispute | null>(null);
  const disputeColumns = useDisputeColumns(setReviewing, false);
  const { actions, modalNode } = useAgreementActions(reload);
  const agreementColumns = useAgreementColumns(actions, false);

  const [disputeOpen, setDisputeOpen] = useState(false);
  const [agreementOpen, setAgreementOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [dForm] = Form.useForm();
  const [aForm] = Form.useForm();

  const saveDispute = async () => {
    const v = await dForm.validateFields();
    const bills = (position.data?.openBills ?? [])
      .map((b, i) => ({ billId: Number(b.billId), text: v[`bill_${i}`] as string | undefined }))
      .filter((b) => b.text && b.text.trim() !== '')
      .map((b) => ({ billId: b.billId, disputedFen: Number(yuanToFen(b.text!.trim()) ?? Number.NaN) }));
    const body: Record<string, unknown> = {
      category: v.category,
      description: v.description,
      claim: v.claim,
    };
    if (bills.length) body.bills = bills;
    else if (v.amount) body.disputedFen = Number(yuanToFen(String(v.amount).trim()) ?? Number.NaN);
    setBusy(true);
    try {
      await api(`/api/customers/${accountId}/disputes`, {
        method: 'POST',
        body,
        headers: { 'Idempotency-Key': newKey('dispute') },
      });
      void message.success(t('disputes.recorded'));
      setDisputeOpen(false);
      dForm.resetFields();
      reload();
    } catch (e) {
      handle(e, dForm);
    } finally {
      setBusy(false);
    }
  };

  const saveAgreement = async () => {
    const v = await aForm.validateFields();
    setBusy(true);
    try {
      await api(`/api/customers/${accountId}/installments`, {
        method: 'POST',
        body: {
          count: v.count,
          firstDueOn: v.firstDueOn,
          intervalMonths: v.intervalMonths,
          reason: v.reason ?? '',
        },
        headers: { 'Idempotency-Key': newKey('installment') },
      });
      void message.success(t('installments.requested'));
      setAgreementOpen(false);
      aForm.resetFields();
      reload();
    } catch (e) {
      handle(e, aForm);
    } finally {
      setBusy(false);
    }
  };

  const heldTotal = (holds.data?.items ?? []).reduce((s, h) => s + h.heldFen, 0);
  const overdue = (position.data?.openBills ?? []).filter((b) => b.dueOn < todayInChina());

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      {heldTotal > 0 ? (
        <Alert type="info" showIcon message={t('arrearsTab.held', { yuan: yuan(heldTotal) })} />
      ) : (
        <Typography.Text type="secondary">{t('arrearsTab.nothingHeld')}</Typography.Text>
      )}
      <Card
        size="small"
        title={t('disputes.title')}
        extra={
          can('collection.dispute') && (
            <Button size="small" onClick={() => setDisputeOpen(true)} data-testid="new-dispute">
              {t('disputes.new')}
            </Button>
          )
        }
      >
        <Table<Dispute>
          size="small"
          rowKey="disputeId"
          loading={disputes.loading}
          columns={disputeColumns}
          dataSource={disputes.data?.items ?? []}
          pagination={false}
        />
      </Card>
      <Card
        size="small"
        title={t('installments.title')}
        extra={
          can('collection.dispute') && (
            <Button size="small" onClick={() => setAgreementOpen(true)} data-testid="new-installment">
              {t('installments.new')}
            </Button>
          )
        }
      >
        <Table<Agreement>
          size="small"
          rowKey="agreementId"
          loading={agreements.loading}
          columns={agreementColumns}
          dataSource={agreements.data?.items ?? []}
          pagination={false}
        />
      </Card>
      <ReviewDisputeModal
        dispute={reviewing}
        onClose={() => setReviewing(null)}
        onDone={() => {
          setReviewing(null);
          reload();
        }}
      />
      {modalNode}
      <Modal
        open={disputeOpen}
        title={t('disputes.new')}
        onCancel={() => setDisputeOpen(false)}
        onOk={saveDispute}
        confirmLoading={busy}
        okButtonProps={{ 'data-testid': 'dispute-ok' } as never}
        width={640}
      >
        <Form form={dForm} layout="vertical">
          <Form.Item name="category" label={t('disputes.category')} rules={[{ required: true }]}>
            <Select
              data-testid="dispute-category"
              options={(categories.data?.items ?? []).map((c) => ({ value: c.code, label: c.name[lang] }))}
            />
          </Form.Item>
          <Form.Item name="description" label={t('disputes.description')} rules={[{ required: true }]}>
            <Input.TextArea rows={2} maxLength={1000} data-testid="dispute-description" />
          </Form.Item>
          <Form.Item name="claim" label={t('disputes.claimLabel')} rules={[{ required: true }]}>
            <Input.TextArea rows={2} maxLength={1000} data-testid="dispute-claim" />
          </Form.Item>
          <Typography.Text type="secondary">{t('disputes.billsHint')}</Typography.Text>
          {(position.data?.openBills ?? []).map((b, i) => (
            <Form.Item
              key={b.billId}
              name={`bill_${i}`}
              label={`${b.period} ${b.billNo} · ${t('disputes.owes', { yuan: yuan(b.unpaidFen) })}`}
              style={{ marginBottom: 8 }}
            >
              <Input addonAfter="元" placeholder="0.00" data-testid={`dispute-bill-${i}`} />
            </Form.Item>
          ))}
          <Form.Item name="amount" label={t('disputes.accountAmount')}>
            <Input addonAfter="元" placeholder="0.00" />
          </Form.Item>
        </Form>
      </Modal>
      <Modal
        open={agreementOpen}
        title={t('installments.new')}
        onCancel={() => setAgreementOpen(false)}
        onOk={saveAgreement}
        confirmLoading={busy}
        okButtonProps={{ 'data-testid': 'installment-ok' } as never}
      >
        <Typography.Paragraph>
          {t('installments.covers', {
            n: overdue.length,
            yuan: yuan(overdue.reduce((s, b) => s + b.unpaidFen, 0)),
          })}
        </Typography.Paragraph>
        <Form
          form={aForm}
          layout="vertical"
          initialValues={{ count: 3, intervalMonths: 1, firstDueOn: todayInChina() }}
        >
          <Form.Item name="count" label={t('installments.countLabel')} rules={[{ required: true }]}>
            <InputNumber min={1} max={36} precision={0} />
          </Form.Item>
          <Form.Item name="firstDueOn" label={t('installments.firstDueOn')} rules={[{ required: true }]}>
            <DateInput allowClear={false} />
          </Form.Item>
          <Form.Item name="intervalMonths" label={t('installments.interval')} rules={[{ required: true }]}>
            <InputNumber min={1} max={3} precision={0} />
          </Form.Item>
          <Form.Item name="reason" label={t('installments.reason')}>
            <Input.TextArea rows={2} maxLength={500} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
