import { chinaDateTime } from '@meterline/domain/platform/dates';
import { List, Tag } from 'antd-mobile';
import { useTranslation } from 'react-i18next';
import { CameraIcon } from '../components/icons';
import { useLive } from '../components/useLive';
import { db, type PendingOrderResult } from '../db';
import { useRouter } from '../router';

/** Work-order results shown on the outbox page: waiting, refused, conflicts, the last sent. */
export const RECENT_RESULTS = 30;

export function OrderOutbox() {
  const { t } = useTranslation();
  const { go } = useRouter();
  const results = useLive(
    () => db.orderOutbox.orderBy('savedSeq').reverse().limit(200).toArray(),
    [],
    [] as PendingOrderResult[],
  );
  if (results.length === 0) return null;
  const shown = [
    ...results.filter((r) => r.status !== 'done'),
    ...results.filter((r) => r.status === 'done').slice(0, RECENT_RESULTS),
  ];
  const queued = results.filter((r) => r.status === 'queued').length;
  return (
    <List header={t('orders.outboxTitle', { n: queued })} data-testid="order-outbox" data-queued={queued}>
      {shown.map((r) => (
        <List.Item
          key={r.clientResultId}
          onClick={() => go({ name: r.kind === 'order' ? 'order' : 'recheck', key: r.orderKey })}
          data-testid="order-outbox-item"
          data-status={r.status}
          data-result={r.outcomeOfUpload ?? ''}
          description={
            <>
              <div>
                {chinaDateTime(r.recordedAt).slice(0, 16)} · {r.orderNo} ·{' '}
                {t(r.kind === 'order' ? `orders.outcome.${r.outcome}` : `orders.finding.${r.outcome}`)}
                {r.photoId ? (
                  <>
                    {' '}
                    · <CameraIcon />
                  </>
                ) : null}
              </div>
              {r.error && <div className={r.status === 'rejected' ? 'error-text' : 'muted'}>{r.error}</div>}
            </>
          }
          extra={
            <Tag
              color={
                r.status === 'queued'
                  ? 'primary'
                  : r.status === 'rejected' || r.conflict
                    ? 'danger'
                    : 'success'
              }
            >
              {r.status === 'done'
                ? t(`orders.result.${r.conflict ? 'conflict' : (r.outcomeOfUpload ?? 'accepted')}`)
                : t(`orders.upload.${r.status}`)}
            </Tag>
          }
        >
          {r.customerName}
        </List.Item>
      ))}
    </List>
  );
}
