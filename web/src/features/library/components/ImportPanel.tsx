import { useId, useRef, useState, type DragEvent, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Notice, type NoticeMessage } from '../../../components/Notice';
import { importMaterial } from '../api/importMaterial';
import { describeImportError, describeSkipped } from './errors';

const SUBTITLE_EXT = /\.(srt|vtt|ass|ssa|ttml|dfxp|xml|lrc|json|json3|srv3|sbv|txt)$/i;

export function ImportPanel() {
  const { t } = useTranslation();
  const ids = useId();
  const [media, setMedia] = useState<File | null>(null);
  const [subs, setSubs] = useState<File[]>([]);
  const [title, setTitle] = useState('');
  const [busy, setBusy] = useState(false);
  const [dragging, setDragging] = useState(false);
  const [message, setMessage] = useState<NoticeMessage | null>(null);
  const mediaInput = useRef<HTMLInputElement>(null);
  const subsInput = useRef<HTMLInputElement>(null);

  const takeFiles = (files: File[]) => {
    const subtitleFiles = files.filter((f) => SUBTITLE_EXT.test(f.name));
    const others = files.filter((f) => !SUBTITLE_EXT.test(f.name));
    if (others[0]) {
      setMedia(others[0]);
      if (!title) setTitle(others[0].name.replace(/\.[^.]+$/, ''));
    }
    if (subtitleFiles.length) setSubs(subtitleFiles.slice(0, 2));
    setMessage(null);
  };

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    takeFiles([...e.dataTransfer.files]);
  };

  const reset = () => {
    setMedia(null);
    setSubs([]);
    setTitle('');
    if (mediaInput.current) mediaInput.current.value = '';
    if (subsInput.current) subsInput.current.value = '';
  };

  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    if (!media) {
      setMessage({ kind: 'error', text: t('importer.noMedia') });
      return;
    }
    setBusy(true);
    setMessage({ kind: 'info', text: t('importer.importing') });
    try {
      const out = await importMaterial({ media, subtitles: subs, title });
      const skipped = describeSkipped(t, out.skipped);
      setMessage({
        kind: 'success',
        text: [t('importer.done', { title: out.material.title, count: out.material.segments.length }), skipped].filter(Boolean).join(' '),
      });
      reset();
    } catch (err) {
      setMessage({ kind: 'error', text: describeImportError(t, err) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby={`${ids}-h`}>
      <h2 id={`${ids}-h`}>{t('importer.title')}</h2>
      <form onSubmit={(e) => void onSubmit(e)} data-testid="import-form">
        <div
          className={`dropzone${dragging ? ' dragging' : ''}`}
          data-testid="dropzone"
          onDragOver={(e) => {
            e.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={onDrop}
        >
          <p>{t('importer.drop')}</p>
          <label className="file-label">
            <span className="sr-only">{t('importer.media')}</span>
            <input
              ref={mediaInput}
              type="file"
              accept="video/*,audio/*"
              data-testid="media-input"
              aria-label={t('importer.media')}
              onChange={(e) => takeFiles([...(e.target.files ?? [])])}
            />
          </label>
          {media && <p className="picked" data-testid="picked-media">{media.name}</p>}
        </div>
        <label className="field">
          <span>{t('importer.subtitles')}</span>
          <input
            ref={subsInput}
            type="file"
            multiple
            accept=".srt,.vtt,.ass,.ssa,.ttml,.dfxp,.xml,.lrc,.json,.json3,.srv3,.sbv,.txt"
            data-testid="subtitle-input"
            onChange={(e) => setSubs([...(e.target.files ?? [])].slice(0, 2))}
          />
        </label>
        {subs.length > 0 && <p className="picked">{subs.map((f) => f.name).join(', ')}</p>}
        <label className="field">
          <span>{t('importer.titleLabel')}</span>
          <input type="text" value={title} onChange={(e) => setTitle(e.target.value)} data-testid="title-input" />
        </label>
        <button type="submit" className="btn primary" disabled={busy} data-testid="import-submit">
          {busy ? t('importer.importing') : t('importer.submit')}
        </button>
      </form>
      <Notice message={message} onClose={() => setMessage(null)} closeLabel={t('help.close')} />
    </section>
  );
}
