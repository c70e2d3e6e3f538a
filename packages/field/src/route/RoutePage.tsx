import { todayInChina } from '@meterline/domain/platform/dates';
import { Button, Card, ErrorBlock, List, NavBar, ProgressBar, Tabs, Tag } from 'antd-mobile';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../api';
import { OnlineBadge } from '../components/OnlineBadge';
import { StatusTags } from '../components/StatusTags';
import { useLive } from '../components/useLive';
import { db, getMeta, type StoredMeter } from '../db';
import { useRouter } from '../router';
import { downloadRoute } from './download';
import { inRouteOrder, latestByMeter, type MeterStatus, statusOf } from './state';

type Filter = 'all' | 'todo' | 'done' | 'flagged';

interface UploadFirstMeter {
  meterNo?: string;
  customerName?: string;
  address?: string;
}

/** Meters of an UPLOAD_FIRST answer listed on the screen (the rest are counted). */
const UPLOAD_FIRST_SHOWN = 20;

/** The day's route: download, progress, and the meters in route order with their state. */
export default function RoutePage() {
  const { t } = useTranslation();
  const { go } = useRouter();
  const workDate = useLive(() => getMeta<string | null>('workDate'), [], undefined);
  const meters = useLive(() => db.meters.toArray(), [], [] as StoredMeter[]);
  const books = useLive(() => db.books.toArray(), [], []);
  const readings = useLive(() => db.outbox.toArray(), [], []);
  const [filter, setFilter] = useState<Filter>('all');

  const ordered = useMemo(() => inRouteOrder(meters), [meters]);
  const latest = useMemo(() => latestByMeter(readings, workDate ?? null), [readings, workDate]);
  const rows = useMemo(
    () => ordered.map((m) => ({ meter: m, status: statusOf(latest.get(m.key)) })),
    [ordered, latest],
  );
  // Smart meters reporting their register are billed from it: not to read unless the reader does.
  const skipped = (r: (typeof rows)[number]) => r.meter.remote === true && r.status.progress === 'todo';
  const toRead = rows.filter((r) => !skipped(r));
  const remote = rows.length - toRead.length;
  const done = toRead.filter((r) => r.status.progress !== 'todo').length;
  const flagged = rows.filter((r) => r.status.progress === 'flagged').length;
  const shown = rows.filter(
    (r) =>
      filter === 'all' ||
      (filter === 'todo' && r.status.progress === 'todo' && !skipped(r)) ||
      (filter === 'done' && r.status.progress !== 'todo') ||
      (filter === 'flagged' && r.status.progress === 'flagged'),
  );
  const percent = toRead.length ? Math.round((done / toRead.length) * 100) : 100;
  const nextTodo = toRead.find((r) => r.status.progress === 'todo')?.meter;

  return (
    <div className="page">
      <NavBar back={null} right={<OnlineBadge />}>
        {t('route.title')}
      </NavBar>
      <DownloadCard workDate={workDate ?? null} hasRoute={rows.length > 0} />
      {workDate && (
        <Card className="progress-card" data-testid="route-progress">
          <div className="progress-line">
            <span>
              {t('route.workDate')} <b data-testid="work-date">{workDate}</b>
            </span>
            <span className="progress-count" data-testid="progress-count">
              {t('route.progress', { done, total: toRead.length })}
            </span>
          </div>
          <ProgressBar percent={percent} style={{ '--track-width': '10px' }} />
          <div className="muted small">
            {books.map((b) => `${b.code} ${b.name}`).join(' · ')}
            {flagged > 0 && <span className="flag-text"> · {t('route.flaggedCount', { n: flagged })}</span>}
            {remote > 0 && <span data-testid="remote-count"> · {t('route.remoteCount', { n: remote })}</span>}
          </div>
          {nextTodo && (
            <Button
              block
              color="primary"
              className="big-button continue-button"
              onClick={() => go({ name: 'meter', key: nextTodo.key })}
              data-testid="continue-reading"
            >
              {done === 0 ? t('route.start') : t('route.continue')} · {nextTodo.customerName}
            </Button>
          )}
        </Card>
      )}
      {rows.length > 0 && (
        <>
          <Tabs activeKey={filter} onChange={(k) => setFilter(k as Filter)} className="route-tabs">
            <Tabs.Tab key="all" title={t('route.filter.all', { n: rows.length })} />
            <Tabs.Tab key="todo" title={t('route.filter.todo', { n: toRead.length - done })} />
            <Tabs.Tab key="done" title={t('route.filter.done', { n: done })} />
            <Tabs.Tab key="flagged" title={t('route.filter.flagged', { n: flagged })} />
          </Tabs>
          <List className="route-list" data-testid="route-list">
            {shown.map(({ meter, status }) => (
              <RouteItem
                key={meter.key}
                meter={meter}
                status={status}
                onOpen={() => go({ name: 'meter', key: meter.key })}
              />
            ))}
          </List>
          {shown.length === 0 && <div className="empty-note">{t('route.nothingHere')}</div>}
        </>
      )}
      {workDate && rows.length === 0 && (
        <ErrorBlock status="empty" title={t('route.noMeters')} description={t('route.noMetersHint')} />
      )}
    </div>
  );
}

function RouteItem(props: { meter: StoredMeter; status: MeterStatus; onOpen: () => void }) {
  const { meter, status, onOpen } = props;
  const { t } = useTranslation();
  return (
    <List.Item
      onClick={onOpen}
      data-testid={`route-item-${meter.key}`}
      data-state={status.progress}
      data-sync={status.sync ?? ''}
      prefix={<span className={`seq seq-${status.progress}`}>{meter.routeSeq ?? meter.pos + 1}</span>}
      description={
        <>
          <div>{meter.address}</div>
          <StatusTags status={status} />
          {meter.revisit && (
            <Tag color="warning" className="revisit-tag">
              {t('route.revisit')}
            </Tag>
          )}
          {meter.remote && (
            <Tag color="primary" className="remote-tag" data-testid="remote-tag">
              {t('route.remote')}
            </Tag>
          )}
        </>
      }
    >
      <span className="meter-title">
        {meter.customerName} <span className="muted">· {meter.meterNo}</span>
      </span>
    </List.Item>
  );
}

function DownloadCard({ workDate, hasRoute }: { workDate: string | null; hasRoute: boolean }) {
  const { t } = useTranslation();
  const today = todayInChina();
  const [date, setDate] = useState(today);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ message: string; meters: UploadFirstMeter[] } | null>(null);
  const [open, setOpen] = useState(false);
  const showForm = !hasRoute || open || workDate !== today;

  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      await downloadRoute(date);
      setOpen(false);
    } catch (e) {
      if (e instanceof ApiError) {
        // UPLOAD_FIRST lists the meters of the earlier day that have neither a reading nor a
        // no-access entry; the server's message says which day.
        const list = Array.isArray(e.body.meters) ? (e.body.meters as UploadFirstMeter[]) : [];
        setError({ message: e.message, meters: list });
      } else setError({ message: String(e), meters: [] });
    } finally {
      setBusy(false);
    }
  };

  if (!showForm) {
    return (
      <div className="download-again">
        <Button size="small" fill="none" color="primary" onClick={() => setOpen(true)}>
          {t('download.again')}
        </Button>
      </div>
    );
  }
  return (
    <Card className="download-card" title={t('download.title')}>
      <label className="field-label" htmlFor="route-date">
        {t('download.date')}
      </label>
      <input
        id="route-date"
        className="date-input"
        type="date"
        value={date}
        data-testid="route-date"
        onChange={(e) => setDate(e.target.value || today)}
      />
      <Button
        block
        color="primary"
        size="large"
        loading={busy}
        onClick={download}
        data-testid="download-route"
        className="big-button"
      >
        {date === today ? t('download.submit') : t('download.submitDay', { date })}
      </Button>
      {hasRoute && <div className="muted small">{t('download.replaces')}</div>}
      {error && (
        <div className="error-box" data-testid="download-error">
          <div>{error.message}</div>
          {error.meters.length > 0 && (
            <ul data-testid="upload-first-meters">
              {error.meters.slice(0, UPLOAD_FIRST_SHOWN).map((m, i) => (
                // biome-ignore lint/suspicious/noArrayIndexKey: the list is shown once, never reordered.
                <li key={i}>{[m.meterNo, m.customerName, m.address].filter(Boolean).join(' · ')}</li>
              ))}
              {error.meters.length > UPLOAD_FIRST_SHOWN && (
                <li>{t('download.more', { n: error.meters.length - UPLOAD_FIRST_SHOWN })}</li>
              )}
            </ul>
          )}
        </div>
      )}
    </Card>
  );
}
