import { Button, Card, TextArea } from 'antd-mobile';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { newUuid } from '../api';
import { type Fix, locate, NO_FIX } from '../capture/gps';
import { compressPhoto } from '../capture/photo';
import { CameraIcon, PinIcon } from '../components/icons';
import { db, getMeta, type PendingOrderResult } from '../db';
import { syncNow } from '../sync/sync';

/** The photo (compressed on the phone), the note and the position shared by the order and re-check forms. */
export function usePhotoAndFix() {
  const [photo, setPhoto] = useState<Blob | null>(null);
  const [busy, setBusy] = useState(false);
  const [fix, setFix] = useState<Fix>(NO_FIX);
  useEffect(() => {
    void locate().then(setFix);
  }, []);
  const onPhoto = async (file: File | undefined) => {
    if (!file) return;
    setBusy(true);
    try {
      setPhoto(await compressPhoto(file));
    } catch {
      setPhoto(file);
    } finally {
      setBusy(false);
    }
  };
  return { photo, busy, fix, onPhoto };
}

export function PhotoCard({
  photo,
  busy,
  onPhoto,
  fix,
}: {
  photo: Blob | null;
  busy: boolean;
  onPhoto: (f: File | undefined) => void;
  fix: Fix;
}) {
  const { t } = useTranslation();
  const fileRef = useRef<HTMLInputElement>(null);
  const url = useMemo(() => (photo ? URL.createObjectURL(photo) : null), [photo]);
  useEffect(() => () => (url ? URL.revokeObjectURL(url) : undefined), [url]);
  return (
    <Card className="entry-card capture-card" title={t('orders.photoTitle')}>
      <div className="capture-row">
        <input
          ref={fileRef}
          type="file"
          accept="image/*"
          capture="environment"
          hidden
          onChange={(e) => onPhoto(e.target.files?.[0])}
          data-testid="order-photo-input"
        />
        <Button className="big-button" onClick={() => fileRef.current?.click()} loading={busy}>
          <CameraIcon /> {photo ? t('meter.retakePhoto') : t('meter.takePhoto')}
        </Button>
        {url && <img src={url} alt="" className="thumb" data-testid="order-photo-thumb" />}
      </div>
      <div className="muted small" data-testid="order-gps" data-gps={fix.status}>
        <PinIcon />{' '}
        {fix.status === 'ok'
          ? t('gps.ok', { lat: fix.latitude?.toFixed(5), lon: fix.longitude?.toFixed(5), acc: fix.accuracyM })
          : t(`gps.${fix.status}`)}
      </div>
    </Card>
  );
}

export function NoteCard({
  note,
  setNote,
  error,
}: {
  note: string;
  setNote: (v: string) => void;
  error?: string;
}) {
  const { t } = useTranslation();
  return (
    <Card className="entry-card" title={t('orders.note')}>
      <TextArea
        value={note}
        onChange={setNote}
        maxLength={500}
        rows={3}
        placeholder={t('orders.notePlaceholder')}
        data-testid="order-note"
      />
      {error && (
        <div className="error-text small" data-testid="order-error-note">
          {error}
        </div>
      )}
    </Card>
  );
}

/** Saves a result in the outbox (with its photo) and starts a sync when there is a network. */
export async function queueResult(
  r: Omit<
    PendingOrderResult,
    | 'clientResultId'
    | 'username'
    | 'photoId'
    | 'status'
    | 'attempts'
    | 'outcomeOfUpload'
    | 'conflict'
    | 'resultId'
    | 'error'
    | 'createdAt'
    | 'savedSeq'
    | 'recordedAt'
  >,
  photo: Blob | null,
): Promise<void> {
  const now = new Date().toISOString();
  const username = (await getMeta<string>('username')) ?? '';
  await db.transaction('rw', [db.orderOutbox, db.blobs], async () => {
    let photoId: string | null = null;
    if (photo) {
      photoId = newUuid();
      await db.blobs.put({ id: photoId, kind: 'photo', blob: photo, createdAt: now });
    }
    const last = await db.orderOutbox.orderBy('savedSeq').last();
    await db.orderOutbox.put({
      ...r,
      clientResultId: newUuid(),
      username,
      recordedAt: now,
      photoId,
      status: 'queued',
      attempts: 0,
      outcomeOfUpload: null,
      conflict: false,
      resultId: null,
      error: null,
      createdAt: now,
      savedSeq: (last?.savedSeq ?? 0) + 1,
    });
  });
  if (navigator.onLine) void syncNow('save').catch(() => undefined);
}
