import {
  PHONE_CALL_RESULTS,
  SECONDARY_SUPPLY_TYPES,
  type SiteData,
  VISIT_OUTCOMES,
  type VisitOutcome,
  validateVisit,
} from '@meterline/domain/collections/visits';
import { chinaDateTime, todayInChina } from '@meterline/domain/platform/dates';
import { Button, Card, Input, List, NavBar, Selector, Switch, TextArea, Toast } from 'antd-mobile';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { newUuid } from '../api';
import { type Fix, locate, NO_FIX } from '../capture/gps';
import { compressPhoto } from '../capture/photo';
import { SignaturePad, type SignaturePadHandle } from '../capture/SignaturePad';
import { CameraIcon, PinIcon } from '../components/icons';
import { OnlineBadge } from '../components/OnlineBadge';
import { useLive } from '../components/useLive';
import { db, getMeta, type PendingVisit, type StoredCollectTask } from '../db';
import { currentLang } from '../i18n';
import { useRouter } from '../router';
import { syncNow } from '../sync/sync';
import { yuan } from './types';

type Method = 'account_confirmation' | 'dunning_notice' | 'notice_posted';

/** One customer of the collection list: what they owe, and the visit form (DOMAIN.md §6). */
export default function VisitPage({ taskKey }: { taskKey: string }) {
  const { t } = useTranslation();
  const { back } = useRouter();
  const task = useLive(
    () => db.collectTasks.get(taskKey),
    [taskKey],
    undefined as StoredCollectTask | undefined,
  );
  const earlier = useLive(
    () => db.visitOutbox.where('taskKey').equals(taskKey).toArray(),
    [taskKey],
    [] as PendingVisit[],
  );
  if (!task) {
    return (
      <div className="page">
        <NavBar onBack={back}>{t('collect.visitTitle')}</NavBar>
        <div className="empty-note">{t('collect.notOnList')}</div>
      </div>
    );
  }
  return (
    <div className="page">
      <NavBar onBack={back} right={<OnlineBadge />}>
        {task.customerName}
      </NavBar>
      <CustomerCard task={task} />
      {earlier.length > 0 && (
        <Card className="entry-card" data-testid="visit-earlier">
          {earlier.map((v) => (
            <div key={v.clientVisitId} className="small">
              {chinaDateTime(v.visitedAt).slice(0, 16)} · {t(`collect.outcome.${v.outcome}`)} ·{' '}
              {t(`collect.upload.${v.status}`, { defaultValue: v.status })}
              {v.error ? <span className="error-text"> · {v.error}</span> : null}
            </div>
          ))}
        </Card>
      )}
      <VisitForm task={task} onSaved={back} />
    </div>
  );
}

function CustomerCard({ task }: { task: StoredCollectTask }) {
  const { t } = useTranslation();
  return (
    <Card className="entry-card" data-testid="visit-customer">
      <div className="meter-title">
        {task.customerName} <span className="muted">· {task.customerCode}</span>
      </div>
      <div className="muted">{task.address}</div>
      <div className="muted small">
        {task.meters
          .map((m) => `${t('collect.meterNo')} ${m.meterNo}${m.location ? ` (${m.location})` : ''}`)
          .join(' · ')}
      </div>
      <div className="owed-line" data-testid="visit-owed">
        {t('collect.owes', { yuan: yuan(task.arrearsFen), n: task.arrearsCycles })}
      </div>
      <List className="bill-list">
        {task.bills.map((b) => (
          <List.Item
            key={b.billId}
            extra={<b>¥{yuan(b.owedFen)}</b>}
            description={t('collect.dueOn', { date: b.dueOn })}
          >
            {b.period} · {b.billNo}
          </List.Item>
        ))}
      </List>
      {task.phones.length > 0 && (
        <div className="small">
          {task.phones.map((p) => (
            <a key={p.phone} href={`tel:${p.phone}`} className="phone-link">
              {p.name || t('collect.phone')} {p.phone}
            </a>
          ))}
        </div>
      )}
      {task.lastVisits.length > 0 && (
        <div className="muted small">
          {t('collect.lastVisits')}:{' '}
          {task.lastVisits
            .map(
              (v) =>
                `${chinaDateTime(v.visitedAt).slice(0, 10)} ${t(`collect.outcome.${v.outcome}`)} ${v.staff}`,
            )
            .join(' · ')}
        </div>
      )}
    </Card>
  );
}

function VisitForm({ task, onSaved }: { task: StoredCollectTask; onSaved: () => void }) {
  const { t } = useTranslation();
  const [outcome, setOutcome] = useState<VisitOutcome | null>(null);
  const [signedWith, setSignedWith] = useState<Method>('account_confirmation');
  const [reason, setReason] = useState('');
  const [signerName, setSignerName] = useState('');
  const [signed, setSigned] = useState(false);
  const [photo, setPhoto] = useState<Blob | null>(null);
  const [photoBusy, setPhotoBusy] = useState(false);
  const [call, setCall] = useState<{ phone: string; result: string; note: string }>({
    phone: task.phones[0]?.phone ?? '',
    result: '',
    note: '',
  });
  const [promisedOn, setPromisedOn] = useState('');
  const [withSite, setWithSite] = useState(false);
  const residential = task.customerKind === 'person';
  const [site, setSite] = useState<Record<string, string>>({});
  const [secondary, setSecondary] = useState(false);
  const [supplyType, setSupplyType] = useState<string>('');
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [fix, setFix] = useState<Fix>(NO_FIX);
  const fileRef = useRef<HTMLInputElement>(null);
  const padRef = useRef<SignaturePadHandle>(null);
  const photoUrl = useMemo(() => (photo ? URL.createObjectURL(photo) : null), [photo]);
  useEffect(() => () => (photoUrl ? URL.revokeObjectURL(photoUrl) : undefined), [photoUrl]);
  useEffect(() => {
    void locate().then(setFix);
  }, []);

  const method: Method = outcome === 'signed' ? signedWith : 'notice_posted';
  const phoneKnown = task.phones.length > 0;

  const onPhoto = async (file: File | undefined) => {
    if (!file) return;
    setPhotoBusy(true);
    try {
      setPhoto(await compressPhoto(file));
    } catch {
      setPhoto(file);
    } finally {
      setPhotoBusy(false);
    }
  };

  const siteData = (): SiteData | null => {
    if (!withSite) return null;
    const n = (k: string) => (site[k] === undefined || site[k] === '' ? Number.NaN : Number(site[k]));
    return residential
      ? { kind: 'residential', topFloor: n('topFloor'), units: n('units'), households: n('households') }
      : {
          kind: 'non_residential',
          community: site.community ?? '',
          buildings: n('buildings'),
          households: n('households'),
          expectedUseM3: n('expectedUseM3'),
          secondarySupply: secondary,
          secondarySupplyType: secondary ? supplyType || null : null,
        };
  };

  const phoneCall = outcome === 'nobody_found' && call.result ? call : null;
  const check = (hasSignature: boolean) =>
    validateVisit({
      method,
      outcome: outcome ?? '',
      reason,
      hasPhoto: photo !== null,
      hasSignature,
      signerName,
      phoneKnown,
      phoneCall,
      promisedOn: promisedOn || null,
      site: siteData(),
    });
  const byPath = (found: ReturnType<typeof validateVisit>) => {
    const out: Record<string, string> = {};
    for (const p of found) out[p.path] ??= p.messages[currentLang()];
    return out;
  };
  // After the first attempt to save, the marks follow what is typed.
  const problems = tried ? byPath(check(signed)) : {};

  const save = async () => {
    setTried(true);
    const signature = outcome === 'signed' && signed ? await padRef.current?.toBlob() : null;
    const siteValue = siteData();
    const found = check(!!signature);
    if (found.length > 0) {
      Toast.show({ content: t('collect.fixFields'), icon: 'fail' });
      return;
    }
    setBusy(true);
    try {
      const now = new Date().toISOString();
      const username = (await getMeta<string>('username')) ?? '';
      await db.transaction('rw', [db.visitOutbox, db.blobs], async () => {
        let photoId: string | null = null;
        let signatureId: string | null = null;
        if (photo) {
          photoId = newUuid();
          await db.blobs.put({ id: photoId, kind: 'photo', blob: photo, createdAt: now });
        }
        if (signature) {
          signatureId = newUuid();
          await db.blobs.put({ id: signatureId, kind: 'signature', blob: signature, createdAt: now });
        }
        const last = await db.visitOutbox.orderBy('savedSeq').last();
        await db.visitOutbox.put({
          clientVisitId: newUuid(),
          username,
          workDate: task.workDate,
          taskKey: task.key,
          accountId: task.accountId,
          taskId: task.taskId,
          customerName: task.customerName,
          address: task.address,
          method,
          outcome: outcome!,
          reason: reason.trim(),
          signerName: signerName.trim(),
          promisedOn: promisedOn || null,
          phoneCall,
          site: siteValue as Record<string, unknown> | null,
          visitedAt: now,
          latitude: fix.latitude,
          longitude: fix.longitude,
          accuracyM: fix.accuracyM,
          photoId,
          signatureId,
          status: 'queued',
          attempts: 0,
          outcomeOfUpload: null,
          visitId: null,
          error: null,
          createdAt: now,
          savedSeq: (last?.savedSeq ?? 0) + 1,
        });
      });
      Toast.show({ content: t('collect.saved'), icon: 'success' });
      if (navigator.onLine) void syncNow('save').catch(() => undefined);
      onSaved();
    } finally {
      setBusy(false);
    }
  };

  const err = (path: string) =>
    problems[path] ? (
      <div className="error-text small" data-testid={`visit-error-${path}`}>
        {problems[path]}
      </div>
    ) : null;

  return (
    <>
      <Card className="entry-card" title={t('collect.outcomeTitle')}>
        <Selector
          columns={1}
          value={outcome ? [outcome] : []}
          onChange={(v) => setOutcome((v[0] as VisitOutcome | undefined) ?? null)}
          options={VISIT_OUTCOMES.map((o) => ({ label: t(`collect.outcome.${o}`), value: o }))}
          data-testid="visit-outcome"
        />
        {err('outcome')}
        {outcome === 'signed' && (
          <>
            <div className="field-label">{t('collect.methodTitle')}</div>
            <Selector
              columns={1}
              value={[signedWith]}
              onChange={(v) => v[0] && setSignedWith(v[0] as Method)}
              options={(['account_confirmation', 'dunning_notice'] as const).map((m) => ({
                label: t(`collect.method.${m}`),
                value: m,
              }))}
              data-testid="visit-method"
            />
            {err('method')}
          </>
        )}
        {(outcome === 'refused' || outcome === 'nobody_found') && (
          <div className="muted small">{t('collect.noticePosted')}</div>
        )}
      </Card>

      {outcome === 'refused' && (
        <Card className="entry-card" title={t('collect.reason')}>
          <TextArea
            value={reason}
            onChange={setReason}
            maxLength={500}
            rows={3}
            placeholder={t('collect.reasonPlaceholder')}
            data-testid="visit-reason"
          />
          {err('reason')}
        </Card>
      )}

      {(outcome === 'refused' || outcome === 'nobody_found') && (
        <Card className="entry-card capture-card" title={t('collect.photoTitle')}>
          <div className="capture-row">
            <input
              ref={fileRef}
              type="file"
              accept="image/*"
              capture="environment"
              hidden
              onChange={(e) => void onPhoto(e.target.files?.[0])}
              data-testid="visit-photo-input"
            />
            <Button
              className="big-button"
              onClick={() => fileRef.current?.click()}
              loading={photoBusy}
              data-testid="visit-take-photo"
            >
              <CameraIcon /> {photo ? t('meter.retakePhoto') : t('meter.takePhoto')}
            </Button>
            {photoUrl && <img src={photoUrl} alt="" className="thumb" data-testid="visit-photo-thumb" />}
          </div>
          {err('photo')}
        </Card>
      )}

      {outcome === 'nobody_found' && phoneKnown && (
        <Card className="entry-card" title={t('collect.callTitle')} data-testid="visit-call">
          <Selector
            columns={1}
            value={call.phone ? [call.phone] : []}
            onChange={(v) => setCall({ ...call, phone: v[0] ?? '' })}
            options={task.phones.map((p) => ({ label: `${p.name} ${p.phone}`, value: p.phone }))}
          />
          <a href={`tel:${call.phone}`} className="phone-link big">
            {t('collect.callNow', { phone: call.phone })}
          </a>
          <div className="field-label">{t('collect.callResult')}</div>
          <Selector
            columns={2}
            value={call.result ? [call.result] : []}
            onChange={(v) => setCall({ ...call, result: v[0] ?? '' })}
            options={PHONE_CALL_RESULTS.map((r) => ({ label: t(`collect.call.${r}`), value: r }))}
            data-testid="visit-call-result"
          />
          <Input
            placeholder={t('collect.callNote')}
            value={call.note}
            onChange={(note) => setCall({ ...call, note })}
            maxLength={500}
          />
          {err('phoneCall') ?? err('phoneCall.result') ?? err('phoneCall.phone')}
        </Card>
      )}

      {outcome === 'signed' && (
        <Card className="entry-card" title={t('collect.signTitle')}>
          <Input
            placeholder={t('collect.signerName')}
            value={signerName}
            onChange={setSignerName}
            maxLength={50}
            data-testid="visit-signer"
          />
          {err('signerName')}
          <SignaturePad ref={padRef} onChange={(empty) => setSigned(!empty)} />
          {err('signature')}
        </Card>
      )}

      {outcome !== null && (
        <Card className="entry-card" title={t('collect.promisedOn')}>
          <input
            className="date-input"
            type="date"
            min={todayInChina()}
            value={promisedOn}
            onChange={(e) => setPromisedOn(e.target.value)}
            data-testid="visit-promised-on"
          />
          {err('promisedOn')}
        </Card>
      )}

      <Card
        className="entry-card"
        title={residential ? t('collect.site.residential') : t('collect.site.nonResidential')}
        extra={<Switch checked={withSite} onChange={setWithSite} data-testid="visit-site-switch" />}
      >
        {withSite && (
          <div className="site-grid">
            {(residential
              ? ['topFloor', 'units', 'households']
              : ['community', 'buildings', 'households', 'expectedUseM3']
            ).map((k) => (
              <div key={k} className="site-field">
                <label className="field-label" htmlFor={`site-${k}`}>
                  {t(`collect.site.${k}`)}
                </label>
                <Input
                  id={`site-${k}`}
                  type={k === 'community' ? 'text' : 'number'}
                  value={site[k] ?? ''}
                  onChange={(v) => setSite({ ...site, [k]: v })}
                  data-testid={`visit-site-${k}`}
                />
                {err(`site.${k}`)}
              </div>
            ))}
            {!residential && (
              <>
                <div className="site-field">
                  <span className="field-label">{t('collect.site.secondarySupply')}</span>
                  <Switch checked={secondary} onChange={setSecondary} />
                </div>
                {secondary && (
                  <Selector
                    columns={2}
                    value={supplyType ? [supplyType] : []}
                    onChange={(v) => setSupplyType(v[0] ?? '')}
                    options={SECONDARY_SUPPLY_TYPES.map((s) => ({
                      label: t(`collect.supply.${s}`),
                      value: s,
                    }))}
                  />
                )}
                {err('site.secondarySupplyType')}
              </>
            )}
          </div>
        )}
        <div className="muted small" data-testid="visit-gps" data-gps={fix.status}>
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
          block
          className="big-button save-button"
          color="primary"
          disabled={outcome === null}
          loading={busy}
          onClick={() => void save()}
          data-testid="visit-save"
        >
          {t('collect.save')}
        </Button>
      </div>
    </>
  );
}
