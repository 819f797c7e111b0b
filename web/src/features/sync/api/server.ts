/**
 * The content endpoints the backup uses (docs/api/content.md), each one
 * call of the shared API client with the signed-in token.
 */
import type { PulledChange } from '../../../db';
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

export const getMaterial = (c: ApiCall, id: string) => apiRequest<ServerMaterial>(`/materials/${path(id)}`, { token: c.token, signal: c.signal });

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

export const getRecording = (c: ApiCall, id: string) => apiRequest<ServerRecording>(`/recordings/${path(id)}`, { token: c.token, signal: c.signal });

/** Where a saved word was met, as the server takes it. */
export interface ServerVocabularyContext {
  sentence: string;
  /** The form the word was tapped in ("Running"): a word of `sentence` whose lookup key is the item's word. */
  surface?: string;
  material_id?: string;
  segment_id?: string;
  time_ms?: number;
}

/** One change of a batched push (docs/api/sync.md, "Pushing changes"). */
export interface PushChange {
  kind: 'material' | 'segment' | 'progress' | 'vocabulary_item' | 'review_log' | 'recording';
  /** `create`: a row the server has not confirmed yet, sent whole (it may follow a delete of the same id). */
  op: 'upsert' | 'create' | 'delete';
  id: string;
  /** The change's clock; review answers (an append-only set) carry none. */
  hlc?: string;
  data?: Record<string, unknown>;
}

/** The problem of a rejected change: the resource endpoints' codes, plus `clock_ahead` and `unsupported_change`. */
export interface PushProblem {
  code: string;
  detail?: string;
  field?: string;
  status?: number;
  existing_id?: string;
  [extra: string]: unknown;
}

/** The answer to one change: `change` is the row as it is now (applied, conflict: the row that won), in the pull's shape. */
export interface PushResult {
  kind: string | null;
  id: string | null;
  status: 'applied' | 'conflict' | 'rejected';
  change?: PulledChange;
  problem?: PushProblem;
}

export interface PushAnswer {
  results: PushResult[];
  server_time_ms: number;
}

/** At most this many changes per push (the server answers 413 beyond). */
export const MAX_PUSH_CHANGES = 500;

/** Sends changes in order; each is answered on its own (`results[i]` answers `changes[i]`). */
export const pushChanges = (c: ApiCall, changes: PushChange[]) =>
  apiRequest<PushAnswer>('/sync/push', { method: 'POST', body: { changes }, token: c.token, signal: c.signal, timeoutMs: 60000 });

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
