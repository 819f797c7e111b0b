import { describe, expect, it } from 'vitest';
import type { LocalMaterial, StoredTranscription } from '../../../db';
import { eligibility, percentDone, transcribedCount, transcriptionView } from './transcriptionView';

type Facts = Pick<LocalMaterial, 'sourceType' | 'mediaBlobKey' | 'mediaBackup'>;
const onServer: Facts = { sourceType: 'local_upload', mediaBlobKey: 'b', mediaBackup: 'synced' };
const onDevice: Facts = { ...onServer, mediaBackup: 'device_only' };
const row = (fields: Partial<StoredTranscription>): StoredTranscription => ({ materialId: 'm', userId: 'u', requestedAt: 1, accepted: true, attempts: 0, ...fields });

describe('whether a material can be transcribed', () => {
  it('needs a signed-in learner and the media file on the server', () => {
    expect(eligibility(onServer, 'u')).toBe('ready');
    expect(eligibility(onServer, null)).toBe('signIn');
  });

  it('media kept on the device is no dead end: its sound is uploaded for the transcription', () => {
    expect(eligibility(onDevice, 'u')).toBe('withSound');
    expect(eligibility(onDevice, null)).toBe('signIn');
  });

  it('says why not: YouTube, media still uploading', () => {
    expect(eligibility({ sourceType: 'youtube' }, 'u')).toBe('noMedia');
    expect(eligibility({ sourceType: 'local_upload' }, 'u')).toBe('noMedia');
    expect(eligibility({ ...onServer, mediaBackup: 'pending' }, 'u')).toBe('uploading');
    expect(eligibility({ ...onServer, mediaBackup: undefined }, 'u')).toBe('uploading');
  });
});

describe('what the transcription panel says', () => {
  it('offers to transcribe when nothing was asked, or the server says none', () => {
    expect(transcriptionView(onServer, 'u', undefined)).toEqual({ kind: 'idle', eligibility: 'ready' });
    expect(transcriptionView(onServer, 'u', row({ status: { state: 'none' } }))).toEqual({ kind: 'idle', eligibility: 'ready' });
  });

  it('says the request waits for the server until the server took it', () => {
    expect(transcriptionView(onServer, 'u', row({ accepted: false, nextCheckAt: 5 }))).toEqual({ kind: 'requested' });
    expect(transcriptionView(onServer, 'u', row({ accepted: false, attempts: 3, nextCheckAt: 50 }))).toEqual({ kind: 'requested' });
  });

  it('media kept on the device: preparing the sound, uploading it, then asking', () => {
    const asked = row({ accepted: false, nextCheckAt: 5 });
    expect(transcriptionView(onDevice, 'u', asked)).toEqual({ kind: 'preparing' });
    const upload = { url: '/uploads/x', offset: 0, length: 4000 };
    expect(transcriptionView(onDevice, 'u', { ...asked, sound: { blobKey: 'k', size: 4000 } })).toEqual({ kind: 'uploadingSound', percent: 0, whole: false });
    expect(transcriptionView(onDevice, 'u', { ...asked, sound: { blobKey: 'k', size: 4000, upload: { ...upload, offset: 1999 } } })).toEqual({ kind: 'uploadingSound', percent: 49, whole: false });
    // The browser could not read the sound: the file itself goes up, and the panel says so.
    expect(transcriptionView(onDevice, 'u', { ...asked, sound: { size: 4000, upload: { ...upload, offset: 4000 } } })).toEqual({ kind: 'uploadingSound', percent: 100, whole: true });
    expect(transcriptionView(onDevice, 'u', { ...asked, sound: { blobKey: 'k', size: 4000, uploaded: true } })).toEqual({ kind: 'requested' });
    // Taken by the server: the usual "transcribing".
    expect(transcriptionView(onDevice, 'u', row({ status: { state: 'pending' }, nextCheckAt: 9 }))).toEqual({ kind: 'transcribing' });
    // A refusal of the upload reads like any refusal, and it can be asked again.
    const refused = row({ accepted: false, status: { state: 'failed', code: 'storage_quota_exceeded', detail: 'full' } });
    expect(transcriptionView(onDevice, 'u', refused)).toEqual({ kind: 'idle', eligibility: 'withSound', failure: { code: 'storage_quota_exceeded', detail: 'full' } });
  });

  it('says "transcribing" while the server works', () => {
    expect(transcriptionView(onServer, 'u', row({ status: { state: 'pending' }, nextCheckAt: 9 }))).toEqual({ kind: 'transcribing' });
    // Asked again after a passing problem: still transcribing.
    expect(transcriptionView(onServer, 'u', row({ status: { state: 'pending' }, attempts: 2, nextCheckAt: 9 }))).toEqual({ kind: 'transcribing' });
  });

  it('says how much of the media is done when the server tells', () => {
    const running = (progress: { done_ms: number; total_ms?: number }) => row({ status: { state: 'pending', progress }, nextCheckAt: 9 });
    expect(transcriptionView(onServer, 'u', running({ done_ms: 90_000, total_ms: 360_000 }))).toEqual({ kind: 'transcribing', percent: 25 });
    // Never 100 while pending; nothing when the length is unknown.
    expect(transcriptionView(onServer, 'u', running({ done_ms: 360_500, total_ms: 360_000 }))).toEqual({ kind: 'transcribing', percent: 99 });
    expect(transcriptionView(onServer, 'u', running({ done_ms: 90_000 }))).toStrictEqual({ kind: 'transcribing' });
    expect(percentDone({ done_ms: 0, total_ms: 0 })).toBeUndefined();
  });

  it('says when the month’s minutes are used, with the time the server gave', () => {
    const waiting = row({ status: { state: 'pending', code: 'asr_limit_reached', detail: '0 minutes left', retry_at: '2026-04-01T00:00:00Z' }, nextCheckAt: 9 });
    expect(transcriptionView(onServer, 'u', waiting)).toEqual({ kind: 'limit', retryAt: Date.parse('2026-04-01T00:00:00Z'), detail: '0 minutes left' });
    expect(transcriptionView(onServer, 'u', row({ status: { state: 'pending', code: 'asr_limit_reached' }, nextCheckAt: 9 }))).toEqual({ kind: 'limit', detail: '' });
  });

  it('shows why it failed, and whether it can be asked again', () => {
    const failed = row({ status: { state: 'failed', code: 'no_speech', detail: 'nothing heard' } });
    expect(transcriptionView(onServer, 'u', failed)).toEqual({ kind: 'idle', eligibility: 'ready', failure: { code: 'no_speech', detail: 'nothing heard' } });
    expect(transcriptionView({ ...onServer, mediaBackup: 'pending' }, 'u', failed)).toEqual({ kind: 'idle', eligibility: 'uploading', failure: { code: 'no_speech', detail: 'nothing heard' } });
    expect(transcriptionView(onServer, 'u', row({ status: { state: 'failed' } }))).toEqual({ kind: 'idle', eligibility: 'ready', failure: { code: 'transcription_failed', detail: '' } });
    // A refusal of the request (never accepted) reads the same.
    const refused = row({ accepted: false, status: { state: 'failed', code: 'asr_limit_reached', detail: '2 of 30 minutes left' } });
    expect(transcriptionView(onServer, 'u', refused)).toEqual({ kind: 'idle', eligibility: 'ready', failure: { code: 'asr_limit_reached', detail: '2 of 30 minutes left' } });
  });

  it('a done transcription that gave no sentences reads as no speech', () => {
    expect(transcriptionView(onServer, 'u', row({ status: { state: 'done', segments: 0 }, stored: 0 }))).toEqual({
      kind: 'idle',
      eligibility: 'ready',
      failure: { code: 'no_speech', detail: '' },
    });
  });

  it('signed out, or another account’s row: only the sign-in or the offer', () => {
    const pending = row({ status: { state: 'pending' }, nextCheckAt: 9 });
    expect(transcriptionView(onServer, null, pending)).toEqual({ kind: 'idle', eligibility: 'signIn' });
    expect(transcriptionView(onServer, 'other', pending)).toEqual({ kind: 'idle', eligibility: 'ready' });
    expect(transcriptionView(onServer, 'other', row({ status: { state: 'failed', code: 'no_speech' } }))).toEqual({ kind: 'idle', eligibility: 'ready' });
  });
});

describe('transcribedCount', () => {
  it('counts the segments from speech recognition only', () => {
    expect(transcribedCount([{ origin: 'asr_cloud' }, { origin: 'asr_cloud' }, { origin: 'original' }, {}])).toBe(2);
    expect(transcribedCount([])).toBe(0);
  });
});
