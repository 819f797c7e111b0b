import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { materials } from '../../../db';
import { formatBytes } from '../../../lib/format';
import { useInfiniteCount } from '../../../hooks/useInfiniteCount';
import { useAllProgress, useMaterials, useStorageInfo } from '../hooks/useLibrary';
import { useTranscriptionRows } from '../../transcription';
import { ImportPanel } from './ImportPanel';
import { MaterialCard } from './MaterialCard';
import { YoutubeForm } from './YoutubeForm';

const FILTERS: materials.MaterialFilter[] = ['all', 'video', 'audio', 'youtube'];

export function LibraryPage() {
  const { t } = useTranslation();
  const id = useId();
  const [query, setQuery] = useState('');
  const [filter, setFilter] = useState<materials.MaterialFilter>('all');
  const list = useMaterials(query, filter);
  const progress = useAllProgress();
  const transcriptions = useTranscriptionRows();
  const storage = useStorageInfo();
  const { visible, setSentinel, more, hasMore } = useInfiniteCount(list?.length ?? 0, 48, `${query}|${filter}`);

  useEffect(() => {
    if (list) performance.mark('echoloop:library-rendered');
  }, [list]);

  return (
    <div className="page library">
      <section className="library-main" aria-labelledby={`${id}-h`}>
        <div className="library-head">
          <h1 id={`${id}-h`}>{t('library.title')}</h1>
          {list && <span className="muted" data-testid="library-count">{t('library.count', { count: list.length })}</span>}
        </div>
        <div className="toolbar" role="search">
          <label className="field grow">
            <span className="sr-only">{t('library.search')}</span>
            <input type="search" placeholder={t('library.search')} value={query} onChange={(e) => setQuery(e.target.value)} data-testid="library-search" />
          </label>
          <fieldset className="segmented">
            <legend className="sr-only">{t('library.filter')}</legend>
            {FILTERS.map((f) => (
              <label key={f} className={filter === f ? 'active' : ''}>
                <input type="radio" name={`${id}-filter`} value={f} checked={filter === f} onChange={() => setFilter(f)} />
                {t(`library.filters.${f}`)}
              </label>
            ))}
          </fieldset>
        </div>
        {list && list.length === 0 && <p className="empty">{query || filter !== 'all' ? t('library.noMatch') : t('library.empty')}</p>}
        <ul className="cards" data-testid="library-list">
          {list?.slice(0, visible).map((m) => <MaterialCard key={m.id} material={m} progress={progress.get(m.id)} transcribing={transcriptions?.get(m.id)?.nextCheckAt !== undefined} />)}
          {hasMore && (
            <li ref={setSentinel} className="more">
              <button type="button" className="btn" onClick={more}>
                {t('library.more')}
              </button>
            </li>
          )}
        </ul>
      </section>
      <aside className="library-side">
        <ImportPanel />
        <YoutubeForm />
        {storage && (
          <section className="panel storage" data-testid="storage-info">
            <p>{t('library.storageLocal', { size: formatBytes(storage.local) })}</p>
            {storage.usage !== undefined && storage.quota !== undefined && (
              <>
                <meter min={0} max={storage.quota} value={storage.usage} aria-label={t('library.storage', { used: formatBytes(storage.usage), quota: formatBytes(storage.quota) })} />
                <p className="muted">{t('library.storage', { used: formatBytes(storage.usage), quota: formatBytes(storage.quota) })}</p>
              </>
            )}
            {storage.persisted !== undefined && <p className="muted">{storage.persisted ? t('library.persisted') : t('library.notPersisted')}</p>}
          </section>
        )}
      </aside>
    </div>
  );
}
