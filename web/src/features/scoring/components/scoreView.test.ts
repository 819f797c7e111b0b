import { describe, expect, it } from 'vitest';
import type { ServerAssessment, StoredAssessment } from '../../../db';
import { earlierText, heardInstead, scoreView, takeIssues } from './scoreView';

const synced = { syncStatus: 'synced' as const };
const pending = { syncStatus: 'pending' as const };
const row = (fields: Partial<StoredAssessment>): StoredAssessment => ({ recordingId: 'r', attempts: 0, ...fields });
const scored = row({
  assessment: {
    id: 'a',
    recording_id: 'r',
    overall_score: 83.6,
    accuracy_score: 80,
    fluency_score: 90,
    completeness_score: 100,
    prosody_score: null,
    word_results: [],
    engine: 'builtin-hama',
    created_at: '2026-01-01T00:00:00Z',
    change_seq: 3,
  },
  scoring: { state: 'done' },
});

describe('a take’s score line', () => {
  it('shows a received score, signed in or not', () => {
    expect(scoreView(synced, scored, true)).toEqual({ kind: 'scored', overall: 83.6 });
    expect(scoreView(synced, scored, false)).toEqual({ kind: 'scored', overall: 83.6 });
  });

  it('shows why the server did not score it, also offline and signed out', () => {
    const failed = row({ scoring: { state: 'failed', code: 'scoring_unavailable', detail: 'no models' } });
    expect(scoreView(synced, failed, false)).toEqual({ kind: 'failed', code: 'scoring_unavailable', detail: 'no models' });
    expect(scoreView(synced, row({ scoring: { state: 'failed' } }), true)).toEqual({ kind: 'failed', code: 'scoring_failed', detail: '' });
  });

  it('asks to sign in when there is no score, and says a take is scored once backed up', () => {
    expect(scoreView(pending, undefined, false)).toEqual({ kind: 'signIn' });
    expect(scoreView(synced, row({ scoring: { state: 'pending' }, nextCheckAt: 1 }), false)).toEqual({ kind: 'signIn' });
    expect(scoreView(pending, undefined, true)).toEqual({ kind: 'afterBackup' });
  });

  it('says "scoring" while the server works on it or was not asked yet', () => {
    expect(scoreView(synced, undefined, true)).toEqual({ kind: 'scoring' });
    expect(scoreView(synced, row({ scoring: { state: 'pending' }, nextCheckAt: 5 }), true)).toEqual({ kind: 'scoring' });
    expect(scoreView(synced, row({ attempts: 2, nextCheckAt: 5 }), true)).toEqual({ kind: 'scoring' });
  });

  it('says when the day’s scoring allowance is used, with the time the server gave', () => {
    const waiting = row({ scoring: { state: 'pending', code: 'assessment_limit_reached', retry_at: '2026-03-02T00:00:00Z' }, nextCheckAt: 9 });
    expect(scoreView(synced, waiting, true)).toEqual({ kind: 'limit', retryAt: Date.parse('2026-03-02T00:00:00Z') });
    expect(scoreView(synced, row({ scoring: { state: 'pending', code: 'assessment_limit_reached' } }), true)).toEqual({ kind: 'limit' });
  });

  it('says there is no score when the server never scored it', () => {
    expect(scoreView(synced, row({ scoring: { state: 'none' } }), true)).toEqual({ kind: 'none' });
  });
});

describe('a score judged against an earlier text of the sentence', () => {
  const OLD = 'but wherever is ice today';
  const NEW = 'but the weather is nice today';
  const judged = (reference_text: string | null | undefined, fields: Partial<StoredAssessment> = {}) =>
    row({ ...scored, assessment: { ...scored.assessment!, reference_text }, ...fields });

  it('is current when the server judged it against the sentence as it is now', () => {
    expect(earlierText(judged(NEW), NEW)).toBeUndefined();
    expect(scoreView(synced, judged(NEW), true, NEW)).toEqual({ kind: 'scored', overall: 83.6 });
  });

  it('is stale when the server named another text, and says which', () => {
    expect(earlierText(judged(OLD), NEW)).toBe(OLD);
  });

  it('an assessment without reference_text is current unless this device knows the text it was judged against', () => {
    expect(earlierText(judged(null), NEW)).toBeUndefined();
    expect(earlierText(judged(undefined), NEW)).toBeUndefined(); // a server from before reference_text
    expect(scoreView(synced, judged(null), true, NEW)).toEqual({ kind: 'scored', overall: 83.6 });
    expect(earlierText(judged(null, { judgedText: OLD }), NEW)).toBe(OLD);
    expect(earlierText(judged(null, { judgedText: OLD }), OLD)).toBeUndefined(); // corrected back
    // The server's word wins over the device's.
    expect(earlierText(judged(NEW, { judgedText: OLD }), NEW)).toBeUndefined();
  });

  it('judges nothing without the sentence or without an assessment', () => {
    expect(earlierText(judged(OLD), undefined)).toBeUndefined();
    expect(earlierText(row({ scoring: { state: 'pending' }, judgedText: OLD }), NEW)).toBeUndefined();
    expect(scoreView(synced, judged(OLD), true)).toEqual({ kind: 'scored', overall: 83.6 });
  });

  it('says "scoring again" while the server is asked about the corrected sentence, never the old score', () => {
    // Waiting for the corrected list to be backed up…
    expect(scoreView(synced, judged(OLD, { afterBackupOf: 'm', nextCheckAt: 5 }), true, NEW)).toEqual({ kind: 'rescoring' });
    // …and polling while the server's score still names the old text.
    expect(scoreView(synced, judged(OLD, { nextCheckAt: 5, attempts: 2 }), true, NEW)).toEqual({ kind: 'rescoring' });
    // A take whose scoring had failed before the correction is scored again too.
    const failedBefore = row({ scoring: { state: 'failed', code: 'no_text' }, afterBackupOf: 'm', nextCheckAt: 5 });
    expect(scoreView(synced, failedBefore, true, NEW)).toEqual({ kind: 'rescoring' });
  });

  it('keeps the old score, marked as scored against an earlier text, when the take will not be scored again', () => {
    const waiting = judged(OLD, { afterBackupOf: 'm', nextCheckAt: 5 });
    expect(scoreView(synced, waiting, false, NEW)).toEqual({ kind: 'scoredEarlier', overall: 83.6 }); // signed out
    expect(scoreView(pending, waiting, true, NEW)).toEqual({ kind: 'scoredEarlier', overall: 83.6 }); // not backed up
    // A server that kept its score of the old text (older data: no reference_text).
    expect(scoreView(synced, judged(null, { judgedText: OLD }), true, NEW)).toEqual({ kind: 'scoredEarlier', overall: 83.6 });
  });

  it('says why the corrected sentence could not be scored', () => {
    const failed = judged(OLD, { scoring: { state: 'failed', code: 'no_text', detail: 'no words' } });
    expect(scoreView(synced, failed, true, '♪ ♪')).toEqual({ kind: 'failed', code: 'no_text', detail: 'no words' });
  });
});

describe('heardInstead', () => {
  const sound = (accuracy_score: number, alternatives?: { unit: string; score: number }[]) => ({ unit: 'n', accuracy_score, alternatives });

  it('names the sound heard in place of a wrong one', () => {
    expect(heardInstead(sound(0, [{ unit: 'h', score: 97 }, { unit: 'n', score: 2 }]))).toBe('h');
  });

  it('says nothing for a sound said well, or when the best guess is the sound itself', () => {
    expect(heardInstead(sound(85, [{ unit: 'h', score: 60 }]))).toBeUndefined();
    expect(heardInstead(sound(40, [{ unit: 'n', score: 50 }, { unit: 'h', score: 30 }]))).toBeUndefined();
  });

  it('says nothing when the server sent no alternatives (older results, other engines)', () => {
    expect(heardInstead(sound(10))).toBeUndefined();
    expect(heardInstead(sound(10, []))).toBeUndefined();
  });
});

describe('what was wrong with the recording itself', () => {
  const judged = scored.assessment as ServerAssessment;

  it('is nothing for an assessment that says nothing, or from an older server', () => {
    expect(takeIssues(judged)).toEqual([]);
    expect(takeIssues({ ...judged, take_issues: [] })).toEqual([]);
  });

  it('names each fault once, in a fixed order, leaving out ones this client cannot word', () => {
    const issues = ['clipped', 'from_the_future', 'no_speech', 'clipped'] as unknown as ServerAssessment['take_issues'];
    expect(takeIssues({ ...judged, take_issues: issues })).toEqual(['no_speech', 'clipped']);
    expect(takeIssues({ ...judged, take_issues: ['cut_off'] })).toEqual(['cut_off']);
  });
});
