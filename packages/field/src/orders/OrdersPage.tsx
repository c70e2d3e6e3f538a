import { minutesLeft } from '@meterline/domain/collections/fieldOrders';
import { chinaDateTime, todayInChina } from '@meterline/domain/platform/dates';
import { Button, Card, ErrorBlock, List, NavBar, Tag } from 'antd-mobile';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { yuan } from '../collect/types';
import { OnlineBadge } from '../components/OnlineBadge';
import { useLive } from '../components/useLive';
import { db, getMeta, type PendingOrderResult, type StoredFieldOrder } from '../db';
import { useRouter } from '../router';
import { downloadOrders } from './store';

/** Re-reads the clock for the countdowns. */
const TICK_MS = 30_000;

/** "3 h 20 min left" or, overdue, "overdue by …" (red). */
export function Countdown({ dueAt, now }: { dueAt: string | null; now: Date }) {
  const { t } = useTranslation();
  const left = minutesLeft(dueAt, now);
  if (left === null) return null;
  const abs = Math.abs(left);
  const words = { h: Math.floor(abs / 60), m: abs % 60 };
  return (
    <span
      className={left < 0 ? 'error-text' : ''}
      style={left < 0 ? { fontWeight: 600 } : undefined}
      data-testid="order-countdown"
      data-overdue={left < 0 ? '1' : '0'}
    >
      {left < 0 ? t('orders.overdue', words) : t('orders.left', words)}
    </span>
  );
}

/** The work orders and re-checks (停复水工单): download, then the list with deadline countdowns. */
export default function OrdersPage() {
  const { t } = useTranslation();
  const { go } = useRouter();
  const items = useLive(() => db.fieldOrders.orderBy('pos').toArray(), [], [] as StoredFieldOrder[]);
  const results = useLive(() => db.orderOutbox.toArray(), [], [] as PendingOrderResult[]);
  const downloadedAt = useLive(() => getMeta<string>('ordersDownloadedAt'), [], undefined);
  const [now, setNow] = useState(() => new Date());
  useEffect(() => {
    const timer = window.setInterval(() => setNow(new Date()), TICK_MS);
    return () => window.clearInterval(timer);
  }, []);
  const recorded = useMemo(
    () => new Set(results.filter((r) => r.status !== 'rejected').map((r) => r.orderKey)),
    [results],
  );
  const orders = items.filter((i) => i.order !== null);
  const rechecks = items.filter((i) => i.recheck !== null);
  const today = todayInChina(now);

  return (
    <div className="page">
      <NavBar back={null} right={<OnlineBadge />}>
        {t('orders.title')}
      </NavBar>
      <DownloadCard downloadedAt={downloadedAt ?? null} />
      {orders.length > 0 && (
        <List header={t('orders.ordersTitle', { n: orders.length })} data-testid="orders-list">
          {orders.map(({ key, order: o }) => {
            const done = recorded.has(key);
            return (
              <List.Item
                key={key}
                onClick={() => go({ name: 'order', key })}
                data-testid={`order-item-${o!.orderNo}`}
                data-state={done ? 'done' : 'todo'}
                description={
                  <>
                    <div>{o!.address}</div>
                    <div>
                      {t('orders.meterToCheck')} <b>{o!.meterNo}</b> ·{' '}
                      {t('orders.arrears', { yuan: yuan(o!.arrearsFen) })}
                    </div>
                    <div>
                      {o!.dueAt ? (
                        <Countdown dueAt={o!.dueAt} now={now} />
                      ) : (
                        <span className="muted">
                          {t('orders.dispatched', { at: chinaDateTime(o!.dispatchedAt).slice(0, 16) })}
                        </span>
                      )}
                    </div>
                  </>
                }
                extra={
                  <>
                    <Tag color={o!.kind === 'shutoff' ? 'danger' : 'success'}>
                      {t(`orders.kind.${o!.kind}`)}
                    </Tag>
                    {done && (
                      <div>
                        <Tag color="primary">{t('orders.recorded')}</Tag>
                      </div>
                    )}
                  </>
                }
              >
                <span className="meter-title">
                  {o!.customerName} <span className="muted">· {o!.orderNo}</span>
                </span>
                {o!.mine && (
                  <Tag fill="outline" style={{ marginLeft: 6 }}>
                    {t('orders.mine')}
                  </Tag>
                )}
              </List.Item>
            );
          })}
        </List>
      )}
      {rechecks.length > 0 && (
        <List header={t('orders.rechecksTitle', { n: rechecks.length })} data-testid="rechecks-list">
          {rechecks.map(({ key, recheck: r }) => {
            const overdue = r!.dueOn < today;
            return (
              <List.Item
                key={key}
                onClick={() => go({ name: 'recheck', key })}
                data-testid={`recheck-item-${r!.accountId}`}
                data-state={recorded.has(key) ? 'done' : 'todo'}
                description={
                  <>
                    <div>{r!.address}</div>
                    <div className={overdue ? 'error-text' : 'muted'} data-overdue={overdue ? '1' : '0'}>
                      {overdue
                        ? t('orders.recheckOverdue', { date: r!.dueOn })
                        : t('orders.recheckDue', { date: r!.dueOn })}
                    </div>
                  </>
                }
                extra={recorded.has(key) ? <Tag color="primary">{t('orders.recorded')}</Tag> : null}
              >
                <span className="meter-title">
                  {r!.customerName} <span className="muted">· {r!.meterNo}</span>
                </span>
              </List.Item>
            );
          })}
        </List>
      )}
      {downloadedAt && items.length === 0 && <ErrorBlock status="empty" title={t('orders.empty')} />}
    </div>
  );
}

function DownloadCard({ downloadedAt }: { downloadedAt: string | null }) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      await downloadOrders();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card className="download-card">
      {!downloadedAt && <div className="muted small">{t('orders.downloadHint')}</div>}
      <Button
        block
        color="primary"
        size={downloadedAt ? 'middle' : 'large'}
        fill={downloadedAt ? 'outline' : 'solid'}
        loading={busy}
        onClick={download}
        data-testid="orders-download"
        className="big-button"
      >
        {t('orders.download')}
      </Button>
      {downloadedAt && (
        <div className="muted small" data-testid="orders-downloaded-at">
          {t('orders.downloadedAt', { at: chinaDateTime(downloadedAt).slice(0, 16) })}
        </div>
      )}
      {error && (
        <div className="error-box" data-testid="orders-download-error">
          {error}
        </div>
      )}
    </Card>
  );
}
