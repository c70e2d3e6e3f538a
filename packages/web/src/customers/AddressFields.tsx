import { ThunderboltOutlined } from '@ant-design/icons';
import { parseAddress } from '@meterline/domain';
import { Button, Col, Form, type FormInstance, Input, InputNumber, Row, Select, Space } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * District / community / building / unit / door / floor / detail, with a helper that splits a pasted
 * full address ("金水区幸福小区3号楼2单元501室") into the parts. `prefix` nests the fields in a form.
 */
export function AddressFields({
  form,
  prefix = [],
  showKind = false,
}: {
  form: FormInstance;
  prefix?: string[];
  showKind?: boolean;
}) {
  const { t } = useTranslation();
  const [pasted, setPasted] = useState('');
  const name = (field: string) => [...prefix, field];

  const fill = () => {
    if (!pasted.trim()) return;
    const parts = parseAddress(pasted);
    const door = /^(\d+?)(\d{2})$/.exec(parts.door);
    // A door number like 1904 reads as floor 19, door 04: offered, the clerk can correct it.
    const floor = door ? Number(door[1]) : null;
    const value = { ...parts, ...(floor !== null ? { floor } : {}) };
    form.setFieldsValue(prefix.length ? nest(prefix, value) : value);
    setPasted('');
  };

  return (
    <>
      <Form.Item label={t('address.paste')} tooltip={t('address.pasteHint')}>
        <Space.Compact style={{ width: '100%' }}>
          <Input
            value={pasted}
            onChange={(e) => setPasted(e.target.value)}
            onPressEnter={(e) => {
              e.preventDefault();
              fill();
            }}
            placeholder={t('address.pastePlaceholder')}
            data-testid="address-paste"
          />
          <Button icon={<ThunderboltOutlined />} onClick={fill} data-testid="address-parse">
            {t('address.parse')}
          </Button>
        </Space.Compact>
      </Form.Item>
      <Row gutter={12}>
        {showKind && (
          <Col xs={24} sm={8}>
            <Form.Item name={name('kind')} label={t('address.kind')}>
              <Select
                options={['supply', 'mailing'].map((k) => ({ value: k, label: t(`enum.addressKind.${k}`) }))}
              />
            </Form.Item>
          </Col>
        )}
        <Col xs={24} sm={8}>
          <Form.Item name={name('district')} label={t('address.district')} rules={[{ max: 30 }]}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={24} sm={showKind ? 8 : 16}>
          <Form.Item name={name('community')} label={t('address.community')} rules={[{ max: 60 }]}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={8} sm={5}>
          <Form.Item name={name('building')} label={t('address.building')} rules={[{ max: 20 }]}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={8} sm={5}>
          <Form.Item name={name('unit')} label={t('address.unit')} rules={[{ max: 20 }]}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={8} sm={5}>
          <Form.Item name={name('door')} label={t('address.door')} rules={[{ max: 20 }]}>
            <Input />
          </Form.Item>
        </Col>
        <Col xs={8} sm={4}>
          <Form.Item name={name('floor')} label={t('address.floor')}>
            <InputNumber min={-5} max={200} precision={0} style={{ width: '100%' }} />
          </Form.Item>
        </Col>
        <Col xs={16} sm={5}>
          <Form.Item name={name('detail')} label={t('address.detail')} rules={[{ max: 120 }]}>
            <Input />
          </Form.Item>
        </Col>
      </Row>
    </>
  );
}

function nest(path: string[], value: unknown): Record<string, unknown> {
  return path.reduceRight<unknown>((acc, key) => ({ [key]: acc }), value) as Record<string, unknown>;
}

export const EMPTY_ADDRESS = {
  kind: 'supply' as 'supply' | 'mailing',
  district: '',
  community: '',
  building: '',
  unit: '',
  door: '',
  detail: '',
  floor: null as number | null,
};
