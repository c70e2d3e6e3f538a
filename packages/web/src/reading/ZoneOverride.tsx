import { AimOutlined } from '@ant-design/icons';
import { zoneClassForMeter } from '@meterline/domain';
import { Alert, App, Button, Form, Input, Modal, Select, Space, Tag, Tooltip, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { type UsageType, useMeta } from '../components/meta';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import type { CustomerDetail, MeterRow } from '../customers/types';
import { ZONES, type Zone } from './types';

/** The reading columns the server adds to a customer's meter (migration 0004). */
export interface MeterReadingFields {
  book_id?: number | null;
  book_code?: string | null;
  book_zone?: Zone | null;
  route_seq?: number | null;
  zone_class?: string | null;
  zone_override?: Zone | null;
  zone_override_reason?: string;
}

const CLEAR = 'rule';

/**
 * The zone class the rule gives this meter: the server's when it sends it, else worked out here
 * with the same rule (a household meter: a person's residential meter that is no master meter).
 */
export function ruleZoneClass(
  data: CustomerDetail,
  meter: MeterRow & MeterReadingFields,
  usageTypes: UsageType[] | undefined,
): string {
  if (meter.zone_class) return meter.zone_class;
  const servicePoint = data.servicePoints.find((sp) => sp.service_point_id === meter.service_point_id);
  const usage = usageTypes?.find((u) => u.code === servicePoint?.usage_type_code);
  return zoneClassForMeter({
    caliberDn: meter.caliber_dn,
    household:
      data.customer.kind === 'person' && usage?.price_class === 'residential' && meter.role !== 'master',
    resettlement: servicePoint?.resettlement ?? false,
  });
}

/**
 * A meter's reading zone on the customer page: the rule's zone class, its book, and an override
 * with its reason; reading.plan may set or clear the override (a reason is always required).
 */
export function ZoneOverride({
  data,
  meter,
  onChanged,
}: {
  data: CustomerDetail;
  meter: MeterRow & MeterReadingFields;
  onChanged: () => void;
}) {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const [form] = Form.useForm<{ zone: string; reason: string }>();
  const meta = useMeta();
  const rule = ruleZoneClass(data, meter, meta?.usageTypes);

  const save = async () => {
    const values = await validated(form);
    if (!values) return;
    setBusy(true);
    try {
      await api(`/api/customers/${data.customer.account_id}/meters/${meter.meter_id}/zone`, {
        method: 'PUT',
        body: { zone: values.zone === CLEAR ? null : values.zone, reason: values.reason },
      });
      void message.success(t('common.saved'));
      setOpen(false);
      onChanged();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Space size={2} wrap data-testid="meter-zone">
      <Tooltip title={t('reading.zoneOverride.ruleHint')}>
        <Tag>{t('reading.zoneOverride.rule', { zone: rule })}</Tag>
      </Tooltip>
      {meter.book_id && (
        <Link to={`/reading/books/${meter.book_id}`}>
          <Tag color="blue">
            {meter.book_code ?? t('reading.zoneOverride.bookN', { id: meter.book_id })}
            {meter.book_zone ? ` · ${t(`reading.zoneName.${meter.book_zone}`)}` : ''}
          </Tag>
        </Link>
      )}
      {meter.zone_override && (
        <Tooltip title={meter.zone_override_reason}>
          <Tag color="orange" data-testid="zone-override">
            {t('reading.zoneOverride.short', { zone: meter.zone_override })}
          </Tag>
        </Tooltip>
      )}
      {can('reading.plan') && meter.state !== 'removed' && (
        <Button
          size="small"
          type="link"
          icon={<AimOutlined />}
          onClick={() => {
            form.resetFields();
            form.setFieldsValue({ zone: meter.zone_override ?? undefined, reason: '' });
            setOpen(true);
          }}
          data-testid="zone-override-edit"
        >
          {t('reading.zoneOverride.action')}
        </Button>
      )}
      <Modal
        open={open}
        title={t('reading.zoneOverride.title', { meterNo: meter.meter_no })}
        onOk={save}
        onCancel={() => setOpen(false)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        forceRender
      >
        <Space direction="vertical" style={{ width: '100%', marginBottom: 12 }}>
          <Typography.Text>
            {t('reading.zoneOverride.ruleIs', { zone: rule })}
            {meter.book_code ? `；${t('reading.zoneOverride.bookIs', { book: meter.book_code })}` : ''}
          </Typography.Text>
          {meter.zone_override && (
            <Alert
              type="warning"
              showIcon
              message={t('reading.zoneOverride.current', {
                zone: meter.zone_override,
                reason: meter.zone_override_reason || '—',
              })}
            />
          )}
        </Space>
        <Form form={form} name="zoneOverride" layout="vertical">
          <Form.Item name="zone" label={t('reading.zone')} rules={[{ required: true }]}>
            <Select
              options={[
                { value: CLEAR, label: t('reading.zoneOverride.clear') },
                ...ZONES.map((z) => ({ value: z, label: t(`reading.zoneName.${z}`) })),
              ]}
            />
          </Form.Item>
          <Form.Item
            name="reason"
            label={t('common.reason')}
            rules={[{ required: true, whitespace: true }, { max: 500 }]}
          >
            <Input.TextArea rows={3} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
