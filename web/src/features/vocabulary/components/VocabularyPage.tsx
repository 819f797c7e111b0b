import { useId } from 'react';
import { Link } from 'react-router';
import { useTranslation } from 'react-i18next';
import type { LocalVocabularyItem } from '../../../db';
import { deleteWord, useMaterialTitles, useNow, useWords } from '../hooks/useVocabulary';
import { formatFromNow } from './format';

/** The saved words: status, next review, the sentence each was met in (a link back to it), delete. */
export function VocabularyPage() {
  const { t } = useTranslation();
  const id = useId();
  const words = useWords();
  const now = useNow();
  const titles = useMaterialTitles((words ?? []).flatMap((w) => (w.context?.materialId ? [w.context.materialId] : [])));
  if (!words || !titles) return <div className="page" aria-busy="true" />;
  const count = (status: LocalVocabularyItem['status']) => words.filter((w) => w.status === status).length;
  return (
    <section className="page vocabulary" aria-labelledby={`${id}-h`} data-testid="vocabulary">
      <div className="page-head">
        <h1 id={`${id}-h`}>{t('vocabulary.title')}</h1>
        <Link to="/review" className="btn primary">
          {t('review.start')}
        </Link>
      </div>
      {words.length === 0 ? (
        <p className="empty">{t('vocabulary.empty')}</p>
      ) : (
        <>
          <p className="muted" data-testid="vocabulary-counts">
            {t('vocabulary.counts', { new: count('new'), learning: count('learning'), mastered: count('mastered') })}
          </p>
          <ul className="word-list">
            {words.map((w) => (
              <WordRow key={w.id} word={w} now={now} materialTitle={w.context?.materialId ? titles.get(w.context.materialId) : undefined} />
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

function WordRow({ word, now, materialTitle }: { word: LocalVocabularyItem; now: number; materialTitle?: string }) {
  const { t, i18n } = useTranslation();
  const ctx = word.context;
  const date = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' });
  const next =
    word.status === 'new' ? t('vocabulary.nextNew') : word.nextReviewAt <= now ? t('vocabulary.dueNow') : formatFromNow(word.nextReviewAt, now, i18n.language);
  return (
    <li className="word-row" data-testid="vocabulary-item" data-word={word.word} data-status={word.status} data-next-review={word.nextReviewAt} data-sync={word.syncStatus}>
      <div className="word-row-head">
        <strong lang={word.language}>{word.surface}</strong>
        <span className={`status status-${word.status}`} data-testid="word-status">
          {t(`vocabulary.status.${word.status}`)}
        </span>
        <span className="muted small" title={word.status === 'new' ? undefined : date.format(word.nextReviewAt)} data-testid="word-next">
          {t('vocabulary.next', { when: next })}
        </span>
        {word.syncStatus === 'synced' && <span className="muted small">{t('vocabulary.backedUp')}</span>}
        <button type="button" className="btn small" onClick={() => void deleteWord(word.id)} aria-label={t('vocabulary.delete', { word: word.surface })} data-testid="word-delete">
          {t('vocabulary.deleteShort')}
        </button>
      </div>
      {ctx && (
        <p className="word-context small">
          “{ctx.sentence}”{' '}
          {ctx.materialId && materialTitle !== undefined ? (
            <Link to={`/practice/${ctx.materialId}${ctx.segmentId ? `?segment=${encodeURIComponent(ctx.segmentId)}` : ''}`} data-testid="word-context-link">
              {t('vocabulary.inMaterial', { title: materialTitle })}
            </Link>
          ) : ctx.materialId ? (
            <span className="muted">{t('vocabulary.materialGone')}</span>
          ) : null}
        </p>
      )}
    </li>
  );
}
