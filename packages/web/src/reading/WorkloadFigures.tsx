import { SettingOutlined } from '@ant-design/icons';
import { App, Button, Col, Divider, Form, InputNumber, Modal, Row, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { AREA_TYPES, type AreaType, METER_CATEGORIES, type MeterCategory } from './types';

interface WorkloadConfig {
  metersPerDay: Record<MeterCategory, number>;
  maxDaysPerMonth: Record<AreaType, number>;
  rotationMonths: number;
  rotationWarnMonths: number;
}

/** GET /api/offices/:officeId/workload */
interface OfficeFigures {
  officeId: number;
  config: WorkloadConfig;
  defaults: WorkloadConfig;
  custom: boolean;
  updatedAt: string | null;
  updatedByName: string | null;
}

/**
 * The office's workload figures (DOMAIN.md §3: meters a day by kind of meter, reading days a month
 * by area type, the rotation period and its warning), which offices may adjust.
 */
export function WorkloadFigures({ officeId, onSaved }: { officeId: number; onSaved: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<WorkloadConfig>();
  const figures = useApi<OfficeFigures>(open ? `/api/offices/${officeId}/workload` : null);

  const show = () => {
    form.resetFields();
    setOpen(true);
  };
  const fill = (config: WorkloadConfig) => form.setFieldsValue(config);
  const save = async () => {
    const values = await validated(form);
    if (!values) return;
    setBusy(true);
    try {
      await api(`/api/offices/${officeId}/workload`, { method: 'PUT', body: values });
      void message.success(t('common.saved'));
      setOpen(false);
      onSaved();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const data = figures.data;
  const number = (max: number) => <InputNumber min={1} max={max} precision={0} style={{ width: '100%' }} />;
  const hint = (value: number | undefined) =>
    value === undefined ? undefined : t('reading.figures.default', { value });

  return (
    <>
      <Button icon={<SettingOutlined />} onClick={show} data-testid="workload-figures">
        {t('reading.figures.title')}
      </Button>
      <Modal
        open={open}
        title={t('reading.figures.title')}
        onOk={save}
        onCancel={() => setOpen(false)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        width={720}
        forceRender
        afterOpenChange={(visible) => {
          if (visible && data) fill(data.config);
        }}
      >
        {data && (
          <Typography.Paragraph type="secondary">
            {data.custom ? (
              <>
                <Tag color="orange">{t('reading.figures.custom')}</Tag>
                {t('reading.figures.updated', {
                  by: data.updatedByName ?? '—',
                  at: formatDateTime(data.updatedAt),
                })}
              </>
            ) : (
              <Tag>{t('reading.figures.defaults')}</Tag>
            )}
            <Button type="link" size="small" onClick={() => fill(data.defaults)}>
              {t('reading.figures.useDefaults')}
            </Button>
          </Typography.Paragraph>
        )}
        <Form
          form={form}
          name="workloadFigures"
          layout="vertical"
          disabled={!data}
          key={data ? 'loaded' : 'loading'}
          initialValues={data?.config}
        >
          <Divider orientation="left" plain>
            {t('reading.figures.metersPerDay')}
          </Divider>
          <Row gutter={16}>
            {METER_CATEGORIES.map((c) => (
              <Col key={c} xs={12} md={8}>
                <Form.Item
                  name={['metersPerDay', c]}
                  label={t(`reading.category.${c}`)}
                  rules={[{ required: true }]}
                  extra={hint(data?.defaults.metersPerDay[c])}
                >
                  {number(2000)}
                </Form.Item>
              </Col>
            ))}
          </Row>
          <Divider orientation="left" plain>
            {t('reading.figures.daysPerMonth')}
          </Divider>
          <Row gutter={16}>
            {AREA_TYPES.map((a) => (
              <Col key={a} xs={12} md={8}>
                <Form.Item
                  name={['maxDaysPerMonth', a]}
                  label={t(`reading.areaTypeName.${a}`)}
                  rules={[{ required: true }]}
                  extra={hint(data?.defaults.maxDaysPerMonth[a])}
                >
                  {number(23)}
                </Form.Item>
              </Col>
            ))}
          </Row>
          <Divider orientation="left" plain>
            {t('reading.rotation.title')}
          </Divider>
          <Row gutter={16}>
            <Col xs={12} md={8}>
              <Form.Item
                name="rotationMonths"
                label={t('reading.figures.rotationMonths')}
                rules={[{ required: true }]}
                extra={hint(data?.defaults.rotationMonths)}
              >
                {number(120)}
              </Form.Item>
            </Col>
            <Col xs={12} md={8}>
              <Form.Item
                name="rotationWarnMonths"
                label={t('reading.figures.rotationWarnMonths')}
                dependencies={['rotationMonths']}
                rules={[
                  { required: true },
                  ({ getFieldValue }) => ({
                    validator: (_, v: number) =>
                      v === undefined || v === null || v < getFieldValue('rotationMonths')
                        ? Promise.resolve()
                        : Promise.reject(new Error(t('reading.figures.warnBeforeDue'))),
                  }),
                ]}
                extra={hint(data?.defaults.rotationWarnMonths)}
              >
                <InputNumber min={0} max={119} precision={0} style={{ width: '100%' }} />
              </Form.Item>
            </Col>
          </Row>
        </Form>
      </Modal>
    </>
  );
}
