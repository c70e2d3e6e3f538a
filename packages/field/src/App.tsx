import { SpinLoading, TabBar } from 'antd-mobile';
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useAuth } from './auth/AuthContext';
import LoginPage from './auth/LoginPage';
import MePage from './auth/MePage';
import CollectPage from './collect/CollectPage';
import { CollectIcon } from './collect/icons';
import VisitPage from './collect/VisitPage';
import { RouteIcon, SignIcon, UploadIcon, UserIcon } from './components/icons';
import { useLive } from './components/useLive';
import { db, getMeta } from './db';
import MeterPage from './meter/MeterPage';
import { OrdersIcon } from './orders/icons';
import OrderPage from './orders/OrderPage';
import OrdersPage from './orders/OrdersPage';
import RecheckPage from './orders/RecheckPage';
import RoutePage from './route/RoutePage';
import SheetPage from './route/SheetPage';
import { useRouter } from './router';
import OutboxPage from './sync/OutboxPage';
import { startAutoSync } from './sync/sync';

export default function App() {
  const { me } = useAuth();
  if (me === undefined) {
    return (
      <div className="center-page">
        <SpinLoading />
      </div>
    );
  }
  if (me === null) return <LoginPage />;
  return <SignedIn />;
}

function SignedIn() {
  const { t } = useTranslation();
  const { screen, go } = useRouter();
  const username = useLive(() => getMeta<string>('username'), [], undefined);
  const queued = useLive(
    () =>
      db.outbox
        .where('status')
        .equals('queued')
        .filter((r) => r.username === username)
        .count(),
    [username],
    0,
  );
  const rejected = useLive(() => db.outbox.where('status').equals('rejected').count(), [], 0);
  const visitsQueued = useLive(() => db.visitOutbox.where('status').equals('queued').count(), [], 0);
  const visitsRejected = useLive(() => db.visitOutbox.where('status').equals('rejected').count(), [], 0);
  const ordersQueued = useLive(() => db.orderOutbox.where('status').equals('queued').count(), [], 0);
  const ordersRejected = useLive(() => db.orderOutbox.where('status').equals('rejected').count(), [], 0);

  useEffect(() => startAutoSync(), []);

  const tab =
    screen.name === 'meter'
      ? 'route'
      : screen.name === 'visit'
        ? 'collect'
        : screen.name === 'order' || screen.name === 'recheck'
          ? 'orders'
          : screen.name;
  const fullScreen =
    screen.name === 'meter' ||
    screen.name === 'visit' ||
    screen.name === 'order' ||
    screen.name === 'recheck';
  return (
    <div className="app">
      <main className={fullScreen ? 'app-body no-tabs' : 'app-body'}>
        {screen.name === 'route' && <RoutePage />}
        {screen.name === 'meter' && <MeterPage meterKey={screen.key} />}
        {screen.name === 'sheet' && <SheetPage />}
        {screen.name === 'outbox' && <OutboxPage />}
        {screen.name === 'me' && <MePage />}
        {screen.name === 'collect' && <CollectPage />}
        {screen.name === 'visit' && <VisitPage taskKey={screen.key} />}
        {screen.name === 'orders' && <OrdersPage />}
        {screen.name === 'order' && <OrderPage orderKey={screen.key} />}
        {screen.name === 'recheck' && <RecheckPage orderKey={screen.key} />}
      </main>
      {!fullScreen && (
        <TabBar
          className="tab-bar"
          activeKey={tab}
          onChange={(key) => go({ name: key as 'route' | 'collect' | 'orders' | 'sheet' | 'outbox' | 'me' })}
        >
          <TabBar.Item key="route" icon={<RouteIcon />} title={t('tabs.route')} />
          <TabBar.Item
            key="collect"
            icon={<CollectIcon />}
            title={t('tabs.collect')}
            data-testid="tab-collect"
          />
          <TabBar.Item key="orders" icon={<OrdersIcon />} title={t('orders.tab')} data-testid="tab-orders" />
          <TabBar.Item key="sheet" icon={<SignIcon />} title={t('tabs.sheet')} />
          <TabBar.Item
            key="outbox"
            icon={<UploadIcon />}
            title={t('tabs.outbox')}
            badge={
              rejected + visitsRejected + ordersRejected > 0
                ? '!'
                : queued + visitsQueued + ordersQueued > 0
                  ? String(queued + visitsQueued + ordersQueued)
                  : undefined
            }
            data-testid="tab-outbox"
          />
          <TabBar.Item key="me" icon={<UserIcon />} title={t('tabs.me')} />
        </TabBar>
      )}
    </div>
  );
}
