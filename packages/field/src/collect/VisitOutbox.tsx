import { chinaDateTime } from '@meterline/domain/platform/dates';
import { List, Tag } from 'antd-mobile';
import { useTranslation } from 'react-i18next';
import { CameraIcon, SignIcon } from '../components/icons';
import { useLive } from '../components/useLive';
import { db, type PendingVisit } from '../db';
import { useRouter } from '../router';

/** Collection visits shown on the outbox page: waiting, refused by the server, conflicts, the last sent. */
export const RECENT_VISITS = 30;

export function VisitOutbox() {
  const { t } = useTranslation();
  const { go } = useRouter();
  const visits = useLive(
    () => db.visitOutbox.orderBy('savedSeq').reverse().limit(200).toArray(),
    [],
    [] as PendingVisit[],
  );
  if (visits.length === 0) return null;
  const shown = [
    ...visits.filter((v) => v.status !== 'done'),
    ...visits.filter((v) => v.status === 'done').slice(0, RECENT_VISITS),
  ];
  const queued = visits.filter((v) => v.status === 'queued').length;
  return (
    <List header={t('collect.outboxTitle', { n: queued })} data-testid="visit-outbox" data-queued={queued}>
      {shown.map((v) => (
        <List.Item
          key={v.clientVisitId}
          onClick={() => go({ name: 'visit', key: v.taskKey })}
          data-testid="visit-outbox-item"
          data-status={v.status}
          data-result={v.outcomeOfUpload ?? ''}
          description={
            <>
              <div>
                {chinaDateTime(v.visitedAt).slice(0, 16)} · {t(`collect.outcome.${v.outcome}`)}
                {v.photoId ? (
                  <>
                    {' '}
                    · <CameraIcon />
                  </>
                ) : null}
                {v.signatureId ? (
                  <>
                    {' '}
                    · <SignIcon />
                  </>
                ) : null}
              </div>
              {v.error && <div className={v.status === 'rejected' ? 'error-text' : 'muted'}>{v.error}</div>}
            </>
          }
          extra={
            <Tag
              color={
                v.status === 'queued'
                  ? 'primary'
                  : v.status === 'rejected' || v.outcomeOfUpload === 'conflict'
                    ? 'danger'
                    : 'success'
              }
            >
              {v.status === 'done'
                ? t(`collect.result.${v.outcomeOfUpload ?? 'accepted'}`)
                : t(`collect.upload.${v.status}`)}
            </Tag>
          }
        >
          {v.customerName}
        </List.Item>
      ))}
    </List>
  );
}
