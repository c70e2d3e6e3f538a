import { EditOutlined } from '@ant-design/icons';
import {
  Alert,
  App,
  Button,
  Descriptions,
  Empty,
  Form,
  Image,
  Input,
  InputNumber,
  Modal,
  Segmented,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { Difference, indexDifference } from './CorrectionsPage';
import { AnomalyTags, FlagTags, volume } from './common';
import { ReadingHistoryChart } from './ReadingHistoryChart';
import { RegisterReads } from './RegisterChart';
import { photoUrl } from './ReviewPage';
import type { CorrectionRow, CustomerReadings, FollowupRow, ReadingRow } from './types';

const STATUS_COLORS: Record<string, string> = {
  accepted: 'green',
  review: 'orange',
  conflict: 'red',
  rejected: 'default',
  superseded: 'default',
};
const CORRECTION_COLORS: Record<string, string> = { pending: 'gold', approved: 'green', rejected: 'red' };
const FOLLOWUP_COLORS: Record<string, string> = { open: 'orange', in_progress: 'blue', closed: 'default' };

/** Most readings the chart shows: five years of monthly reads. */
const CHART_READINGS = 60;

/** A reading with the corrections asked for on it. */
interface CustomerReading extends ReadingRow {
  corrections: CorrectionRow[];
}

/** Whether an index correction can be asked for: an accepted actual reading with none pending. */
function correctable(r: CustomerReading): boolean {
  return (
    r.index !== null &&
    r.status === 'accepted' &&
    r.kind === 'actual' &&
    !r.corrections.some((c) => c.status === 'pending')
  );
}

/**
 * The customer's meter readings (抄表记录): consumption by period (estimates marked), the history
 * with its corrections, the smart meters' daily register reads, the anomaly follow-ups, and asking
 * for an index correction.
 */
export function ReadingsTab({ accountId }: { accountId: number }) {
  const { t, i18n } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const readings = useApi<CustomerReadings>(`/api/customers/${accountId}/readings`);
  const [meter, setMeter] = useState<string>('all');
  const [correcting, setCorrecting] = useState<CustomerReading | null>(null);
  const [form] = Form.useForm<{ newIndex: number; reason: string }>();
  const [busy, setBusy] = useState(false);
  const newIndex = Form.useWatch('newIndex', form);

  const rows = useMemo<CustomerReading[]>(() => {
    const corrections = readings.data?.corrections ?? [];
    return (readings.data?.items ?? []).map((r) => ({
      ...r,
      corrections: corrections.filter((c) => c.readingId === r.readingId),
    }));
  }, [readings.data]);
  const followups: FollowupRow[] = readings.data?.followups ?? [];
  const meters = useMemo(
    () => [...new Map(rows.map((r) => [String(r.meterId), r.meterNo ?? String(r.meterId)])).entries()],
    [rows],
  );
  const shown = useMemo(
    () =>
      (meter === 'all' ? rows : rows.filter((r) => String(r.meterId) === meter)).sort((a, b) =>
        b.readAt.localeCompare(a.readAt),
      ),
    [rows, meter],
  );
  const chartRows = useMemo(
    () =>
      shown
        .filter((r) => r.status !== 'rejected' && r.status !== 'superseded')
        .slice(0, CHART_READINGS)
        .map((r) => ({
          key: r.readingId,
          readAt: r.readAt,
          period: meters.length > 1 && meter === 'all' ? `${r.period} ${r.meterNo ?? ''}` : r.period,
          consumptionM3: r.consumptionM3,
          kind: r.kind,
        })),
    [shown, meter, meters.length],
  );

  const request = async () => {
    if (!correcting) return;
    const values = await validated(form);
    if (!values) return;
    setBusy(true);
    try {
      await api(`/api/customers/${accountId}/readings/${correcting.readingId}/corrections`, {
        method: 'POST',
        body: { newIndex: String(values.newIndex), reason: values.reason.trim() },
      });
      void message.success(t('reading.corrections.requested'));
      setCorrecting(null);
      readings.reload();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  if (readings.error && !readings.data)
    return <Alert type="error" showIcon message={readings.error.message} />;

  return (
    <Space direction="vertical" style={{ width: '100%' }} size="middle">
      {meters.length > 1 && (
        <Segmented
          value={meter}
          onChange={(v) => setMeter(String(v))}
          options={[
            { value: 'all', label: t('reading.allMeters') },
            ...meters.map(([id, no]) => ({ value: id, label: no })),
          ]}
        />
      )}
      {chartRows.length > 0 ? (
        <div>
          <Space style={{ justifyContent: 'space-between', width: '100%' }}>
            <Typography.Text strong>{t('reading.consumptionByPeriod')}</Typography.Text>
            <Space size={4}>
              <Tag color="blue">{t('reading.kind.actual')}</Tag>
              <Tag>{t('reading.kind.estimated')}</Tag>
            </Space>
          </Space>
          <ReadingHistoryChart readings={chartRows} height={240} testId="customer-readings-chart" />
        </div>
      ) : (
        !readings.loading && <Empty description={t('reading.noReadings')} />
      )}
      <Table<CustomerReading>
        rowKey="readingId"
        size="small"
        loading={readings.loading}
        dataSource={shown}
        pagination={{ pageSize: 12, hideOnSinglePage: true }}
        scroll={{ x: 1100 }}
        data-testid="readings-table"
        expandable={{
          rowExpandable: (r) => Boolean(r.note || photoUrl(r) || r.reviewNote || r.corrections.length),
          expandedRowRender: (r) => (
            <Descriptions size="small" column={{ xs: 1, md: 2 }} bordered>
              {r.note && <Descriptions.Item label={t('reading.note')}>{r.note}</Descriptions.Item>}
              {r.reviewNote && (
                <Descriptions.Item label={t('reading.reviewNote')}>
                  {r.reviewNote} {r.reviewedByName ? `（${r.reviewedByName}）` : ''}
                </Descriptions.Item>
              )}
              {photoUrl(r) && (
                <Descriptions.Item label={t('reading.photo')}>
                  <Image
                    src={photoUrl(r)!}
                    width={160}
                    alt={t('reading.photoOf', { meterNo: r.meterNo ?? '' })}
                  />
                </Descriptions.Item>
              )}
              {r.corrections.map((c) => (
                <Descriptions.Item key={c.correctionId} label={t('reading.corrections.one')} span={2}>
                  <Space size={4} wrap>
                    <span>
                      {volume(c.oldIndex)} → {volume(c.newIndex)}
                    </span>
                    <Difference
                      value={indexDifference(
                        c.oldConsumptionM3 ?? c.oldIndex,
                        c.newConsumptionM3 ?? c.newIndex,
                      )}
                    />
                    <Tag color={CORRECTION_COLORS[c.status]}>
                      {t(`reading.changes.statusName.${c.status}`, { defaultValue: c.status })}
                    </Tag>
                    <span>{c.reason}</span>
                    <Typography.Text type="secondary">
                      {c.requestedByName ?? ''} {formatDateTime(c.requestedAt)}
                      {c.decisionNote ? ` · ${c.decisionNote}` : ''}
                    </Typography.Text>
                  </Space>
                </Descriptions.Item>
              ))}
            </Descriptions>
          ),
        }}
        columns={[
          { title: t('reading.period'), dataIndex: 'period', width: 90 },
          { title: t('reading.readAt'), dataIndex: 'readAt', width: 160, render: formatDateTime },
          ...(meters.length > 1 ? [{ title: t('meter.meterNo'), dataIndex: 'meterNo', width: 120 }] : []),
          {
            title: t('reading.indexes'),
            key: 'i',
            width: 180,
            render: (_, r) => `${volume(r.previousIndex)} → ${volume(r.index)}`,
          },
          {
            title: t('reading.consumption'),
            dataIndex: 'consumptionM3',
            width: 100,
            align: 'right',
            render: (v: string | null) => (v === null ? '—' : `${volume(v)} m³`),
          },
          {
            title: t('reading.kindLabel'),
            dataIndex: 'kind',
            width: 80,
            render: (k: string) => (
              <Tag color={k === 'estimated' ? 'default' : 'blue'}>
                {t(`reading.kind.${k}`, { defaultValue: k })}
              </Tag>
            ),
          },
          {
            title: t('reading.status'),
            dataIndex: 'status',
            width: 90,
            render: (s: string) => (
              <Tag color={STATUS_COLORS[s]}>{t(`reading.statusName.${s}`, { defaultValue: s })}</Tag>
            ),
          },
          {
            title: t('reading.flags'),
            key: 'f',
            render: (_, r) => (
              <>
                <FlagTags flags={r.flags} />
                <AnomalyTags codes={r.anomalyCodes} />
                {r.corrections.some((c) => c.status === 'pending') && (
                  <Tag color="gold">{t('reading.corrections.pending')}</Tag>
                )}
                {r.corrected && <Tag color="cyan">{t('reading.corrections.corrected')}</Tag>}
              </>
            ),
          },
          {
            title: t('reading.reader'),
            dataIndex: 'readerName',
            width: 90,
            render: (n: string | null) => n ?? '—',
          },
          ...(can('reading.correct')
            ? [
                {
                  title: t('common.actions'),
                  key: 'a',
                  width: 110,
                  render: (_: unknown, r: CustomerReading) =>
                    correctable(r) ? (
                      <Button
                        size="small"
                        icon={<EditOutlined />}
                        onClick={() => {
                          form.resetFields();
                          setCorrecting(r);
                        }}
                        data-testid="request-correction"
                      >
                        {t('reading.corrections.request')}
                      </Button>
                    ) : null,
                },
              ]
            : []),
        ]}
      />
      {/* The smart meters' daily register reads, when the customer has any. */}
      <RegisterReads accountId={accountId} meterId={meter === 'all' ? undefined : Number(meter)} />
      {followups.length > 0 && (
        <Table<FollowupRow>
          rowKey="followupId"
          size="small"
          title={() => <Typography.Text strong>{t('reading.followups.title')}</Typography.Text>}
          dataSource={followups}
          pagination={{ pageSize: 10, hideOnSinglePage: true }}
          data-testid="customer-followups"
          columns={[
            {
              title: t('reading.followups.openedAt'),
              dataIndex: 'openedAt',
              width: 160,
              render: formatDateTime,
            },
            { title: t('meter.meterNo'), dataIndex: 'meterNo', width: 130 },
            {
              title: t('reading.anomalyLabel'),
              key: 'a',
              render: (_, f) => (
                <Tag color={f.meterFault ? 'red' : 'magenta'}>
                  {f.anomalyName
                    ? i18n.language === 'en'
                      ? f.anomalyName.en
                      : f.anomalyName['zh-CN']
                    : f.anomalyCode}
                </Tag>
              ),
            },
            {
              title: t('reading.followups.department'),
              dataIndex: 'department',
              width: 100,
              render: (d: string) => t(`reading.department.${d}`, { defaultValue: d }),
            },
            {
              title: t('reading.followups.status'),
              dataIndex: 'status',
              width: 160,
              render: (s: string, f) => (
                <Space size={2}>
                  <Tag color={FOLLOWUP_COLORS[s]}>
                    {t(`reading.followups.statusName.${s}`, { defaultValue: s })}
                  </Tag>
                  {f.escalatedAt && <Tag color="red">{t('reading.followups.escalated')}</Tag>}
                </Space>
              ),
            },
            { title: t('reading.note'), dataIndex: 'note', render: (n: string) => n || '—' },
          ]}
        />
      )}
      <Modal
        open={correcting !== null}
        title={correcting ? t('reading.corrections.requestTitle', { period: correcting.period }) : ''}
        onOk={request}
        onCancel={() => setCorrecting(null)}
        confirmLoading={busy}
        okText={t('reading.corrections.submit')}
        cancelText={t('common.cancel')}
        forceRender
      >
        {correcting && (
          <Descriptions size="small" column={1} style={{ marginBottom: 12 }}>
            <Descriptions.Item label={t('meter.meterNo')}>
              {correcting.meterNo ?? correcting.meterId}
            </Descriptions.Item>
            <Descriptions.Item label={t('reading.previousIndex')}>
              {volume(correcting.previousIndex)}
            </Descriptions.Item>
            <Descriptions.Item label={t('reading.currentIndex')}>
              {volume(correcting.index)}
            </Descriptions.Item>
            <Descriptions.Item label={t('reading.corrections.difference')}>
              <span data-testid="correction-difference">
                <Difference
                  value={
                    newIndex === undefined || newIndex === null
                      ? null
                      : indexDifference(correcting.index, String(newIndex))
                  }
                />
              </span>
            </Descriptions.Item>
          </Descriptions>
        )}
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 12 }}
          message={t('reading.corrections.needsApproval')}
        />
        <Form form={form} name="correction" layout="vertical">
          <Form.Item name="newIndex" label={t('reading.corrections.newIndex')} rules={[{ required: true }]}>
            <InputNumber min={0} precision={3} step={1} style={{ width: '100%' }} />
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
