import { useEffect, useRef } from 'react';
import { NavLink, Outlet, useLocation } from 'react-router';
import { useTranslation } from 'react-i18next';
import { useHealth } from '../hooks/useHealth';
import { AccountControl } from '../features/account';
import { BackupIndicator, useBackupEngine } from '../features/sync';
import { useScoringEngine } from '../features/scoring';
import { useTranscriptionEngine } from '../features/transcription';
import { useDueCount } from '../features/vocabulary';

export function Layout() {
  const { t } = useTranslation();
  const health = useHealth();
  useBackupEngine();
  useScoringEngine();
  useTranscriptionEngine();
  const due = useDueCount();
  const { pathname } = useLocation();
  const first = useRef(true);
  // Move focus to the new page's content after a client-side navigation, as a page load would.
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }, [pathname]);
  const label =
    health.state === 'online' ? t('app.online') : health.state === 'offline' ? t('app.offline') : t('app.checking');
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand" aria-label={t('app.name')}>
          <img src="/icon.svg" alt="" width={28} height={28} />
          <span>{t('app.name')}</span>
          <small>{t('app.tagline')}</small>
        </NavLink>
        <nav aria-label={t('app.nav.main')}>
          <NavLink to="/" end>
            {t('app.nav.library')}
          </NavLink>
          <NavLink to="/vocabulary">{t('app.nav.vocabulary')}</NavLink>
          <NavLink to="/review" data-testid="nav-review" data-due={due ?? 0}>
            {t('app.nav.review')}
            {due ? (
              <span className="badge" data-testid="due-count">
                <span aria-hidden="true">{due}</span>
                <span className="sr-only">{t('app.nav.due', { count: due })}</span>
              </span>
            ) : null}
          </NavLink>
          <NavLink to="/status">{t('app.nav.status')}</NavLink>
        </nav>
        <span className={`conn conn-${health.state}`} data-testid="connection" role="status">
          <span className="dot" aria-hidden="true" />
          {label}
        </span>
        <BackupIndicator />
        <AccountControl />
      </header>
      <main id="main" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}
