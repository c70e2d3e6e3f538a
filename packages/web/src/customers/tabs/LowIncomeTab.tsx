import { App, Button, Col, Form, Input, Row, Switch } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError, api } from '../../api';
import { useAuth } from '../../auth/AuthContext';
import { DateInput } from '../../components/DateInput';
import { useMeta } from '../../components/meta';
import { useErrorHandler } from '../../components/useErrorHandler';
import { volumeRule } from '../rules';
import type { CustomerDetail } from '../types';

interface Values {
  lowIncome: boolean;
  reductionM3: string;
  certNo: string;
  validUntil: string | null;
}

/** Low-income household (低保户): the monthly volume reduction shown on the bill notice. */
export function LowIncomeTab({ data, onChanged }: { data: CustomerDetail; onChanged: () => void }) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const meta = useMeta();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const c = data.customer;
  const on = Form.useWatch('lowIncome', form);

  const initial: Values = {
    lowIncome: c.low_income,
    reductionM3: c.low_income ? c.low_income_reduction_m3 : String(meta?.defaultLowIncomeReductionM3 ?? ''),
    certNo: c.low_income_cert_no,
    validUntil: c.low_income_valid_until,
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset when a new version arrives.
  useEffect(() => form.setFieldsValue(initial), [c.version, meta]);

  const save = async (values: Values) => {
    setBusy(true);
    try {
      await api(`/api/customers/${c.account_id}/low-income`, {
        method: 'PUT',
        body: { ...values, reductionM3: values.lowIncome ? values.reductionM3 : '0', version: c.version },
      });
      void message.success(t('common.saved'));
      onChanged();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'VERSION_CONFLICT') {
        modal.warning({ title: t('customer.versionConflictTitle'), content: e.message, onOk: onChanged });
      } else handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Form<Values>
      form={form}
      name="lowIncome"
      layout="vertical"
      initialValues={initial}
      onFinish={save}
      disabled={!can('customer.write')}
    >
      <Form.Item name="lowIncome" label={t('lowIncome.enabled')} valuePropName="checked">
        <Switch />
      </Form.Item>
      {on && (
        <Row gutter={16}>
          <Col xs={24} sm={8}>
            <Form.Item
              name="reductionM3"
              label={t('lowIncome.reduction')}
              rules={[{ required: true }, volumeRule]}
              validateFirst
            >
              <Input suffix="m³" />
            </Form.Item>
          </Col>
          <Col xs={24} sm={8}>
            <Form.Item name="certNo" label={t('lowIncome.certNo')} rules={[{ max: 40 }]}>
              <Input />
            </Form.Item>
          </Col>
          <Col xs={24} sm={8}>
            <Form.Item name="validUntil" label={t('lowIncome.validUntil')}>
              <DateInput />
            </Form.Item>
          </Col>
        </Row>
      )}
      {can('customer.write') && (
        <Button type="primary" htmlType="submit" loading={busy}>
          {t('common.save')}
        </Button>
      )}
    </Form>
  );
}
