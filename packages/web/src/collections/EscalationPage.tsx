import {
  Alert,
  App,
  Button,
  Card,
  Form,
  Input,
  Modal,
  Radio,
  Segmented,
  Select,
  Space,
  Table,
  Tabs,
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
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { newKey } from '../payments/types';

type NextStep =
  | { step: 'formal_letter' | 'lawyer_letter' | 'shutoff_request'; dueOn: string; due: boolean }
  | { step: null; reason: string };

interface Candidate {
  accountId: number;
  officeId: number;
  customerCode: string;
  customerName: string;
  customerKind: 'person' | 'organisation';
  utility: string;
  state: string;
  arrearsFen: number;
  cycles: number;
  months: number;
  oldestDueOn: string | null;
  next: NextStep;
  gasNoticeDue: boolean;
  formal: { issuedOn: string; deliveredOn: string | null } | null;
  lawyer: { issuedOn: string; deliveredOn: string | null } | null;
}

interface Letter {
  accountId: number;
  letterId: number;
  kind: 'formal' | 'lawyer' | 'gas_notice';
  letterNo: string;
  customerCode: string;
  customerName: string;
  address: string;
  arrearsFen: number;
  issuedOn: string;
  deadlineOn: string;
  issuedBy: string;
  delivery: 'pending' | 'signed' | 'registered_post' | 'posted';
  signedByName: string;
  deliveredOn: string | null;
  trackingNo: string;
  closed: boolean;
}

const STEP_KIND: Record<string, 'formal' | 'lawyer'> = { formal_letter: 'formal', lawyer_letter: 'lawyer' };

/**
 * 催缴函 (DOMAIN.md §6 "Escalation"): customers in arrears with the ladder's next step — formal
 * collection letter → lawyer's letter → shut-off request — the letters issued, printed, and their
 * delivery recorded (signed for; refused → registered post; gas notice posted).
 */
export default function EscalationPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const [dueOnly, setDueOnly] = useState(true);
  const [officeId, setOfficeId] = useState<number | undefined>(undefined);
  const { me } = useAuth();
  const candidates = useApi<{ items: Candidate[] }>('/api/collections/escalation', {
    officeId,
    dueOnly: dueOnly ? 'true' : undefined,
  });
  const [letterFilter, setLetterFilter] = useState<'pending' | 'all'>('pending');
  const letters = useApi<{ items: Letter[] }>('/api/collections/letters', {
    officeId,
    pending: letterFilter === 'pending' ? 'true' : undefined,
  });
  const [busy, setBusy] = useState<number | null>(null);
  const [delivering, setDelivering] = useState<Letter | null>(null);
  const [form] = Form.useForm();
  const manage = can('collection.manage');

  const reload = () => {
    candidates.reload();
    letters.reload();
  };

  const issue = async (c: Candidate, kind: 'formal' | 'lawyer' | 'gas_notice') => {
    setBusy(c.accountId);
    try {
      const letter = await api<Letter>(`/api/customers/${c.accountId}/collection-letters`, {
        method: 'POST',
        body: { kind },
        headers: { 'Idempotency-Key': newKey('letter') },
      });
      void message.success(t('escalation.issued', { no: letter.letterNo }));
      window.open(`/api/customers/${c.accountId}/collection-letters/${letter.letterId}/pdf`, '_blank');
      reload();
    } catch (e) {
      handle(e);
    } finally {
      setBusy(null);
    }
  };

  const requestShutoff = (c: Candidate) => {
    let reason = '';
    modal.confirm({
      title: t('escalation.shutoffRequestTitle', { name: c.customerName }),
      content: (
        <Input.TextArea
          rows={3}
          placeholder={t('escalation.reason')}
          data-testid="shutoff-reason"
          onChange={(e) => {
            reason = e.target.value;
          }}
        />
      ),
      okButtonProps: { 'data-testid': 'shutoff-request-ok' } as never,
      onOk: async () => {
        try {
          await api(`/api/customers/${c.accountId}/shutoff-requests`, {
            method: 'POST',
            body: { reason },
            headers: { 'Idempotency-Key': newKey('shutoff') },
          });
          void message.success(t('escalation.shutoffRequested'));
          reload();
        } catch (e) {
          handle(e);
        }
      },
    });
  };

  const deliver = async () => {
    if (!delivering) return;
    const values = await form.validateFields();
    try {
      await api(`/api/customers/${delivering.accountId}/collection-letters/${delivering.letterId}/delivery`, {
        method: 'POST',
        body: values,
        headers: { 'Idempotency-Key': newKey('delivery') },
      });
      void message.success(t('escalation.deliveryRecorded'));
      setDelivering(null);
      form.resetFields();
      reload();
    } catch (e) {
      handle(e, form);
    }
  };

  const nextCell = (c: Candidate) => {
    if (c.next.step === null) return <Tag>{t(`escalation.reasons.${c.next.reason}`)}</Tag>;
    return (
      <Space direction="vertical" size={0}>
        <Tag color={c.next.due ? 'orange' : 'default'}>{t(`escalation.steps.${c.next.step}`)}</Tag>
        {!c.next.due && (
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t('escalation.from', { day: c.next.dueOn })}
          </Typography.Text>
        )}
      </Space>
    );
  };

  const letterState = (l: { issuedOn: string; deliveredOn: string | null } | null) =>
    l ? (
      <Typography.Text style={{ fontSize: 12 }}>
        {l.issuedOn}
        {l.deliveredOn ? ` ✓ ${l.deliveredOn}` : ` · ${t('escalation.undelivered')}`}
      </Typography.Text>
    ) : (
      '—'
    );

  const candidateColumns: ColumnsType<Candidate> = [
    {
      title: t('escalation.customer'),
      key: 'customer',
      render: (_, c) => (
        <Space direction="vertical" size={0}>
          <Link to={`/customers/${c.accountId}`}>
            {c.customerCode} {c.customerName}
          </Link>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {t(`escalation.kinds.${c.customerKind}`)} · {t(`escalation.utilities.${c.utility}`, c.utility)}
          </Typography.Text>
        </Space>
      ),
    },
    { title: t('escalation.arrears'), dataIndex: 'arrearsFen', align: 'right', width: 110, render: yuan },
    { title: t('escalation.cycles'), dataIndex: 'cycles', align: 'right', width: 80 },
    { title: t('escalation.months'), dataIndex: 'months', align: 'right', width: 80 },
    { title: t('escalation.formal'), key: 'formal', width: 150, render: (_, c) => letterState(c.formal) },
    { title: t('escalation.lawyer'), key: 'lawyer', width: 150, render: (_, c) => letterState(c.lawyer) },
    { title: t('escalation.next'), key: 'next', width: 150, render: (_, c) => nextCell(c) },
    {
      title: '',
      key: 'ops',
      width: 200,
      render: (_, c) =>
        manage && (
          <Space wrap>
            {c.next.step !== null && c.next.due && c.next.step !== 'shutoff_request' && (
              <Button
                size="small"
                type="primary"
                loading={busy === c.accountId}
                data-testid={`issue-${c.accountId}`}
                onClick={() => void issue(c, STEP_KIND[c.next.step as string]!)}
              >
                {t(`escalation.issue.${STEP_KIND[c.next.step]}`)}
              </Button>
            )}
            {c.gasNoticeDue && (
              <Button size="small" loading={busy === c.accountId} onClick={() => void issue(c, 'gas_notice')}>
                {t('escalation.issue.gas_notice')}
              </Button>
            )}
            {((c.next.step === 'shutoff_request' && c.next.due) || c.utility === 'gas') && (
              <Button
                size="small"
                danger
                data-testid={`request-shutoff-${c.accountId}`}
                onClick={() => requestShutoff(c)}
              >
                {t('escalation.requestShutoff')}
              </Button>
            )}
          </Space>
        ),
    },
  ];

  const letterColumns: ColumnsType<Letter> = [
    { title: t('escalation.letterNo'), dataIndex: 'letterNo', width: 140 },
    {
      title: t('escalation.letterKind'),
      dataIndex: 'kind',
      width: 100,
      render: (k: string) => (
        <Tag color={k === 'lawyer' ? 'red' : 'orange'}>{t(`escalation.letterKinds.${k}`)}</Tag>
      ),
    },
    {
      title: t('escalation.customer'),
      key: 'customer',
      render: (_, l) => (
        <Space direction="vertical" size={0}>
          <span>
            {l.customerCode} {l.customerName}
          </span>
          <Typography.Text type="secondary" style={{ fontSize: 12 }}>
            {l.address}
          </Typography.Text>
        </Space>
      ),
    },
    { title: t('escalation.arrears'), dataIndex: 'arrearsFen', align: 'right', width: 110, render: yuan },
    { title: t('escalation.issuedOn'), dataIndex: 'issuedOn', width: 110 },
    { title: t('escalation.deadline'), dataIndex: 'deadlineOn', width: 110 },
    {
      title: t('escalation.delivery'),
      key: 'delivery',
      width: 200,
      render: (_, l) => (
        <Space direction="vertical" size={0}>
          <Tag color={l.delivery === 'pending' ? 'default' : 'green'}>
            {t(`escalation.deliveries.${l.delivery}`)}
          </Tag>
          {l.delivery !== 'pending' && (
            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
              {l.deliveredOn} {l.signedByName} {l.trackingNo}
            </Typography.Text>
          )}
        </Space>
      ),
    },
    {
      title: '',
      key: 'ops',
      width: 160,
      render: (_, l) => (
        <Space>
          <a
            href={`/api/customers/${l.accountId}/collection-letters/${l.letterId}/pdf`}
            target="_blank"
            rel="noreferrer"
          >
            {t('escalation.print')}
          </a>
          {l.delivery === 'pending' && (can('collection.manage') || can('collection.field')) && (
            <Button size="small" onClick={() => setDelivering(l)}>
              {t('escalation.recordDelivery')}
            </Button>
          )}
        </Space>
      ),
    },
  ];

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Typography.Title level={3} style={{ margin: 0 }}>
        {t('escalation.title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary" style={{ margin: 0 }}>
        {t('escalation.intro')}
      </Typography.Paragraph>
      <Space wrap>
        {(me?.offices?.length ?? 0) > 1 && (
          <Select
            allowClear
            style={{ width: 200 }}
            placeholder={t('escalation.office')}
            value={officeId}
            onChange={setOfficeId}
            options={(me?.offices ?? []).map((o) => ({ value: o.officeId, label: o.name }))}
          />
        )}
      </Space>
      <Tabs
        items={[
          {
            key: 'candidates',
            label: t('escalation.candidates'),
            children: (
              <Card size="small">
                <Space direction="vertical" style={{ width: '100%' }}>
                  <Segmented
                    value={dueOnly ? 'due' : 'all'}
                    onChange={(v) => setDueOnly(v === 'due')}
                    options={[
                      { value: 'due', label: t('escalation.dueOnly') },
                      { value: 'all', label: t('escalation.allArrears') },
                    ]}
                  />
                  {candidates.error && <Alert type="error" showIcon message={candidates.error.message} />}
                  <Table<Candidate>
                    size="small"
                    rowKey="accountId"
                    loading={candidates.loading}
                    columns={candidateColumns}
                    dataSource={candidates.data?.items ?? []}
                    data-testid="escalation-candidates"
                    scroll={{ x: 1100 }}
                  />
                </Space>
              </Card>
            ),
          },
          {
            key: 'letters',
            label: t('escalation.letters'),
            children: (
              <Card size="small">
                <Space direction="vertical" style={{ width: '100%' }}>
                  <Segmented
                    value={letterFilter}
                    onChange={(v) => setLetterFilter(v as 'pending' | 'all')}
                    options={[
                      { value: 'pending', label: t('escalation.undeliveredLetters') },
                      { value: 'all', label: t('escalation.allLetters') },
                    ]}
                  />
                  <Table<Letter>
                    size="small"
                    rowKey={(l) => `${l.accountId}/${l.letterId}`}
                    loading={letters.loading}
                    columns={letterColumns}
                    dataSource={letters.data?.items ?? []}
                    data-testid="escalation-letters"
                    scroll={{ x: 1100 }}
                  />
                </Space>
              </Card>
            ),
          },
        ]}
      />
      <Modal
        open={delivering !== null}
        title={delivering ? `${t('escalation.recordDelivery')} ${delivering.letterNo}` : ''}
        onCancel={() => setDelivering(null)}
        onOk={() => void deliver()}
        destroyOnClose
      >
        <Form
          form={form}
          layout="vertical"
          initialValues={{ outcome: delivering?.kind === 'gas_notice' ? 'posted' : 'signed' }}
        >
          <Form.Item name="outcome" label={t('escalation.delivery')}>
            <Radio.Group>
              {delivering?.kind === 'gas_notice' ? (
                <Radio value="posted">{t('escalation.deliveries.posted')}</Radio>
              ) : (
                <>
                  <Radio value="signed">{t('escalation.deliveries.signed')}</Radio>
                  <Radio value="refused">{t('escalation.refused')}</Radio>
                </>
              )}
            </Radio.Group>
          </Form.Item>
          <Form.Item noStyle shouldUpdate>
            {({ getFieldValue }) =>
              getFieldValue('outcome') === 'signed' ? (
                <Form.Item name="signedByName" label={t('escalation.signedBy')} rules={[{ required: true }]}>
                  <Input />
                </Form.Item>
              ) : getFieldValue('outcome') === 'refused' ? (
                <Form.Item name="trackingNo" label={t('escalation.trackingNo')} rules={[{ required: true }]}>
                  <Input />
                </Form.Item>
              ) : null
            }
          </Form.Item>
          <Form.Item name="note" label={t('escalation.note')}>
            <Input.TextArea rows={2} />
          </Form.Item>
        </Form>
      </Modal>
    </Space>
  );
}
