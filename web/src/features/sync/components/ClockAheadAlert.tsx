import { useTranslation } from 'react-i18next';
import type { ClockAhead } from '../hooks/overview';

/** Once for the whole device: its clock is too far ahead, so the server refuses its changes until it is set right. */
export function ClockAheadAlert({ clock }: { clock: ClockAhead }) {
  const { t } = useTranslation();
  return (
    <div className="backup-clock" role="alert" data-testid="clock-ahead" data-minutes={clock.minutes}>
      <strong>{t('backup.clockAhead.title', { count: clock.minutes })}</strong>
      <p className="small">{t('backup.clockAhead.body')}</p>
    </div>
  );
}
