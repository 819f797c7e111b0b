/**
 * The content endpoints the backup uses (docs/api/content.md), each one
 * call of the shared API client with the signed-in token.
 */
import type { PulledChange, PulledVocabularyItem } from '../../../db';
import { ApiError, apiRequest } from '../../../lib/api';

/** The token to send and the signal that stops the runner. */
export interface ApiCall {
  token: string;
  signal?: AbortSignal;
}

export interface ServerMaterial {
  id: string;
  title: string;
  duration: number | null;
  media_size: number | null;
}

export interface NewServerMaterial {
  id: string;
  type: 'video' | 'audio';
  source_type: 'local_upload' | 'youtube';
  title: string;
  duration?: number;
  metadata: Record<string, string>;
}

export interface ServerSegment {
  id: string;
  start_time: number;
  end_time: number;
  text: string;
  translation?: string;
  /** Absent: `original`. The server's transcription made `asr_cloud` ones; sending them back keeps that. */
  origin?: 'original' | 'asr_cloud';
}

export interface ServerRecording {
  id: string;
  segment_id: string;
  audio_size: number | null;
}

export interface ServerEntitlements {
  plan: string;
  limits: { large_media_backup: boolean };
}

const path = (...parts: string[]) => parts.map(encodeURIComponent).join('/');

/** 201 created or 200 with the existing material: creating is idempotent. */
export const createMaterial = (c: ApiCall, body: NewServerMaterial) =>
  apiRequest<ServerMaterial>('/materials', { method: 'POST', body, token: c.token, signal: c.signal });

export const updateMaterial = (c: ApiCall, id: string, body: { title?: string; duration?: number }) =>
  apiRequest<ServerMaterial>(`/materials/${path(id)}`, { method: 'PATCH', body, token: c.token, signal: c.signal });

export const getMaterial = (c: ApiCall, id: string) => apiRequest<ServerMaterial>(`/materials/${path(id)}`, { token: c.token, signal: c.signal });

export const deleteMaterial = (c: ApiCall, id: string) =>
  apiRequest<undefined>(`/materials/${path(id)}`, { method: 'DELETE', token: c.token, signal: c.signal });

/**
 * Replaces the material's whole list (segments keep the client's ids). The
 * client keeps its own copy, so the server answers 204 instead of echoing it.
 */
export const putSegments = (c: ApiCall, materialId: string, segments: ServerSegment[]) =>
  apiRequest<undefined>(`/materials/${path(materialId)}/segments`, {
    method: 'PUT',
    body: { segments },
    headers: { Prefer: 'return=minimal' },
    token: c.token,
    signal: c.signal,
    timeoutMs: 60000,
  });

export const putProgress = (c: ApiCall, materialId: string, body: { last_segment_index: number; status: 'in_progress' | 'completed' }) =>
  apiRequest<unknown>(`/materials/${path(materialId)}/progress`, { method: 'PUT', body, token: c.token, signal: c.signal });

export const getRecording = (c: ApiCall, id: string) => apiRequest<ServerRecording>(`/recordings/${path(id)}`, { token: c.token, signal: c.signal });

export const deleteRecording = (c: ApiCall, id: string) =>
  apiRequest<undefined>(`/recordings/${path(id)}`, { method: 'DELETE', token: c.token, signal: c.signal });

/** Where a saved word was met, as the server takes it. */
export interface ServerVocabularyContext {
  sentence: string;
  material_id?: string;
  segment_id?: string;
  time_ms?: number;
}

/** The server's word: one shape for its endpoints and the pull. */
export type ServerVocabularyItem = PulledVocabularyItem;

export interface ServerReview {
  id: string;
  reviewed_at: string;
  rating: 1 | 2 | 3 | 4;
}

/** At most this many answers per `POST /vocabulary/{id}/reviews`. */
export const MAX_REVIEWS_PER_REQUEST = 500;

/**
 * Saves a word under the client's id (201 new, 200 the same again). The
 * same word saved under another id answers `409 word_already_saved` with
 * that id in `existing_id`.
 */
export const putVocabularyItem = (c: ApiCall, id: string, body: { word: string; language: string; context?: ServerVocabularyContext }) =>
  apiRequest<ServerVocabularyItem>(`/vocabulary/${path(id)}`, { method: 'PUT', body, token: c.token, signal: c.signal });

export const getVocabularyItem = (c: ApiCall, id: string) => apiRequest<ServerVocabularyItem>(`/vocabulary/${path(id)}`, { token: c.token, signal: c.signal });

export const deleteVocabularyItem = (c: ApiCall, id: string) =>
  apiRequest<undefined>(`/vocabulary/${path(id)}`, { method: 'DELETE', token: c.token, signal: c.signal });

/** Adds answers to a word's log (ids make it idempotent); the server derives the schedule again. */
export const postReviews = (c: ApiCall, itemId: string, reviews: ServerReview[]) =>
  apiRequest<ServerVocabularyItem>(`/vocabulary/${path(itemId)}/reviews`, { method: 'POST', body: { reviews }, token: c.token, signal: c.signal });

export interface PullPage {
  changes: PulledChange[];
  next_cursor: number;
  more: boolean;
}

/** At most this many changes per pull request (the server allows 1–1,000). */
export const PULL_PAGE_SIZE = 500;

/** Every change of the account after change number `cursor`, in order, tombstones included (docs/api/sync.md). */
export const pullChanges = (c: ApiCall, cursor: number, limit = PULL_PAGE_SIZE) =>
  apiRequest<PullPage>(`/sync/pull?cursor=${cursor}&limit=${limit}`, { token: c.token, signal: c.signal, timeoutMs: 60000 });

export const getEntitlements = (c: ApiCall) => apiRequest<ServerEntitlements>('/me/entitlements', { token: c.token, signal: c.signal });

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.status === 404;

/** `fetch` the resource, `null` when the server says 404. */
export async function orNull<T>(request: Promise<T>): Promise<T | null> {
  try {
    return await request;
  } catch (e) {
    if (isNotFound(e)) return null;
    throw e;
  }
}
