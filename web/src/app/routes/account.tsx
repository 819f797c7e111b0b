import { Navigate } from 'react-router';
import { AccountPage, AuthForm } from '../../features/account';

export function SignUpRoute() {
  return <AuthForm mode="signup" />;
}

export function SignInRoute() {
  return <AuthForm mode="signin" />;
}

export function AccountRoute() {
  return <AccountPage />;
}

/** Stripe's return URLs (Checkout success / cancel, the Billing Portal's return) show the account page. */
export function BillingReturnRoute({ outcome }: { outcome?: 'success' | 'cancel' }) {
  return <Navigate to="/account" replace state={outcome ? { billingReturn: outcome } : null} />;
}
