import { useId, useState } from 'react';
import { Link } from 'react-router';
import { useTranslation } from 'react-i18next';
import type { LocalMaterial, LocalSegment } from '../../../db';
import { askForTranscription, useLearner, useTranscriptionRow } from '../hooks/useTranscription';
import { FAILURE_CODES, transcribedCount, transcriptionView, type Eligibility, type TranscriptionView } from './transcriptionView';

/** Languages offered besides "detect" and the account's learning language (Whisper knows many more). */
const LANGUAGES = ['en', 'es', 'fr', 'de', 'it', 'pt', 'nl', 'pl', 'ru', 'uk', 'tr', 'ar', 'hi', 'ja', 'ko', 'zh'];

function useLanguageName(): (tag: string) => string {
  const { i18n } = useTranslation();
  return (tag) => {
    try {
      return new Intl.DisplayNames([i18n.language], { type: 'language' }).of(tag) ?? tag;
    } catch {
      return tag;
    }
  };
}

/**
 * For a material without segments: "Transcribe" when the server can do it
 * (signed in; media on the server, or kept on this device and its sound
 * uploaded for the transcription), else why not; then the transcription's
 * progress or why it failed.
 */
export function TranscriptionPanel({ material }: { material: LocalMaterial }) {
  const { t } = useTranslation();
  const id = useId();
  const learner = useLearner();
  const row = useTranscriptionRow(material.id);
  if (learner === undefined || row === undefined) return null;
  const view = transcriptionView(material, learner.userId, row ?? undefined);
  return (
    <section className="panel transcription" aria-labelledby={`${id}-h`} data-testid="transcription" data-state={view.kind === 'idle' ? view.eligibility : view.kind}>
      <h2 id={`${id}-h`}>{t('transcription.title')}</h2>
      <Status view={view} />
      {view.kind === 'idle' && <Offer materialId={material.id} eligibility={view.eligibility} learningLanguage={learner.learningLanguage} again={Boolean(view.failure)} />}
    </section>
  );
}

function Status({ view }: { view: TranscriptionView }) {
  const { t, i18n } = useTranslation();
  switch (view.kind) {
    case 'preparing':
      return (
        <p role="status" data-testid="transcription-status">
          {t('transcription.preparing')}
        </p>
      );
    case 'uploadingSound':
      return (
        <p role="status" data-testid="transcription-status" data-whole={view.whole}>
          {view.whole ? t('transcription.uploadingWhole', { percent: view.percent }) : t('transcription.uploadingSound', { percent: view.percent })}
        </p>
      );
    case 'requested':
      return (
        <p role="status" data-testid="transcription-status">
          {t('transcription.requested')}
        </p>
      );
    case 'transcribing':
      return (
        <p role="status" data-testid="transcription-status">
          {view.percent === undefined ? t('transcription.transcribing') : t('transcription.transcribingPercent', { percent: view.percent })}
        </p>
      );
    case 'limit':
      return (
        <p role="status" data-testid="transcription-status">
          {view.retryAt === undefined
            ? t('transcription.limitSoon')
            : t('transcription.limit', { time: new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' }).format(view.retryAt) })}
          {view.detail && <span className="muted"> ({view.detail})</span>}
        </p>
      );
    case 'idle': {
      if (!view.failure) return null;
      const { code, detail } = view.failure;
      const known = (FAILURE_CODES as readonly string[]).includes(code);
      return (
        <div role="alert" className="transcription-failed" data-testid="transcription-failure" data-code={code}>
          <p>{known ? t(`transcription.failed.${code as (typeof FAILURE_CODES)[number]}`) : t('transcription.failed.other', { detail: detail || code })}</p>
          {known && detail && (
            <p className="muted" data-testid="transcription-detail">
              {t('transcription.serverSaid', { detail })}
            </p>
          )}
        </div>
      );
    }
  }
}

interface OfferProps {
  materialId: string;
  eligibility: Eligibility;
  learningLanguage: string | null;
  /** A transcription failed before: the button says "Try again". */
  again: boolean;
}

function Offer({ materialId, eligibility, learningLanguage, again }: OfferProps) {
  const { t } = useTranslation();
  const id = useId();
  const name = useLanguageName();
  const [language, setLanguage] = useState(learningLanguage ?? '');
  const [busy, setBusy] = useState(false);
  if (eligibility !== 'ready' && eligibility !== 'withSound') {
    return (
      <p className="muted" data-testid="transcription-unavailable" data-reason={eligibility}>
        {t(`transcription.why.${eligibility}`)}
        {eligibility === 'signIn' && (
          <>
            {' '}
            <Link to="/signin">{t('account.signIn')}</Link>
          </>
        )}
      </p>
    );
  }
  const tags = [...new Set([...(learningLanguage ? [learningLanguage] : []), ...LANGUAGES])];
  const ask = async () => {
    setBusy(true);
    try {
      await askForTranscription(materialId, language || undefined);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="transcription-offer">
      <p className="muted">{t('transcription.about')}</p>
      {eligibility === 'withSound' && (
        <p className="muted" data-testid="transcription-sound-note">
          {t('transcription.aboutSound')}
        </p>
      )}
      <label className="field" htmlFor={`${id}-lang`}>
        <span>{t('transcription.language')}</span>
        <select id={`${id}-lang`} value={language} onChange={(e) => setLanguage(e.target.value)} data-testid="transcription-language">
          <option value="">{t('transcription.detect')}</option>
          {tags.map((tag) => (
            <option key={tag} value={tag}>
              {name(tag)} ({tag})
            </option>
          ))}
        </select>
      </label>
      <button type="button" className="btn primary" disabled={busy} onClick={() => void ask()} data-testid="transcribe">
        {again ? t('transcription.again') : language ? t('transcription.startIn', { language: name(language) }) : t('transcription.start')}
      </button>
    </div>
  );
}

/** Above a transcribed material's segments: how many came from speech recognition. */
export function TranscribedNote({ segments }: { segments: readonly LocalSegment[] }) {
  const { t } = useTranslation();
  const count = transcribedCount(segments);
  if (count === 0) return null;
  return (
    <p className="transcribed-note" data-testid="transcribed-note" data-count={count}>
      <strong>{t('transcription.done', { count })}</strong> <span className="muted">{t('transcription.doneNote')}</span>
    </p>
  );
}
