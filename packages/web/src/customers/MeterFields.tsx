import { Col, Form, Input, InputNumber, Row, Select, Switch } from 'antd';
import { useTranslation } from 'react-i18next';
import { DateInput } from '../components/DateInput';
import { useMeta } from '../components/meta';
import { meterNoRule, volumeRule } from './rules';

/** What the API takes for a meter (server: customers/schemas.ts meterInput). */
export interface MeterValues {
  meterNo: string;
  servicePointId?: number;
  caliberDn: number | null;
  flowRatingM3h: string | null;
  make: string;
  model: string;
  installDate: string | null;
  sealNo: string;
  direction: string;
  regulatorBox: string;
  mounting: string;
  role: string;
  masterMeterNo: string | null;
  icCard: boolean;
  icCardNo: string;
  dialDigits: number;
  initialIndex: string;
}

export const EMPTY_METER: MeterValues = {
  meterNo: '',
  caliberDn: 15,
  flowRatingM3h: null,
  make: '',
  model: '',
  installDate: null,
  sealNo: '',
  direction: 'forward',
  regulatorBox: '',
  mounting: 'wall',
  role: 'settlement',
  masterMeterNo: null,
  icCard: false,
  icCardNo: '',
  dialDigits: 5,
  initialIndex: '0',
};

/**
 * The request body from the form's values: gas meters carry a flow rating and no caliber, water
 * meters the reverse; empty strings become null where the API wants null.
 */
export function meterBody(values: MeterValues, utility: string): MeterValues {
  const gas = utility === 'gas';
  return {
    ...EMPTY_METER,
    ...values,
    caliberDn: gas ? null : (values.caliberDn ?? null),
    flowRatingM3h: gas && values.flowRatingM3h ? String(values.flowRatingM3h).trim() : null,
    masterMeterNo: values.role === 'master' ? null : values.masterMeterNo?.trim() || null,
    icCardNo: values.icCard ? (values.icCardNo ?? '') : '',
    initialIndex: String(values.initialIndex ?? '0').trim() || '0',
  };
}

/**
 * Every meter attribute of DOMAIN.md §2: number, caliber (water) or flow rating (gas), make, model,
 * install date, seal, direction, regulator box, mounting, role, master meter, IC card, dial digits,
 * initial index. `prefix` nests the fields (the new-customer form keeps them under `meter`).
 */
export function MeterFields({
  prefix = [],
  utility,
  servicePointOptions,
}: {
  prefix?: string[];
  utility: string;
  servicePointOptions?: { value: number; label: string }[];
}) {
  const { t } = useTranslation();
  const meta = useMeta();
  const form = Form.useFormInstance();
  const name = (field: string) => [...prefix, field];
  const role = Form.useWatch(name('role'), form);
  const icCard = Form.useWatch(name('icCard'), form);
  const gas = utility === 'gas';

  return (
    <Row gutter={12}>
      <Col xs={24} sm={8}>
        <Form.Item
          name={name('meterNo')}
          label={t('meter.meterNo')}
          rules={[{ required: true }, { max: 40 }, meterNoRule]}
          validateFirst
        >
          <Input />
        </Form.Item>
      </Col>
      {servicePointOptions && (
        <Col xs={24} sm={8}>
          <Form.Item name={name('servicePointId')} label={t('meter.servicePoint')}>
            <Select options={servicePointOptions} />
          </Form.Item>
        </Col>
      )}
      <Col xs={24} sm={8}>
        {gas ? (
          <Form.Item
            name={name('flowRatingM3h')}
            label={t('meter.flowRating')}
            rules={[{ required: true }, volumeRule]}
            validateFirst
          >
            <Input suffix="m³/h" />
          </Form.Item>
        ) : (
          <Form.Item
            name={name('caliberDn')}
            label={t('meter.caliber')}
            rules={[{ required: utility === 'water' }]}
          >
            <Select
              allowClear
              options={(meta?.calibersDn ?? []).map((dn) => ({ value: dn, label: `DN${dn}` }))}
            />
          </Form.Item>
        )}
      </Col>
      <Col xs={24} sm={8}>
        <Form.Item name={name('role')} label={t('meter.role')}>
          <Select
            options={(meta?.meterRoles ?? []).map((r) => ({ value: r, label: t(`enum.meterRole.${r}`) }))}
          />
        </Form.Item>
      </Col>
      {role !== 'master' && (
        <Col xs={24} sm={8}>
          <Form.Item name={name('masterMeterNo')} label={t('meter.masterMeterNo')} rules={[{ max: 40 }]}>
            <Input placeholder={t('meter.masterMeterHint')} />
          </Form.Item>
        </Col>
      )}
      <Col xs={12} sm={8}>
        <Form.Item name={name('make')} label={t('meter.make')} rules={[{ max: 60 }]}>
          <Input />
        </Form.Item>
      </Col>
      <Col xs={12} sm={8}>
        <Form.Item name={name('model')} label={t('meter.model')} rules={[{ max: 60 }]}>
          <Input />
        </Form.Item>
      </Col>
      <Col xs={12} sm={8}>
        <Form.Item name={name('installDate')} label={t('meter.installDate')}>
          <DateInput notFuture />
        </Form.Item>
      </Col>
      <Col xs={12} sm={8}>
        <Form.Item name={name('sealNo')} label={t('meter.sealNo')} rules={[{ max: 40 }]}>
          <Input />
        </Form.Item>
      </Col>
      <Col xs={12} sm={8}>
        <Form.Item name={name('direction')} label={t('meter.direction')}>
          <Select
            options={(meta?.directions ?? []).map((d) => ({ value: d, label: t(`enum.direction.${d}`) }))}
          />
        </Form.Item>
      </Col>
      <Col xs={12} sm={8}>
        <Form.Item name={name('mounting')} label={t('meter.mounting')}>
          <Select
            options={(meta?.mountings ?? []).map((m) => ({ value: m, label: t(`enum.mounting.${m}`) }))}
          />
        </Form.Item>
      </Col>
      {gas && (
        <Col xs={12} sm={8}>
          <Form.Item name={name('regulatorBox')} label={t('meter.regulatorBox')} rules={[{ max: 60 }]}>
            <Input />
          </Form.Item>
        </Col>
      )}
      <Col xs={12} sm={8}>
        <Form.Item
          name={name('icCard')}
          label={t('meter.icCard')}
          valuePropName="checked"
          tooltip={gas && meta ? t('meter.icCardRule', { floor: meta.icCardAboveFloor }) : undefined}
        >
          <Switch />
        </Form.Item>
      </Col>
      {icCard && (
        <Col xs={12} sm={8}>
          <Form.Item name={name('icCardNo')} label={t('meter.icCardNo')} rules={[{ max: 40 }]}>
            <Input />
          </Form.Item>
        </Col>
      )}
      <Col xs={12} sm={8}>
        <Form.Item name={name('dialDigits')} label={t('meter.dialDigits')} rules={[{ required: true }]}>
          <InputNumber min={3} max={10} precision={0} style={{ width: '100%' }} />
        </Form.Item>
      </Col>
      <Col xs={12} sm={8}>
        <Form.Item
          name={name('initialIndex')}
          label={t('meter.initialIndex')}
          rules={[{ required: true }, volumeRule]}
          validateFirst
        >
          <Input suffix="m³" />
        </Form.Item>
      </Col>
    </Row>
  );
}
