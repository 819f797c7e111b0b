import type { TFunction } from 'i18next';
import type { SyncProblem } from '../../../db';
import { formatBytes } from '../../../lib/format';
import { aheadMinutes, type BackupEntry } from '../hooks/overview';

const time = (ms: number) => new Date(ms).toLocaleTimeString();

/** "Material “Lesson 1”", "A take of “Lesson 1”", "Deleting a take"… */
export function describeEntry(t: TFunction, entry: BackupEntry): string {
  const { entity, group, title } = entry;
  if (group.op === 'delete')
    return entity === 'recording' ? t('backup.what.recordingDelete') : entity === 'vocabulary' ? t('backup.what.vocabularyDelete') : t('backup.what.materialDelete');
  if (title === undefined) return t('backup.what.gone');
  return t(`backup.what.${entity}`, { title });
}

/** Why a failed item was refused, from the server's problem (code, field, detail). */
export function describeFailure(t: TFunction, p: SyncProblem): string {
  const detail = p.field && !p.detail.startsWith(p.field) ? `${p.field}: ${p.detail}` : p.detail;
  switch (p.code) {
    case 'storage_quota_exceeded':
      return t('backup.why.quota', { detail });
    case 'not_media':
      return t('backup.why.notMedia', { detail });
    case 'deleted_on_server':
      return t('backup.why.deletedOnServer');
    default:
      return t('backup.why.refused', { detail: p.code && p.code !== 'validation_failed' ? `${detail} (${p.code})` : detail });
  }
}

/** Why a waiting item waits, if it is more than "in line". */
export function describeWait(t: TFunction, entry: BackupEntry): string | null {
  if (entry.blockedBy)
    return t(entry.blockedBy === 'material' ? 'backup.why.blockedMaterial' : entry.blockedBy === 'vocabulary' ? 'backup.why.blockedVocabulary' : 'backup.why.blockedSegments');
  const p = entry.group.lastError;
  if (!p) return null;
  if (p.kind === 'offline') return t('backup.why.offline');
  if (p.code === 'clock_ahead') return t('backup.why.clockAhead', { minutes: aheadMinutes(p.aheadMs ?? 0), time: time(entry.retryAt) });
  if (p.kind === 'transient') return t('backup.why.transient', { detail: p.detail || p.code, time: time(entry.retryAt) });
  return null;
}

export function describeProgress(t: TFunction, entry: BackupEntry): string | null {
  const u = entry.group.upload;
  if (!u || entry.group.status !== 'uploading') return null;
  return t('backup.progress', { done: formatBytes(u.offset), total: formatBytes(u.length) });
}
