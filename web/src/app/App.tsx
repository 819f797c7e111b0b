import { BrowserRouter, Route, Routes } from 'react-router';
import { Layout } from './Layout';
import { LibraryRoute } from './routes/library';
import { PracticeRoute } from './routes/practice';
import { StatusRoute } from './routes/status';
import { ReviewRoute } from './routes/review';
import { VocabularyRoute } from './routes/vocabulary';
import { NotFoundRoute } from './routes/notFound';
import { AccountRoute, BillingReturnRoute, SignInRoute, SignUpRoute } from './routes/account';

export function App() {
  return (
    <BrowserRouter>
      <Routes>
        <Route element={<Layout />}>
          <Route index element={<LibraryRoute />} />
          <Route path="practice/:materialId" element={<PracticeRoute />} />
          <Route path="vocabulary" element={<VocabularyRoute />} />
          <Route path="review" element={<ReviewRoute />} />
          <Route path="status" element={<StatusRoute />} />
          <Route path="signup" element={<SignUpRoute />} />
          <Route path="signin" element={<SignInRoute />} />
          <Route path="account" element={<AccountRoute />} />
          <Route path="billing/success" element={<BillingReturnRoute outcome="success" />} />
          <Route path="billing/cancel" element={<BillingReturnRoute outcome="cancel" />} />
          <Route path="settings/billing" element={<BillingReturnRoute />} />
          <Route path="*" element={<NotFoundRoute />} />
        </Route>
      </Routes>
    </BrowserRouter>
  );
}
