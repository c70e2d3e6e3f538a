import { DeleteOutlined, PlusOutlined, SaveOutlined } from '@ant-design/icons';
import {
  type DunningStep,
  type MessageTemplateValues,
  renderTemplate,
  SAMPLE_TEMPLATE_VALUES,
  todayInChina,
  validateTemplate,
} from '@meterline/domain';
import {
  Alert,
  App,
  Button,
  Card,
  Col,
  DatePicker,
  Descriptions,
  Form,
  Input,
  InputNumber,
  Row,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import dayjs from 'dayjs';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';

/**
 * 催缴策略 (docs/dunning.md): the dunning timeline as data — steps (anchor, offset in days or
 * working days, channel, condition, template) from an effective date, with the server's field-level
 * refusals shown on the step's field; and the message templates, edited with a live preview on a
 * sample customer (validated by the same domain rule as the server).
 */

interface TemplateRow {
  code: string;
  version: number;
  channel: 'sms' | 'voice' | 'letter';
  name: string;
  body: string;
}

interface PolicyView {
  current: { effectiveFrom: string; steps: DunningStep[]; stored: boolean; policyId: number | null };
  versions: {
    policyId: number;
    effectiveFrom: string;
    steps: DunningStep[];
    note: string;
    createdAt: string;
  }[];
  defaults: { effectiveFrom: string; steps: DunningStep[] };
  templates: TemplateRow[];
  options: {
    anchors: string[];
    units: string[];
    channels: string[];
    conditions: string[];
    fields: { name: string; zh: string; en: string }[];
  };
}

interface PolicyForm {
  effectiveFrom: dayjs.Dayjs;
  note?: string;
  steps: DunningStep[];
}

function StepsEditor({
  view,
  editable,
  onSaved,
}: {
  view: PolicyView;
  editable: boolean;
  onSaved: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<PolicyForm>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    // Today in China (the server refuses an earlier date), whatever the browser's time zone.
    form.setFieldsValue({ effectiveFrom: dayjs(todayInChina()), steps: view.current.steps, note: '' });
  }, [form, view]);
  const opt = (kind: string, values: string[]) =>
    values.map((v) => ({ value: v, label: t(`dunning.${kind}.${v}`, { defaultValue: v }) }));
  const templateOptions = view.templates.map((x) => ({
    value: x.code,
    label: `${x.name}（${x.code}）`,
    channel: x.channel,
  }));

  const save = async () => {
    const values = form.getFieldsValue(true) as PolicyForm;
    setBusy(true);
    try {
      await api('/api/dunning/policy', {
        method: 'PUT',
        body: {
          effectiveFrom: values.effectiveFrom ? values.effectiveFrom.format('YYYY-MM-DD') : '',
          note: values.note ?? '',
          steps: (values.steps ?? []).map((s) => ({ ...s, offset: Number(s.offset) })),
        },
      });
      void message.success(t('dunning.policy.saved'));
      onSaved();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Form form={form} layout="vertical" disabled={!editable} data-testid="dunning-policy-form">
      <Row gutter={16}>
        <Col xs={24} md={8}>
          <Form.Item name="effectiveFrom" label={t('dunning.policy.effectiveFrom')}>
            <DatePicker style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={24} md={16}>
          <Form.Item name="note" label={t('dunning.policy.note')}>
            <Input maxLength={200} />
          </Form.Item>
        </Col>
      </Row>
      <Form.List name="steps">
        {(fields, { add, remove }) => (
          <>
            <Table
              size="small"
              rowKey="key"
              pagination={false}
              dataSource={fields}
              scroll={{ x: 'max-content' }}
              data-testid="dunning-steps"
              columns={[
                {
                  title: t('dunning.step.code'),
                  key: 'code',
                  width: 130,
                  render: (_, f) => (
                    <Form.Item name={[f.name, 'code']} style={{ margin: 0 }}>
                      <Input />
                    </Form.Item>
                  ),
                },
                {
                  title: t('dunning.step.name'),
                  key: 'name',
                  width: 160,
                  render: (_, f) => (
                    <Form.Item name={[f.name, 'name']} style={{ margin: 0 }}>
                      <Input />
                    </Form.Item>
                  ),
                },
                {
                  title: t('dunning.step.anchor'),
                  key: 'anchor',
                  width: 130,
                  render: (_, f) => (
                    <Form.Item name={[f.name, 'anchor']} style={{ margin: 0 }}>
                      <Select options={opt('anchor', view.options.anchors)} />
                    </Form.Item>
                  ),
                },
                {
                  title: t('dunning.step.offset'),
                  key: 'offset',
                  width: 110,
                  render: (_, f) => (
                    <Form.Item name={[f.name, 'offset']} style={{ margin: 0 }}>
                      <InputNumber min={0} max={365} style={{ width: 90 }} />
                    </Form.Item>
                  ),
                },
                {
                  title: t('dunning.step.unit'),
                  key: 'unit',
                  width: 120,
                  render: (_, f) => (
                    <Form.Item name={[f.name, 'unit']} style={{ margin: 0 }}>
                      <Select options={opt('unit', view.options.units)} />
                    </Form.Item>
                  ),
                },
                {
                  title: t('dunning.step.channel'),
                  key: 'channel',
                  width: 110,
                  render: (_, f) => (
                    <Form.Item name={[f.name, 'channel']} style={{ margin: 0 }}>
                      <Select options={opt('channel', view.options.channels)} />
                    </Form.Item>
                  ),
                },
                {
                  title: t('dunning.step.condition'),
                  key: 'condition',
                  width: 140,
                  render: (_, f) => (
                    <Form.Item name={[f.name, 'condition']} style={{ margin: 0 }}>
                      <Select options={opt('condition', view.options.conditions)} />
                    </Form.Item>
                  ),
                },
                {
                  title: t('dunning.step.template'),
                  key: 'template',
                  width: 220,
                  render: (_, f) => (
                    <Form.Item name={[f.name, 'template']} style={{ margin: 0 }}>
                      <Select options={templateOptions} />
                    </Form.Item>
                  ),
                },
                ...(editable
                  ? [
                      {
                        title: '',
                        key: 'remove',
                        width: 48,
                        render: (_: unknown, f: { name: number }) => (
                          <Button
                            size="small"
                            icon={<DeleteOutlined />}
                            onClick={() => remove(f.name)}
                            aria-label={t('dunning.step.remove')}
                          />
                        ),
                      },
                    ]
                  : []),
              ]}
            />
            {editable && (
              <Space style={{ marginTop: 12 }}>
                <Button
                  icon={<PlusOutlined />}
                  onClick={() =>
                    add({
                      code: '',
                      name: '',
                      anchor: 'reading',
                      offset: 20,
                      unit: 'days',
                      channel: 'sms',
                      condition: 'unpaid',
                      template: 'dunning_reminder',
                    } satisfies DunningStep)
                  }
                >
                  {t('dunning.step.add')}
                </Button>
                <Button
                  type="primary"
                  icon={<SaveOutlined />}
                  loading={busy}
                  onClick={() => void save()}
                  data-testid="dunning-policy-save"
                >
                  {t('dunning.policy.save')}
                </Button>
              </Space>
            )}
          </>
        )}
      </Form.List>
    </Form>
  );
}

function TemplateEditor({
  view,
  editable,
  onSaved,
}: {
  view: PolicyView;
  editable: boolean;
  onSaved: () => void;
}) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<{ code: string; channel: string; name: string; body: string }>();
  const [code, setCode] = useState(view.templates[0]?.code ?? '');
  const [busy, setBusy] = useState(false);
  const body = Form.useWatch('body', form) ?? '';
  const channel = Form.useWatch('channel', form) ?? 'sms';
  useEffect(() => {
    const tpl = view.templates.find((x) => x.code === code);
    if (tpl) form.setFieldsValue({ code: tpl.code, channel: tpl.channel, name: tpl.name, body: tpl.body });
  }, [code, form, view]);
  const problems = useMemo(() => validateTemplate({ channel, body }), [channel, body]);
  const lang = i18n.language === 'en' ? 'en' : 'zh-CN';
  const preview = problems.length
    ? null
    : renderTemplate(body, SAMPLE_TEMPLATE_VALUES as MessageTemplateValues);

  const save = async () => {
    const v = form.getFieldsValue();
    setBusy(true);
    try {
      await api(`/api/dunning/templates/${encodeURIComponent(v.code)}`, {
        method: 'PUT',
        body: { channel: v.channel, name: v.name ?? '', body: v.body ?? '' },
      });
      void message.success(t('dunning.template.saved'));
      onSaved();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Row gutter={16}>
      <Col xs={24} lg={14}>
        <Form form={form} layout="vertical" disabled={!editable} data-testid="dunning-template-form">
          <Space wrap style={{ marginBottom: 12 }}>
            <Select
              style={{ minWidth: 260 }}
              value={code}
              onChange={setCode}
              disabled={false}
              options={view.templates.map((x) => ({
                value: x.code,
                label: `${x.name}（${x.code} v${x.version}）`,
              }))}
            />
          </Space>
          <Row gutter={12}>
            <Col span={8}>
              <Form.Item name="code" label={t('dunning.template.code')}>
                <Input disabled />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="channel" label={t('dunning.template.channel')}>
                <Select
                  options={view.options.channels.map((c) => ({ value: c, label: t(`dunning.channel.${c}`) }))}
                />
              </Form.Item>
            </Col>
            <Col span={8}>
              <Form.Item name="name" label={t('dunning.template.name')}>
                <Input maxLength={60} />
              </Form.Item>
            </Col>
          </Row>
          <Form.Item
            name="body"
            label={t('dunning.template.body')}
            validateStatus={problems.length ? 'error' : undefined}
            help={problems.length ? problems.map((p) => p.messages[lang]).join('；') : undefined}
          >
            <Input.TextArea rows={5} data-testid="dunning-template-body" />
          </Form.Item>
          {editable && (
            <Button
              type="primary"
              icon={<SaveOutlined />}
              loading={busy}
              onClick={() => void save()}
              data-testid="dunning-template-save"
            >
              {t('dunning.template.save')}
            </Button>
          )}
        </Form>
      </Col>
      <Col xs={24} lg={10}>
        <Card size="small" title={t('dunning.template.preview')}>
          {preview ? (
            <Typography.Paragraph data-testid="dunning-template-preview">{preview}</Typography.Paragraph>
          ) : (
            <Typography.Text type="danger">{t('dunning.template.previewInvalid')}</Typography.Text>
          )}
          <Typography.Text type="secondary">{t('dunning.template.fields')}</Typography.Text>
          <div style={{ marginTop: 8 }}>
            {view.options.fields.map((f) => (
              <Tag
                key={f.name}
                style={{ cursor: editable ? 'pointer' : undefined, marginBottom: 4 }}
                onClick={() => editable && form.setFieldValue('body', `${body}{${f.name}}`)}
              >
                {`{${f.name}}`} {lang === 'en' ? f.en : f.zh}
              </Tag>
            ))}
          </div>
        </Card>
      </Col>
    </Row>
  );
}

export default function DunningPolicyPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const view = useApi<PolicyView>('/api/dunning/policy');
  const editable = can('collection.policy');
  const v = view.data;
  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }} data-testid="dunning-policy-page">
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('dunning.policy.title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t('dunning.policy.hint')}
      </Typography.Paragraph>
      {view.error && <Alert type="error" showIcon message={view.error.message} />}
      {v && (
        <>
          <Card
            size="small"
            title={t('dunning.policy.inForce')}
            extra={
              v.current.stored ? (
                <Tag color="blue">{t('dunning.policy.storedFrom', { date: v.current.effectiveFrom })}</Tag>
              ) : (
                <Tag>{t('dunning.policy.default')}</Tag>
              )
            }
          >
            <StepsEditor view={v} editable={editable} onSaved={view.reload} />
          </Card>
          {v.versions.length > 0 && (
            <Card size="small" title={t('dunning.policy.versions')}>
              <Descriptions size="small" column={1}>
                {v.versions.map((ver) => (
                  <Descriptions.Item key={ver.policyId} label={ver.effectiveFrom}>
                    {ver.steps
                      .map(
                        (s) =>
                          `${s.name} ${s.anchor === 'reading' ? 'D' : t('dunning.anchor.due')}+${s.offset}`,
                      )
                      .join(' → ')}
                    {ver.note ? `（${ver.note}）` : ''}
                  </Descriptions.Item>
                ))}
              </Descriptions>
            </Card>
          )}
          <Card size="small" title={t('dunning.template.title')}>
            <TemplateEditor view={v} editable={editable} onSaved={view.reload} />
          </Card>
        </>
      )}
    </Space>
  );
}
