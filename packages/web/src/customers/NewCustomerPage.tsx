import { DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import {
  App,
  Button,
  Card,
  Checkbox,
  Col,
  Form,
  Input,
  Radio,
  Row,
  Select,
  Space,
  Switch,
  Typography,
} from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router-dom';
import { api, newUuid } from '../api';
import { useMe } from '../auth/AuthContext';
import { DateInput } from '../components/DateInput';
import { useMeta } from '../components/meta';
import { useErrorHandler } from '../components/useErrorHandler';
import { AddressFields, EMPTY_ADDRESS } from './AddressFields';
import { EMPTY_METER, MeterFields, type MeterValues, meterBody } from './MeterFields';
import { bankAccountRule, creditCodeRule, idCardRule, phoneRule, volumeRule } from './rules';
import { useUsageTypeOptions } from './tabs/ServicePointsTab';
import { CONTACT_RELATIONS, NOTICE_DELIVERY } from './types';

interface Values {
  officeId: number;
  utility: string;
  kind: 'person' | 'organisation';
  name: string;
  idCardNo?: string;
  creditCode?: string;
  customerCode: string;
  state: 'active' | 'pending';
  connectedOn: string | null;
  noticeDelivery: string;
  largeUser: boolean;
  bankName: string;
  bankAccount: string;
  remarks: string;
  contacts: { name: string; relation: string; phone: string; isPrimary: boolean; remarks: string }[];
  address: typeof EMPTY_ADDRESS;
  servicePoint: {
    usageTypeCode: string;
    description: string;
    meterLocation: string;
    meterBoxNo: string;
    resettlement: boolean;
  };
  withMeter: boolean;
  meter: MeterValues;
  withLowIncome: boolean;
  lowIncome: { reductionM3: string; certNo: string; validUntil: string | null };
}

/**
 * A new customer with contacts, supply address, service point and optionally a meter and the
 * low-income reduction, in one request. The Idempotency-Key is made when the form opens, so a
 * double click or a retry after a timeout creates one customer, not two.
 */
export default function NewCustomerPage() {
  const { t } = useTranslation();
  const me = useMe();
  const meta = useMeta();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<Values>();
  const [idempotencyKey] = useState(newUuid);
  const [busy, setBusy] = useState(false);
  const kind = Form.useWatch('kind', form) ?? 'person';
  const utility = Form.useWatch('utility', form) ?? 'water';
  const withMeter = Form.useWatch('withMeter', form);
  const withLowIncome = Form.useWatch('withLowIncome', form);
  const usageOptions = useUsageTypeOptions(utility);

  const initial: Partial<Values> = {
    officeId: me.homeOfficeId ?? me.offices[0]?.officeId,
    utility: 'water',
    kind: 'person',
    customerCode: '',
    state: 'active',
    connectedOn: null,
    noticeDelivery: 'paper',
    largeUser: false,
    bankName: '',
    bankAccount: '',
    remarks: '',
    contacts: [{ name: '', relation: 'self', phone: '', isPrimary: true, remarks: '' }],
    address: EMPTY_ADDRESS,
    servicePoint: {
      usageTypeCode: '',
      description: '',
      meterLocation: '',
      meterBoxNo: '',
      resettlement: false,
    },
    withMeter: false,
    meter: EMPTY_METER,
    withLowIncome: false,
    lowIncome: { reductionM3: String(meta?.defaultLowIncomeReductionM3 ?? 5), certNo: '', validUntil: null },
  };

  const submit = async (values: Values) => {
    const { withMeter: meterOn, withLowIncome: lowOn, ...rest } = values;
    const body = {
      ...rest,
      idCardNo: values.kind === 'person' ? values.idCardNo?.trim().toUpperCase() : null,
      creditCode: values.kind === 'organisation' ? values.creditCode?.trim().toUpperCase() : null,
      contacts: values.contacts.map((c, i) => ({
        ...c,
        isPrimary: !!c.isPrimary || (i === 0 && !values.contacts.some((x) => x.isPrimary)),
      })),
      address: { ...EMPTY_ADDRESS, ...values.address, floor: values.address.floor ?? null },
      meter: meterOn ? meterBody(values.meter, values.utility) : null,
      lowIncome: lowOn ? values.lowIncome : null,
    };
    setBusy(true);
    try {
      const created = await api<{ accountId: number; customerCode: string }>('/api/customers', {
        method: 'POST',
        body,
        headers: { 'Idempotency-Key': idempotencyKey },
      });
      void message.success(t('newCustomer.created', { code: created.customerCode }));
      navigate(`/customers/${created.accountId}`, { replace: true });
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Form<Values>
      form={form}
      name="newCustomer"
      layout="vertical"
      initialValues={initial}
      onFinish={submit}
      onFinishFailed={({ errorFields }) =>
        errorFields[0] && form.scrollToField(errorFields[0].name, { block: 'center' })
      }
      scrollToFirstError={false}
      data-testid="new-customer-form"
    >
      <Space direction="vertical" size="middle" style={{ width: '100%' }}>
        <Typography.Title level={4} className="page-title">
          {t('newCustomer.title')}
        </Typography.Title>
        <Card title={t('newCustomer.basic')} size="small">
          <Row gutter={16}>
            <Col xs={24} md={8}>
              <Form.Item name="officeId" label={t('customer.office')} rules={[{ required: true }]}>
                <Select options={me.offices.map((o) => ({ value: o.officeId, label: o.name }))} />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item name="utility" label={t('customer.utility')}>
                <Select
                  options={(meta?.utilities ?? ['water']).map((u) => ({
                    value: u,
                    label: t(`enum.utility.${u}`),
                  }))}
                  onChange={() => form.setFieldValue(['servicePoint', 'usageTypeCode'], undefined)}
                />
              </Form.Item>
            </Col>
            <Col xs={24} md={8}>
              <Form.Item name="kind" label={t('customer.kind')}>
                <Radio.Group
                  optionType="button"
                  buttonStyle="solid"
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
                  <Input maxLength={18} data-testid="id-card-input" />
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
              <Form.Item
                name="customerCode"
                label={t('customer.code')}
                tooltip={t('newCustomer.codeHint')}
                rules={[{ max: 30 }]}
              >
                <Input placeholder={t('newCustomer.codeAuto')} />
              </Form.Item>
            </Col>
            <Col xs={12} md={4}>
              <Form.Item name="state" label={t('customer.state')}>
                <Select
                  options={['active', 'pending'].map((s) => ({ value: s, label: t(`enum.state.${s}`) }))}
                />
              </Form.Item>
            </Col>
            <Col xs={12} md={4}>
              <Form.Item name="connectedOn" label={t('customer.connectedOn')}>
                <DateInput notFuture />
              </Form.Item>
            </Col>
            <Col xs={12} md={4}>
              <Form.Item name="noticeDelivery" label={t('customer.noticeDelivery')}>
                <Select
                  options={NOTICE_DELIVERY.map((v) => ({ value: v, label: t(`enum.noticeDelivery.${v}`) }))}
                />
              </Form.Item>
            </Col>
            <Col xs={12} md={4}>
              <Form.Item name="largeUser" label={t('customer.largeUser')} valuePropName="checked">
                <Switch />
              </Form.Item>
            </Col>
            <Col xs={24} md={4}>
              <Form.Item name="bankName" label={t('customer.bankName')} rules={[{ max: 60 }]}>
                <Input />
              </Form.Item>
            </Col>
            <Col xs={24} md={4}>
              <Form.Item name="bankAccount" label={t('customer.bankAccount')} rules={[bankAccountRule]}>
                <Input />
              </Form.Item>
            </Col>
            <Col span={24}>
              <Form.Item name="remarks" label={t('customer.remarks')} rules={[{ max: 500 }]}>
                <Input.TextArea rows={2} />
              </Form.Item>
            </Col>
          </Row>
        </Card>

        <Card title={t('tabs.contacts')} size="small">
          <Form.List name="contacts">
            {(fields, { add, remove }) => (
              <>
                {fields.map((field, index) => (
                  <Row gutter={12} key={field.key} align="top">
                    <Col xs={12} md={5}>
                      <Form.Item
                        name={[field.name, 'name']}
                        label={index === 0 ? t('contact.name') : undefined}
                        rules={[{ max: 50 }]}
                      >
                        <Input placeholder={t('contact.name')} />
                      </Form.Item>
                    </Col>
                    <Col xs={12} md={4}>
                      <Form.Item
                        name={[field.name, 'relation']}
                        label={index === 0 ? t('contact.relation') : undefined}
                      >
                        <Select
                          options={CONTACT_RELATIONS.map((r) => ({
                            value: r,
                            label: t(`enum.relation.${r}`),
                          }))}
                        />
                      </Form.Item>
                    </Col>
                    <Col xs={12} md={5}>
                      <Form.Item
                        name={[field.name, 'phone']}
                        label={index === 0 ? t('contact.phone') : undefined}
                        rules={[{ required: true, message: t('validation.phoneRequired') }, phoneRule]}
                        validateFirst
                      >
                        <Input placeholder={t('contact.phone')} data-testid={`contact-phone-${index}`} />
                      </Form.Item>
                    </Col>
                    <Col xs={12} md={5}>
                      <Form.Item
                        name={[field.name, 'remarks']}
                        label={index === 0 ? t('contact.remarks') : undefined}
                      >
                        <Input placeholder={t('contact.remarks')} />
                      </Form.Item>
                    </Col>
                    <Col xs={12} md={3}>
                      <Form.Item
                        name={[field.name, 'isPrimary']}
                        valuePropName="checked"
                        label={index === 0 ? ' ' : undefined}
                      >
                        <Checkbox>{t('contact.primary')}</Checkbox>
                      </Form.Item>
                    </Col>
                    <Col xs={12} md={2}>
                      <Form.Item label={index === 0 ? ' ' : undefined}>
                        <Button
                          danger
                          icon={<DeleteOutlined />}
                          disabled={fields.length <= 1}
                          onClick={() => remove(field.name)}
                          aria-label={t('common.delete')}
                        />
                      </Form.Item>
                    </Col>
                  </Row>
                ))}
                <Button
                  type="dashed"
                  icon={<PlusOutlined />}
                  disabled={fields.length >= 10}
                  onClick={() =>
                    add({ name: '', relation: 'family', phone: '', isPrimary: false, remarks: '' })
                  }
                >
                  {t('contact.add')}
                </Button>
              </>
            )}
          </Form.List>
        </Card>

        <Card title={t('newCustomer.supplyAddress')} size="small">
          <AddressFields form={form} prefix={['address']} />
        </Card>

        <Card title={t('newCustomer.servicePoint')} size="small">
          <Row gutter={12}>
            <Col xs={24} md={8}>
              <Form.Item
                name={['servicePoint', 'usageTypeCode']}
                label={t('servicePoint.usageType')}
                rules={[{ required: true }]}
              >
                <Select options={usageOptions} data-testid="usage-type" />
              </Form.Item>
            </Col>
            <Col xs={12} md={4}>
              <Form.Item
                name={['servicePoint', 'meterLocation']}
                label={t('servicePoint.meterLocation')}
                rules={[{ max: 60 }]}
              >
                <Input />
              </Form.Item>
            </Col>
            <Col xs={12} md={4}>
              <Form.Item
                name={['servicePoint', 'meterBoxNo']}
                label={t('servicePoint.meterBoxNo')}
                rules={[{ max: 30 }]}
              >
                <Input />
              </Form.Item>
            </Col>
            <Col xs={16} md={6}>
              <Form.Item
                name={['servicePoint', 'description']}
                label={t('servicePoint.description')}
                rules={[{ max: 120 }]}
              >
                <Input />
              </Form.Item>
            </Col>
            <Col xs={8} md={2}>
              <Form.Item
                name={['servicePoint', 'resettlement']}
                label={t('servicePoint.resettlement')}
                valuePropName="checked"
              >
                <Switch />
              </Form.Item>
            </Col>
          </Row>
        </Card>

        <Card
          title={t('newCustomer.meter')}
          size="small"
          extra={
            <Form.Item name="withMeter" valuePropName="checked" noStyle>
              <Switch
                checkedChildren={t('newCustomer.withMeter')}
                unCheckedChildren={t('newCustomer.noMeter')}
              />
            </Form.Item>
          }
        >
          {withMeter ? (
            <MeterFields prefix={['meter']} utility={utility} />
          ) : (
            <Typography.Text type="secondary">{t('newCustomer.meterLater')}</Typography.Text>
          )}
        </Card>

        <Card
          title={t('tabs.lowIncome')}
          size="small"
          extra={
            <Form.Item name="withLowIncome" valuePropName="checked" noStyle>
              <Switch />
            </Form.Item>
          }
        >
          {withLowIncome ? (
            <Row gutter={12}>
              <Col xs={24} md={8}>
                <Form.Item
                  name={['lowIncome', 'reductionM3']}
                  label={t('lowIncome.reduction')}
                  rules={[{ required: true }, volumeRule]}
                >
                  <Input suffix="m³" />
                </Form.Item>
              </Col>
              <Col xs={24} md={8}>
                <Form.Item name={['lowIncome', 'certNo']} label={t('lowIncome.certNo')} rules={[{ max: 40 }]}>
                  <Input />
                </Form.Item>
              </Col>
              <Col xs={24} md={8}>
                <Form.Item name={['lowIncome', 'validUntil']} label={t('lowIncome.validUntil')}>
                  <DateInput />
                </Form.Item>
              </Col>
            </Row>
          ) : (
            <Typography.Text type="secondary">{t('newCustomer.notLowIncome')}</Typography.Text>
          )}
        </Card>

        <Space>
          <Button type="primary" htmlType="submit" size="large" loading={busy} data-testid="create-customer">
            {t('newCustomer.submit')}
          </Button>
          <Button size="large" onClick={() => navigate(-1)}>
            {t('common.cancel')}
          </Button>
        </Space>
      </Space>
    </Form>
  );
}
