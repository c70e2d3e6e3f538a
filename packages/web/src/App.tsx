import { Result, Spin } from 'antd';
import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { BrowserRouter, Link, Route, Routes } from 'react-router-dom';
import AppLayout from './AppLayout';
import { AuthProvider } from './auth/AuthContext';

const LoginPage = lazy(() => import('./auth/LoginPage'));
const CustomerSearchPage = lazy(() => import('./customers/CustomerSearchPage'));
const CustomerPage = lazy(() => import('./customers/CustomerPage'));
const NewCustomerPage = lazy(() => import('./customers/NewCustomerPage'));
const BlacklistPage = lazy(() => import('./customers/BlacklistPage'));
const OverviewPage = lazy(() => import('./customers/OverviewPage'));
const StaffPage = lazy(() => import('./org/StaffPage'));
const RolesPage = lazy(() => import('./org/RolesPage'));
const OfficesPage = lazy(() => import('./org/OfficesPage'));
const SettingsPage = lazy(() => import('./org/SettingsPage'));
const AuditSearchPage = lazy(() => import('./audit/AuditSearchPage'));
const ImportPage = lazy(() => import('./imports/ImportPage'));

function NotFound() {
  const { t } = useTranslation();
  return (
    <Result
      status="404"
      title="404"
      subTitle={t('common.notFound')}
      extra={<Link to="/">{t('menu.search')}</Link>}
    />
  );
}

export default function App() {
  return (
    <AuthProvider>
      <BrowserRouter>
        <Suspense fallback={<Spin fullscreen />}>
          <Routes>
            <Route path="/login" element={<LoginPage />} />
            <Route element={<AppLayout />}>
              <Route index element={<CustomerSearchPage />} />
              <Route path="customers/new" element={<NewCustomerPage />} />
              <Route path="customers/:accountId" element={<CustomerPage />} />
              <Route path="overview" element={<OverviewPage />} />
              <Route path="blacklist" element={<BlacklistPage />} />
              <Route path="imports" element={<ImportPage />} />
              <Route path="audit" element={<AuditSearchPage />} />
              <Route path="admin/staff" element={<StaffPage />} />
              <Route path="admin/roles" element={<RolesPage />} />
              <Route path="admin/offices" element={<OfficesPage />} />
              <Route path="admin/settings" element={<SettingsPage />} />
              <Route path="*" element={<NotFound />} />
            </Route>
          </Routes>
        </Suspense>
      </BrowserRouter>
    </AuthProvider>
  );
}
