import {
  Alert,
  App,
  Button,
  Card,
  Input,
  Modal,
  Progress,
  Segmented,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { yuan } from '../billing/money';
import { openPdf } from '../billing/pdf';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { newKey } from '../payments/types';
import { OfficeSelect, useOfficeParam } from '../reading/common';

/**
 * 还欠协议 (docs/arrears.md "Installment agreements"): requested by the counter (from the customer
 * page) with a schedule summing exactly to the debt; approved by the deputy GM (never the
 * requester); signed by the customer (the printed agreement), which holds the arrears out of
 * escalation and restores supply; tracked against payments; a missed installment defaults it.
 */

export type AgreementStatus = 'requested' | 'approved' | 'signed' | 'completed' | 'defaulted' | 'rejected';

export interface Agreement {
  accountId: number;
  agreementId: number;
  agreementNo: string;
  officeId: number;
  customerCode: string;
  customerName: string;
  status: AgreementStatus;
  debtFen: number;
  paidFen: number;
  remainingFen: number;
  installments: { seq: number; dueOn: string; amountFen: number; paid: boolean }[];
  bills: { billId: number; billNo: string; period: string; owedFen: number }[];
  nextDue: { seq: number; dueOn: string; stillOwedFen: number } | null;
  reason: string;
  requestedBy: string;
  requestedById: number;
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  decisionNote: string;
  signedAt: string | null;
  defaultedSeq: number | null;
}

export const AGREEMENT_STATUS_COLOR: Record<AgreementStatus, string> = {
  requested: 'orange',
  approved: 'blue',
  signed: 'purple',
  completed: 'green',
  defaulted: 'red',
  rejected: 'default',
};

/** Approve / reject / sign / print, and the table columns: shared with the customer page. */
export function useAgreementActions(reload: () => void) {
  const { t } = useTranslation();
  const { can, me } = useAuth();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const [deciding, setDeciding] = useState<{ a: Agreement; approve: boolean } | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);

  const decide = async () => {
    if (!deciding) return;
    setBusy(true);
    try {
      await api(`/api/customers/${deciding.a.accountId}/installments/${deciding.a.agreementId}/decision`, {
        method: 'POST',
        body: { approve: deciding.approve, note: note.trim() },
        headers: { 'Idempotency-Key': newKey('installment-decision') },
      });
      void message.success(t(deciding.approve ? 'installments.approved' : 'installments.rejected'));
      setDeciding(null);
      setNote('');
      reload();
    } catch (e) {
      handle(e);
    } finally {
      setBusy(false);
    }
  };

  const sign = (a: Agreement) =>
    modal.confirm({
      okButtonProps: { 'data-testid': 'installment-sign-ok' } as never,
      title: t('installments.signTitle', { no: a.agreementNo }),
      content: t('installments.signHint'),
      onOk: async () => {
        try {
          await api(`/api/customers/${a.accountId}/installments/${a.agreementId}/sign`, {
            method: 'POST',
            headers: { 'Idempotency-Key': newKey('installment-sign') },
          });
          void message.success(t('installments.signed'));
          reload();
        } catch (e) {
          handle(e);
        }
      },
    });

  const actions = (a: Agreement) => (
    <Space wrap size={4}>
      {a.status === 'requested' && can('collection.approve') && a.requestedById !== me?.staffId && (
        <>
          <Button
            size="small"
            type="primary"
            onClick={() => setDeciding({ a, approve: true })}
            data-testid={`approve-${a.agreementId}`}
          >
            {t('installments.approve')}
          </Button>
          <Button size="small" danger onClick={() => setDeciding({ a, approve: false })}>
            {t('installments.reject')}
          </Button>
        </>
      )}
      {a.status === 'requested' && a.requestedById === me?.staffId && (
        <Typography.Text type="secondary">{t('installments.waiting')}</Typography.Text>
      )}
      {a.status === 'approved' && can('collection.dispute') && (
        <Button size="small" type="primary" onClick={() => sign(a)} data-testid={`sign-${a.agreementId}`}>
          {t('installments.sign')}
        </Button>
      )}
      <Button
        size="small"
        onClick={() => openPdf(`/api/customers/${a.accountId}/installments/${a.agreementId}/pdf`)}
      >
        {t('installments.print')}
      </Button>
    </Space>
  );

  const modalNode = (
    <Modal
      open={deciding !== null}
      title={deciding ? t(deciding.approve ? 'installments.approveTitle' : 'installments.rejectTitle') : ''}
      onCancel={() => setDeciding(null)}
      onOk={decide}
      confirmLoading={busy}
      okButtonProps={
        { danger: deciding?.approve === false, 'data-testid': 'installment-decision-ok' } as never
      }
    >
      {deciding && (
        <Space direction="vertical" style={{ width: '100%' }}>
          <Typography.Text>
            {deciding.a.agreementNo} · {deciding.a.customerCode} {deciding.a.customerName} ·{' '}
            {yuan(deciding.a.debtFen)} · {t('installments.count', { n: deciding.a.installments.length })}
          </Typography.Text>
          <Typography.Text type="secondary">{deciding.a.reason}</Typography.Text>
          <Input.TextArea
            rows={3}
            maxLength={500}
            placeholder={t('installments.note')}
            value={note}
            onChange={(e) => setNote(e.target.value)}
          />
        </Space>
      )}
    </Modal>
  );
  return { actions, modalNode };
}

export function useAgreementColumns(
  actions: (a: Agreement) => React.ReactNode,
  withCustomer: boolean,
): ColumnsType<Agreement> {
  const { t } = useTranslation();
  return [
    { title: t('installments.no'), dataIndex: 'agreementNo', width: 130 },
    ...(withCustomer
      ? ([
          {
            title: t('installments.customer'),
            key: 'customer',
            render: (_: unknown, a: Agreement) => (
              <Link to={`/customers/${a.accountId}`}>
                {a.customerCode} {a.customerName}
              </Link>
            ),
          },
        ] as ColumnsType<Agreement>)
      : []),
    {
      title: t('installments.debt'),
      dataIndex: 'debtFen',
      align: 'right',
      width: 110,
      render: (v: number) => yuan(v),
    },
    {
      title: t('installments.schedule'),
      key: 'schedule',
      render: (_, a) => (
        <Space direction="vertical" size={0}>
          <Typography.Text style={{ fontSize: 12 }}>
            {a.installments.map((i) => `${i.dueOn} ${yuan(i.amountFen)}${i.paid ? ' ✓' : ''}`).join('；')}
          </Typography.Text>
          {a.nextDue && (a.status === 'signed' || a.status === 'defaulted') && (
            <Typography.Text
              type={a.status === 'defaulted' ? 'danger' : 'secondary'}
              style={{ fontSize: 12 }}
            >
              {t('installments.next', {
                seq: a.nextDue.seq,
                day: a.nextDue.dueOn,
                yuan: yuan(a.nextDue.stillOwedFen),
              })}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    {
      title: t('installments.progress'),
      key: 'progress',
      width: 140,
      render: (_, a) => <Progress percent={Math.floor((a.paidFen / a.debtFen) * 100)} size="small" />,
    },
    {
      title: t('installments.status'),
      key: 'status',
      width: 170,
      render: (_, a) => (
        <Space direction="vertical" size={0}>
          <Tag color={AGREEMENT_STATUS_COLOR[a.status]}>{t(`installments.statuses.${a.status}`)}</Tag>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {a.requestedBy} {formatDateTime(a.requestedAt)}
          </Typography.Text>
          {a.decidedBy && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {t('installments.decidedBy', { who: a.decidedBy })} {a.decisionNote}
            </Typography.Text>
          )}
          {a.defaultedSeq !== null && (
            <Typography.Text type="danger" style={{ fontSize: 12 }}>
              {t('installments.missed', { seq: a.defaultedSeq })}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    { title: '', key: 'actions', width: 200, render: (_, a) => actions(a) },
  ];
}

export default function InstallmentsPage() {
  const { t } = useTranslation();
  const [officeId, setOfficeId] = useOfficeParam({ allowAll: true });
  const [status, setStatus] = useState<AgreementStatus | 'all'>('requested');
  const [page, setPage] = useState(1);
  const list = useApi<{ items: Agreement[]; total: number }>('/api/collections/installments', {
    officeId,
    status: status === 'all' ? undefined : status,
    page,
    pageSize: 50,
  });
  const { actions, modalNode } = useAgreementActions(list.reload);
  const columns = useAgreementColumns(actions, true);
  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('installments.title')}
      </Typography.Title>
      <Typography.Text type="secondary">{t('installments.intro')}</Typography.Text>
      <Space wrap>
        <OfficeSelect value={officeId} onChange={setOfficeId} allowAll />
        <Segmented
          value={status}
          onChange={(v) => {
            setStatus(v as typeof status);
            setPage(1);
          }}
          options={(
            ['requested', 'approved', 'signed', 'defaulted', 'completed', 'rejected', 'all'] as const
          ).map((s) => ({
            value: s,
            label: t(`installments.statuses.${s}`),
          }))}
        />
      </Space>
      {list.error && <Alert type="error" showIcon message={list.error.message} />}
      <Card size="small">
        <Table<Agreement>
          size="small"
          rowKey={(a) => `${a.accountId}/${a.agreementId}`}
          loading={list.loading}
          columns={columns}
          dataSource={list.data?.items ?? []}
          pagination={{
            current: page,
            pageSize: 50,
            total: list.data?.total ?? 0,
            onChange: setPage,
            showSizeChanger: false,
          }}
          data-testid="installments-table"
        />
      </Card>
      {modalNode}
    </Space>
  );
}
