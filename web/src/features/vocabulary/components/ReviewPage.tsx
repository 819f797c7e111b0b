import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { Link } from 'react-router';
import { useTranslation } from 'react-i18next';
import type { LocalVocabularyItem, ReviewRating } from '../../../db';
import { previewReviews } from '../../../lib/core';
import { answerReview, useContextClip, useDueWords, useLanguages, useLookup, useNextDue, useNow, useReviewLog } from '../hooks/useVocabulary';
import { DefinitionView } from './DefinitionView';
import { SentenceWithWord } from './SentenceWords';
import { daysFromNow, formatFromNow } from './format';

/** Plays `fromMs`–`toMs` of a media blob (the practice page's player); resolves when it stops. */
export type PlayClip = (blob: Blob, fromMs: number, toMs: number) => Promise<void>;

/** The practice page's "keep on this device" for a material whose media is on the server. */
export type KeepMedia = (materialId: string) => ReactNode;

const RATINGS: { rating: ReviewRating; name: 'again' | 'hard' | 'good' | 'easy' }[] = [
  { rating: 1, name: 'again' },
  { rating: 2, name: 'hard' },
  { rating: 3, name: 'good' },
  { rating: 4, name: 'easy' },
];

/**
 * Due words one at a time: the word in its sentence (with the sentence's
 * sound when the media is here), then its meaning, then Again / Hard /
 * Good / Easy with when each would bring it back. Everything is computed
 * on the device, so reviews work offline.
 */
export function ReviewPage({ playClip, keepMedia }: { playClip?: PlayClip; keepMedia?: KeepMedia }) {
  const { t, i18n } = useTranslation();
  const id = useId();
  const now = useNow(15_000);
  const due = useDueWords(now);
  const nextDue = useNextDue(now);
  const [last, setLast] = useState<{ word: string; dueAt: number; at: number } | null>(null);
  if (!due || nextDue === undefined) return <div className="page" aria-busy="true" />;
  const current = due[0];
  return (
    <section className="page narrow review" aria-labelledby={`${id}-h`} data-testid="review" data-due={due.length}>
      <h1 id={`${id}-h`}>{t('review.title')}</h1>
      <p className="muted" data-testid="review-remaining">
        {t('review.remaining', { count: due.length })}
      </p>
      <p className="review-feedback" role="status" data-testid="review-feedback" data-days={last ? daysFromNow(last.dueAt, last.at) : undefined}>
        {last ? t('review.scheduled', { word: last.word, when: formatFromNow(last.dueAt, last.at, i18n.language) }) : ''}
      </p>
      {current ? (
        <ReviewCard key={current.id} word={current} playClip={playClip} keepMedia={keepMedia} onAnswered={(word, dueAt, at) => setLast({ word, dueAt, at })} />
      ) : (
        <div className="review-done" data-testid="review-done">
          <p>{t('review.nothingDue')}</p>
          {nextDue !== null && <p className="muted">{t('review.nextAt', { when: formatFromNow(nextDue, now, i18n.language) })}</p>}
          <Link to="/vocabulary">{t('review.toList')}</Link>
        </div>
      )}
    </section>
  );
}

interface CardProps {
  word: LocalVocabularyItem;
  playClip?: PlayClip;
  keepMedia?: KeepMedia;
  onAnswered: (word: string, dueAt: number, at: number) => void;
}

function ReviewCard({ word, playClip, keepMedia, onAnswered }: CardProps) {
  const { t, i18n } = useTranslation();
  const [revealed, setRevealed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [playing, setPlaying] = useState(false);
  const languages = useLanguages();
  const lookup = useLookup(revealed ? word.word : undefined, languages ? { from: word.language, to: languages.to } : undefined);
  const log = useReviewLog(word.id);
  const clip = useContextClip(word);
  const showButton = useRef<HTMLButtonElement>(null);
  const goodButton = useRef<HTMLButtonElement>(null);
  const [previewAt, setPreviewAt] = useState(() => Date.now());

  useEffect(() => {
    if (revealed) goodButton.current?.focus();
    else showButton.current?.focus();
  }, [revealed]);

  let previews: number[] | null = null;
  if (log && revealed) {
    try {
      previews = previewReviews(log, previewAt);
    } catch {
      previews = null;
    }
  }

  const answer = async (rating: ReviewRating) => {
    if (busy) return;
    setBusy(true);
    try {
      const updated = await answerReview(word.id, rating);
      // The answer's time is the row's `updatedAt`.
      if (updated) onAnswered(word.surface, updated.nextReviewAt, updated.updatedAt);
    } catch (e) {
      setError(t('errors.generic', { reason: e instanceof Error ? e.message : String(e) }));
      setBusy(false);
    }
  };

  const play = async () => {
    if (clip?.kind !== 'here' || !playClip) return;
    setPlaying(true);
    try {
      await playClip(clip.blob, clip.fromMs, clip.toMs);
    } finally {
      setPlaying(false);
    }
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (revealed && ['1', '2', '3', '4'].includes(e.key)) {
      e.preventDefault();
      void answer(Number(e.key) as ReviewRating);
    }
  };

  return (
    <article className="review-card" data-testid="review-card" data-word={word.word} data-status={word.status} onKeyDown={onKeyDown}>
      <p className="review-front">
        <strong className="review-word" lang={word.language} data-testid="review-word">
          {word.surface}
        </strong>
        {word.status === 'new' && <span className="status status-new">{t('vocabulary.status.new')}</span>}
      </p>
      {word.context && (
        <blockquote className="review-sentence" lang={word.language} data-testid="review-sentence">
          <SentenceWithWord text={word.context.sentence} language={word.language} wordKey={word.word} />
        </blockquote>
      )}
      {clip?.kind === 'here' && playClip && (
        <button type="button" className="btn small" onClick={() => void play()} disabled={playing} data-testid="review-play">
          ▶ {t('review.play')}
        </button>
      )}
      {clip?.kind === 'elsewhere' && (
        <div className="needs-local-media muted small" data-testid="needs-local-media" data-for="review" data-where={clip.where}>
          <p>{clip.where === 'server' ? t('review.needsMediaServer') : t('review.needsMediaOtherDevice')}</p>
          {clip.where === 'server' && keepMedia?.(clip.materialId)}
        </div>
      )}
      {!revealed ? (
        <button
          ref={showButton}
          type="button"
          className="btn primary"
          onClick={() => {
            setPreviewAt(Date.now());
            setRevealed(true);
          }}
          data-testid="review-show"
        >
          {t('review.show')}
        </button>
      ) : (
        <>
          <DefinitionView lookup={lookup} word={word.surface} to={languages?.to ?? ''} />
          <div className="review-ratings" role="group" aria-label={t('review.howWell')}>
            {RATINGS.map(({ rating, name }, i) => {
              const dueAt = previews?.[i];
              return (
                <button
                  key={name}
                  ref={name === 'good' ? goodButton : undefined}
                  type="button"
                  className={`btn rating rating-${name}`}
                  disabled={busy}
                  aria-keyshortcuts={String(rating)}
                  onClick={() => void answer(rating)}
                  data-testid={`review-${name}`}
                  data-due-ms={dueAt}
                >
                  <span>{t(`review.${name}`)}</span>
                  {dueAt !== undefined && <small>{formatFromNow(dueAt, previewAt, i18n.language)}</small>}
                </button>
              );
            })}
          </div>
          <p className="muted small">{t('review.keys')}</p>
        </>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}
