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
const BooksPage = lazy(() => import('./reading/BooksPage'));
const BookPage = lazy(() => import('./reading/BookPage'));
const PlanPage = lazy(() => import('./reading/PlanPage'));
const WorkloadPage = lazy(() => import('./reading/WorkloadPage'));
const ReviewPage = lazy(() => import('./reading/ReviewPage'));
const FollowupsPage = lazy(() => import('./reading/FollowupsPage'));
const CorrectionsPage = lazy(() => import('./reading/CorrectionsPage'));
const DayMonitorPage = lazy(() => import('./reading/DayMonitorPage'));
const StatsPage = lazy(() => import('./reading/StatsPage'));
const SmartFilesPage = lazy(() => import('./reading/SmartFilesPage'));
const CalendarAdminPage = lazy(() => import('./calendar/CalendarAdminPage'));
const TariffsPage = lazy(() => import('./billing/TariffsPage'));
const BillRunsPage = lazy(() => import('./billing/BillRunsPage'));
const BillingSummaryPage = lazy(() => import('./billing/BillingSummaryPage'));
const FeeCataloguePage = lazy(() => import('./billing/FeeCataloguePage'));
const LateFeesPage = lazy(() => import('./billing/LateFeesPage'));
const PrepaidPage = lazy(() => import('./billing/PrepaidPage'));
const VolumeAdjustmentsPage = lazy(() => import('./billing/VolumeAdjustmentsPage'));
const BillCorrectionsPage = lazy(() => import('./billing/BillCorrectionsPage'));
const CounterPage = lazy(() => import('./payments/CounterPage'));
const PaymentRequestsPage = lazy(() => import('./payments/PaymentRequestsPage'));
const CashierClosePage = lazy(() => import('./payments/CashierClosePage'));
const CollectionReportPage = lazy(() => import('./payments/CollectionReportPage'));
const VatInvoicesPage = lazy(() => import('./payments/VatInvoicesPage'));
const BankFilesPage = lazy(() => import('./payments/BankFilesPage'));
const CollectionTasksPage = lazy(() => import('./collections/CollectionTasksPage'));
const EscalationPage = lazy(() => import('./collections/EscalationPage'));
const ShutoffPage = lazy(() => import('./collections/ShutoffPage'));
const WorkOrdersPage = lazy(() => import('./collections/WorkOrdersPage'));
const CollectionVisitsPage = lazy(() => import('./collections/VisitsPage'));
const AgeingPage = lazy(() => import('./collections/AgeingPage'));
const DisputesPage = lazy(() => import('./collections/DisputesPage'));
const InstallmentsPage = lazy(() => import('./collections/InstallmentsPage'));
const CollectionResultsPage = lazy(() => import('./collections/ResultsPage'));
const DunningPolicyPage = lazy(() => import('./collections/DunningPolicyPage'));
const DunningRunsPage = lazy(() => import('./collections/DunningRunsPage'));
const OutboxPage = lazy(() => import('./collections/OutboxPage'));

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
              <Route path="reading/books" element={<BooksPage />} />
              <Route path="reading/books/:bookId" element={<BookPage />} />
              <Route path="reading/plan" element={<PlanPage />} />
              <Route path="reading/workload" element={<WorkloadPage />} />
              <Route path="reading/review" element={<ReviewPage />} />
              <Route path="reading/followups" element={<FollowupsPage />} />
              <Route path="reading/corrections" element={<CorrectionsPage />} />
              <Route path="reading/monitor" element={<DayMonitorPage />} />
              <Route path="reading/stats" element={<StatsPage />} />
              <Route path="reading/smart-files" element={<SmartFilesPage />} />
              <Route path="reading/calendar" element={<CalendarAdminPage />} />
              <Route path="billing/tariffs" element={<TariffsPage />} />
              <Route path="billing/runs" element={<BillRunsPage />} />
              <Route path="billing/runs/:runId" element={<BillRunsPage />} />
              <Route path="billing/summary" element={<BillingSummaryPage />} />
              <Route path="billing/fees" element={<FeeCataloguePage />} />
              <Route path="billing/late-fees" element={<LateFeesPage />} />
              <Route path="billing/prepaid" element={<PrepaidPage />} />
              <Route path="billing/adjustments" element={<VolumeAdjustmentsPage />} />
              <Route path="billing/corrections" element={<BillCorrectionsPage />} />
              <Route path="payments/counter" element={<CounterPage />} />
              <Route path="payments/counter/:accountId" element={<CounterPage />} />
              <Route path="payments/requests" element={<PaymentRequestsPage />} />
              <Route path="payments/close" element={<CashierClosePage />} />
              <Route path="payments/report" element={<CollectionReportPage />} />
              <Route path="payments/vat" element={<VatInvoicesPage />} />
              <Route path="payments/bank-files" element={<BankFilesPage />} />
              {/* collections (issue 6): each part adds its routes below this line */}
              <Route path="collections/outbox" element={<OutboxPage />} />
              <Route path="collections/policy" element={<DunningPolicyPage />} />
              <Route path="collections/runs" element={<DunningRunsPage />} />
              <Route path="collections/ageing" element={<AgeingPage />} />
              <Route path="collections/disputes" element={<DisputesPage />} />
              <Route path="collections/installments" element={<InstallmentsPage />} />
              <Route path="collections/results" element={<CollectionResultsPage />} />
              <Route path="collections/escalation" element={<EscalationPage />} />
              <Route path="collections/shutoffs" element={<ShutoffPage />} />
              <Route path="collections/work-orders" element={<WorkOrdersPage />} />
              <Route path="collections/tasks" element={<CollectionTasksPage />} />
              <Route path="collections/visits" element={<CollectionVisitsPage />} />
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
