import { Tag } from 'antd-mobile';
import { useTranslation } from 'react-i18next';
import type { MeterStatus } from '../route/state';

const PROGRESS_COLOR = { todo: 'default', read: 'success', flagged: 'warning', noAccess: 'danger' } as const;
const SYNC_COLOR = { queued: 'primary', synced: 'success', conflict: 'danger', rejected: 'danger' } as const;

/** A meter's state in words: to do / read / flagged / no access, and queued / synced. */
export function StatusTags({ status }: { status: MeterStatus }) {
  const { t } = useTranslation();
  return (
    <span className="tags">
      <Tag color={PROGRESS_COLOR[status.progress]} fill="outline" data-testid="state-tag">
        {t(`state.${status.progress}`)}
      </Tag>
      {status.sync && (
        <Tag
          color={SYNC_COLOR[status.sync]}
          fill={status.sync === 'synced' ? 'outline' : 'solid'}
          data-testid="sync-tag"
        >
          {t(`sync.state.${status.sync}`)}
        </Tag>
      )}
    </span>
  );
}
