import { NavLink } from 'react-router';
import { useTranslation } from 'react-i18next';
import { useSession } from '../hooks/useAccount';

/** The header's signed-in state: the account's email, or a sign-in link. */
export function AccountControl() {
  const { t } = useTranslation();
  const session = useSession();
  if (session === undefined) return null;
  return session ? (
    <NavLink to="/account" className="account-control" data-testid="account-control" aria-label={t('account.signedInAs', { email: session.user.email })}>
      <span aria-hidden="true">●</span> {session.user.email}
    </NavLink>
  ) : (
    <NavLink to="/signin" className="account-control" data-testid="account-control">
      {t('account.signIn')}
    </NavLink>
  );
}
