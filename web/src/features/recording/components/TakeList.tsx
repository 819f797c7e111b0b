import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { LocalRecording } from '../../../db';
import { formatDuration } from '../../../lib/format';
import { TakeScore, useSignedIn, useTakeScores } from '../../scoring';
import { useMediaLink } from '../../../hooks/useMediaLink';
import { deleteTake, fetchTakeAudio, takeAudioLink } from '../api/takes';

function TakeAudio({ take }: { take: LocalRecording & { blob: Blob } }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLAudioElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const u = URL.createObjectURL(take.blob);
    el.src = u;
    return () => {
      el.removeAttribute('src');
      URL.revokeObjectURL(u);
    };
  }, [take.blob]);
  return <audio ref={ref} controls preload="metadata" aria-label={t('recording.play')} data-testid="take-audio" data-source="device" />;
}

/**
 * The audio of a take from another device, streamed from the server through
 * a media link; a link that fails (expired) is replaced and the take goes
 * on from where it was.
 */
function StreamedTakeAudio({ take }: { take: LocalRecording }) {
  const { t } = useTranslation();
  const ref = useRef<HTMLAudioElement>(null);
  const resumeAt = useRef<{ time: number; playing: boolean } | null>(null);
  const link = useMediaLink(useCallback(({ fresh }: { fresh: boolean }) => takeAudioLink(take.id, { fresh }), [take.id]));
  if (link.url === null) {
    return link.failure ? <p role="alert">{t(`recording.stream.${link.failure.kind}`)}</p> : <p className="muted small">{t('recording.stream.linking')}</p>;
  }
  return (
    <>
      <audio
        ref={ref}
        src={link.url}
        controls
        preload="metadata"
        aria-label={t('recording.play')}
        data-testid="take-audio"
        data-source="server"
        onLoadedMetadata={(e) => {
          link.loaded();
          const at = resumeAt.current;
          resumeAt.current = null;
          if (!at) return;
          e.currentTarget.currentTime = at.time;
          if (at.playing) void e.currentTarget.play().catch(() => undefined);
        }}
        onError={(e) => {
          resumeAt.current ??= { time: e.currentTarget.currentTime, playing: !e.currentTarget.paused };
          link.renew();
        }}
      />
      {link.failure && <p role="alert">{t(`recording.stream.${link.failure.kind}`)}</p>}
    </>
  );
}

/** A take recorded on another device: its audio streams from the server (and can be kept here), or is only there. */
function TakeElsewhere({ take }: { take: LocalRecording }) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const fetchAudio = async () => {
    setBusy(true);
    setError(null);
    try {
      await fetchTakeAudio(take);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="muted small" data-testid="take-elsewhere">
      <p>{take.cloudUrl ? t('recording.fromAnotherDevice') : t('recording.onAnotherDevice')}</p>
      {take.cloudUrl && (
        <>
          <StreamedTakeAudio take={take} />
          <button type="button" className="btn small" disabled={busy} onClick={() => void fetchAudio()} data-testid="fetch-take-audio" title={t('recording.keepHint')}>
            {busy ? t('recording.fetchingAudio') : t('recording.fetchAudio')}
          </button>
        </>
      )}
      {error && <p role="alert">{t('recording.fetchFailed', { detail: error })}</p>}
    </div>
  );
}

interface Props {
  takes: LocalRecording[];
  selectedId?: string;
  onSelect: (id: string) => void;
  /** The takes' sentence as it is now (their scores are judged against it). */
  sentence?: string;
}

export function TakeList({ takes, selectedId, onSelect, sentence }: Props) {
  const { t, i18n } = useTranslation();
  const fmt = new Intl.DateTimeFormat(i18n.language, { dateStyle: 'medium', timeStyle: 'short' });
  const scores = useTakeScores(takes.map((take) => take.id));
  const signedIn = useSignedIn();
  if (takes.length === 0) return <p className="muted">{t('recording.none')}</p>;
  return (
    <ul className="takes" data-testid="take-list">
      {takes.map((take) => (
        <li key={take.id} className={take.id === selectedId ? 'selected' : ''} data-testid="take" data-take-id={take.id}>
          <div className="take-meta">
            <time dateTime={new Date(take.createdAt).toISOString()}>{fmt.format(take.createdAt)}</time>
            <span>{formatDuration(take.duration)}</span>
            <span className="muted">{take.syncStatus === 'synced' ? t('recording.synced') : t('recording.pending')}</span>
            {scores && signedIn !== undefined && <TakeScore take={take} row={scores.get(take.id)} signedIn={signedIn} sentence={sentence} />}
          </div>
          {take.blob ? (
            <TakeAudio take={{ ...take, blob: take.blob }} />
          ) : (
            <TakeElsewhere take={take} />
          )}
          <div className="take-actions">
            <button type="button" className="btn small" aria-pressed={take.id === selectedId} onClick={() => onSelect(take.id)}>
              {take.id === selectedId ? t('recording.selected') : t('recording.select')}
            </button>
            <button type="button" className="btn small danger" onClick={() => void deleteTake(take.id)} data-testid="delete-take">
              {t('recording.delete')}
            </button>
          </div>
        </li>
      ))}
    </ul>
  );
}
