import { Image, Segmented, Space, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';

/** A result of a work order or a re-check uploaded from the handheld (GET /api/collections/field-results). */
interface FieldResult {
  accountId: number;
  resultId: number;
  officeId: number;
  kind: 'order' | 'recheck';
  orderId: number;
  orderNo: string;
  customerCode: string;
  customerName: string;
  outcome: string;
  action: string | null;
  confirmedMeterNo: string;
  note: string;
  status: 'applied' | 'conflict';
  conflictReason: string;
  hasPhoto: boolean;
  recordedAt: string;
  receivedAt: string;
  staffName: string;
}

/**
 * 现场回传: work-order results and re-checks sent from the handheld, with the photo; a result that
 * arrived for an order already closed is kept and flagged (conflict) for the office to look at.
 */
export function FieldResultsPanel() {
  const { t } = useTranslation();
  const [conflictOnly, setConflictOnly] = useState(false);
  const list = useApi<{ items: FieldResult[] }>('/api/collections/field-results', {
    conflictOnly: conflictOnly ? 'true' : undefined,
  });
  const columns: ColumnsType<FieldResult> = [
    {
      title: t('fieldOrders.recordedAt'),
      dataIndex: 'recordedAt',
      width: 150,
      render: (v: string) => formatDateTime(v),
    },
    { title: t('fieldOrders.orderNo'), dataIndex: 'orderNo', width: 130 },
    {
      title: t('fieldOrders.customer'),
      key: 'customer',
      render: (_, r) => `${r.customerCode} ${r.customerName}`,
    },
    {
      title: t('fieldOrders.outcome'),
      key: 'outcome',
      render: (_, r) => (
        <Space direction="vertical" size={0}>
          <span>{t(`fieldOrders.outcomes.${r.outcome}`, { defaultValue: r.outcome })}</span>
          {r.confirmedMeterNo && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('fieldOrders.typedMeterNo')} {r.confirmedMeterNo}
            </Typography.Text>
          )}
          {r.note && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {r.note}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    { title: t('fieldOrders.staff'), dataIndex: 'staffName', width: 90 },
    {
      title: t('fieldOrders.status'),
      key: 'status',
      width: 170,
      render: (_, r) =>
        r.status === 'conflict' ? (
          <Space direction="vertical" size={0}>
            <Tag color="red" data-testid={`field-result-conflict-${r.resultId}`}>
              {t('fieldOrders.conflict')}
            </Tag>
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {r.conflictReason}
            </Typography.Text>
          </Space>
        ) : (
          <Tag color="green">{t('fieldOrders.applied')}</Tag>
        ),
    },
    {
      title: t('fieldOrders.photo'),
      key: 'photo',
      width: 80,
      render: (_, r) =>
        r.hasPhoto ? (
          <Image
            width={56}
            height={42}
            style={{ objectFit: 'cover' }}
            src={`/api/customers/${r.accountId}/field-results/${r.resultId}/photo`}
            alt={t('fieldOrders.photo')}
          />
        ) : null,
    },
  ];
  return (
    <Space direction="vertical" style={{ width: '100%' }}>
      <Segmented
        value={conflictOnly ? 'conflict' : 'all'}
        onChange={(v) => setConflictOnly(v === 'conflict')}
        options={[
          { value: 'all', label: t('fieldOrders.all') },
          { value: 'conflict', label: t('fieldOrders.conflictOnly') },
        ]}
      />
      <Table<FieldResult>
        size="small"
        rowKey={(r) => `${r.accountId}/${r.resultId}`}
        loading={list.loading}
        columns={columns}
        dataSource={list.data?.items ?? []}
        data-testid="field-results"
      />
    </Space>
  );
}
