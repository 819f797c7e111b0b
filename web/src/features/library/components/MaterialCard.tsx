import { memo, useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useTranslation } from 'react-i18next';
import type { LearningProgress, LocalMaterial } from '../../../db';
import { useBlobUrl } from '../../../hooks/useBlobUrl';
import { formatDuration } from '../../../lib/format';
import { deleteMaterial, renameMaterial } from '../api/importMaterial';

interface Props {
  material: LocalMaterial;
  progress?: LearningProgress;
  /** The server is transcribing its media (no subtitles yet). */
  transcribing?: boolean;
}

export const MaterialCard = memo(function MaterialCard({ material, progress, transcribing }: Props) {
  const { t } = useTranslation();
  const thumb = useBlobUrl(material.thumbnailBlobKey);
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(material.title);

  const onRename = async (e: FormEvent) => {
    e.preventDefault();
    await renameMaterial(material.id, title);
    setEditing(false);
  };
  const onDelete = async () => {
    if (window.confirm(t('library.confirmDelete', { title: material.title }))) await deleteMaterial(material.id);
  };
  const youtubeThumb = material.sourceType === 'youtube' ? undefined : thumb;

  return (
    <li className="card" data-testid="material-card" data-material-id={material.id}>
      <Link to={`/practice/${material.id}`} className="thumb" tabIndex={-1} aria-hidden="true">
        {youtubeThumb ? <img src={youtubeThumb} alt="" loading="lazy" /> : <span className={`thumb-icon ${material.sourceType === 'youtube' ? 'yt' : material.type}`} />}
      </Link>
      <div className="card-body">
        {editing ? (
          <form onSubmit={(e) => void onRename(e)} className="rename">
            <label className="sr-only" htmlFor={`title-${material.id}`}>
              {t('library.titleLabel')}
            </label>
            <input id={`title-${material.id}`} value={title} onChange={(e) => setTitle(e.target.value)} autoFocus data-testid="rename-input" />
            <button type="submit" className="btn small primary">
              {t('library.save')}
            </button>
            <button type="button" className="btn small" onClick={() => setEditing(false)}>
              {t('library.cancel')}
            </button>
          </form>
        ) : (
          <h3 className="card-title">
            <Link to={`/practice/${material.id}`} data-testid="material-title">
              {material.title}
            </Link>
          </h3>
        )}
        <p className="meta">
          <span className="badge">{material.sourceType === 'youtube' ? t('library.youtube') : t(`library.filters.${material.type}`)}</span>
          {material.durationMs !== undefined && <span>{formatDuration(material.durationMs)}</span>}
          {material.sourceType === 'local_upload' && !material.mediaBlobKey && (
            <span className="badge" data-testid="media-elsewhere-badge">
              {material.mediaUrl ? t('library.mediaOnServer') : t('library.mediaOnOtherDevice')}
            </span>
          )}
          <span data-testid="material-segments">
            {material.segmentCount ? t('library.segments', { count: material.segmentCount }) : transcribing ? t('library.transcribing') : t('library.noSubtitles')}
          </span>
        </p>
        {progress && (
          <p className="meta progress-line" data-testid="material-progress">
            {progress.status === 'completed'
              ? t('library.completed')
              : t('library.inProgress', { n: progress.lastSegmentIndex + 1, total: material.segmentCount })}
          </p>
        )}
        <div className="card-actions">
          <Link className="btn small primary" to={`/practice/${material.id}`}>
            {t('library.open')}
          </Link>
          <button type="button" className="btn small" onClick={() => { setTitle(material.title); setEditing(true); }} aria-label={`${t('library.rename')}: ${material.title}`}>
            {t('library.rename')}
          </button>
          <button type="button" className="btn small danger" onClick={() => void onDelete()} aria-label={`${t('library.delete')}: ${material.title}`} data-testid="delete-material">
            {t('library.delete')}
          </button>
        </div>
      </div>
    </li>
  );
});
