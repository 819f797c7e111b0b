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
