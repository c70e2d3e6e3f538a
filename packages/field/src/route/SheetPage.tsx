import { Button, Card, Dialog, Input, NavBar, Selector, Toast } from 'antd-mobile';
import { useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { newUuid } from '../api';
import { SignaturePad, type SignaturePadHandle } from '../capture/SignaturePad';
import { OnlineBadge } from '../components/OnlineBadge';
import { StatusTags } from '../components/StatusTags';
import { useLive } from '../components/useLive';
import { db, getMeta, type PendingReading, type StoredMeter } from '../db';
import { trimZeros } from '../meter/MeterPage';
import { syncNow } from '../sync/sync';
import { buildingOf, inRouteOrder, latestByMeter, statusOf } from './state';

type Scope = 'book' | 'building';

/**
 * The reading confirmation sheet (抄表确认单): the readings of a book or of a building, signed on
 * the screen by the property manager or a resident representative. The signature travels with
 * each reading of the sheet that is still in the outbox.
 */
export default function SheetPage() {
  const { t } = useTranslation();
  const workDate = useLive(() => getMeta<string | null>('workDate'), [], undefined);
  const meters = useLive(() => db.meters.toArray(), [], [] as StoredMeter[]);
  const books = useLive(() => db.books.toArray(), [], []);
  const readings = useLive(() => db.outbox.toArray(), [], [] as PendingReading[]);
  const sheets = useLive(() => db.sheets.toArray(), [], []);
  const [scope, setScope] = useState<Scope>('building');
  const [scopeKey, setScopeKey] = useState<string | null>(null);
  const [signer, setSigner] = useState('');
  const [hasSignature, setHasSignature] = useState(false);
  const [busy, setBusy] = useState(false);
  const pad = useRef<SignaturePadHandle>(null);

  const ordered = useMemo(() => inRouteOrder(meters), [meters]);
  const latest = useMemo(() => latestByMeter(readings, workDate ?? null), [readings, workDate]);
  const options = useMemo(() => {
    if (scope === 'book') return books.map((b) => ({ key: String(b.bookId), label: `${b.code} ${b.name}` }));
    const seen = new Map<string, string>();
    for (const m of ordered) if (latest.has(m.key)) seen.set(buildingOf(m.address), buildingOf(m.address));
    return [...seen].map(([key, label]) => ({ key, label }));
  }, [scope, books, ordered, latest]);
  const chosen = scopeKey && options.some((o) => o.key === scopeKey) ? scopeKey : (options[0]?.key ?? null);
  const inScope = ordered.filter((m) =>
    chosen === null
      ? false
      : scope === 'book'
        ? String(m.bookId) === chosen
        : buildingOf(m.address) === chosen,
  );
  const scopeReadings = inScope.map((m) => latest.get(m.key)).filter((r): r is PendingReading => !!r);
  const attachable = scopeReadings.filter((r) => r.status === 'queued' && r.attempts === 0);
  const alreadySent = scopeReadings.length - attachable.length;
  const signedHere = sheets.filter(
    (s) => s.workDate === workDate && s.scope === scope && s.scopeKey === chosen,
  );

  const save = async () => {
    if (!chosen || scopeReadings.length === 0) return;
    if (!signer.trim()) {
      Toast.show({ content: t('sheet.signerRequired') });
      return;
    }
    const blob = await pad.current?.toBlob();
    if (!blob) {
      Toast.show({ content: t('sheet.signatureRequired') });
      return;
    }
    if (attachable.length === 0) {
      await Dialog.alert({ content: t('sheet.nothingToAttach'), confirmText: t('common.ok') });
      return;
    }
    setBusy(true);
    try {
      const signatureId = newUuid();
      const now = new Date().toISOString();
      const attached: string[] = [];
      await db.transaction('rw', [db.blobs, db.sheets, db.outbox], async () => {
        await db.blobs.put({ id: signatureId, kind: 'signature', blob, createdAt: now });
        for (const r of attachable) {
          // Only readings that were never sent take the signature (a sent one is never changed).
          const fresh = await db.outbox.get(r.clientId);
          if (fresh?.status !== 'queued' || fresh.attempts > 0) continue;
          await db.outbox.update(r.clientId, { signatureId, signerName: signer.trim() });
          attached.push(r.clientId);
        }
        await db.sheets.put({
          id: newUuid(),
          workDate: workDate ?? '',
          scope,
          scopeKey: chosen,
          scopeLabel: options.find((o) => o.key === chosen)?.label ?? chosen,
          signerName: signer.trim(),
          signatureId,
          clientIds: attached,
          signedAt: now,
        });
      });
      Toast.show({ icon: 'success', content: t('sheet.saved', { n: attached.length }) });
      pad.current?.clear();
      setSigner('');
      if (navigator.onLine) void syncNow('sheet').catch(() => undefined);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page">
      <NavBar back={null} right={<OnlineBadge />}>
        {t('sheet.title')}
      </NavBar>
      <Card>
        <Selector
          columns={2}
          value={[scope]}
          onChange={(v) => {
            if (v[0]) {
              setScope(v[0] as Scope);
              setScopeKey(null);
            }
          }}
          options={[
            { label: t('sheet.byBuilding'), value: 'building' },
            { label: t('sheet.byBook'), value: 'book' },
          ]}
        />
        {options.length === 0 ? (
          <div className="empty-note">{t('sheet.nothingRead')}</div>
        ) : (
          <select
            className="scope-select"
            value={chosen ?? ''}
            onChange={(e) => setScopeKey(e.target.value)}
            data-testid="sheet-scope"
          >
            {options.map((o) => (
              <option key={o.key} value={o.key}>
                {o.label}
              </option>
            ))}
          </select>
        )}
      </Card>
      {chosen && (
        <Card title={t('sheet.readings', { n: scopeReadings.length, total: inScope.length })}>
          <table className="sheet-table" data-testid="sheet-table">
            <thead>
              <tr>
                <th>{t('sheet.meter')}</th>
                <th>{t('meter.index')}</th>
                <th>{t('meter.use')}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {inScope.map((m) => {
                const r = latest.get(m.key);
                if (!r) return null;
                return (
                  <tr key={m.key}>
                    <td>
                      {m.customerName}
                      <div className="muted small">{m.meterNo}</div>
                    </td>
                    <td>{r.noAccess ? '—' : r.index}</td>
                    <td>{r.consumptionM3 ? trimZeros(r.consumptionM3) : ''}</td>
                    <td>
                      <StatusTags status={statusOf(r)} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {inScope.length > scopeReadings.length && (
            <div className="muted small">
              {t('sheet.unread', { n: inScope.length - scopeReadings.length })}
            </div>
          )}
          {alreadySent > 0 && (
            <div className="warn-box small">{t('sheet.alreadySent', { n: alreadySent })}</div>
          )}
          {signedHere.length > 0 && (
            <div className="muted small">
              {signedHere
                .map((s) => t('sheet.signedBy', { name: s.signerName, time: s.signedAt.slice(11, 16) }))
                .join('；')}
            </div>
          )}
        </Card>
      )}
      {chosen && scopeReadings.length > 0 && (
        <Card title={t('sheet.sign')}>
          <Input
            className="signer-input"
            placeholder={t('sheet.signerName')}
            value={signer}
            onChange={setSigner}
            data-testid="signer-name"
          />
          <SignaturePad ref={pad} onChange={(empty) => setHasSignature(!empty)} />
          <Button
            block
            className="big-button"
            color="primary"
            loading={busy}
            disabled={!hasSignature}
            onClick={save}
            data-testid="save-sheet"
          >
            {t('sheet.save')}
          </Button>
        </Card>
      )}
    </div>
  );
}
