import { todayInChina } from '@meterline/domain/platform/dates';
import { Button, Card, ErrorBlock, List, NavBar, ProgressBar, Tag } from 'antd-mobile';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { OnlineBadge } from '../components/OnlineBadge';
import { useLive } from '../components/useLive';
import { db, getMeta, type PendingVisit, type StoredCollectTask } from '../db';
import { useRouter } from '../router';
import { downloadCollection } from './store';
import { yuan } from './types';

/** The day's collection list (催缴任务): download, progress, customers in list order with their arrears. */
export default function CollectPage() {
  const { t } = useTranslation();
  const { go } = useRouter();
  const workDate = useLive(() => getMeta<string | null>('collectDate'), [], undefined);
  const tasks = useLive(() => db.collectTasks.orderBy('pos').toArray(), [], [] as StoredCollectTask[]);
  const visits = useLive(() => db.visitOutbox.toArray(), [], [] as PendingVisit[]);
  const visitedKeys = useMemo(
    () =>
      new Set(visits.filter((v) => v.status !== 'rejected' && v.workDate === workDate).map((v) => v.taskKey)),
    [visits, workDate],
  );
  const isDone = (task: StoredCollectTask) => task.status === 'visited' || visitedKeys.has(task.key);
  const done = tasks.filter(isDone).length;
  const percent = tasks.length ? Math.round((done / tasks.length) * 100) : 0;
  const owed = tasks.reduce((sum, task) => sum + task.arrearsFen, 0);

  return (
    <div className="page">
      <NavBar back={null} right={<OnlineBadge />}>
        {t('collect.title')}
      </NavBar>
      <DownloadCard workDate={workDate ?? null} hasList={tasks.length > 0} />
      {workDate && (
        <Card className="progress-card" data-testid="collect-progress">
          <div className="progress-line">
            <span>
              {t('collect.workDate')} <b>{workDate}</b>
            </span>
            <span className="progress-count" data-testid="collect-count">
              {t('collect.progress', { done, total: tasks.length })}
            </span>
          </div>
          <ProgressBar percent={percent} style={{ '--track-width': '10px' }} />
          <div className="muted small">{t('collect.owedTotal', { yuan: yuan(owed) })}</div>
        </Card>
      )}
      {tasks.length > 0 && (
        <List className="route-list" data-testid="collect-list">
          {tasks.map((task, i) => (
            <List.Item
              key={task.key}
              onClick={() => go({ name: 'visit', key: task.key })}
              data-testid={`collect-item-${task.key}`}
              data-state={isDone(task) ? 'done' : 'todo'}
              prefix={<span className={`seq seq-${isDone(task) ? 'done' : 'todo'}`}>{i + 1}</span>}
              description={
                <>
                  <div>{task.address}</div>
                  <div>
                    <Tag
                      color={
                        task.arrearsCycles >= 3 ? 'danger' : task.arrearsCycles === 2 ? 'warning' : 'primary'
                      }
                    >
                      {t('collect.cycles', { n: task.arrearsCycles })}
                    </Tag>{' '}
                    <Tag fill="outline">{t(`collect.kind.${task.kind}`, { defaultValue: task.kind })}</Tag>{' '}
                    {isDone(task) && <Tag color="success">{t('collect.visited')}</Tag>}
                  </div>
                </>
              }
              extra={<b className="owed">¥{yuan(task.arrearsFen)}</b>}
            >
              <span className="meter-title">
                {task.customerName} <span className="muted">· {task.bookCode ?? task.customerCode}</span>
              </span>
            </List.Item>
          ))}
        </List>
      )}
      {workDate && tasks.length === 0 && (
        <ErrorBlock status="empty" title={t('collect.empty')} description={t('collect.emptyHint')} />
      )}
    </div>
  );
}

function DownloadCard({ workDate, hasList }: { workDate: string | null; hasList: boolean }) {
  const { t } = useTranslation();
  const today = todayInChina();
  const [date, setDate] = useState(today);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState(false);
  if (hasList && !open && workDate === today) {
    return (
      <div className="download-again">
        <Button size="small" fill="none" color="primary" onClick={() => setOpen(true)}>
          {t('collect.downloadAgain')}
        </Button>
      </div>
    );
  }
  const download = async () => {
    setBusy(true);
    setError(null);
    try {
      await downloadCollection(date);
      setOpen(false);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card className="download-card" title={t('collect.downloadTitle')}>
      <label className="field-label" htmlFor="collect-date">
        {t('download.date')}
      </label>
      <input
        id="collect-date"
        className="date-input"
        type="date"
        value={date}
        data-testid="collect-date"
        onChange={(e) => setDate(e.target.value || today)}
      />
      <Button
        block
        color="primary"
        size="large"
        loading={busy}
        onClick={download}
        data-testid="collect-download"
        className="big-button"
      >
        {t('collect.download')}
      </Button>
      {hasList && <div className="muted small">{t('collect.replaces')}</div>}
      {error && (
        <div className="error-box" data-testid="collect-download-error">
          {error}
        </div>
      )}
    </Card>
  );
}
