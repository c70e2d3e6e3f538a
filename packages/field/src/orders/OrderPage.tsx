import {
  type FieldOrderProblem,
  SHUTOFF_ACTIONS,
  SHUTOFF_FIELD_OUTCOMES,
  validateFieldOrderResult,
} from '@meterline/domain/collections/fieldOrders';
import { chinaDateTime } from '@meterline/domain/platform/dates';
import { Button, Card, Input, List, NavBar, Selector, Toast } from 'antd-mobile';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { yuan } from '../collect/types';
import { OnlineBadge } from '../components/OnlineBadge';
import { useLive } from '../components/useLive';
import { db, type PendingOrderResult, type StoredFieldOrder } from '../db';
import { currentLang } from '../i18n';
import { useRouter } from '../router';
import { NoteCard, PhotoCard, queueResult, usePhotoAndFix } from './capture';
import { Countdown } from './OrdersPage';
import type { FieldOrder } from './types';

/** One shut-off or restore order: the meter number to check, typed by the worker, and the result. */
export default function OrderPage({ orderKey }: { orderKey: string }) {
  const { t } = useTranslation();
  const { back } = useRouter();
  const item = useLive(
    () => db.fieldOrders.get(orderKey),
    [orderKey],
    undefined as StoredFieldOrder | undefined,
  );
  const earlier = useLive(
    () => db.orderOutbox.where('orderKey').equals(orderKey).toArray(),
    [orderKey],
    [] as PendingOrderResult[],
  );
  if (!item?.order) {
    return (
      <div className="page">
        <NavBar onBack={back}>{t('orders.title')}</NavBar>
        <div className="empty-note">{t('orders.notOnList')}</div>
      </div>
    );
  }
  const o = item.order;
  return (
    <div className="page">
      <NavBar onBack={back} right={<OnlineBadge />}>
        {t(`orders.kind.${o.kind}`)} · {o.customerName}
      </NavBar>
      <OrderCard o={o} />
      {earlier.length > 0 && <EarlierResults results={earlier} />}
      <OrderForm o={o} orderKey={orderKey} onSaved={back} />
    </div>
  );
}

export function EarlierResults({ results }: { results: PendingOrderResult[] }) {
  const { t } = useTranslation();
  return (
    <Card className="entry-card" data-testid="order-earlier">
      {results.map((r) => (
        <div key={r.clientResultId} className="small" data-status={r.status}>
          {chinaDateTime(r.recordedAt).slice(0, 16)} ·{' '}
          {t(r.kind === 'order' ? `orders.outcome.${r.outcome}` : `orders.finding.${r.outcome}`)} ·{' '}
          {r.status === 'done'
            ? t(`orders.result.${r.conflict ? 'conflict' : (r.outcomeOfUpload ?? 'accepted')}`)
            : t(`orders.upload.${r.status}`)}
          {r.error ? <span className="error-text"> · {r.error}</span> : null}
        </div>
      ))}
    </Card>
  );
}

function OrderCard({ o }: { o: FieldOrder }) {
  const { t } = useTranslation();
  return (
    <Card className="entry-card" data-testid="order-card">
      <div className="meter-title">
        {o.customerName} <span className="muted">· {o.customerCode}</span>
      </div>
      <div className="muted">{o.address}</div>
      <div className="small">
        {t('orders.orderNo')} {o.orderNo}
      </div>
      <div style={{ fontSize: 26, fontWeight: 700, margin: '8px 0' }} data-testid="order-meter-to-check">
        {t('orders.meterToCheck')} {o.meterNo}
      </div>
      {o.kind === 'restore' && o.meterRemoved && <div className="small">{t('orders.meterRemoved')}</div>}
      <div>
        {o.dueAt ? (
          <>
            <Countdown dueAt={o.dueAt} now={new Date()} />{' '}
            <span className="muted small">
              {t('orders.deadline', { at: chinaDateTime(o.dueAt).slice(0, 16) })}
            </span>
          </>
        ) : (
          <span className="muted small">
            {t('orders.dispatched', { at: chinaDateTime(o.dispatchedAt).slice(0, 16) })}
          </span>
        )}
      </div>
      <div className="owed-line">{t('orders.arrears', { yuan: yuan(o.arrearsFen) })}</div>
      <List className="bill-list">
        {o.bills.map((b) => (
          <List.Item key={b.billId} extra={<b>¥{yuan(b.countableFen)}</b>}>
            {b.period} · {b.billNo}
          </List.Item>
        ))}
      </List>
    </Card>
  );
}

function OrderForm({ o, orderKey, onSaved }: { o: FieldOrder; orderKey: string; onSaved: () => void }) {
  const { t } = useTranslation();
  const restore = o.kind === 'restore';
  const [outcome, setOutcome] = useState<string | null>(restore ? 'done' : null);
  const [action, setAction] = useState<string>('valve_closed');
  const [typed, setTyped] = useState('');
  const [note, setNote] = useState('');
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const { photo, busy: photoBusy, fix, onPhoto } = usePhotoAndFix();
  const check = (): FieldOrderProblem[] =>
    validateFieldOrderResult({
      kind: o.kind,
      outcome: outcome ?? '',
      action: outcome === 'done' && !restore ? action : null,
      confirmedMeterNo: typed,
      expectedMeterNo: o.meterNo,
      note,
    });
  const problems: Record<string, string> = {};
  if (tried) for (const p of check()) problems[p.path] ??= p.messages[currentLang()];

  const save = async () => {
    setTried(true);
    if (check().length > 0) {
      Toast.show({ content: t('orders.fixFields'), icon: 'fail' });
      return;
    }
    setBusy(true);
    try {
      await queueResult(
        {
          orderKey,
          kind: 'order',
          accountId: o.accountId,
          orderId: o.orderId,
          orderNo: o.orderNo,
          customerName: o.customerName,
          outcome: outcome!,
          action: outcome === 'done' && !restore ? action : null,
          confirmedMeterNo: typed.trim(),
          note: note.trim(),
          latitude: fix.latitude,
          longitude: fix.longitude,
          accuracyM: fix.accuracyM,
        },
        photo,
      );
      Toast.show({ content: t('orders.saved'), icon: 'success' });
      onSaved();
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      {!restore && (
        <Card className="entry-card" title={t('orders.checkFirst')}>
          <label className="field-label" htmlFor="order-meter-no">
            {t('orders.typedMeterNo')}
          </label>
          <Input
            id="order-meter-no"
            value={typed}
            onChange={setTyped}
            maxLength={60}
            placeholder={t('orders.typedMeterNoPlaceholder')}
            data-testid="order-meter-no"
          />
          {problems.confirmedMeterNo && (
            <div className="error-text" data-testid="order-error-confirmedMeterNo">
              {problems.confirmedMeterNo}
            </div>
          )}
        </Card>
      )}
      <Card className="entry-card" title={t('orders.outcomeTitle')}>
        {restore ? (
          <div data-testid="order-outcome">{t('orders.outcome.restored')}</div>
        ) : (
          <Selector
            columns={1}
            value={outcome ? [outcome] : []}
            onChange={(v) => setOutcome(v[0] ?? null)}
            options={SHUTOFF_FIELD_OUTCOMES.map((x) => ({ label: t(`orders.outcome.${x}`), value: x }))}
            data-testid="order-outcome"
          />
        )}
        {problems.outcome && <div className="error-text small">{problems.outcome}</div>}
        {!restore && outcome === 'done' && (
          <>
            <div className="field-label">{t('orders.actionTitle')}</div>
            <Selector
              columns={2}
              value={[action]}
              onChange={(v) => v[0] && setAction(v[0])}
              options={SHUTOFF_ACTIONS.map((x) => ({ label: t(`orders.action.${x}`), value: x }))}
              data-testid="order-action"
            />
            {problems.action && <div className="error-text small">{problems.action}</div>}
          </>
        )}
      </Card>
      <PhotoCard photo={photo} busy={photoBusy} onPhoto={(f) => void onPhoto(f)} fix={fix} />
      <NoteCard note={note} setNote={setNote} error={problems.note} />
      <div className="action-bar">
        <Button
          block
          className="big-button save-button"
          color="primary"
          disabled={outcome === null}
          loading={busy}
          onClick={() => void save()}
          data-testid="order-save"
        >
          {t('orders.save')}
        </Button>
      </div>
    </>
  );
}
