import { DeleteOutlined, EditOutlined, PlusOutlined } from '@ant-design/icons';
import { App, Button, Card, Descriptions, Form, Input, Modal, Space, Table, Tag } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../../api';
import { useAuth } from '../../auth/AuthContext';
import { DateInput, today } from '../../components/DateInput';
import { formatDateTime } from '../../components/format';
import { useErrorHandler } from '../../components/useErrorHandler';
import { ZoneOverride } from '../../reading/ZoneOverride';
import { EMPTY_METER, MeterFields, type MeterValues, meterBody } from '../MeterFields';
import type { CustomerDetail, MeterRow, SubMeterRow } from '../types';

function toValues(m: MeterRow): MeterValues {
  return {
    meterNo: m.meter_no,
    servicePointId: m.service_point_id,
    caliberDn: m.caliber_dn,
    flowRatingM3h: m.flow_rating_m3h,
    make: m.make,
    model: m.model,
    installDate: m.install_date,
    sealNo: m.seal_no,
    direction: m.direction,
    regulatorBox: m.regulator_box,
    mounting: m.mounting,
    role: m.role,
    masterMeterNo: m.master_meter_no,
    icCard: m.ic_card,
    icCardNo: m.ic_card_no,
    dialDigits: m.dial_digits,
    initialIndex: m.initial_index,
  };
}

export function MetersTab({ data, onChanged }: { data: CustomerDetail; onChanged: () => void }) {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<MeterValues>();
  const [removeForm] = Form.useForm<{ removedOn: string; reason: string }>();
  const [editing, setEditing] = useState<MeterRow | 'new' | null>(null);
  const [removing, setRemoving] = useState<MeterRow | null>(null);
  const [busy, setBusy] = useState(false);
  const base = `/api/customers/${data.customer.account_id}/meters`;
  const editable = can('customer.write');
  const utility = data.customer.utility;
  const servicePointOptions = data.servicePoints.map((sp) => ({
    value: sp.service_point_id,
    label: `#${sp.service_point_id} ${i18n.language === 'en' ? sp.usage_name_en : sp.usage_name_zh} ${sp.meter_location}`,
  }));

  const open = (row: MeterRow | 'new') => {
    setEditing(row);
    form.resetFields();
    form.setFieldsValue(
      row === 'new'
        ? {
            ...EMPTY_METER,
            caliberDn: utility === 'water' ? 15 : null,
            servicePointId: data.servicePoints[0]?.service_point_id,
          }
        : toValues(row),
    );
  };

  const save = async () => {
    const values = await form.validateFields();
    setBusy(true);
    try {
      const body = meterBody(values, utility);
      if (editing === 'new') await api(base, { method: 'POST', body });
      else if (editing) await api(`${base}/${editing.meter_id}`, { method: 'PUT', body });
      void message.success(t('common.saved'));
      setEditing(null);
      onChanged();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!removing) return;
    const values = await removeForm.validateFields();
    setBusy(true);
    try {
      await api(`${base}/${removing.meter_id}/remove`, { method: 'POST', body: values });
      void message.success(t('meter.removed'));
      setRemoving(null);
      onChanged();
    } catch (e) {
      handle(e, removeForm);
    } finally {
      setBusy(false);
    }
  };

  const size = (m: MeterRow) =>
    m.caliber_dn ? `DN${m.caliber_dn}` : m.flow_rating_m3h ? `${m.flow_rating_m3h} m³/h` : '—';

  const details = (m: MeterRow) => (
    <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 4 }} bordered>
      <Descriptions.Item label={t('meter.meterNo')}>{m.meter_no}</Descriptions.Item>
      <Descriptions.Item label={t('meter.servicePoint')}>#{m.service_point_id}</Descriptions.Item>
      <Descriptions.Item label={utility === 'gas' ? t('meter.flowRating') : t('meter.caliber')}>
        {size(m)}
      </Descriptions.Item>
      <Descriptions.Item label={t('meter.role')}>{t(`enum.meterRole.${m.role}`)}</Descriptions.Item>
      <Descriptions.Item label={t('meter.make')}>{m.make || '—'}</Descriptions.Item>
      <Descriptions.Item label={t('meter.model')}>{m.model || '—'}</Descriptions.Item>
      <Descriptions.Item label={t('meter.installDate')}>{m.install_date ?? '—'}</Descriptions.Item>
      <Descriptions.Item label={t('meter.sealNo')}>{m.seal_no || '—'}</Descriptions.Item>
      <Descriptions.Item label={t('meter.direction')}>{t(`enum.direction.${m.direction}`)}</Descriptions.Item>
      <Descriptions.Item label={t('meter.mounting')}>{t(`enum.mounting.${m.mounting}`)}</Descriptions.Item>
      <Descriptions.Item label={t('meter.regulatorBox')}>{m.regulator_box || '—'}</Descriptions.Item>
      <Descriptions.Item label={t('meter.masterMeterNo')}>{m.master_meter_no ?? '—'}</Descriptions.Item>
      <Descriptions.Item label={t('meter.icCard')}>
        {m.ic_card ? `${t('common.yes')} ${m.ic_card_no}` : t('common.no')}
      </Descriptions.Item>
      <Descriptions.Item label={t('meter.dialDigits')}>{m.dial_digits}</Descriptions.Item>
      <Descriptions.Item label={t('meter.initialIndex')}>{m.initial_index} m³</Descriptions.Item>
      <Descriptions.Item label={t('meter.createdAt')}>{formatDateTime(m.created_at)}</Descriptions.Item>
    </Descriptions>
  );

  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      {editable && (
        <Button
          icon={<PlusOutlined />}
          onClick={() => open('new')}
          disabled={data.servicePoints.length === 0}
        >
          {t('meter.add')}
        </Button>
      )}
      <Table<MeterRow>
        rowKey="meter_id"
        size="small"
        pagination={false}
        dataSource={data.meters}
        expandable={{ expandedRowRender: details, expandRowByClick: false }}
        scroll={{ x: 1200 }}
        data-testid="meters-table"
        columns={[
          { title: t('meter.meterNo'), dataIndex: 'meter_no' },
          { title: t('meter.role'), dataIndex: 'role', render: (r: string) => t(`enum.meterRole.${r}`) },
          {
            title: utility === 'gas' ? t('meter.flowRating') : t('meter.caliber'),
            key: 'size',
            render: (_, m) => size(m),
          },
          {
            title: t('meter.makeModel'),
            key: 'mm',
            render: (_, m) => [m.make, m.model].filter(Boolean).join(' '),
          },
          { title: t('meter.installDate'), dataIndex: 'install_date' },
          { title: t('meter.sealNo'), dataIndex: 'seal_no' },
          {
            title: t('meter.mounting'),
            dataIndex: 'mounting',
            render: (v: string) => t(`enum.mounting.${v}`),
          },
          {
            title: t('reading.book'),
            key: 'book',
            render: (_, m) =>
              m.book_id === null ? null : (
                <Link to={`/reading/books/${m.book_id}`} title={m.book_name ?? ''}>
                  {m.book_code}
                  {m.route_seq !== null && ` #${m.route_seq}`}
                </Link>
              ),
          },
          {
            title: t('reading.zone'),
            key: 'zone',
            render: (_, m) =>
              m.utility === 'catv' ? null : <ZoneOverride data={data} meter={m} onChanged={onChanged} />,
          },
          {
            title: t('meter.state'),
            dataIndex: 'state',
            render: (s: string, m) =>
              s === 'removed' ? (
                <Tag color="red">
                  {t('meter.stateRemoved')} {m.removed_on}
                </Tag>
              ) : (
                <Space size={2}>
                  <Tag color="green">{t('meter.stateInService')}</Tag>
                  {m.ic_card && <Tag color="purple">IC</Tag>}
                </Space>
              ),
          },
          ...(editable
            ? [
                {
                  title: t('common.actions'),
                  key: 'actions',
                  width: 170,
                  render: (_: unknown, m: MeterRow) =>
                    m.state === 'removed' ? null : (
                      <Space>
                        <Button size="small" icon={<EditOutlined />} onClick={() => open(m)}>
                          {t('common.edit')}
                        </Button>
                        <Button
                          size="small"
                          danger
                          icon={<DeleteOutlined />}
                          onClick={() => {
                            removeForm.resetFields();
                            removeForm.setFieldsValue({ removedOn: today(), reason: '' });
                            setRemoving(m);
                          }}
                        >
                          {t('meter.remove')}
                        </Button>
                      </Space>
                    ),
                },
              ]
            : []),
        ]}
      />
      {data.subMeters.length > 0 && (
        <Card size="small" title={t('meter.subMeters', { count: data.subMeters.length })}>
          <Table<SubMeterRow>
            rowKey="meter_no"
            size="small"
            pagination={{ pageSize: 20, hideOnSinglePage: true }}
            dataSource={data.subMeters}
            columns={[
              { title: t('meter.masterMeterNo'), dataIndex: 'master_meter_no' },
              { title: t('meter.meterNo'), dataIndex: 'meter_no' },
              { title: t('customer.code'), dataIndex: 'customer_code' },
              {
                title: t('customer.name'),
                dataIndex: 'name',
                render: (name: string, s) => <Link to={`/customers/${s.account_id}`}>{name}</Link>,
              },
            ]}
          />
        </Card>
      )}
      <Modal
        open={editing !== null}
        title={editing === 'new' ? t('meter.add') : t('meter.edit')}
        onOk={save}
        onCancel={() => setEditing(null)}
        confirmLoading={busy}
        okText={t('common.save')}
        cancelText={t('common.cancel')}
        width={820}
        forceRender
      >
        <Form form={form} name="meter" layout="vertical">
          <MeterFields utility={utility} servicePointOptions={servicePointOptions} />
        </Form>
      </Modal>
      <Modal
        open={removing !== null}
        title={t('meter.removeTitle', { meterNo: removing?.meter_no ?? '' })}
        onOk={remove}
        onCancel={() => setRemoving(null)}
        confirmLoading={busy}
        okText={t('meter.remove')}
        okButtonProps={{ danger: true }}
        cancelText={t('common.cancel')}
        forceRender
      >
        <Form form={removeForm} name="meterRemoval" layout="vertical">
          <Form.Item name="removedOn" label={t('meter.removedOn')} rules={[{ required: true }]}>
            <DateInput notFuture allowClear={false} />
          </Form.Item>
          <Form.Item name="reason" label={t('common.reason')} rules={[{ required: true }, { max: 500 }]}>
            <Input.TextArea rows={3} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
