import { addDays, todayInChina } from '@meterline/domain';
import { App, Button, Card, Form, Space, Table, Tag, Typography } from 'antd';
import { type HTMLAttributes, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { DateInput } from '../components/DateInput';
import { formatDateTime } from '../components/format';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { volume } from './common';
import { OutcomeBar } from './FileOutcomes';

/**
 * Billing readings from register reads (远传结算) on the smart-meter page: the day after a book's
 * planned reading day, each smart meter of the books planned that day without a billing reading of
 * the period gets one from its newest usable register read (readings/registerBilling.ts on the
 * server); the meters without one are left to the reader. The daily job does it; here the analyst
 * sees each day's outcome, runs a day that is over again (after a late file, say) and lists the
 * meters left to the reader with why.
 */

/** A day's smart meters by outcome, in the order the bar shows them, with their colours. */
export const BILLING_OUTCOMES = [
  ['accepted', '#52c41a'],
  ['review', '#fa8c16'],
  ['conflict', '#722ed1'],
  ['rejected', '#f5222d'],
  ['otherwise', '#bfbfbf'],
  ['missing', '#a8071a'],
] as const;
type BillingOutcome = (typeof BILLING_OUTCOMES)[number][0];

/** GET /api/readings/registers/billing: an office's planned day as its last run saw it. */
interface BillingRun extends Record<BillingOutcome, number> {
  officeId: number;
  officeName: string;
  day: string;
  startedAt: string;
  /** Null: the run has not finished (running now, or stopped halfway). */
  finishedAt: string | null;
  /** Null: the daily job. */
  startedByName: string | null;
  runs: number;
  books: number;
  /** The smart meters of the day's books: the sum of the outcomes. */
  meters: number;
}

/** POST /api/readings/registers/billing's answer. */
interface BillingResult extends Record<BillingOutcome, number> {
  officeId: number;
  day: string;
  books: number;
  meters: number;
  /** Readings this run stored (the rest were there before it). */
  stored: number;
  seconds: number;
}

type MissingReason = 'stale' | 'backwards' | 'conflict' | 'rejected';

/** GET /api/readings/registers/billing/missing: a smart meter left to the reader. */
interface MissingMeter {
  officeId: number;
  day: string;
  accountId: number;
  customerCode: string;
  customerName: string;
  meterId: number;
  meterNo: string;
  bookId: number;
  bookCode: string;
  readerName: string | null;
  reason: MissingReason;
  /** The reading rules' reason, for `rejected` (in the UI's language). */
  message: string | null;
  lastReadAt: string | null;
  lastIndex: string | null;
  /** The reader has read it since. */
  readSince: boolean;
}

const REASON_COLOURS: Record<MissingReason, string> = {
  stale: 'gold',
  backwards: 'red',
  conflict: 'purple',
  rejected: 'volcano',
};

/** Missing meters a page of the list shows. */
const MISSING_PAGE_SIZE = 20;

/** An office's planned day. */
interface RunKey {
  officeId: number;
  day: string;
}

const runKey = (r: RunKey) => `${r.officeId}:${r.day}`;

export function RegisterBilling({ officeId }: { officeId: number | undefined }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const handle = useErrorHandler();
  const [form] = Form.useForm<{ day: string | null }>();
  const [running, setRunning] = useState(false);
  const [selected, setSelected] = useState<RunKey | null>(null);
  // The server's default span (the last 30 days), for the page's office.
  const runs = useApi<BillingRun[]>(officeId ? '/api/readings/registers/billing' : null, { officeId });
  const shown = selected && (!officeId || selected.officeId === officeId) ? selected : null;
  const selectedRun = shown ? runs.data?.find((r) => runKey(r) === runKey(shown)) : undefined;

  const settle = async ({ day }: { day: string | null }) => {
    if (!officeId || !day) return;
    setRunning(true);
    try {
      const result = await api<BillingResult>('/api/readings/registers/billing', {
        method: 'POST',
        query: { officeId },
        body: { day },
      });
      void message.success(
        t('registers.billing.done', {
          day: result.day,
          meters: result.meters,
          stored: result.stored,
          taken: result.accepted + result.review + result.conflict,
          missing: result.missing,
          seconds: result.seconds.toFixed(1),
        }),
        6,
      );
      runs.reload();
      setSelected({ officeId: result.officeId, day: result.day });
    } catch (e) {
      handle(e, form);
    } finally {
      setRunning(false);
    }
  };

  const outcomeName = (o: BillingOutcome) => t(`registers.billing.outcome.${o}`);

  return (
    <>
      <Card size="small" title={t('registers.billing.title')} data-testid="register-billing">
        <Typography.Paragraph type="secondary">{t('registers.billing.hint')}</Typography.Paragraph>
        <Form
          form={form}
          layout="inline"
          initialValues={{ day: addDays(todayInChina(), -1) }}
          onFinish={(v) => void settle(v)}
          data-testid="register-billing-form"
        >
          <Form.Item
            name="day"
            label={t('registers.billing.day')}
            rules={[{ required: true, message: t('registers.billing.dayRequired') }]}
          >
            <DateInput allowClear={false} style={{ width: 160 }} />
          </Form.Item>
          <Form.Item>
            <Button
              type="primary"
              htmlType="submit"
              loading={running}
              disabled={!officeId}
              data-testid="register-billing-run"
            >
              {t('registers.billing.run')}
            </Button>
          </Form.Item>
        </Form>
      </Card>

      <Card size="small" title={t('registers.billing.runs')}>
        <Table<BillingRun>
          rowKey={runKey}
          size="small"
          loading={runs.loading}
          dataSource={runs.data ?? []}
          pagination={false}
          scroll={{ x: 1400 }}
          data-testid="register-billing-runs"
          locale={{ emptyText: t('registers.billing.noRuns') }}
          rowClassName={(r) => (shown && runKey(r) === runKey(shown) ? 'ant-table-row-selected' : '')}
          onRow={(r) =>
            ({
              onClick: () => setSelected({ officeId: r.officeId, day: r.day }),
              style: { cursor: 'pointer' },
              'data-day': r.day,
              'data-office-id': r.officeId,
            }) as HTMLAttributes<HTMLElement>
          }
          columns={[
            { title: t('registers.billing.day'), dataIndex: 'day', width: 110, fixed: 'left' },
            { title: t('reading.office'), dataIndex: 'officeName', width: 120, ellipsis: true },
            {
              title: t('registers.billing.books'),
              dataIndex: 'books',
              width: 70,
              align: 'right',
              onCell: () => ({ 'data-count': 'books' }) as HTMLAttributes<HTMLElement>,
            },
            {
              title: t('registers.billing.meters'),
              dataIndex: 'meters',
              width: 80,
              align: 'right',
              onCell: () => ({ 'data-count': 'meters' }) as HTMLAttributes<HTMLElement>,
            },
            {
              title: t('registers.billing.outcomes'),
              key: 'outcomes',
              width: 160,
              render: (_, r) => (
                <OutcomeBar outcomes={BILLING_OUTCOMES} counts={r} total={r.meters} name={outcomeName} />
              ),
            },
            ...BILLING_OUTCOMES.map(([o]) => ({
              title: outcomeName(o),
              dataIndex: o,
              width: 95,
              align: 'right' as const,
              onCell: () => ({ 'data-count': o }) as HTMLAttributes<HTMLElement>,
              render:
                o === 'missing'
                  ? (n: number, r: BillingRun) =>
                      n > 0 ? (
                        <Typography.Link
                          data-testid="register-billing-missing-link"
                          onClick={(e) => {
                            e.stopPropagation();
                            setSelected({ officeId: r.officeId, day: r.day });
                          }}
                        >
                          {t('registers.billing.missingLink', { count: n })}
                        </Typography.Link>
                      ) : (
                        n
                      )
                  : undefined,
            })),
            {
              title: t('registers.billing.by'),
              dataIndex: 'startedByName',
              width: 100,
              render: (name: string | null) =>
                name ?? <Typography.Text type="secondary">{t('registers.billing.dailyJob')}</Typography.Text>,
            },
            {
              title: t('registers.billing.finishedAt'),
              dataIndex: 'finishedAt',
              width: 150,
              render: (at: string | null) =>
                at ? (
                  formatDateTime(at)
                ) : (
                  <Tag color="processing" data-testid="register-billing-running">
                    {t('registers.billing.running')}
                  </Tag>
                ),
            },
            {
              title: t('registers.billing.runCount'),
              dataIndex: 'runs',
              width: 70,
              align: 'right',
              onCell: () => ({ 'data-count': 'runs' }) as HTMLAttributes<HTMLElement>,
            },
          ]}
        />
      </Card>

      {shown && (
        <RegisterMissing
          key={runKey(shown)}
          run={shown}
          officeName={selectedRun?.officeName}
          onClose={() => setSelected(null)}
          refresh={selectedRun?.startedAt}
        />
      )}
    </>
  );
}

/** The smart meters an office's planned day found no usable register read for, with why. */
function RegisterMissing({
  run,
  officeName,
  onClose,
  refresh,
}: {
  run: RunKey;
  officeName: string | undefined;
  onClose: () => void;
  /** Changes when the day was run again (its start): the list reloads. */
  refresh: string | undefined;
}) {
  const { t } = useTranslation();
  const missing = useApi<{ items: MissingMeter[] }>('/api/readings/registers/billing/missing', {
    officeId: run.officeId,
    day: run.day,
  });
  const { reload } = missing;
  // The day run again (a new start): its list again. The first answer needs no reload.
  const seen = useRef(refresh);
  useEffect(() => {
    if (refresh === seen.current) return;
    seen.current = refresh;
    reload();
  }, [refresh, reload]);
  const items = missing.data?.items ?? [];
  return (
    <Card
      size="small"
      title={t('registers.billing.missingTitle', { day: run.day, office: officeName ?? '' })}
      extra={
        <Button size="small" onClick={onClose}>
          {t('registers.billing.close')}
        </Button>
      }
      data-testid="register-billing-missing"
      data-day={run.day}
    >
      <Table<MissingMeter>
        rowKey={(m) => `${m.accountId}:${m.meterId}`}
        size="small"
        loading={missing.loading}
        dataSource={items}
        scroll={{ x: 1200 }}
        locale={{ emptyText: t('registers.billing.noMissing') }}
        pagination={{
          pageSize: MISSING_PAGE_SIZE,
          showSizeChanger: false,
          hideOnSinglePage: true,
          showTotal: (total) => t('registers.billing.missingTotal', { total }),
        }}
        data-testid="register-billing-missing-table"
        columns={[
          {
            title: t('registers.billing.customerCode'),
            dataIndex: 'customerCode',
            width: 130,
            render: (code: string, m) => (
              <Link to={`/customers/${m.accountId}?tab=readings`} data-testid="register-billing-customer">
                {code}
              </Link>
            ),
          },
          {
            title: t('registers.billing.customerName'),
            dataIndex: 'customerName',
            width: 140,
            ellipsis: true,
          },
          { title: t('registers.exceptions.meterNo'), dataIndex: 'meterNo', width: 120 },
          { title: t('registers.billing.book'), dataIndex: 'bookCode', width: 100 },
          {
            title: t('registers.billing.reader'),
            dataIndex: 'readerName',
            width: 90,
            render: (n: string | null) => n ?? '—',
          },
          {
            title: t('registers.billing.reason'),
            key: 'reason',
            render: (_, m) => (
              <Space size={4} wrap>
                <Tag color={REASON_COLOURS[m.reason]} data-reason={m.reason}>
                  {t(`registers.billing.reasons.${m.reason}`)}
                </Tag>
                {m.message && <Typography.Text type="secondary">{m.message}</Typography.Text>}
              </Space>
            ),
          },
          {
            title: t('registers.billing.lastReadAt'),
            dataIndex: 'lastReadAt',
            width: 150,
            render: (at: string | null) => (at ? formatDateTime(at) : '—'),
          },
          {
            title: t('registers.billing.lastIndex'),
            dataIndex: 'lastIndex',
            width: 100,
            align: 'right',
            render: (v: string | null) => volume(v),
          },
          {
            title: t('registers.billing.readSinceTitle'),
            dataIndex: 'readSince',
            width: 90,
            render: (since: boolean) =>
              since ? (
                <Tag color="green" data-testid="register-billing-read-since">
                  {t('registers.billing.readSince')}
                </Tag>
              ) : null,
          },
        ]}
      />
    </Card>
  );
}
