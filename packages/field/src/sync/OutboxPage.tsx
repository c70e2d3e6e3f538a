import { Button, Card, List, NavBar, Tag } from 'antd-mobile';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { VisitOutbox } from '../collect/VisitOutbox';
import { CameraIcon, SignIcon } from '../components/icons';
import { OnlineBadge } from '../components/OnlineBadge';
import { useLive, useOnline, useSyncState } from '../components/useLive';
import { db, getMeta, isConflict, type PendingReading } from '../db';
import { formatTime, trimZeros } from '../meter/MeterPage';
import { OrderOutbox } from '../orders/OrderOutbox';
import { useRouter } from '../router';
import { syncNow } from './sync';

/** Finished uploads shown below what is pending. */
const RECENT_DONE = 30;

/** What is waiting to be uploaded, what the server refused, conflicts, and the sync log. */
export default function OutboxPage() {
  const { t } = useTranslation();
  const { go } = useRouter();
  const online = useOnline();
  const { running, last } = useSyncState();
  const username = useLive(() => getMeta<string>('username'), [], undefined);
  const items = useLive(() => db.outbox.orderBy('savedSeq').reverse().toArray(), [], [] as PendingReading[]);
  const log = useLive(() => db.syncLog.orderBy('id').reverse().limit(5).toArray(), [], []);

  const groups = useMemo(() => {
    const queued = items.filter((r) => r.status === 'queued');
    return {
      queued: queued.filter((r) => r.username === username),
      others: queued.filter((r) => r.username !== username),
      rejected: items.filter((r) => r.status === 'rejected'),
      conflicts: items.filter((r) => r.status === 'done' && isConflict(r)),
      done: items.filter((r) => r.status === 'done' && !isConflict(r)).slice(0, RECENT_DONE),
    };
  }, [items, username]);

  const row = (r: PendingReading) => (
    <List.Item
      key={r.clientId}
      onClick={() => go({ name: 'meter', key: r.meterKey })}
      data-testid="outbox-item"
      data-status={r.status}
      data-outcome={r.outcome ?? ''}
      description={
        <>
          <div>
            {r.workDate} {formatTime(r.readAt)} · {r.noAccess ? t('state.noAccess') : `${r.index}`}
            {r.consumptionM3 ? ` (${t('meter.m3', { v: trimZeros(r.consumptionM3) })})` : ''}
            {r.photoId ? (
              <>
                {' '}
                · <CameraIcon />
              </>
            ) : null}
            {r.signatureId ? (
              <>
                {' '}
                · <SignIcon />
              </>
            ) : null}
          </div>
          {r.error && <div className={r.status === 'rejected' ? 'error-text' : 'muted'}>{r.error}</div>}
        </>
      }
      extra={<OutcomeTag r={r} />}
    >
      {r.customerName} <span className="muted">· {r.meterNo}</span>
    </List.Item>
  );

  return (
    <div className="page">
      <NavBar back={null} right={<OnlineBadge />}>
        {t('outbox.title')}
      </NavBar>
      <Card className="sync-card">
        <div className="sync-line">
          <span data-testid="queued-count" data-count={groups.queued.length}>
            {t('outbox.queued', { n: groups.queued.length })}
          </span>
          <Button
            color="primary"
            size="large"
            className="big-button"
            loading={running}
            disabled={!online}
            onClick={() => void syncNow('button')}
            data-testid="sync-now"
          >
            {t('outbox.syncNow')}
          </Button>
        </div>
        {!online && <div className="muted small">{t('outbox.offlineHint')}</div>}
        {last && (
          <div className="small" data-testid="sync-report" data-error={last.error ? '1' : '0'}>
            {last.error
              ? t('outbox.lastFailed', { error: last.error })
              : t('outbox.lastOk', {
                  sent: last.sent,
                  done: last.done,
                  conflicts: last.conflicts,
                  rejected: last.rejected,
                })}
          </div>
        )}
      </Card>
      {groups.rejected.length > 0 && (
        <List header={t('outbox.rejected')} data-testid="rejected-list">
          {groups.rejected.map(row)}
        </List>
      )}
      {groups.conflicts.length > 0 && (
        <List header={t('outbox.conflicts')} data-testid="conflict-list">
          {groups.conflicts.map(row)}
        </List>
      )}
      {groups.queued.length > 0 && (
        <List header={t('outbox.pending')} data-testid="pending-list">
          {groups.queued.map(row)}
        </List>
      )}
      {groups.others.length > 0 && <List header={t('outbox.others')}>{groups.others.map(row)}</List>}
      <VisitOutbox />
      <OrderOutbox />
      {groups.done.length > 0 && (
        <List header={t('outbox.done')} data-testid="done-list">
          {groups.done.map(row)}
        </List>
      )}
      {log.length > 0 && (
        <List header={t('outbox.log')}>
          {log.map((l) => (
            <List.Item key={l.id} description={l.error ?? ''}>
              <span className="small">
                {l.at.slice(0, 10)} {formatTime(l.at)} ·{' '}
                {t(`outbox.trigger.${l.trigger}`, { defaultValue: l.trigger })} ·{' '}
                {t('outbox.logLine', {
                  sent: l.sent,
                  done: l.done,
                  conflicts: l.conflicts,
                  rejected: l.rejected,
                })}
              </span>
            </List.Item>
          ))}
        </List>
      )}
    </div>
  );
}

function OutcomeTag({ r }: { r: PendingReading }) {
  const { t } = useTranslation();
  if (r.status === 'queued') return <Tag color="primary">{t('sync.state.queued')}</Tag>;
  if (r.status === 'rejected') return <Tag color="danger">{t('outcome.rejected')}</Tag>;
  if (isConflict(r)) return <Tag color="danger">{t('outcome.conflict')}</Tag>;
  const color = r.outcome === 'review' ? 'warning' : 'success';
  return <Tag color={color}>{t(`outcome.${r.outcome ?? 'accepted'}`)}</Tag>;
}
