import { useId, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Notice, type NoticeMessage } from '../../../components/Notice';
import { addYoutube, BadYoutubeUrlError } from '../api/importMaterial';

export function YoutubeForm() {
  const { t } = useTranslation();
  const id = useId();
  const [url, setUrl] = useState('');
  const [message, setMessage] = useState<NoticeMessage | null>(null);
  const onSubmit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const m = await addYoutube(url);
      setMessage({ kind: 'success', text: t('importer.youtubeDone', { id: m.externalId }) });
      setUrl('');
    } catch (err) {
      setMessage({
        kind: 'error',
        text: err instanceof BadYoutubeUrlError ? t('importer.youtubeBad') : t('errors.generic', { reason: String(err) }),
      });
    }
  };
  return (
    <section className="panel" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>{t('importer.youtubeTitle')}</h2>
      <form onSubmit={(e) => void onSubmit(e)} className="inline-form">
        <label className="field grow">
          <span>{t('importer.youtubeUrl')}</span>
          <input type="url" inputMode="url" value={url} onChange={(e) => setUrl(e.target.value)} data-testid="youtube-input" placeholder="https://www.youtube.com/watch?v=…" required />
        </label>
        <button type="submit" className="btn" data-testid="youtube-submit">
          {t('importer.youtubeAdd')}
        </button>
      </form>
      <Notice message={message} onClose={() => setMessage(null)} closeLabel={t('help.close')} />
    </section>
  );
}
