import { describe, expect, it } from 'vitest';
import { ApiError, OfflineError } from '../../../lib/api';
import { isPassingProblem, nextCheck, refusalStatus, retryCheck } from './schedule';

const problem = (status: number, code: string, detail = '') => new ApiError({ status, code, detail });

describe('transcription schedule', () => {
  it('stops asking once the server says done, failed or none', () => {
    for (const state of ['done', 'failed', 'none'] as const) expect(nextCheck({ state }, 5, 1000, 0.5)).toEqual({ attempts: 0 });
  });

  it('asks about a pending transcription after 1 s, then 2, 4 … s, then every 30 s (equal jitter)', () => {
    const delays = (random: number) => Array.from({ length: 8 }, (_, attempts) => nextCheck({ state: 'pending' }, attempts, 0, random).nextCheckAt);
    expect(delays(0.999999).map((d) => Math.round((d ?? 0) / 1000))).toEqual([1, 2, 4, 8, 16, 30, 30, 30]);
    expect(delays(0)).toEqual([500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
    expect(nextCheck({ state: 'pending' }, 3, 0, 0).attempts).toBe(4);
  });

  it('never asks before the server’s retry_at (a month whose minutes are used)', () => {
    const now = Date.parse('2026-03-31T12:00:00Z');
    const waiting = { state: 'pending' as const, code: 'asr_limit_reached', retry_at: '2026-04-01T00:00:00Z' };
    expect(nextCheck(waiting, 0, now, 0.5).nextCheckAt).toBe(Date.parse('2026-04-01T00:00:00Z'));
    // A retry_at already past, or one that cannot be read, leaves the backoff alone.
    expect(nextCheck({ ...waiting, retry_at: '2026-03-01T00:00:00Z' }, 0, now, 0).nextCheckAt).toBe(now + 500);
    expect(nextCheck({ ...waiting, retry_at: 'soon' }, 0, now, 0).nextCheckAt).toBe(now + 500);
  });

  it('after a passing problem backs off from 2 s, never sooner than Retry-After', () => {
    expect(retryCheck(0, 100, 0)).toEqual({ attempts: 1, nextCheckAt: 1100 });
    expect(retryCheck(2, 100, 0.999999)).toEqual({ attempts: 3, nextCheckAt: 8100 });
    expect(retryCheck(1, 100, 0, 60_000)).toEqual({ attempts: 2, nextCheckAt: 60_100 });
  });
});

describe('what the server’s refusals mean', () => {
  it('keeps each refusal of the request as a failure with its code and detail', () => {
    expect(refusalStatus(problem(409, 'media_not_stored', 'the media is not stored'))).toEqual({ state: 'failed', code: 'media_not_stored', detail: 'the media is not stored' });
    expect(refusalStatus(problem(409, 'material_has_segments'))).toEqual({ state: 'failed', code: 'material_has_segments' });
    expect(refusalStatus(problem(403, 'asr_limit_reached', '3 of 30 minutes left'))).toEqual({ state: 'failed', code: 'asr_limit_reached', detail: '3 of 30 minutes left' });
    expect(refusalStatus(problem(404, 'not_found'))).toEqual({ state: 'failed', code: 'not_found' });
  });

  it('reads 503 transcription_unavailable as the server’s answer, other 503s as passing', () => {
    const off = problem(503, 'transcription_unavailable', 'no Whisper model');
    expect(refusalStatus(off)).toEqual({ state: 'failed', code: 'transcription_unavailable', detail: 'no Whisper model' });
    expect(refusalStatus(problem(503, 'not_ready'))).toBeNull();
    expect(isPassingProblem(problem(503, 'not_ready'))).toBe(true);
  });

  it('any other refusal (4xx) is kept too, so no request fails silently', () => {
    expect(refusalStatus(problem(422, 'validation_failed', 'language: not a language tag'))).toEqual({ state: 'failed', code: 'validation_failed', detail: 'language: not a language tag' });
    expect(refusalStatus(problem(400, 'bad_request'))).toEqual({ state: 'failed', code: 'bad_request' });
  });

  it('a lost session, passing problems and an unreachable server are not refusals', () => {
    for (const status of [401, 408, 423, 425, 429, 500, 502]) expect(refusalStatus(problem(status, 'x'))).toBeNull();
    expect(refusalStatus(new OfflineError())).toBeNull();
    expect(refusalStatus(new Error('IndexedDB failed'))).toBeNull();
  });

  it('retries 5xx, 408, 423, 425, 429; not refusals, and not an unreachable server', () => {
    for (const status of [500, 502, 408, 423, 425, 429]) expect(isPassingProblem(problem(status, 'x'))).toBe(true);
    for (const status of [400, 401, 403, 409, 422]) expect(isPassingProblem(problem(status, 'x'))).toBe(false);
    expect(isPassingProblem(problem(503, 'transcription_unavailable'))).toBe(false);
    expect(isPassingProblem(new OfflineError())).toBe(false);
  });
});
