import { NavLink } from 'react-router';
import { useTranslation } from 'react-i18next';
import { useBackupSummary } from '../hooks/useBackup';

/** The header's one-word backup state while signed in; links to the account page. */
export function BackupIndicator() {
  const { t } = useTranslation();
  const s = useBackupSummary();
  if (!s?.signedIn) return null;
  const { pending, uploading, failed } = s.counts;
  // A clock too far ahead holds every change back: it comes first, until no change waits on it.
  const state = s.clockAhead ? 'clockAhead' : failed ? 'failed' : s.offline && pending + uploading ? 'offline' : uploading ? 'uploading' : pending ? 'waiting' : 'synced';
  const text = s.clockAhead
    ? t('backup.indicator.clockAhead', { minutes: s.clockAhead.minutes })
    : state === 'failed'
      ? t('backup.indicator.failed', { count: failed })
      : state === 'waiting'
        ? t('backup.indicator.waiting', { count: pending })
        : t(`backup.indicator.${state}`);
  return (
    <NavLink to="/account" className={`backup-indicator backup-${state}`} data-testid="backup-indicator" data-state={state}>
      {text}
    </NavLink>
  );
}
