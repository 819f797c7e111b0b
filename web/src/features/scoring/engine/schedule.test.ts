import { describe, expect, it } from 'vitest';
import type { ServerAssessment } from '../../../db';
import { nextCheck, nextCheckFor, retryCheck, toAnswer } from './schedule';

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

describe('scoring schedule after the learner corrects a sentence', () => {
  const OLD = 'but wherever is ice today';
  const NEW = 'but the weather is nice today';
  const judgedBy = (reference_text: string | null) => ({ assessment: { ...assessment('a', 70), reference_text }, scoring: { state: 'done' as const } });
  const context = (fields: { judged?: string; corrected?: boolean; backupPending?: boolean; sentence?: string }) => ({
    sentence: NEW,
    corrected: false,
    backupPending: false,
    ...fields,
  });

  it('a score of the current text is final', () => {
    expect(nextCheckFor(judgedBy(NEW), context({ judged: NEW }), 3, 1000, 0)).toEqual({ attempts: 0 });
    expect(nextCheckFor(judgedBy(NEW), context({ judged: NEW, corrected: true, backupPending: true }), 3, 1000, 0)).toEqual({ attempts: 0 });
  });

  it('waits, without asking, while the corrected list is not backed up (the server has the old text)', () => {
    expect(nextCheckFor(judgedBy(OLD), context({ judged: OLD, corrected: true, backupPending: true }), 2, 1000, 0)).toEqual({ attempts: 0, nextCheckAt: 1000, afterBackup: true });
    // Whatever the server says meanwhile: a failure or "pending" is about the old text too.
    const failed = { scoring: { state: 'failed' as const, code: 'no_text' } };
    expect(nextCheckFor(failed, context({ corrected: true, backupPending: true }), 0, 1000, 0)).toEqual({ attempts: 0, nextCheckAt: 1000, afterBackup: true });
    expect(nextCheckFor({ scoring: { state: 'pending' } }, context({ corrected: true, backupPending: true }), 0, 1000, 0).afterBackup).toBe(true);
  });

  it('keeps asking with the usual backoff while the server’s score names another text', () => {
    const delays = [0, 1, 2, 3, 4, 5, 6, 7].map((attempts) => nextCheckFor(judgedBy(OLD), context({ judged: OLD }), attempts, 0, 0));
    expect(delays.map((d) => d.nextCheckAt)).toEqual([250, 500, 1000, 2000, 4000, 8000, 15000, 15000]);
    expect(delays[2]).toEqual({ attempts: 3, nextCheckAt: 1000 });
    // Also when the list is queued for another reason than a correction made here (the take raced its upload).
    expect(nextCheckFor(judgedBy(OLD), context({ judged: OLD, backupPending: true }), 0, 0, 0)).toEqual({ attempts: 1, nextCheckAt: 250 });
  });

  it('once the correction reached the server: pending is asked again, a failure is final', () => {
    expect(nextCheckFor({ scoring: { state: 'pending' } }, context({ corrected: true, judged: OLD }), 0, 0, 0)).toEqual({ attempts: 1, nextCheckAt: 250 });
    expect(nextCheckFor({ scoring: { state: 'failed', code: 'no_text' } }, context({ corrected: true, judged: OLD }), 4, 0, 0)).toEqual({ attempts: 0 });
  });

  it('an assessment the server did not name a text for is final once asked after the correction reached it (older data)', () => {
    expect(nextCheckFor(judgedBy(null), context({ judged: OLD, corrected: true }), 0, 0, 0)).toEqual({ attempts: 0 });
    expect(nextCheckFor(judgedBy(null), context({}), 0, 0, 0)).toEqual({ attempts: 0 });
  });

  it('a take whose sentence is gone from the list is judged as before', () => {
    expect(nextCheckFor(judgedBy(OLD), context({ sentence: undefined, judged: OLD }), 0, 0, 0)).toEqual({ attempts: 0 });
  });
});
