import {
  Button,
  Card,
  Checkbox,
  Dialog,
  ErrorBlock,
  Input,
  NavBar,
  Selector,
  TextArea,
  Toast,
} from 'antd-mobile';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { type Fix, locate, NO_FIX } from '../capture/gps';
import { compressPhoto } from '../capture/photo';
import { CameraIcon, PinIcon } from '../components/icons';
import { OnlineBadge } from '../components/OnlineBadge';
import { StatusTags } from '../components/StatusTags';
import { useLive } from '../components/useLive';
import { currentThresholds, db, type PendingReading, type StoredMeter } from '../db';
import { currentLang } from '../i18n';
import { inRouteOrder, latestByMeter, statusOf } from '../route/state';
import { useRouter } from '../router';
import type { AnomalyCode } from '../types';
import { saveReading } from './save';
import { useIndexCheck } from './useMeterCheck';

const REVIEW_FLAGS = new Set(['BELOW_PREVIOUS', 'ROLLOVER', 'HIGH', 'LOW']);

/** The anomaly code that stands for "no access" (无法入户), if the code list has one. */
export function noAccessCode(codes: AnomalyCode[]): AnomalyCode | undefined {
  return (
    codes.find((c) => /no_?access/i.test(c.code)) ??
    codes.find((c) => c.nameZh.includes('无法入户') || c.nameZh.includes('入户')) ??
    undefined
  );
}

export function codeName(c: AnomalyCode): string {
  return currentLang() === 'en' ? c.nameEn || c.nameZh : c.nameZh || c.nameEn;
}

/** One meter: what the reader needs to know, and the reading. */
export default function MeterPage({ meterKey }: { meterKey: string }) {
  const { t } = useTranslation();
  const { go } = useRouter();
  const meter = useLive(
    async () => (await db.meters.get(meterKey)) ?? null,
    [meterKey],
    undefined as StoredMeter | null | undefined,
  );
  const all = useLive(() => db.meters.toArray(), [], [] as StoredMeter[]);
  const allReadings = useLive(() => db.outbox.toArray(), [], [] as PendingReading[]);
  const codes = useLive(() => db.anomalyCodes.orderBy('pos').toArray(), [], [] as AnomalyCode[]);
  const thresholds = useLive(() => currentThresholds(), [], undefined);

  const ordered = useMemo(() => inRouteOrder(all), [all]);
  const position = ordered.findIndex((m) => m.key === meterKey);
  const latestAll = useMemo(() => latestByMeter(allReadings, meter?.workDate ?? null), [allReadings, meter]);
  const existing = latestAll.get(meterKey) ?? null;

  /** The next meter to read after this one, in route order (then from the start). */
  const nextToRead = (): StoredMeter | undefined => {
    const after = [...ordered.slice(position + 1), ...ordered.slice(0, Math.max(0, position))];
    return after.find((m) => m.key !== meterKey && !latestAll.has(m.key));
  };

  // Until the query of this meter answers, `meter` may still be the previous one.
  if (meter === undefined || (meter !== null && meter.key !== meterKey) || thresholds === undefined) {
    return <div className="page" />;
  }
  if (meter === null) {
    return (
      <div className="page">
        <NavBar onBack={() => go({ name: 'route' })}>{t('meter.title')}</NavBar>
        <ErrorBlock status="empty" title={t('meter.notOnRoute')} />
      </div>
    );
  }
  const prev = position > 0 ? ordered[position - 1] : undefined;
  const next = position >= 0 ? ordered[position + 1] : undefined;

  return (
    <div className="page meter-page">
      <NavBar onBack={() => go({ name: 'route' })} right={<OnlineBadge />}>
        {t('meter.seq', { seq: meter.routeSeq ?? position + 1, n: position + 1, total: ordered.length })}
      </NavBar>
      <MeterInfo meter={meter} existing={existing} />
      <ReadingForm
        key={`${meterKey}:${existing?.clientId ?? 'new'}`}
        meter={meter}
        existing={existing}
        codes={codes}
        thresholds={thresholds}
        onSaved={(saved) => {
          Toast.show({
            icon: 'success',
            content: saved.noAccess ? t('meter.savedNoAccess') : t('meter.saved'),
          });
          const target = nextToRead();
          if (target) go({ name: 'meter', key: target.key }, { replace: true });
          else {
            Toast.show({ content: t('meter.routeDone') });
            go({ name: 'route' });
          }
        }}
      />
      <div className="walk-bar">
        <Button
          disabled={!prev}
          onClick={() => prev && go({ name: 'meter', key: prev.key }, { replace: true })}
          data-testid="prev-meter"
        >
          ‹ {t('meter.prev')}
        </Button>
        <Button
          disabled={!next}
          onClick={() => next && go({ name: 'meter', key: next.key }, { replace: true })}
          data-testid="next-meter"
        >
          {t('meter.next')} ›
        </Button>
      </div>
    </div>
  );
}

function MeterInfo({ meter, existing }: { meter: StoredMeter; existing: PendingReading | null }) {
  const { t } = useTranslation();
  return (
    <Card className="meter-info" data-testid="meter-info">
      <div className="meter-name">
        <span data-testid="meter-customer">{meter.customerName}</span>
        <span className="muted small">{meter.customerCode}</span>
      </div>
      <div className="meter-address">{meter.address}</div>
      <dl className="facts">
        <dt>{t('meter.meterNo')}</dt>
        <dd data-testid="meter-no">{meter.meterNo}</dd>
        <dt>{t('meter.location')}</dt>
        <dd>
          {[meter.meterLocation, meter.meterBoxNo && t('meter.box', { box: meter.meterBoxNo })]
            .filter(Boolean)
            .join(' · ') || '—'}
        </dd>
        <dt>{t('meter.caliber')}</dt>
        <dd>
          {meter.caliberDn ? `DN${meter.caliberDn}` : '—'}
          {meter.mounting ? ` · ${t(`mounting.${meter.mounting}`, { defaultValue: meter.mounting })}` : ''}
          {meter.usageType ? ` · ${meter.usageType}` : ''}
        </dd>
        <dt>{t('meter.previousIndex')}</dt>
        <dd className="strong" data-testid="previous-index">
          {meter.previousIndex}
        </dd>
        <dt>{t('meter.expected')}</dt>
        <dd data-testid="expected">
          {meter.expectedM3 !== null
            ? t('meter.m3', { v: trimZeros(meter.expectedM3) })
            : t('meter.noHistory')}
        </dd>
      </dl>
      {meter.revisit && <div className="warn-box">{t('meter.revisit')}</div>}
      {meter.remote && <div className="info-box">{t('meter.remote')}</div>}
      {meter.visitForced && (
        <div className="warn-box">{t('meter.visitForced', { n: meter.estimatesInARow })}</div>
      )}
      {meter.lastReadings.length > 0 && (
        <table className="history" data-testid="last-readings">
          <thead>
            <tr>
              <th>{t('meter.readOn')}</th>
              <th>{t('meter.index')}</th>
              <th>{t('meter.use')}</th>
            </tr>
          </thead>
          <tbody>
            {meter.lastReadings.slice(0, 6).map((r) => (
              <tr key={`${r.readAt}-${r.index}`}>
                <td>{r.readAt.slice(0, 10)}</td>
                <td>{r.index ?? '—'}</td>
                <td>
                  {r.consumptionM3 !== null ? trimZeros(r.consumptionM3) : '—'}
                  {r.kind === 'estimated' ? ` ${t('meter.estimatedShort')}` : ''}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {existing && (
        <div className="existing" data-testid="existing-reading">
          <span>
            {t('meter.readAt', { time: formatTime(existing.readAt) })}{' '}
            {existing.noAccess ? t('state.noAccess') : <b>{existing.index}</b>}
          </span>
          <StatusTags status={statusOf(existing)} />
          {existing.error && existing.status === 'rejected' && (
            <div className="error-text">{existing.error}</div>
          )}
        </div>
      )}
    </Card>
  );
}

export function trimZeros(v: string): string {
  return v.includes('.') ? v.replace(/\.?0+$/, '') : v;
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function ReadingForm(props: {
  meter: StoredMeter;
  existing: PendingReading | null;
  codes: AnomalyCode[];
  thresholds: NonNullable<Awaited<ReturnType<typeof currentThresholds>>>;
  onSaved(reading: PendingReading): void;
}) {
  const { meter, existing, codes, thresholds, onSaved } = props;
  const { t } = useTranslation();
  const [indexText, setIndexText] = useState(existing?.index ?? '');
  const [confirmed, setConfirmed] = useState(existing?.confirmed ?? false);
  const [selected, setSelected] = useState<string[]>(existing?.anomalyCodes ?? []);
  const [note, setNote] = useState(existing?.note ?? '');
  const [photo, setPhoto] = useState<Blob | null>(null);
  const [keptPhotoId, setKeptPhotoId] = useState<string | null>(existing?.photoId ?? null);
  const [photoUrl, setPhotoUrl] = useState<string | null>(null);
  const [photoBusy, setPhotoBusy] = useState(false);
  const [fix, setFix] = useState<Fix>(NO_FIX);
  const [busy, setBusy] = useState(false);
  const [tried, setTried] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);
  const fixPromise = useRef<Promise<Fix> | null>(null);
  const check = useIndexCheck(meter, indexText, thresholds);
  const noAccess = noAccessCode(codes);

  useEffect(() => {
    const p = locate();
    fixPromise.current = p;
    let alive = true;
    void p.then((f) => alive && setFix(f));
    return () => {
      alive = false;
    };
  }, []);

  // The photo shown: a new one, or the one this reading already has.
  useEffect(() => {
    let url: string | null = null;
    let alive = true;
    void (async () => {
      const blob = photo ?? (keptPhotoId ? (await db.blobs.get(keptPhotoId))?.blob : null);
      if (!alive) return;
      url = blob ? URL.createObjectURL(blob) : null;
      setPhotoUrl(url);
    })();
    return () => {
      alive = false;
      if (url) URL.revokeObjectURL(url);
    };
  }, [photo, keptPhotoId]);

  const reviewFlags = check.kind === 'ok' ? check.flags.filter((f) => REVIEW_FLAGS.has(f)) : [];
  const needsConfirm = reviewFlags.length > 0 && !confirmed && selected.length === 0;
  const sent = existing !== null && (existing.attempts > 0 || existing.status !== 'queued');

  const onPhoto = async (file: File | undefined) => {
    if (!file) return;
    setPhotoBusy(true);
    try {
      setPhoto(await compressPhoto(file));
      setKeptPhotoId(null);
    } catch {
      Toast.show({ icon: 'fail', content: t('meter.photoFailed') });
    } finally {
      setPhotoBusy(false);
      if (fileRef.current) fileRef.current.value = '';
    }
  };

  /** Waits briefly for a position that is still coming; never blocks saving. */
  const settledFix = async (): Promise<Fix> => {
    if (fix.status !== 'pending' || !fixPromise.current) return fix;
    const timeout = new Promise<Fix>((resolve) =>
      setTimeout(() => resolve({ ...NO_FIX, status: 'timeout' }), 2_000),
    );
    return Promise.race([fixPromise.current, timeout]);
  };

  const confirmResend = async () =>
    !sent ||
    existing?.status === 'rejected' ||
    (await Dialog.confirm({
      title: t('meter.resendTitle'),
      content: t('meter.resendText'),
      confirmText: t('common.save'),
      cancelText: t('common.cancel'),
    }));

  const save = async (asNoAccess: boolean) => {
    setTried(true);
    if (!asNoAccess) {
      if (check.kind !== 'ok') return;
      if (needsConfirm) {
        Toast.show({ content: t('meter.confirmOrCode') });
        return;
      }
    }
    if (!(await confirmResend())) return;
    setBusy(true);
    try {
      const codesToSave =
        asNoAccess && noAccess && !selected.includes(noAccess.code) ? [...selected, noAccess.code] : selected;
      const saved = await saveReading(
        meter,
        {
          index: asNoAccess ? null : indexText.trim(),
          consumptionM3: check.kind === 'ok' ? check.consumptionM3 : null,
          localFlags: check.kind === 'ok' ? check.flags : [],
          confirmed: reviewFlags.length > 0 && confirmed,
          noAccess: asNoAccess,
          anomalyCodes: codesToSave,
          note,
          photo,
          keptPhotoId,
          fix: await settledFix(),
        },
        existing,
      );
      onSaved(saved);
    } catch (e) {
      Toast.show({ icon: 'fail', content: String(e) });
    } finally {
      setBusy(false);
    }
  };

  const confirmNoAccess = async () => {
    const ok = await Dialog.confirm({
      title: t('meter.noAccessTitle'),
      content: t('meter.noAccessText'),
      confirmText: t('meter.noAccess'),
      cancelText: t('common.cancel'),
    });
    if (ok) await save(true);
  };

  return (
    <>
      <Card className="entry-card">
        <label className="field-label" htmlFor="index-input">
          {t('meter.enterIndex')}
        </label>
        <Input
          id="index-input"
          className={`index-input ${check.kind === 'invalid' || reviewFlags.length ? 'index-warn' : ''}`}
          inputMode="decimal"
          enterKeyHint="done"
          autoComplete="off"
          placeholder={t('meter.indexPlaceholder', { prev: meter.previousIndex })}
          value={indexText}
          onChange={(v) => {
            setIndexText(v);
            setConfirmed(false);
          }}
          data-testid="index-input"
          aria-label={t('meter.enterIndex')}
        />
        <div className="check" data-testid="index-check" aria-live="polite">
          {check.kind === 'empty' && tried && <span className="error-text">{t('meter.indexRequired')}</span>}
          {check.kind === 'invalid' && (
            <span className="error-text">
              {check.reason === 'format'
                ? t('meter.indexFormat')
                : t('meter.indexDial', { n: check.dialDigits })}
            </span>
          )}
          {check.kind === 'ok' && (
            <>
              <div className="consumption">
                {t('meter.consumption')}{' '}
                <b data-testid="consumption">
                  {check.consumptionM3 !== null ? t('meter.m3', { v: trimZeros(check.consumptionM3) }) : '—'}
                </b>
                {meter.expectedM3 !== null && (
                  <span className="muted">
                    {' '}
                    · {t('meter.expectedShort', { v: trimZeros(meter.expectedM3) })}
                  </span>
                )}
              </div>
              {check.flags.length === 0 ? (
                <div className="ok-text">{t('meter.looksNormal')}</div>
              ) : (
                <ul className="flags" data-testid="flags">
                  {check.flags.map((f) => (
                    <li key={f} className={REVIEW_FLAGS.has(f) ? 'flag-text' : 'muted'} data-flag={f}>
                      {t(`flags.${f}`)}
                    </li>
                  ))}
                </ul>
              )}
            </>
          )}
        </div>
        {reviewFlags.length > 0 && (
          <Checkbox
            className="confirm-box"
            checked={confirmed}
            onChange={setConfirmed}
            data-testid="confirm-flagged"
          >
            {t('meter.confirmFlagged')}
          </Checkbox>
        )}
      </Card>

      <Card className="entry-card" title={t('meter.anomalies')}>
        <Selector
          multiple
          columns={2}
          value={selected}
          onChange={setSelected}
          options={codes
            .filter((c) => c.code !== noAccess?.code || selected.includes(c.code))
            .map((c) => ({ label: codeName(c), value: c.code }))}
          className="codes"
          data-testid="anomaly-codes"
        />
        <TextArea
          className="note"
          placeholder={t('meter.notePlaceholder')}
          value={note}
          onChange={setNote}
          maxLength={500}
          rows={2}
          data-testid="note"
        />
      </Card>

      <Card className="entry-card capture-card">
        <div className="capture-row">
          <input
            ref={fileRef}
            type="file"
            accept="image/*"
            capture="environment"
            hidden
            onChange={(e) => void onPhoto(e.target.files?.[0])}
            data-testid="photo-input"
          />
          <Button onClick={() => fileRef.current?.click()} loading={photoBusy} data-testid="take-photo">
            <CameraIcon /> {photoUrl ? t('meter.retakePhoto') : t('meter.takePhoto')}
          </Button>
          {photoUrl && (
            <div className="thumb-wrap">
              <img src={photoUrl} alt={t('meter.photo')} className="thumb" data-testid="photo-thumb" />
              <Button
                size="mini"
                fill="none"
                onClick={() => {
                  setPhoto(null);
                  setKeptPhotoId(null);
                }}
              >
                ✕
              </Button>
            </div>
          )}
        </div>
        <div className="muted small" data-testid="gps-status" data-gps={fix.status}>
          <PinIcon />{' '}
          {fix.status === 'ok'
            ? t('gps.ok', {
                lat: fix.latitude?.toFixed(5),
                lon: fix.longitude?.toFixed(5),
                acc: fix.accuracyM,
              })
            : t(`gps.${fix.status}`)}
        </div>
      </Card>

      <div className="action-bar">
        <Button
          className="big-button"
          color="danger"
          fill="outline"
          onClick={confirmNoAccess}
          disabled={busy}
          data-testid="no-access"
        >
          {t('meter.noAccess')}
        </Button>
        <Button
          className="big-button save-button"
          color="primary"
          onClick={() => void save(false)}
          loading={busy}
          disabled={check.kind === 'invalid'}
          data-testid="save-reading"
        >
          {needsConfirm ? t('meter.saveNeedsConfirm') : t('meter.saveNext')}
        </Button>
      </div>
    </>
  );
}
