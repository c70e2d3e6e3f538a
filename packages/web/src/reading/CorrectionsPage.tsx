import { CheckOutlined, CloseOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Form, Input, Modal, Select, Space, Table, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { OfficeSelect, useOfficeParam, useParam, volume } from './common';
import { Decision, RequestedBy } from './PlanChanges';
import { type CorrectionRow, itemsOf, type Paged } from './types';

/** Corrections in one page of the list. */
const PAGE_SIZE = 50;

/** new − old index, in m³ (what the bill's consumption changes by), to three decimals. */
export function indexDifference(
  oldIndex: string | null | undefined,
  newIndex: string | null | undefined,
): number | null {
  if (oldIndex === null || oldIndex === undefined || newIndex === null || newIndex === undefined) return null;
  return Math.round((Number(newIndex) - Number(oldIndex)) * 1000) / 1000;
}

export function Difference({ value }: { value: number | null }) {
  if (value === null) return <>—</>;
  const text = `${value > 0 ? '+' : ''}${value} m³`;
  return (
    <Typography.Text strong type={value > 0 ? 'danger' : value < 0 ? 'success' : undefined}>
      {text}
    </Typography.Text>
  );
}

/** Index corrections (更改水表指数) waiting for the office manager, and those decided. */
export default function CorrectionsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [officeId, setOfficeId] = useOfficeParam();
  const [status, setStatus] = useParam('status', 'pending');
  const [page, setPage] = useState(1);
  const list = useApi<Paged<CorrectionRow> | CorrectionRow[]>(officeId ? '/api/corrections' : null, {
    officeId,
    status: status === 'all' ? undefined : status,
    page,
    pageSize: PAGE_SIZE,
  });
  const total = Array.isArray(list.data) ? list.data.length : (list.data?.total ?? 0);
  const [deciding, setDeciding] = useState<{ row: CorrectionRow; approve: boolean } | null>(null);
  const [form] = Form.useForm<{ note: string }>();
  const [busy, setBusy] = useState(false);
  const approver = can('reading.approve');

  const decide = async () => {
    if (!deciding) return;
    const values = await validated(form);
    if (!values) return;
    const { note } = values;
    setBusy(true);
    try {
      await api(`/api/customers/${deciding.row.accountId}/corrections/${deciding.row.correctionId}/decide`, {
        method: 'POST',
        body: { approve: deciding.approve, note: note ?? '' },
      });
      void message.success(
        deciding.approve ? t('reading.corrections.approved') : t('reading.corrections.rejected'),
      );
      setDeciding(null);
      list.reload();
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const consumptionChange = (r: CorrectionRow) =>
    r.oldConsumptionM3 !== undefined && r.newConsumptionM3 !== undefined
      ? indexDifference(r.oldConsumptionM3, r.newConsumptionM3)
      : indexDifference(r.oldIndex, r.newIndex);

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Typography.Title level={4} className="page-title">
          {t('menu.corrections')}
        </Typography.Title>
        <Space wrap>
          <OfficeSelect value={officeId} onChange={setOfficeId} />
          <Select
            value={status}
            onChange={(s) => {
              setStatus(s);
              setPage(1);
            }}
            style={{ width: 140 }}
            aria-label={t('reading.changes.status')}
            options={['pending', 'approved', 'rejected', 'all'].map((s) => ({
              value: s,
              label: t(`reading.changes.statusName.${s}`),
            }))}
          />
        </Space>
      </Space>
      <Typography.Text type="secondary">{t('reading.corrections.hint')}</Typography.Text>
      {list.error && <Alert type="error" showIcon message={list.error.message} />}
      <Card styles={{ body: { padding: 0 } }}>
        <Table<CorrectionRow>
          rowKey={(r) => `${r.accountId}:${r.correctionId}`}
          size="middle"
          loading={list.loading}
          dataSource={itemsOf(list.data)}
          pagination={{
            current: page,
            pageSize: PAGE_SIZE,
            total,
            onChange: setPage,
            hideOnSinglePage: true,
            showSizeChanger: false,
          }}
          scroll={{ x: 1100 }}
          data-testid="corrections-table"
          columns={[
            {
              title: t('customer.name'),
              key: 'c',
              width: 220,
              render: (_, r) => (
                <Space direction="vertical" size={0}>
                  <Link to={`/customers/${r.accountId}?tab=readings`}>{r.customerName ?? r.accountId}</Link>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {r.customerCode ?? ''} · {r.meterNo ?? ''}
                  </Typography.Text>
                </Space>
              ),
            },
            { title: t('reading.period'), dataIndex: 'period', width: 90 },
            {
              title: t('reading.corrections.index'),
              key: 'i',
              width: 160,
              render: (_, r) => (
                <span data-testid="correction-index">
                  <Typography.Text delete>{volume(r.oldIndex)}</Typography.Text> →{' '}
                  <Typography.Text strong>{volume(r.newIndex)}</Typography.Text>
                </span>
              ),
            },
            {
              title: t('reading.corrections.difference'),
              key: 'd',
              width: 130,
              align: 'right',
              render: (_, r) => <Difference value={consumptionChange(r)} />,
            },
            { title: t('common.reason'), dataIndex: 'reason' },
            {
              title: t('reading.changes.requested'),
              key: 'req',
              width: 170,
              render: (_, r) => <RequestedBy name={r.requestedByName} at={r.requestedAt} />,
            },
            {
              title: t('reading.changes.status'),
              dataIndex: 'status',
              width: 180,
              render: (s: string, r) => (
                <Decision
                  status={s}
                  decidedByName={r.decidedByName}
                  decidedAt={r.decidedAt}
                  decisionNote={r.decisionNote}
                />
              ),
            },
            ...(approver
              ? [
                  {
                    title: t('common.actions'),
                    key: 'a',
                    width: 180,
                    render: (_: unknown, r: CorrectionRow) =>
                      r.status === 'pending' ? (
                        <Space>
                          <Button
                            size="small"
                            type="primary"
                            icon={<CheckOutlined />}
                            onClick={() => {
                              form.resetFields();
                              setDeciding({ row: r, approve: true });
                            }}
                            data-testid="correction-approve"
                          >
                            {t('reading.changes.approve')}
                          </Button>
                          <Button
                            size="small"
                            danger
                            icon={<CloseOutlined />}
                            onClick={() => {
                              form.resetFields();
                              setDeciding({ row: r, approve: false });
                            }}
                            data-testid="correction-reject"
                          >
                            {t('reading.changes.reject')}
                          </Button>
                        </Space>
                      ) : null,
                  },
                ]
              : []),
          ]}
        />
      </Card>
      <Modal
        open={deciding !== null}
        title={
          deciding
            ? t(deciding.approve ? 'reading.corrections.approveTitle' : 'reading.corrections.rejectTitle', {
                meterNo: deciding.row.meterNo ?? '',
              })
            : ''
        }
        onOk={decide}
        onCancel={() => setDeciding(null)}
        confirmLoading={busy}
        okText={deciding?.approve ? t('reading.changes.approve') : t('reading.changes.reject')}
        okButtonProps={{ danger: deciding ? !deciding.approve : false }}
        cancelText={t('common.cancel')}
        forceRender
      >
        {deciding && (
          <Space direction="vertical" style={{ marginBottom: 12 }}>
            <span>
              {t('reading.corrections.index')}：{volume(deciding.row.oldIndex)} →{' '}
              {volume(deciding.row.newIndex)}（
              <Difference value={consumptionChange(deciding.row)} />）
            </span>
            <span>
              {t('common.reason')}：{deciding.row.reason}
            </span>
          </Space>
        )}
        <Form form={form} name="decideCorrection" layout="vertical">
          <Form.Item
            name="note"
            label={t('reading.changes.note')}
            rules={[{ required: deciding ? !deciding.approve : false, whitespace: true }, { max: 500 }]}
          >
            <Input.TextArea rows={3} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
