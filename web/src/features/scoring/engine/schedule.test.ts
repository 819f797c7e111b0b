import { describe, expect, it } from 'vitest';
import type { ServerAssessment } from '../../../db';
import { nextCheck, retryCheck, toAnswer } from './schedule';

const assessment = (id: string, overall: number): ServerAssessment => ({
  id,
  recording_id: 'r',
  overall_score: overall,
  accuracy_score: null,
  fluency_score: null,
  completeness_score: null,
  prosody_score: null,
  word_results: [],
  engine: 'builtin-hama',
  created_at: '2026-01-01T00:00:00Z',
  change_seq: 1,
});

describe('scoring schedule', () => {
  it('keeps the newest assessment and the scoring state as received', () => {
    const newest = assessment('b', 90);
    expect(toAnswer({ items: [newest, assessment('a', 50)], scoring: { state: 'done' } })).toEqual({ assessment: newest, scoring: { state: 'done' } });
    expect(toAnswer({ items: [], scoring: { state: 'failed', code: 'no_text', detail: 'd' } })).toEqual({ scoring: { state: 'failed', code: 'no_text', detail: 'd' } });
  });

  it('reads a server without `scoring` from its items', () => {
    expect(toAnswer({ items: [assessment('a', 70)] }).scoring).toEqual({ state: 'done' });
    expect(toAnswer({ items: [] })).toEqual({ scoring: { state: 'none' } });
  });

  it('stops asking on done, failed and none', () => {
    for (const state of ['done', 'failed', 'none'] as const) expect(nextCheck({ scoring: { state } }, 4, 1000, 0.5)).toEqual({ attempts: 0 });
  });

  it('asks about a pending take after 0.5 s, then 1, 2, 4 … s, then every 30 s (equal jitter)', () => {
    const delays = (random: number) =>
      Array.from({ length: 9 }, (_, attempts) => nextCheck({ scoring: { state: 'pending' } }, attempts, 0, random).nextCheckAt);
    expect(delays(0.999999).map((d) => Math.round((d ?? 0) / 100) / 10)).toEqual([0.5, 1, 2, 4, 8, 16, 30, 30, 30]);
    expect(delays(0)).toEqual([250, 500, 1000, 2000, 4000, 8000, 15000, 15000, 15000]);
    expect(nextCheck({ scoring: { state: 'pending' } }, 2, 0, 0).attempts).toBe(3);
  });

  it('never asks before the server’s retry_at (the day’s allowance is used)', () => {
    const now = Date.parse('2026-03-01T22:00:00Z');
    const next = nextCheck({ scoring: { state: 'pending', code: 'assessment_limit_reached', retry_at: '2026-03-02T00:00:00Z' } }, 0, now, 0);
    expect(next.nextCheckAt).toBe(Date.parse('2026-03-02T00:00:00Z'));
    // A retry_at already past, or unreadable, leaves the backoff.
    expect(nextCheck({ scoring: { state: 'pending', retry_at: '2026-03-01T21:00:00Z' } }, 0, now, 0).nextCheckAt).toBe(now + 250);
    expect(nextCheck({ scoring: { state: 'pending', retry_at: 'soon' } }, 0, now, 0).nextCheckAt).toBe(now + 250);
  });

  it('after a passing problem backs off from 2 s, never sooner than Retry-After', () => {
    expect(retryCheck(0, 100, 0)).toEqual({ attempts: 1, nextCheckAt: 1100 });
    expect(retryCheck(1, 100, 0, 60_000)).toEqual({ attempts: 2, nextCheckAt: 60_100 });
  });
});
