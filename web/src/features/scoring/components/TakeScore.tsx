import { useTranslation } from 'react-i18next';
import type { StoredAssessment } from '../../../db';
import { FAILURE_CODES, scoreView, type ScoreView } from './scoreView';

function useScoreText(): (view: ScoreView) => string {
  const { t, i18n } = useTranslation();
  return (view) => {
    switch (view.kind) {
      case 'scored':
        return t('scoring.score', { score: Math.round(view.overall) });
      case 'scoredEarlier':
        return t('scoring.scoredEarlier', { score: Math.round(view.overall) });
      case 'rescoring':
        return t('scoring.rescoring');
      case 'scoring':
        return t('scoring.scoring');
      case 'afterBackup':
        return t('scoring.afterBackup');
      case 'signIn':
        return t('scoring.signIn');
      case 'none':
        return t('scoring.none');
      case 'limit':
        return view.retryAt === undefined
          ? t('scoring.limitSoon')
          : t('scoring.limit', { time: new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' }).format(view.retryAt) });
      case 'failed':
        return (FAILURE_CODES as readonly string[]).includes(view.code)
          ? t(`scoring.failed.${view.code as (typeof FAILURE_CODES)[number]}`)
          : t('scoring.failed.other', { detail: view.detail || view.code });
    }
  };
}

interface Props {
  take: { syncStatus: 'pending' | 'synced' };
  row: StoredAssessment | undefined;
  signedIn: boolean;
  /** The take's sentence as it is now: a score judged against another text is not shown as current. */
  sentence?: string;
}

/** One line under a take: its overall score, or why there is none yet. */
export function TakeScore({ take, row, signedIn, sentence }: Props) {
  const text = useScoreText();
  const view = scoreView(take, row, signedIn, sentence);
  return (
    <span
      className={`take-score take-score-${view.kind}`}
      data-testid="take-score"
      aria-live="polite"
      data-state={view.kind}
      data-score={view.kind === 'scored' || view.kind === 'scoredEarlier' ? Math.round(view.overall) : undefined}
      data-code={view.kind === 'failed' ? view.code : undefined}
    >
      {text(view)}
    </span>
  );
}
