import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import type { ServerAssessment, WordErrorType, WordResult } from '../../../db';
import { heardInstead, LOW_SOUND, takeIssues } from './scoreView';

/** Each error type has a mark of its own, so the result never depends on colour alone. */
const MARK: Record<WordErrorType, string> = { None: '✓', Mispronunciation: '✗', Omission: '–', Insertion: '+' };
const ERROR_TYPES: WordErrorType[] = ['None', 'Mispronunciation', 'Omission', 'Insertion'];
const SUB_SCORES = ['accuracy', 'fluency', 'completeness', 'prosody'] as const;

const round = (n: number) => Math.round(n);
/** A word the server placed in the take can be played. */
const hasTiming = (w: WordResult): w is WordResult & { offset_ms: number; duration_ms: number } =>
  typeof w.offset_ms === 'number' && typeof w.duration_ms === 'number' && w.duration_ms > 0;

interface Props {
  assessment: ServerAssessment;
  /** Plays the word's part of the take; without it words are not buttons. */
  onPlayWord?: (fromMs: number, durationMs: number) => void;
  /** The text the score was judged against, when that is not the sentence's current text (`earlierText`). */
  earlierText?: string;
  /** The take is being scored again against the corrected sentence. */
  rescoring?: boolean;
}

/** The selected take's score: overall, the parts, each word with its mark and score, and a mispronounced word's sounds. */
export function AssessmentView({ assessment, onPlayWord, earlierText, rescoring = false }: Props) {
  const { t } = useTranslation();
  const id = useId();
  const parts = SUB_SCORES.flatMap((kind) => {
    const score = assessment[`${kind}_score`];
    return score === null || score === undefined ? [] : [{ kind, score }];
  });
  const typeName = (type: WordErrorType) => t(`scoring.errorType.${type}`);
  return (
    <section
      className={earlierText === undefined ? 'assessment' : 'assessment assessment-earlier'}
      aria-labelledby={`${id}-title`}
      data-testid="assessment"
      data-assessment-id={assessment.id}
      data-earlier={earlierText !== undefined}
    >
      <h3 id={`${id}-title`}>{t('scoring.title')}</h3>
      {earlierText !== undefined && (
        <div className="assessment-earlier-note" role="note" data-testid="assessment-earlier">
          <p>{rescoring ? t('scoring.earlier.rescoring') : t('scoring.earlier.kept')}</p>
          <p>
            <span className="muted">{t('scoring.earlier.judgedAgainst')}</span> <q data-testid="assessment-earlier-text">{earlierText}</q>
          </p>
        </div>
      )}
      {takeIssues(assessment).map((issue) => (
        <p key={issue} className="take-issue" role="note" data-testid="take-issue" data-issue={issue}>
          {t(`scoring.takeIssue.${issue}`)}
        </p>
      ))}
      <div className="assessment-head">
        <p className="overall" data-testid="overall-score" data-score={round(assessment.overall_score)}>
          <span className="overall-label">{t('scoring.overall')}</span>
          <span className="overall-number">{round(assessment.overall_score)}</span>
          <span className="muted">{t('scoring.outOf')}</span>
        </p>
        {parts.length > 0 && (
          <dl className="subscores" aria-label={t('scoring.parts')}>
            {parts.map(({ kind, score }) => (
              <div key={kind} data-testid="subscore" data-kind={kind} data-score={round(score)}>
                <dt>{t(`scoring.sub.${kind}`)}</dt>
                <dd>
                  {round(score)}
                  <meter min={0} max={100} value={score} aria-hidden="true" />
                </dd>
              </div>
            ))}
          </dl>
        )}
      </div>
      <h4 id={`${id}-words`}>{t('scoring.words')}</h4>
      <p className="legend small" aria-label={t('scoring.legend')}>
        {ERROR_TYPES.map((type) => (
          <span key={type} className={`word-${type}`}>
            <span aria-hidden="true">{MARK[type]}</span> {typeName(type)}
          </span>
        ))}
      </p>
      {onPlayWord && <p className="muted small">{t('scoring.wordsHint')}</p>}
      <ol className="words" aria-labelledby={`${id}-words`}>
        {assessment.word_results.map((w, i) => {
          const score = round(w.accuracy_score);
          const label = t('scoring.word', { word: w.word, type: typeName(w.error_type), score });
          const body = (
            <>
              <span className="word-text">{w.word}</span>
              <span className="word-mark" aria-hidden="true">
                {MARK[w.error_type]} {score}
                {w.error_type !== 'None' && <span className="word-type"> {typeName(w.error_type)}</span>}
              </span>
            </>
          );
          const sounds = w.error_type === 'Mispronunciation' ? (w.phonemes ?? []) : [];
          return (
            <li key={i} className={`word word-${w.error_type}`} data-testid="word" data-word={w.word} data-error-type={w.error_type} data-score={score}>
              {onPlayWord && hasTiming(w) ? (
                <button
                  type="button"
                  className="word-body"
                  title={label}
                  aria-label={t('scoring.playWord', { word: w.word, type: typeName(w.error_type), score })}
                  onClick={() => onPlayWord(w.offset_ms, w.duration_ms)}
                  data-testid="word-play"
                >
                  {body}
                </button>
              ) : (
                <span className="word-body" title={label}>
                  <span className="sr-only">{label}</span>
                  <span aria-hidden="true">{body}</span>
                </span>
              )}
              {sounds.length > 0 && (
                <ul className="phonemes" aria-label={t('scoring.sounds', { word: w.word })}>
                  {sounds.map((p, j) => {
                    const score = round(p.accuracy_score);
                    const heard = heardInstead(p);
                    return (
                      <li key={j} data-testid="phoneme" data-score={score} data-heard={heard} className={p.accuracy_score < LOW_SOUND ? 'low' : undefined}>
                        <span className="sr-only">
                          {heard === undefined
                            ? t('scoring.soundLabel', { unit: p.unit, score })
                            : t('scoring.soundHeardLabel', { unit: p.unit, score, heard })}
                        </span>
                        <span aria-hidden="true">
                          {heard === undefined ? t('scoring.sound', { unit: p.unit, score }) : t('scoring.soundHeard', { unit: p.unit, score, heard })}
                        </span>
                      </li>
                    );
                  })}
                </ul>
              )}
            </li>
          );
        })}
      </ol>
      <p className="muted small">{t('scoring.engine', { engine: assessment.engine })}</p>
    </section>
  );
}
