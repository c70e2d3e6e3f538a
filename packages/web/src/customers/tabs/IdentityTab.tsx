import { App, Button, Col, Form, Input, Radio, Row, Select, Space, Switch } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api } from '../../api';
import { useAuth } from '../../auth/AuthContext';
import { DateInput } from '../../components/DateInput';
import { useMeta } from '../../components/meta';
import { useErrorHandler } from '../../components/useErrorHandler';
import { bankAccountRule, creditCodeRule, idCardRule } from '../rules';
import { type CustomerDetail, NOTICE_DELIVERY } from '../types';

interface Values {
  officeId: number;
  kind: 'person' | 'organisation';
  name: string;
  idCardNo: string | null;
  creditCode: string | null;
  bankName: string;
  bankAccount: string;
  utility: string;
  connectedOn: string | null;
  largeUser: boolean;
  noticeDelivery: string;
  remarks: string;
}

/** Identity and account fields; saved with the version read, so a concurrent edit is refused. */
export function IdentityTab({ data, onChanged }: { data: CustomerDetail; onChanged: () => void }) {
  const { t } = useTranslation();
  const { me, can } = useAuth();
  const meta = useMeta();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const c = data.customer;
  const editable = can('customer.write');
  const kind = Form.useWatch('kind', form) ?? c.kind;

  const initial: Values = {
    officeId: c.office_id,
    kind: c.kind,
    name: c.name,
    idCardNo: c.id_card_no,
    creditCode: c.credit_code,
    bankName: c.bank_name,
    bankAccount: c.bank_account,
    utility: c.utility,
    connectedOn: c.connected_on,
    largeUser: c.large_user,
    noticeDelivery: c.notice_delivery,
    remarks: c.remarks,
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset only when a new version arrives.
  useEffect(() => form.setFieldsValue(initial), [c.version, c.account_id]);

  const save = async (values: Values) => {
    setBusy(true);
    try {
      await api(`/api/customers/${c.account_id}`, {
        method: 'PUT',
        body: {
          ...values,
          idCardNo: values.kind === 'person' ? values.idCardNo?.trim().toUpperCase() || null : null,
          creditCode: values.kind === 'organisation' ? values.creditCode?.trim().toUpperCase() || null : null,
          version: c.version,
        },
      });
      void message.success(t('common.saved'));
      onChanged();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'VERSION_CONFLICT') {
        modal.warning({
          title: t('customer.versionConflictTitle'),
          content: e.message,
          okText: t('common.reload'),
          onOk: onChanged,
        });
      } else {
        handle(e, form);
      }
    } finally {
      setBusy(false);
    }
  };

  // Offices a customer may be moved to: those the clerk works for (or all for org-wide roles).
  const offices = me?.offices ?? [];
  const officeOptions = offices.some((o) => o.officeId === c.office_id)
    ? offices.map((o) => ({ value: o.officeId, label: o.name }))
    : [
        { value: c.office_id, label: c.office_name },
        ...offices.map((o) => ({ value: o.officeId, label: o.name })),
      ];

  return (
    <Form<Values>
      form={form}
      name="identity"
      layout="vertical"
      initialValues={initial}
      onFinish={save}
      disabled={!editable}
      data-testid="identity-form"
    >
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item name="kind" label={t('customer.kind')}>
            <Radio.Group
              optionType="button"
              options={[
                { value: 'person', label: t('enum.kind.person') },
                { value: 'organisation', label: t('enum.kind.organisation') },
              ]}
            />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="name" label={t('customer.name')} rules={[{ required: true }, { max: 100 }]}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          {kind === 'person' ? (
            <Form.Item
              name="idCardNo"
              label={t('customer.idCardNo')}
              rules={[{ required: true, message: t('validation.idRequired') }, idCardRule]}
              validateFirst
            >
              <Input maxLength={18} />
            </Form.Item>
          ) : (
            <Form.Item
              name="creditCode"
              label={t('customer.creditCode')}
              rules={[{ required: true, message: t('validation.creditCodeRequired') }, creditCodeRule]}
              validateFirst
            >
              <Input maxLength={18} />
            </Form.Item>
          )}
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="officeId" label={t('customer.office')} rules={[{ required: true }]}>
            <Select options={officeOptions} />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="utility" label={t('customer.utility')}>
            <Select
              options={(meta?.utilities ?? [c.utility]).map((u) => ({
                value: u,
                label: t(`enum.utility.${u}`),
              }))}
            />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="connectedOn" label={t('customer.connectedOn')}>
            <DateInput notFuture />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="bankName" label={t('customer.bankName')} rules={[{ max: 60 }]}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={24} md={8}>
          <Form.Item name="bankAccount" label={t('customer.bankAccount')} rules={[bankAccountRule]}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={24} md={4}>
          <Form.Item name="noticeDelivery" label={t('customer.noticeDelivery')}>
            <Select
              options={NOTICE_DELIVERY.map((v) => ({ value: v, label: t(`enum.noticeDelivery.${v}`) }))}
            />
          </Form.Item>
        </Col>
        <Col xs={24} md={4}>
          <Form.Item name="largeUser" label={t('customer.largeUser')} valuePropName="checked">
            <Switch />
          </Form.Item>
        </Col>
        <Col span={24}>
          <Form.Item name="remarks" label={t('customer.remarks')} rules={[{ max: 500 }]}>
            <Input.TextArea rows={2} showCount maxLength={500} />
          </Form.Item>
        </Col>
      </Row>
      {editable && (
        <Space>
          <Button type="primary" htmlType="submit" loading={busy} data-testid="identity-save">
            {t('common.save')}
          </Button>
          <Button htmlType="button" onClick={() => form.setFieldsValue(initial)}>
            {t('common.reset')}
          </Button>
        </Space>
      )}
    </Form>
  );
}
