import { Alert, App, Descriptions, Form, Input, Modal, Radio, Select, Space, Table, Typography } from 'antd';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { DateInput } from '../components/DateInput';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { volume } from '../reading/common';
import type { Bilingual, BillRow } from './billTypes';
import { yuan } from './money';

/** The bases a work order may rest on (依据), as the server knows them. */
export const ADJUSTMENT_BASES = [
  'original_record',
  'regulation',
  'meter_test',
  'site_check',
  'other',
] as const;

/** A difference line: the volume and amount it adds (negative: takes off). */
export interface AdjustmentLine {
  code: string;
  blockNo: number | null;
  description: Bilingual;
  volumeM3: string;
  unitPriceFen: string | null;
  amountFen: number;
  from: string;
  to: string;
  tariffVersion: string;
}

/** POST /api/customers/:accountId/volume-adjustments/preview */
export interface AdjustmentPricing {
  periodFrom: string;
  periodTo: string;
  billedM3: string;
  adjustedM3: string;
  beforeFen: number;
  afterFen: number;
  amountFen: number;
  lines: AdjustmentLine[];
  explanation: Bilingual[];
}

interface Values {
  kind: 'reduce' | 'supplement';
  meterId?: number;
  periodFrom?: string | null;
  periodTo?: string | null;
  volumeM3?: string;
  basis?: (typeof ADJUSTMENT_BASES)[number];
  basisNote?: string;
}

/** A signed amount, red when the customer owes more, green when it is a credit. */
export function SignedYuan({ fen, strong }: { fen: number; strong?: boolean }) {
  return (
    <Typography.Text strong={strong} type={fen > 0 ? 'danger' : fen < 0 ? 'success' : undefined}>
      {fen > 0 ? '+' : ''}
      {yuan(fen)}
    </Typography.Text>
  );
}

/** The difference lines of an adjustment, with their total. */
export function AdjustmentLines({ lines, totalFen }: { lines: AdjustmentLine[]; totalFen: number }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language === 'en' ? 'en' : 'zh-CN';
  return (
    <Table<AdjustmentLine>
      size="small"
      rowKey={(l) => `${l.code}:${l.blockNo}:${l.tariffVersion}:${l.from}`}
      dataSource={lines}
      pagination={false}
      data-testid="adjustment-lines"
      columns={[
        { title: t('adjustments.line'), key: 'd', render: (_, l) => l.description[lang] },
        {
          title: t('adjustments.lineVolume'),
          dataIndex: 'volumeM3',
          align: 'right',
          width: 110,
          render: (v: string) => `${Number(v) > 0 ? '+' : ''}${volume(v)}`,
        },
        {
          title: t('adjustments.unitPrice'),
          dataIndex: 'unitPriceFen',
          align: 'right',
          width: 100,
          render: (v: string | null) => (v === null ? '—' : (Number(v) / 100).toFixed(2)),
        },
        {
          title: t('adjustments.lineAmount'),
          dataIndex: 'amountFen',
          align: 'right',
          width: 110,
          render: (v: number) => <SignedYuan fen={v} />,
        },
      ]}
      summary={() => (
        <Table.Summary.Row>
          <Table.Summary.Cell index={0} colSpan={3}>
            <Typography.Text strong>{t('adjustments.total')}</Typography.Text>
          </Table.Summary.Cell>
          <Table.Summary.Cell index={3} align="right">
            <span data-testid="adjustment-total">
              <SignedYuan fen={totalFen} strong />
            </span>
          </Table.Summary.Cell>
        </Table.Summary.Row>
      )}
    />
  );
}

/**
 * A new volume adjustment work order (调量 / 补量): on a bill (take volume off it or add to it), or a
 * supplement over a period never billed (no bill: pick the meter and the dates). What it comes to is
 * priced as it is typed, line by line; the reading specialist checks it and the department manager
 * signs it on the work-order page.
 */
export function VolumeAdjustmentDialog({
  accountId,
  bill,
  meters,
  open,
  onClose,
  onDone,
}: {
  accountId: number;
  bill?: BillRow | null;
  meters: { meterId: number; meterNo: string }[];
  open: boolean;
  onClose: () => void;
  onDone: (orderNo: string) => void;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language === 'en' ? 'en' : 'zh-CN';
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const [pricing, setPricing] = useState<AdjustmentPricing | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const kind = Form.useWatch('kind', form);

  useEffect(() => {
    if (!open) return;
    form.resetFields();
    form.setFieldsValue({
      kind: bill ? 'reduce' : 'supplement',
      meterId: bill?.meterId ?? meters[0]?.meterId,
    });
    setPricing(null);
    setPreviewError(null);
  }, [open, bill, meters, form]);

  const body = (v: Values) => ({
    kind: v.kind,
    meterId: bill?.meterId ?? v.meterId,
    billId: bill?.billId ?? null,
    periodFrom: bill ? null : (v.periodFrom ?? null),
    periodTo: bill ? null : (v.periodTo ?? null),
    volumeM3: v.volumeM3?.trim() ?? '',
    basis: v.basis ?? 'other',
    basisNote: v.basisNote ?? '',
  });

  // Priced as it is typed (a moment after the last key), once there is a volume to price.
  const reprice = () => {
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(async () => {
      const v = form.getFieldsValue();
      if (!v.volumeM3 || (!bill && (!v.periodFrom || !v.periodTo))) {
        setPricing(null);
        setPreviewError(null);
        return;
      }
      try {
        setPricing(
          await api<AdjustmentPricing>(`/api/customers/${accountId}/volume-adjustments/preview`, {
            method: 'POST',
            body: body(v),
          }),
        );
        setPreviewError(null);
      } catch (e) {
        setPricing(null);
        const fields = (e as { fields?: { message: string }[] }).fields ?? [];
        setPreviewError(
          fields.length ? fields.map((f) => f.message).join('；') : String((e as Error).message),
        );
      }
    }, 400);
  };
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);

  const submit = async () => {
    const v = await validated(form);
    if (!v) return;
    setBusy(true);
    try {
      const order = await api<{ orderNo: string }>(`/api/customers/${accountId}/volume-adjustments`, {
        method: 'POST',
        body: body(v),
      });
      void message.success(t('adjustments.requested', { orderNo: order.orderNo }));
      onDone(order.orderNo);
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Modal
      open={open}
      width={760}
      title={bill ? t('adjustments.newOnBill', { billNo: bill.billNo }) : t('adjustments.newSupplement')}
      onOk={submit}
      onCancel={onClose}
      confirmLoading={busy}
      okText={t('adjustments.submit')}
      cancelText={t('common.cancel')}
      forceRender
    >
      {bill && (
        <Descriptions size="small" column={3} style={{ marginBottom: 12 }}>
          <Descriptions.Item label={t('bills.period')}>
            {bill.periodFrom} ~ {bill.periodTo}
          </Descriptions.Item>
          <Descriptions.Item label={t('bills.payable')}>{volume(bill.payableM3)} m³</Descriptions.Item>
          <Descriptions.Item label={t('bills.amount')}>{yuan(bill.amountFen)}</Descriptions.Item>
        </Descriptions>
      )}
      <Form<Values>
        form={form}
        name="volumeAdjustment"
        layout="vertical"
        onValuesChange={reprice}
        data-testid="adjustment-form"
      >
        <Form.Item name="kind" label={t('adjustments.kind')} rules={[{ required: true }]}>
          <Radio.Group
            options={(bill ? (['reduce', 'supplement'] as const) : (['supplement'] as const)).map((k) => ({
              value: k,
              label: t(`adjustments.kindName.${k}`),
            }))}
            optionType="button"
          />
        </Form.Item>
        {!bill && (
          <Space wrap align="start">
            <Form.Item name="meterId" label={t('bills.meterNo')} rules={[{ required: true }]}>
              <Select
                style={{ width: 180 }}
                options={meters.map((m) => ({ value: m.meterId, label: m.meterNo }))}
              />
            </Form.Item>
            <Form.Item name="periodFrom" label={t('adjustments.periodFrom')} rules={[{ required: true }]}>
              <DateInput notFuture />
            </Form.Item>
            <Form.Item name="periodTo" label={t('adjustments.periodTo')} rules={[{ required: true }]}>
              <DateInput notFuture />
            </Form.Item>
          </Space>
        )}
        <Space wrap align="start">
          <Form.Item
            name="volumeM3"
            label={t(kind === 'reduce' ? 'adjustments.volumeReduce' : 'adjustments.volumeSupplement')}
            rules={[
              { required: true, whitespace: true },
              { pattern: /^\d{1,9}(\.\d{1,3})?$/, message: t('adjustments.volumeFormat') },
            ]}
          >
            <Input suffix="m³" style={{ width: 180 }} inputMode="decimal" data-testid="adjustment-volume" />
          </Form.Item>
          <Form.Item name="basis" label={t('adjustments.basis')} rules={[{ required: true }]}>
            <Select
              style={{ width: 220 }}
              data-testid="adjustment-basis"
              options={ADJUSTMENT_BASES.map((b) => ({ value: b, label: t(`adjustments.basisName.${b}`) }))}
            />
          </Form.Item>
        </Space>
        <Form.Item
          name="basisNote"
          label={t('adjustments.basisNote')}
          extra={t('adjustments.basisNoteHint')}
          rules={[{ required: true, whitespace: true }, { max: 500 }]}
        >
          <Input.TextArea rows={2} data-testid="adjustment-basis-note" />
        </Form.Item>
      </Form>
      {previewError && (
        <Alert type="warning" showIcon message={previewError} data-testid="adjustment-preview-error" />
      )}
      {pricing && (
        <Space direction="vertical" style={{ width: '100%' }} data-testid="adjustment-preview">
          <Typography.Text>
            {t('adjustments.previewHead', {
              billed: volume(pricing.billedM3),
              adjusted: volume(pricing.adjustedM3),
              before: yuan(pricing.beforeFen),
              after: yuan(pricing.afterFen),
            })}
          </Typography.Text>
          <AdjustmentLines lines={pricing.lines} totalFen={pricing.amountFen} />
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {pricing.explanation.at(-1)?.[lang]}
          </Typography.Text>
        </Space>
      )}
    </Modal>
  );
}
