import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { LocalMaterial } from '../../../db';
import { useBlobUrl } from '../../../hooks/useBlobUrl';
import { elementPort, type MediaPort } from '../api/mediaPort';
import { attachMediaFile, fetchMediaFromServer, mediaElsewhere } from '../api/remoteMedia';
import { mountYoutube } from '../api/youtube';

interface Props {
  material: LocalMaterial;
  onPort: (port: MediaPort | null) => void;
  onSeeked?: (ms: number) => void;
}

function FilePlayer({ material, onPort, onSeeked }: Props) {
  const { t } = useTranslation();
  const url = useBlobUrl(material.mediaBlobKey);
  const ref = useRef<HTMLVideoElement & HTMLAudioElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || !url) return;
    const onLoaded = () => onPort(elementPort(el));
    if (el.readyState >= 1) onLoaded();
    else el.addEventListener('loadedmetadata', onLoaded, { once: true });
    return () => {
      el.removeEventListener('loadedmetadata', onLoaded);
      onPort(null);
    };
  }, [url, onPort]);
  if (!material.mediaBlobKey) return mediaElsewhere(material) ? <MediaElsewhere material={material} /> : <p role="alert">{t('practice.mediaMissing')}</p>;
  const common = {
    ref,
    src: url,
    controls: true,
    preload: 'auto' as const,
    'data-testid': 'media',
    onSeeked: (e: { currentTarget: HTMLMediaElement }) => onSeeked?.(e.currentTarget.currentTime * 1000),
  };
  return material.type === 'video' ? (
    <video {...common} playsInline aria-label={material.title} />
  ) : (
    <div className="audio-stage">
      <span className="thumb-icon audio big" aria-hidden="true" />
      <audio {...common} aria-label={material.title} />
    </div>
  );
}

/**
 * A material from another device whose media is not here: on the server
 * (fetch it, signed in) or only on the other device (attach the file).
 */
function MediaElsewhere({ material }: { material: LocalMaterial }) {
  const { t } = useTranslation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const where = mediaElsewhere(material);
  const act = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="panel media-elsewhere" data-testid="media-elsewhere" data-where={where}>
      <p>{where === 'server' ? t('practice.mediaOnServer') : t('practice.mediaOnOtherDevice')}</p>
      {where === 'server' && (
        <button type="button" className="btn primary" disabled={busy} onClick={() => void act(() => fetchMediaFromServer(material))} data-testid="fetch-media">
          {busy ? t('practice.fetchingMedia') : t('practice.fetchMedia')}
        </button>
      )}
      <label className="btn">
        {t('practice.attachMedia')}
        <input
          type="file"
          className="sr-only"
          accept="audio/*,video/*"
          disabled={busy}
          data-testid="attach-media"
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            if (file) void act(() => attachMediaFile(material, file));
          }}
        />
      </label>
      {error && <p role="alert">{t('practice.mediaFetchFailed', { detail: error })}</p>}
    </div>
  );
}

function YoutubePlayer({ material, onPort }: Props) {
  const { t } = useTranslation();
  const host = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const el = host.current;
    if (!el || !material.externalId) return;
    const inner = document.createElement('div');
    el.appendChild(inner);
    let destroy: (() => void) | undefined;
    let alive = true;
    mountYoutube(inner, material.externalId).then(
      (p) => {
        if (!alive) return p.destroy();
        destroy = p.destroy;
        onPort(p.port);
      },
      () => alive && setFailed(true),
    );
    return () => {
      alive = false;
      onPort(null);
      destroy?.();
      el.replaceChildren();
    };
  }, [material.externalId, onPort]);
  return (
    <div className="yt-stage">
      <div ref={host} className="yt-host" data-testid="youtube-player" />
      {failed && <p role="alert">{t('practice.youtubeOffline')}</p>}
    </div>
  );
}

export function Player(props: Props) {
  return props.material.sourceType === 'youtube' ? <YoutubePlayer {...props} /> : <FilePlayer {...props} />;
}
