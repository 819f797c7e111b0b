/**
 * What the practice page says about transcribing a material that has no
 * segments: from the material, who is signed in and the stored row.
 */
import type { LocalMaterial, LocalSegment, StoredTranscription } from '../../../db';
import { needsSound } from '../engine/schedule';

/** Whether the server could transcribe the material now, and if not, why. */
export type Eligibility =
  /** Signed in and the media file is on the server. */
  | 'ready'
  /** Signed in; the plan keeps media files on this device, so the sound is uploaded for the transcription only. */
  | 'withSound'
  | 'signIn'
  /** A YouTube video: the server has no copy of its media. */
  | 'noMedia'
  /** The media file is still being backed up. */
  | 'uploading';

export type TranscriptionView =
  /** Media kept on this device: its sound is being prepared for the upload. */
  | { kind: 'preparing' }
  /** The prepared sound is uploading (`percent` 0–100); `whole`: the media file itself, as this browser cannot read its sound. */
  | { kind: 'uploadingSound'; percent: number; whole: boolean }
  /** Asked for; the server has not taken the request yet (e.g. offline). */
  | { kind: 'requested' }
  /** The server is transcribing; `percent` of the media is done, when it says. */
  | { kind: 'transcribing'; percent?: number }
  /** This month's minutes are used; the server goes on after `retryAt` (ms). */
  | { kind: 'limit'; retryAt?: number; detail: string }
  /** Nothing under way: whether it can be asked for, and why the last one failed. */
  | { kind: 'idle'; eligibility: Eligibility; failure?: { code: string; detail: string } };

type MaterialFacts = Pick<LocalMaterial, 'sourceType' | 'mediaBlobKey' | 'mediaBackup'>;

export function eligibility(material: MaterialFacts, userId: string | null): Eligibility {
  if (!userId) return 'signIn';
  if (material.sourceType !== 'local_upload' || !material.mediaBlobKey) return 'noMedia';
  if (material.mediaBackup === 'device_only') return 'withSound';
  if (material.mediaBackup !== 'synced') return 'uploading';
  return 'ready';
}

/**
 * `userId`: the signed-in account (null signed out). A row of another
 * account belongs to that account's copy on the server and is not shown.
 */
export function transcriptionView(material: MaterialFacts, userId: string | null, row: StoredTranscription | undefined): TranscriptionView {
  const can = eligibility(material, userId);
  const own = userId && row?.userId === userId ? row : undefined;
  if (own && own.nextCheckAt !== undefined) {
    if (!own.accepted) {
      const sound = own.sound;
      if (!needsSound(material) || sound?.uploaded) return { kind: 'requested' };
      if (!sound) return { kind: 'preparing' };
      const percent = sound.upload ? Math.min(100, Math.floor((sound.upload.offset / Math.max(1, sound.upload.length)) * 100)) : 0;
      return { kind: 'uploadingSound', percent, whole: !sound.blobKey };
    }
    const status = own.status;
    if (status?.state === 'pending' && status.code === 'asr_limit_reached') {
      const retryAt = status.retry_at ? Date.parse(status.retry_at) : NaN;
      return { kind: 'limit', detail: status.detail ?? '', ...(Number.isFinite(retryAt) ? { retryAt } : {}) };
    }
    const percent = percentDone(status?.progress);
    return percent === undefined ? { kind: 'transcribing' } : { kind: 'transcribing', percent };
  }
  const status = own?.status;
  if (status?.state === 'failed') return { kind: 'idle', eligibility: can, failure: { code: status.code ?? 'transcription_failed', detail: status.detail ?? '' } };
  // Done, yet nothing became the list here: the server heard no sentences.
  if (status?.state === 'done' && own?.stored === 0 && !status.segments) return { kind: 'idle', eligibility: can, failure: { code: 'no_speech', detail: '' } };
  return { kind: 'idle', eligibility: can };
}

/** Whole percent of the media transcribed (0–99: done is its own state), when the server knows the length. */
export function percentDone(progress: { done_ms: number; total_ms?: number } | undefined): number | undefined {
  if (!progress?.total_ms || progress.total_ms <= 0) return undefined;
  return Math.min(99, Math.max(0, Math.floor((progress.done_ms / progress.total_ms) * 100)));
}

/** How many of the material's segments came from the server's speech recognition. */
export function transcribedCount(segments: readonly Pick<LocalSegment, 'origin'>[]): number {
  return segments.filter((s) => s.origin === 'asr_cloud').length;
}

/** The failure codes with their own wording (docs/api/content.md); others show the server's detail. */
export const FAILURE_CODES = [
  'transcription_unavailable',
  'unreadable_audio',
  'no_speech',
  'media_not_stored',
  'material_has_segments',
  'asr_limit_reached',
  'transcription_failed',
  'not_found',
  'no_sound',
  'not_media',
  'storage_quota_exceeded',
] as const;
