import { CalendarOutlined, ThunderboltOutlined } from '@ant-design/icons';
import {
  Alert,
  App,
  Badge,
  Button,
  Card,
  DatePicker,
  Descriptions,
  Form,
  Input,
  Modal,
  Segmented,
  Select,
  Space,
  Spin,
  Table,
  Tag,
  Tooltip,
  Typography,
} from 'antd';
import dayjs from 'dayjs';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { api } from '../api';
import { useAuth } from '../auth/AuthContext';
import { ProvisionalTag } from '../calendar/CalendarAdminPage';
import { isWorkingKind, KindLegend, kindOf, MonthGrid } from '../calendar/MonthGrid';
import { useCalendar } from '../calendar/useCalendar';
import { useApi } from '../components/useApi';
import { useErrorHandler } from '../components/useErrorHandler';
import { validated } from '../components/validated';
import { OfficeSelect, useOfficeParam, useParam } from './common';
import { PlanChanges } from './PlanChanges';
import type { PlanChange, PlanRow, PlanSummary } from './types';

const MONTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] as const;
/** Unplaced book-months listed after generating; the rest are counted. */
const UNFIT_SHOWN = 20;
/** Colours that tell readers apart on the calendar (a reader keeps a colour while the page is open). */
const READER_COLORS = ['blue', 'green', 'purple', 'cyan', 'magenta', 'geekblue', 'volcano', 'lime', 'gold'];

/** The annual reading plan (年度抄收日期表): which book is read on which working day. */
export default function PlanPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message, modal } = App.useApp();
  const handle = useErrorHandler();
  const [officeId, setOfficeId] = useOfficeParam();
  const [yearText, setYear] = useParam('year', String(dayjs().year()));
  const year = Number(yearText) || dayjs().year();
  const [monthText, setMonth] = useParam('month', String(dayjs().year() === year ? dayjs().month() + 1 : 1));
  const month = Math.min(12, Math.max(1, Number(monthText) || 1));
  const calendar = useCalendar(year);
  const plan = useApi<PlanRow[]>(officeId ? '/api/reading-plan' : null, { officeId, year });
  const pending = useApi<PlanChange[]>(officeId ? '/api/reading-plan/changes' : null, {
    officeId,
    status: 'pending',
  });
  const [generating, setGenerating] = useState(false);
  const [moving, setMoving] = useState<PlanRow | null>(null);
  const [form] = Form.useForm<{ toDate: string; reason: string }>();
  const [busy, setBusy] = useState(false);
  const [changesKey, setChangesKey] = useState(0);
  const [summary, setSummary] = useState<PlanSummary | null>(null);
  const planner = can('reading.plan');
  const period = `${year}-${String(month).padStart(2, '0')}`;

  const rows = plan.data ?? [];
  const readerColor = useMemo(() => {
    const ids = [...new Set(rows.map((r) => r.readerId ?? 0))].sort((a, b) => a - b);
    return new Map(ids.map((id, i) => [id, READER_COLORS[i % READER_COLORS.length]!]));
  }, [rows]);
  const byDay = useMemo(() => {
    const m = new Map<string, PlanRow[]>();
    for (const r of rows) m.set(r.plannedOn, [...(m.get(r.plannedOn) ?? []), r]);
    return m;
  }, [rows]);
  const perMonth = useMemo(() => {
    const c = new Map<number, number>();
    for (const r of rows) c.set(Number(r.period.slice(5)), (c.get(Number(r.period.slice(5))) ?? 0) + 1);
    return c;
  }, [rows]);
  const pendingKeys = useMemo(
    () => new Set((pending.data ?? []).map((c) => `${c.bookId}:${c.period}`)),
    [pending.data],
  );
  const monthRows = rows
    .filter((r) => r.period === period)
    .sort((a, b) => a.plannedOn.localeCompare(b.plannedOn) || a.code.localeCompare(b.code));
  const readers = [...new Map(rows.map((r) => [r.readerId ?? 0, r.readerName])).entries()];

  const generate = () =>
    modal.confirm({
      title: t('reading.plan.generateTitle', { year }),
      content: t('reading.plan.generateConfirm'),
      okText: t('reading.plan.generate'),
      cancelText: t('common.cancel'),
      onOk: async () => {
        setGenerating(true);
        try {
          const result = await api<PlanSummary>('/api/reading-plan/generate', {
            method: 'POST',
            body: { officeId, year },
          });
          setSummary(result);
          void message.success(t('reading.plan.generated', { year }));
          plan.reload();
        } catch (e) {
          handle(e);
        } finally {
          setGenerating(false);
        }
      },
    });

  const openMove = (row: PlanRow) => {
    if (!planner) return;
    form.resetFields();
    form.setFieldsValue({ toDate: undefined, reason: '' });
    setMoving(row);
  };
  const requestMove = async () => {
    if (!moving) return;
    const values = await validated(form);
    if (!values) return;
    setBusy(true);
    try {
      await api('/api/reading-plan/changes', {
        method: 'POST',
        body: { bookId: moving.bookId, period: moving.period, toDate: values.toDate, reason: values.reason },
      });
      void message.success(t('reading.plan.moveRequested'));
      setMoving(null);
      pending.reload();
      setChangesKey((k) => k + 1);
    } catch (e) {
      handle(e, form);
    } finally {
      setBusy(false);
    }
  };

  const bookTag = (r: PlanRow) => {
    const moved = r.plannedOn !== r.originalOn;
    const waiting = pendingKeys.has(`${r.bookId}:${r.period}`);
    const tag = (
      <Tag
        key={r.bookId}
        color={readerColor.get(r.readerId ?? 0)}
        className={`plan-book${planner ? ' is-clickable' : ''}`}
        data-testid="plan-book"
        data-book={r.code}
        data-date={r.plannedOn}
        role={planner ? 'button' : undefined}
        tabIndex={planner ? 0 : undefined}
        onClick={(e) => {
          e.stopPropagation();
          openMove(r);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === ' ') {
            e.preventDefault();
            openMove(r);
          }
        }}
      >
        {waiting ? <Badge status="warning" /> : null} {r.code}
        {moved && ' ↻'}
      </Tag>
    );
    return (
      <Tooltip
        key={r.bookId}
        title={
          <>
            {r.code} {r.name} · {r.readerName ?? t('reading.books.noReader')}
            {moved && <div>{t('reading.plan.movedFrom', { date: r.originalOn })}</div>}
            {waiting && <div>{t('reading.plan.pendingMove')}</div>}
            {planner && <div>{t('reading.plan.clickToMove')}</div>}
          </>
        }
      >
        {tag}
      </Tooltip>
    );
  };

  const monthStart = dayjs(`${period}-01`);

  return (
    <Space direction="vertical" size="middle" style={{ width: '100%' }}>
      <Space style={{ justifyContent: 'space-between', width: '100%' }} wrap>
        <Space align="center">
          <Typography.Title level={4} className="page-title" style={{ marginBottom: 0 }}>
            {t('menu.plan')}
          </Typography.Title>
          <ProvisionalTag official={calendar.official} />
        </Space>
        <Space wrap>
          <OfficeSelect value={officeId} onChange={setOfficeId} />
          <Select
            value={year}
            onChange={(y) => setYear(String(y))}
            style={{ width: 110 }}
            aria-label={t('calendar.year')}
            data-testid="plan-year"
            options={Array.from({ length: 5 }, (_, i) => dayjs().year() - 2 + i).map((y) => ({
              value: y,
              label: t('calendar.yearLabel', { year: y }),
            }))}
          />
          {planner && (
            <Button
              type="primary"
              icon={<ThunderboltOutlined />}
              loading={generating}
              onClick={generate}
              data-testid="plan-generate"
            >
              {t('reading.plan.generate')}
            </Button>
          )}
        </Space>
      </Space>
      {calendar.official === false && (
        <Alert type="warning" showIcon message={t('reading.plan.provisional', { year })} />
      )}
      {summary && summary.year === year && summary.officeId === officeId && (
        <Alert
          type={summary.unfit.length > 0 ? 'warning' : 'success'}
          showIcon
          closable
          onClose={() => setSummary(null)}
          data-testid="plan-summary"
          message={t('reading.plan.summary', {
            year: summary.year,
            books: summary.books,
            planned: summary.planned,
            unchanged: summary.unchanged,
            kept: summary.kept,
            removed: summary.removed,
          })}
          description={
            summary.unfit.length > 0 ? (
              <Space direction="vertical" size={2}>
                <Typography.Text>
                  {t('reading.plan.unfitIntro', { count: summary.unfit.length })}
                </Typography.Text>
                <ul style={{ margin: 0, paddingLeft: 18 }}>
                  {summary.unfit.slice(0, UNFIT_SHOWN).map((u) => (
                    <li key={`${u.bookId}:${u.period}`}>
                      {t('reading.plan.unfitRow', {
                        book: u.code,
                        period: u.period,
                        days: u.daysNeeded,
                        reason: t(`reading.plan.unfitReason.${u.reason}`, { defaultValue: u.reason }),
                      })}
                    </li>
                  ))}
                  {summary.unfit.length > UNFIT_SHOWN && <li>…</li>}
                </ul>
              </Space>
            ) : undefined
          }
        />
      )}
      {!plan.loading && rows.length === 0 && (
        <Alert
          type="info"
          showIcon
          message={planner ? t('reading.plan.emptyPlanner', { year }) : t('reading.plan.empty', { year })}
        />
      )}
      <Card
        size="small"
        title={
          <Space>
            <CalendarOutlined />
            {t('reading.plan.monthTitle', { year, month: t(`calendar.monthName.${month}`) })}
          </Space>
        }
        extra={<KindLegend />}
      >
        <Space direction="vertical" style={{ width: '100%' }}>
          <Segmented
            value={month}
            onChange={(m) => setMonth(String(m))}
            data-testid="plan-month"
            options={MONTHS.map((m) => ({
              value: m,
              label: (
                <span>
                  {t(`calendar.monthName.${m}`)}
                  {perMonth.get(m) ? <span className="segment-count">{perMonth.get(m)}</span> : null}
                </span>
              ),
            }))}
          />
          {readers.length > 0 && (
            <Space size={4} wrap>
              <Typography.Text type="secondary">{t('reading.plan.readers')}</Typography.Text>
              {readers.map(([id, name]) => (
                <Tag key={id} color={readerColor.get(id)}>
                  {name ?? t('reading.books.noReader')}
                </Tag>
              ))}
              <Typography.Text type="secondary">{t('reading.plan.legendMoved')}</Typography.Text>
            </Space>
          )}
          <Spin spinning={plan.loading || calendar.loading}>
            <MonthGrid
              year={year}
              month={month}
              days={calendar.days}
              size="large"
              renderCell={(date) => <div className="plan-cell">{(byDay.get(date) ?? []).map(bookTag)}</div>}
            />
          </Spin>
        </Space>
      </Card>
      <Card size="small" title={t('reading.plan.monthList', { period })}>
        <Table<PlanRow>
          rowKey={(r) => `${r.bookId}:${r.period}`}
          size="small"
          dataSource={monthRows}
          loading={plan.loading}
          pagination={false}
          data-testid="plan-table"
          columns={[
            {
              title: t('reading.plannedOn'),
              dataIndex: 'plannedOn',
              width: 150,
              render: (d: string) => `${d} ${dayjs(d).format('ddd')}`,
            },
            {
              title: t('reading.book'),
              key: 'book',
              render: (_, r) => (
                <Link to={`/reading/books/${r.bookId}`}>
                  {r.code} {r.name}
                </Link>
              ),
            },
            {
              title: t('reading.zone'),
              dataIndex: 'zone',
              width: 130,
              render: (z: string) => t(`reading.zoneName.${z}`),
            },
            { title: t('reading.reader'), dataIndex: 'readerName', render: (n: string | null) => n ?? '—' },
            {
              title: t('reading.plan.originalOn'),
              dataIndex: 'originalOn',
              width: 130,
              render: (d: string, r) =>
                d !== r.plannedOn ? <Tag color="orange">{t('reading.plan.movedFrom', { date: d })}</Tag> : d,
            },
            {
              title: t('common.actions'),
              key: 'a',
              width: 140,
              render: (_, r) =>
                pendingKeys.has(`${r.bookId}:${r.period}`) ? (
                  <Tag color="gold">{t('reading.plan.pendingMove')}</Tag>
                ) : planner ? (
                  <Button size="small" onClick={() => openMove(r)}>
                    {t('reading.plan.move')}
                  </Button>
                ) : null,
            },
          ]}
        />
      </Card>
      <Card size="small" title={t('reading.changes.title')}>
        <PlanChanges
          officeId={officeId}
          refreshKey={changesKey}
          onDecided={() => {
            plan.reload();
            pending.reload();
          }}
        />
      </Card>
      <Modal
        open={moving !== null}
        title={moving ? t('reading.plan.moveTitle', { book: `${moving.code} ${moving.name}` }) : ''}
        onOk={requestMove}
        onCancel={() => setMoving(null)}
        confirmLoading={busy}
        okText={t('reading.plan.requestMove')}
        cancelText={t('common.cancel')}
        forceRender
      >
        {moving && (
          <Descriptions size="small" column={1} style={{ marginBottom: 16 }}>
            <Descriptions.Item label={t('reading.period')}>{moving.period}</Descriptions.Item>
            <Descriptions.Item label={t('reading.plannedOn')}>{moving.plannedOn}</Descriptions.Item>
            <Descriptions.Item label={t('reading.reader')}>{moving.readerName ?? '—'}</Descriptions.Item>
          </Descriptions>
        )}
        <Form form={form} name="planMove" layout="vertical">
          <Form.Item
            name="toDate"
            label={t('reading.plan.toDate')}
            rules={[{ required: true }]}
            extra={t('reading.plan.toDateHint')}
            getValueProps={(v: string | undefined) => ({ value: v ? dayjs(v) : null })}
            getValueFromEvent={(d: dayjs.Dayjs | null) => (d ? d.format('YYYY-MM-DD') : undefined)}
          >
            <DatePicker
              style={{ width: '100%' }}
              format="YYYY-MM-DD"
              defaultPickerValue={moving ? dayjs(moving.plannedOn) : monthStart}
              disabledDate={(d) =>
                !moving ||
                d.format('YYYY-MM') !== moving.period ||
                d.format('YYYY-MM-DD') === moving.plannedOn ||
                !isWorkingKind(kindOf(d.format('YYYY-MM-DD'), calendar.days))
              }
              data-testid="plan-to-date"
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
