import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { backUpNow, retryGroup, useBackupOverview } from '../hooks/useBackup';
import type { BackupOverview } from '../hooks/overview';
import { ClockAheadAlert } from './ClockAheadAlert';
import { describeEntry, describeFailure, describeProgress, describeWait } from './describe';

const when = (ms: number | undefined) => (ms ? new Date(ms).toLocaleString() : undefined);

type Headline = 'synced' | 'waiting' | 'uploading' | 'offline' | 'failed';

function headline(o: BackupOverview): Headline {
  if (o.failed) return 'failed';
  if (o.state.problem?.kind === 'offline' && (o.waiting || o.uploading)) return 'offline';
  if (o.uploading) return 'uploading';
  if (o.waiting) return 'waiting';
  return 'synced';
}

/** The account page's backup section: what waits, what uploads, what failed and why, and when the last backup was. */
export function BackupPanel() {
  const { t } = useTranslation();
  const id = useId();
  const o = useBackupOverview();
  if (!o) return null;
  const state = headline(o);
  const count = state === 'failed' ? o.failed : o.waiting + o.uploading;
  const failed = o.entries.filter((e) => e.group.status === 'failed');
  const active = o.entries.filter((e) => e.group.status !== 'failed');
  return (
    <section className="panel backup" aria-labelledby={`${id}-h`} data-testid="backup-panel" data-state={state}>
      <h2 id={`${id}-h`}>{t('backup.title')}</h2>
      {o.clockAhead && <ClockAheadAlert clock={o.clockAhead} />}
      <p data-testid="backup-status" role="status">
        {t(`backup.state.${state}`, { count })}
      </p>
      <dl className="facts">
        <dt>{t('backup.lastBackup')}</dt>
        <dd data-testid="last-backup">{when(o.state.lastBackupAt) ?? t('backup.never')}</dd>
        <dt>{t('backup.lastPull')}</dt>
        <dd data-testid="last-pull" data-changes={o.state.lastPullChanges}>
          {o.state.lastPullAt ? t('backup.pulled', { time: when(o.state.lastPullAt), count: o.state.lastPullChanges ?? 0 }) : t('backup.never')}
        </dd>
        {o.state.nextRunAt !== undefined && (o.waiting > 0 || state === 'offline') && (
          <>
            <dt>{t('backup.nextTry')}</dt>
            <dd data-testid="next-try">{when(o.state.nextRunAt)}</dd>
          </>
        )}
      </dl>
      {o.state.pullProblem && (
        <p className="small" role="alert" data-testid="pull-problem">
          {o.state.pullProblem.kind === 'transient'
            ? t('backup.pullRetry', { detail: o.state.pullProblem.detail || o.state.pullProblem.code })
            : t('backup.pullFailed', { detail: describeFailure(t, o.state.pullProblem) })}
        </p>
      )}
      {o.mediaOnDevice > 0 && (
        <p className="muted" data-testid="media-on-device">
          {t('backup.mediaOnDevice', { count: o.mediaOnDevice })}
        </p>
      )}
      {failed.length > 0 && (
        <>
          <h3>{t('backup.failedTitle')}</h3>
          <ul className="backup-list" data-testid="backup-failed">
            {failed.map((e) => (
              <li key={e.key} data-testid="backup-failed-item" data-entity={e.entity}>
                <div>
                  <strong>{describeEntry(t, e)}</strong>
                  {e.group.lastError && <div className="small" data-testid="backup-reason">{describeFailure(t, e.group.lastError)}</div>}
                </div>
                <button type="button" className="btn small" onClick={() => void retryGroup(e.group)} data-testid="backup-retry">
                  {t('backup.retry')}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
      {active.length > 0 && (
        <>
          <h3>{t('backup.waitingTitle')}</h3>
          <ul className="backup-list" data-testid="backup-waiting">
            {active.slice(0, 50).map((e) => {
              const why = e.group.status === 'uploading' ? describeProgress(t, e) : describeWait(t, e);
              return (
                <li key={e.key} data-testid="backup-waiting-item" data-entity={e.entity} data-status={e.group.status}>
                  <span>{describeEntry(t, e)}</span>
                  {why && <span className="muted small">{why}</span>}
                </li>
              );
            })}
          </ul>
        </>
      )}
      <button type="button" className="btn" onClick={() => void backUpNow()} data-testid="backup-now">
        {t('backup.now')}
      </button>
    </section>
  );
}
