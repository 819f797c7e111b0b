import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useLiveQuery } from 'dexie-react-hooks';
import { coreVersion, formatClock, hasSubtitleImport, importSubtitlesJson } from '../../lib/core';
import { useHealth } from '../../hooks/useHealth';
import { getDb, outbox } from '../../db';

export function StatusRoute() {
  const { t } = useTranslation();
  const health = useHealth();
  const pending = useLiveQuery(() => outbox.countPending(getDb()), []);
  const [inspected, setInspected] = useState<{ name: string; json?: string; error?: string } | null>(null);
  const inspect = async (file: File | undefined) => {
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    try {
      setInspected({ name: file.name, json: importSubtitlesJson(bytes, file.name) });
    } catch (e) {
      setInspected({ name: file.name, error: e instanceof Error ? e.message : String(e) });
    }
  };
  return (
    <section className="page narrow">
      <h1>{t('status.title')}</h1>
      <dl className="facts">
        <dt>{t('status.core')}</dt>
        <dd data-testid="core-version">{coreVersion()}</dd>
        <dt>{t('status.clockSample')}</dt>
        <dd data-testid="clock-sample">{formatClock(3723456)}</dd>
        <dt>{t('status.server')}</dt>
        <dd data-testid="server-health">
          {health.state === 'online'
            ? t('status.serverOk', { version: health.health.version })
            : health.state === 'offline'
              ? t('status.serverOffline')
              : t('app.checking')}
        </dd>
        <dt>{t('status.subtitles')}</dt>
        <dd>{hasSubtitleImport() ? t('status.available') : t('status.unavailable')}</dd>
        <dt>{t('status.pending')}</dt>
        <dd data-testid="outbox-count">{pending ?? '…'}</dd>
      </dl>
      {hasSubtitleImport() && (
        <section className="panel inspector">
          <h2>{t('status.inspect')}</h2>
          <label className="field">
            <span>{t('status.inspectFile')}</span>
            <input type="file" data-testid="inspect-input" onChange={(e) => void inspect(e.target.files?.[0])} />
          </label>
          {inspected?.error && (
            <p role="alert" data-testid="inspect-error">
              {inspected.name}: {inspected.error}
            </p>
          )}
          {inspected?.json && <pre data-testid="core-json">{inspected.json}</pre>}
        </section>
      )}
    </section>
  );
}
