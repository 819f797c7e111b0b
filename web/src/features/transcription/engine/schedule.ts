/**
 * Pure rules of the transcription fetcher: what the server's answers mean
 * for a material's row, and when to ask again.
 */
import type { LocalMaterial, ServerTranscription } from '../../../db';
import type { NextCheck } from '../../../db/repositories/transcriptions';
import { ApiError } from '../../../lib/api';
import { backoffDelay, type BackoffPolicy } from '../../../lib/backoff';

/**
 * Whisper needs about a tenth of the media's length: a short clip is done
 * in seconds, a film in minutes. Ask after 1 s, 2, 4 … then every 30 s
 * (equal jitter), never before the server's `retry_at`.
 */
export const POLL_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 30 * 1000 };

/** A server in trouble (5xx, 429, …) is given more room: 2 s, 4 s … 30 s. */
export const PROBLEM_BACKOFF: BackoffPolicy = { baseMs: 2000, capMs: 30 * 1000 };

/** 5xx and these are passing problems: asked again with backoff. */
const RETRYABLE = new Set([408, 423, 425, 429]);

/**
 * The server's refusals (docs/api/content.md): `404 not_found`, `409
 * media_not_stored` / `material_has_segments`, `403 asr_limit_reached`,
 * `422` (a language it does not take), and `503 transcription_unavailable`
 * — a 503 that is the server's answer, not a passing problem. Every 4xx but
 * 401 and the passing ones counts, so no refusal leaves the learner waiting.
 */
function isRefusal(e: ApiError): boolean {
  if (e.status === 503) return e.code === 'transcription_unavailable';
  return e.status >= 400 && e.status < 500 && e.status !== 401 && !RETRYABLE.has(e.status);
}

/**
 * A refusal as the material's final status (`failed` with the problem's
 * code and detail), so the learner reads why instead of waiting; null when
 * the error is something else.
 */
export function refusalStatus(e: unknown): ServerTranscription | null {
  if (!(e instanceof ApiError) || !isRefusal(e)) return null;
  return { state: 'failed', code: e.code, ...(e.detail ? { detail: e.detail } : {}) };
}

export function isPassingProblem(e: unknown): e is ApiError {
  return e instanceof ApiError && !isRefusal(e) && (e.status >= 500 || RETRYABLE.has(e.status));
}

/**
 * Whether to ask again and when, after a status; `attempts` counts the
 * asks so far without a final answer (this one not included). Only
 * `pending` is asked again (`done`, `failed` and `none` are final), never
 * before `retry_at` (a month whose minutes are used waits for the next).
 */
export function nextCheck(status: ServerTranscription, attempts: number, now: number, random: number): NextCheck {
  if (status.state !== 'pending') return { attempts: 0 };
  const tries = attempts + 1;
  const notBefore = status.retry_at ? Date.parse(status.retry_at) : NaN;
  const floor = Number.isFinite(notBefore) ? Math.max(0, notBefore - now) : 0;
  return { attempts: tries, nextCheckAt: now + backoffDelay(tries, POLL_BACKOFF, random, floor) };
}

/** After a passing problem (5xx, 429, …): back off, never sooner than the server's Retry-After. */
export function retryCheck(attempts: number, now: number, random: number, retryAfterMs = 0): Required<NextCheck> {
  const tries = attempts + 1;
  return { attempts: tries, nextCheckAt: now + backoffDelay(tries, PROBLEM_BACKOFF, random, retryAfterMs) };
}

/**
 * Whether the sound goes up before the request: a file material whose
 * media is not on the server (the plan keeps it on this device).
 */
export function needsSound(material: Pick<LocalMaterial, 'sourceType' | 'mediaBlobKey' | 'mediaBackup'>): boolean {
  return material.sourceType === 'local_upload' && Boolean(material.mediaBlobKey) && material.mediaBackup !== 'synced';
}
