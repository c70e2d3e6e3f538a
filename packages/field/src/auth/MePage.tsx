import { Button, Dialog, List, NavBar } from 'antd-mobile';
import { useTranslation } from 'react-i18next';
import { LangSwitch } from '../components/LangSwitch';
import { OnlineBadge } from '../components/OnlineBadge';
import { useLive } from '../components/useLive';
import { db, getMeta, queuedReadings } from '../db';
import { useAuth, useMe } from './AuthContext';

/** Who is signed in, this phone, the language, signing out. */
export default function MePage() {
  const { t } = useTranslation();
  const me = useMe();
  const { logout, offline } = useAuth();
  const device = useLive(() => getMeta<string>('deviceId'), [], undefined);
  const downloadedAt = useLive(() => getMeta<string>('downloadedAt'), [], undefined);
  const meters = useLive(() => db.meters.count(), [], 0);

  const signOut = async () => {
    const queued = (await queuedReadings()).filter((r) => r.username === me.username).length;
    const ok = await Dialog.confirm({
      content: queued > 0 ? t('me.logoutQueued', { n: queued }) : t('me.logoutConfirm'),
      confirmText: t('me.logout'),
      cancelText: t('common.cancel'),
    });
    if (ok) await logout();
  };

  return (
    <div className="page">
      <NavBar back={null} right={<OnlineBadge />}>
        {t('me.title')}
      </NavBar>
      <List>
        <List.Item extra={me.username} data-testid="current-user">
          {me.fullName}
        </List.Item>
        {offline && <List.Item>{t('me.offlineSession')}</List.Item>}
        <List.Item extra={<LangSwitch />}>{t('me.language')}</List.Item>
        <List.Item extra={meters}>{t('me.meters')}</List.Item>
        <List.Item extra={downloadedAt ? new Date(downloadedAt).toLocaleString() : '—'}>
          {t('me.downloadedAt')}
        </List.Item>
        <List.Item description={device ?? '—'}>{t('me.device')}</List.Item>
      </List>
      <div className="padded">
        <Button block color="danger" fill="outline" size="large" onClick={signOut} data-testid="logout">
          {t('me.logout')}
        </Button>
      </div>
    </div>
  );
}
