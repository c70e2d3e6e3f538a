import { RECHECK_FINDINGS, validateRecheck } from '@meterline/domain/collections/fieldOrders';
import { Button, Card, NavBar, Selector, Toast } from 'antd-mobile';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { OnlineBadge } from '../components/OnlineBadge';
import { useLive } from '../components/useLive';
import { db, type PendingOrderResult, type StoredFieldOrder } from '../db';
import { currentLang } from '../i18n';
import { useRouter } from '../router';
import { NoteCard, PhotoCard, queueResult, usePhotoAndFix } from './capture';
import { EarlierResults } from './OrderPage';

/** A re-check of a shut-off customer for self-reconnection: still off, meter removed, or reconnected. */
export default function RecheckPage({ orderKey }: { orderKey: string }) {
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
  const [finding, setFinding] = useState<string | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const { photo, busy: photoBusy, fix, onPhoto } = usePhotoAndFix();
  const r = item?.recheck;
  if (!r) {
    return (
      <div className="page">
        <NavBar onBack={back}>{t('orders.recheckTitle')}</NavBar>
        <div className="empty-note">{t('orders.notOnList')}</div>
      </div>
    );
  }
  const save = async () => {
    const problems = validateRecheck({ finding: finding ?? '', note });
    if (problems.length) {
      Toast.show({ content: problems[0]!.messages[currentLang()], icon: 'fail' });
      return;
    }
    setBusy(true);
    try {
      await queueResult(
        {
          orderKey,
          kind: 'recheck',
          accountId: r.accountId,
          orderId: r.orderId,
          orderNo: r.orderNo,
          customerName: r.customerName,
          outcome: finding!,
          action: null,
          confirmedMeterNo: '',
          note: note.trim(),
          latitude: fix.latitude,
          longitude: fix.longitude,
          accuracyM: fix.accuracyM,
        },
        photo,
      );
      Toast.show({ content: t('orders.saved'), icon: 'success' });
      back();
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="page">
      <NavBar onBack={back} right={<OnlineBadge />}>
        {t('orders.recheckTitle')}
      </NavBar>
      <Card className="entry-card" data-testid="recheck-card">
        <div className="meter-title">
          {r.customerName} <span className="muted">· {r.customerCode}</span>
        </div>
        <div className="muted">{r.address}</div>
        <div style={{ fontSize: 22, fontWeight: 700, margin: '6px 0' }}>
          {t('orders.meterToCheck')} {r.meterNo}
        </div>
        <div className="small">
          {t('orders.shutOffOn', { date: r.shutOffOn })}
          {r.lastCheckOn ? ` · ${t('orders.lastCheck', { date: r.lastCheckOn })}` : ''}
        </div>
      </Card>
      {earlier.length > 0 && <EarlierResults results={earlier} />}
      <Card className="entry-card" title={t('orders.findingTitle')}>
        <Selector
          columns={1}
          value={finding ? [finding] : []}
          onChange={(v) => setFinding(v[0] ?? null)}
          options={RECHECK_FINDINGS.map((f) => ({ label: t(`orders.finding.${f}`), value: f }))}
          data-testid="recheck-finding"
        />
      </Card>
      <PhotoCard photo={photo} busy={photoBusy} onPhoto={(f) => void onPhoto(f)} fix={fix} />
      <NoteCard note={note} setNote={setNote} />
      <div className="action-bar">
        <Button
          block
          className="big-button save-button"
          color="primary"
          disabled={finding === null}
          loading={busy}
          onClick={() => void save()}
          data-testid="recheck-save"
        >
          {t('orders.save')}
        </Button>
      </div>
    </div>
  );
}
