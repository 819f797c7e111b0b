import { useId, useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import type { ServerAssessment } from '../../../db';
import { spokenWords, type ShadowingInput } from '../api/shadowing';
import { useShadowing, type ShadowingState } from '../hooks/useShadowing';
import { intonationOf, tempoOf, timingOf, type Timing } from './shadowingView';

interface Props {
  take: { id: string; blob: Blob };
  assessment: ServerAssessment;
  /** The original media (undefined while it loads) and the segment the take shadows, in ms of the media. */
  original: { blobKey: string; blob: Blob | undefined; fromMs: number; toMs: number };
}

/** The shadowing result's `data-state`: computing, ready, or what kept it from being computed. */
const stateName = (state: ShadowingState) => (state.kind === 'compared' ? 'ready' : state.kind);

/**
 * How the selected take shadows the original sentence: ahead / behind / in
 * step, rhythm, intonation, and each spoken word's lag and pace. Computed
 * in the browser from the take, the original's segment and the words the
 * assessment placed in the take; shown only when the assessment has such words.
 */
export function ShadowingView({ take, assessment, original }: Props) {
  const { t } = useTranslation();
  const id = useId();
  const { id: takeId, blob: takeBlob } = take;
  const { blobKey, blob: originalBlob, fromMs, toMs } = original;
  const hasWords = spokenWords(assessment).length > 0;
  const input = useMemo<ShadowingInput | undefined>(
    () => (hasWords && originalBlob ? { take: { id: takeId, blob: takeBlob }, assessment, original: { blobKey, blob: originalBlob, fromMs, toMs } } : undefined),
    [hasWords, takeId, takeBlob, assessment, blobKey, originalBlob, fromMs, toMs],
  );
  const state = useShadowing(input);
  if (!hasWords) return null;

  const timingText = (timing: Timing) => t(`scoring.shadowing.lag.${timing.kind}`, { ms: timing.ms });
  const wordTimingText = (timing: Timing) => t(`scoring.shadowing.wordLag.${timing.kind}`, { ms: timing.ms });
  return (
    <section className="assessment shadowing" aria-labelledby={`${id}-title`} aria-busy={state.kind === 'computing'} data-testid="shadowing" data-state={stateName(state)}>
      <h3 id={`${id}-title`}>{t('scoring.shadowing.title')}</h3>
      {state.kind === 'computing' && (
        <p className="muted" role="status">
          {t('scoring.shadowing.computing')}
        </p>
      )}
      {state.kind !== 'computing' && state.kind !== 'compared' && (
        <p role="status" data-testid="shadowing-message">
          {state.kind === 'clipLength'
            ? t(`scoring.shadowing.${state.which}${state.ms > state.maxMs ? 'TooLong' : 'TooShort'}`, {
                seconds: Math.round(state.ms / 100) / 10,
                max: Math.round(state.maxMs / 1000),
                min: state.minMs / 1000,
              })
            : state.kind === 'refused'
              ? t('scoring.shadowing.refused', { detail: state.detail })
              : t(`scoring.shadowing.${state.kind}`)}
        </p>
      )}
      {state.kind === 'compared' && (
        <Result
          result={state.result}
          titleId={id}
          timingText={timingText}
          wordTimingText={wordTimingText}
        />
      )}
    </section>
  );
}

interface ResultProps {
  result: Extract<ShadowingState, { kind: 'compared' }>['result'];
  titleId: string;
  timingText: (timing: Timing) => string;
  wordTimingText: (timing: Timing) => string;
}

function Result({ result, titleId, timingText, wordTimingText }: ResultProps) {
  const { t } = useTranslation();
  const timing = timingOf(result.lagMs);
  const rhythm = Math.round(result.rhythm);
  const intonation = intonationOf(result.pitchCorrelation);
  return (
    <>
      <p className={`shadowing-lag shadowing-${timing.kind}`} data-testid="shadowing-lag" data-lag-ms={Math.round(result.lagMs)} data-timing={timing.kind}>
        {timingText(timing)}
      </p>
      <dl className="subscores" aria-label={t('scoring.shadowing.parts')}>
        <div data-testid="shadowing-rhythm" data-score={rhythm}>
          <dt>{t('scoring.shadowing.rhythm')}</dt>
          <dd>
            {t('scoring.shadowing.rhythmValue', { score: rhythm })}
            <meter min={0} max={100} value={result.rhythm} aria-hidden="true" />
          </dd>
        </div>
        <div data-testid="shadowing-intonation" data-intonation={intonation.kind} data-correlation={result.pitchCorrelation ?? ''}>
          <dt>{t('scoring.shadowing.intonation')}</dt>
          <dd>{intonation.kind === 'noVoice' ? t('scoring.shadowing.tune.noVoice') : t(`scoring.shadowing.tune.${intonation.kind}`, { percent: intonation.percent })}</dd>
        </div>
      </dl>
      <h4 id={`${titleId}-words`}>{t('scoring.shadowing.words')}</h4>
      <p className="muted small">{t('scoring.shadowing.wordsHint')}</p>
      <ol className="shadow-words" aria-labelledby={`${titleId}-words`}>
        {result.words.map((w, i) => {
          const wordTiming = timingOf(w.lagMs);
          const tempo = tempoOf(w.durationRatio);
          return (
            <li
              key={i}
              className={`shadow-word shadowing-${wordTiming.kind} tempo-${tempo}`}
              data-testid="shadowing-word"
              data-word={w.word}
              data-lag-ms={Math.round(w.lagMs)}
              data-timing={wordTiming.kind}
              data-duration-ratio={Math.round(w.durationRatio * 100) / 100}
              data-tempo={tempo}
            >
              <span className="word-text">{w.word}</span>
              <span className="sr-only">: </span>
              <span className="shadow-word-lag">{wordTimingText(wordTiming)}</span>
              {tempo !== 'even' && (
                <>
                  <span className="sr-only">, </span>
                  <span className="shadow-word-tempo">{t(`scoring.shadowing.tempo.${tempo}`, { ratio: Math.round(w.durationRatio * 10) / 10 })}</span>
                </>
              )}
            </li>
          );
        })}
      </ol>
    </>
  );
}
