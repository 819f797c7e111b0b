import { useEffect, useRef, useState, type RefObject } from 'react';
import { useTranslation } from 'react-i18next';
import type { LocalMaterial } from '../../../db';
import { useBlobUrl } from '../../../hooks/useBlobUrl';
import { useMediaLink } from '../../../hooks/useMediaLink';
import { elementPort, renewablePort, type MediaPort, type RenewablePort } from '../api/mediaPort';
import { attachMediaFile, keepMediaOnDevice, mediaElsewhere } from '../api/remoteMedia';
import { useKeepProgress, useMaterialLinkSource } from '../hooks/useRemoteMedia';
import { useMaterial } from '../hooks/usePracticeData';
import { mountYoutube } from '../api/youtube';

interface Props {
  material: LocalMaterial;
  onPort: (port: MediaPort | null) => void;
  onSeeked?: (ms: number) => void;
}

/** The `<video>`/`<audio>` element, whatever it plays from. */
function MediaElement({
  material,
  src,
  source,
  elementRef,
  onSeeked,
  onError,
}: {
  material: LocalMaterial;
  src: string | undefined;
  source: 'device' | 'server';
  elementRef: RefObject<HTMLVideoElement & HTMLAudioElement | null>;
  onSeeked?: (ms: number) => void;
  onError?: () => void;
}) {
  const common = {
    ref: elementRef,
    src,
    controls: true,
    preload: 'auto' as const,
    'data-testid': 'media',
    'data-source': source,
    onSeeked: (e: { currentTarget: HTMLMediaElement }) => onSeeked?.(e.currentTarget.currentTime * 1000),
    onError,
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

function FilePlayer(props: Props) {
  const { t } = useTranslation();
  const { material } = props;
  if (material.mediaBlobKey) return <LocalPlayer {...props} />;
  const where = mediaElsewhere(material);
  if (where === 'server') return <ServerPlayer {...props} />;
  if (where === 'otherDevice') return <MediaElsewhere material={material} />;
  return <p role="alert">{t('practice.mediaMissing')}</p>;
}

/** The media file kept on this device. */
function LocalPlayer({ material, onPort, onSeeked }: Props) {
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
  return <MediaElement material={material} src={url} source="device" elementRef={ref} onSeeked={onSeeked} />;
}

/**
 * The server's copy, streamed at once through a media link (the element
 * makes its own Range requests). A link that expired, or fails otherwise,
 * is replaced and playback goes on from where it was; the whole file can be
 * kept on this device for offline practice.
 */
function ServerPlayer({ material, onPort, onSeeked }: Props) {
  const { t } = useTranslation();
  const link = useMediaLink(useMaterialLinkSource(material.id));
  const { loaded, renew } = link;
  const ref = useRef<HTMLVideoElement & HTMLAudioElement>(null);
  const port = useRef<RenewablePort | null>(null);
  const hasUrl = link.url !== null;
  useEffect(() => {
    const el = ref.current;
    if (!el || !hasUrl) return;
    const p = renewablePort(el);
    port.current = p;
    let attached = false;
    const onLoaded = () => {
      loaded();
      if (attached) return p.resume();
      attached = true;
      onPort(p);
    };
    el.addEventListener('loadedmetadata', onLoaded);
    if (el.readyState >= 1) onLoaded();
    return () => {
      el.removeEventListener('loadedmetadata', onLoaded);
      port.current = null;
      if (attached) onPort(null);
    };
  }, [hasUrl, onPort, loaded]);
  const failed = link.failure !== null;
  useEffect(() => {
    // No new link is coming for now: the echo loop sees a paused player (the position is kept).
    if (failed) port.current?.pause();
  }, [failed]);
  const onError = () => {
    port.current?.suspend();
    renew();
  };
  const failure = link.failure;
  return (
    <>
      {link.url !== null && <MediaElement material={material} src={link.url} source="server" elementRef={ref} onSeeked={onSeeked} onError={onError} />}
      <div className="panel media-elsewhere" data-testid="media-elsewhere" data-where="server" data-state={failure ? failure.kind : link.busy ? 'linking' : 'streaming'}>
        {failure === null ? (
          <p className="muted small">{link.busy && !hasUrl ? t('practice.stream.linking') : t('practice.stream.streaming')}</p>
        ) : (
          <p role="alert" data-testid="stream-failure">
            {failure.kind === 'error' ? t('practice.stream.error', { detail: failure.detail }) : t(`practice.stream.${failure.kind}`)}
          </p>
        )}
        <div className="media-elsewhere-actions">
          {failure && failure.kind !== 'gone' && failure.kind !== 'signedOut' && (
            <button type="button" className="btn small" onClick={link.retry} disabled={link.busy} data-testid="stream-retry">
              {t('practice.stream.retry')}
            </button>
          )}
          {failure?.kind !== 'gone' && <KeepOnDevice material={material} />}
          {failure?.kind === 'gone' && <AttachFile material={material} />}
        </div>
      </div>
    </>
  );
}

/** Keeps the server's copy of the media on this device (secondary: for offline practice), with its progress. */
export function KeepOnDevice({ material }: { material: LocalMaterial }) {
  const { t } = useTranslation();
  const progress = useKeepProgress(material.id);
  const [error, setError] = useState<string | null>(null);
  const keep = () => {
    setError(null);
    keepMediaOnDevice(material).catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  };
  const percent = progress?.total ? Math.floor((100 * progress.loaded) / progress.total) : undefined;
  return (
    <span className="keep-media">
      <button type="button" className="btn small" disabled={progress !== undefined} onClick={keep} data-testid="keep-media" title={t('practice.keep.hint')}>
        {progress === undefined
          ? t('practice.keep.button')
          : percent !== undefined
            ? t('practice.keep.progress', { percent })
            : t('practice.keep.progressBytes', { mb: (progress.loaded / 1e6).toFixed(1) })}
      </button>
      {progress?.total !== undefined && <progress max={progress.total} value={progress.loaded} data-testid="keep-progress" aria-label={t('practice.keep.button')} />}
      {error && <span role="alert">{t('practice.mediaFetchFailed', { detail: error })}</span>}
    </span>
  );
}

/** "Keep on this device" for a material named by id (the review card's sentence). */
export function KeepMaterialMedia({ materialId }: { materialId: string }) {
  const material = useMaterial(materialId);
  return material && mediaElsewhere(material) === 'server' ? <KeepOnDevice material={material} /> : null;
}

/**
 * Where something needs the media file on this device (the original's
 * waveform, the shadowing comparison): says so, with the keep button when
 * the server has the file.
 */
export function NeedsLocalMedia({ material, what }: { material: LocalMaterial; what: 'waveform' | 'shadowing' }) {
  const { t } = useTranslation();
  const where = mediaElsewhere(material);
  if (!where) return null;
  return (
    <div className="needs-local-media muted small" data-testid="needs-local-media" data-for={what}>
      <p>{t(`practice.needsLocal.${what}`)}</p>
      {where === 'server' && <KeepOnDevice material={material} />}
    </div>
  );
}

function AttachFile({ material, onError, disabled }: { material: LocalMaterial; onError?: (detail: string) => void; disabled?: boolean }) {
  const { t } = useTranslation();
  return (
    <label className="btn small">
      {t('practice.attachMedia')}
      <input
        type="file"
        className="sr-only"
        accept="audio/*,video/*"
        disabled={disabled}
        data-testid="attach-media"
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          if (file) attachMediaFile(material, file).catch((err: unknown) => onError?.(err instanceof Error ? err.message : String(err)));
        }}
      />
    </label>
  );
}

/** A material from another device whose media only that device has: attach the same file here. */
function MediaElsewhere({ material }: { material: LocalMaterial }) {
  const { t } = useTranslation();
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="panel media-elsewhere" data-testid="media-elsewhere" data-where="otherDevice">
      <p>{t('practice.mediaOnOtherDevice')}</p>
      <AttachFile material={material} onError={setError} />
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
