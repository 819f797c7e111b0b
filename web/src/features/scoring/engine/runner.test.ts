import 'fake-indexeddb/auto';
import { readFileSync } from 'node:fs';
import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { EcholoopDb, setDb } from '../../../db/database';
import * as assessments from '../../../db/repositories/assessments';
import * as auth from '../../../db/repositories/auth';
import * as materials from '../../../db/repositories/materials';
import * as recordings from '../../../db/repositories/recordings';
import type { LocalRecording, ServerAssessment, ServerScoring, StoredAssessment } from '../../../db/schema';
// The real upload path puts the take on the server (a test may reach into another feature's engine).
import { runOnce } from '../../sync/engine/runner';
import { FakeLocks } from '../../../test/fakeLocks';
import { SPOKEN_TEXT } from '../../../test/globalSetup';
import { connect, FaultProxy, registerUser, signIn as saveSignIn, type TestUser } from '../../../test/realServer';
import { waitUntil } from '../../../test/waitUntil';
import { runScoringPass, type ScoringPassResult } from './runner';
import { SCORING_LOCK, ScoringScheduler } from './scheduler';
import { earlierText, scoreView } from '../components/scoreView';

const TONE = new Uint8Array(readFileSync(inject('media').take));
const SPOKEN = new Uint8Array(readFileSync(inject('media').spokenTake));
const MEDIA = new Uint8Array(readFileSync(inject('media').lesson));

let db: EcholoopDb;
let proxy: FaultProxy;
let base: string;
let me: TestUser;
let n = 0;
const started: ScoringScheduler[] = [];

async function useServer(which: 'server' | 'scoringServer') {
  await proxy?.close();
  ({ proxy, server: base } = await connect(which));
  me = await registerUser(base);
}

beforeEach(async () => {
  db = new EcholoopDb(`scoring-test-${Date.now()}-${n++}`);
  await db.open();
  setDb(db);
  await useServer('server');
});

afterEach(async () => {
  started.splice(0).forEach((s) => s.stop());
  await new Promise((r) => setTimeout(r, 50)); // let a pass in flight notice the stop
  vi.unstubAllGlobals();
  await proxy.close();
  db.close();
  await Dexie.delete(db.name);
});

const signIn = (token?: string) => saveSignIn(db, me, token);

/** What the server says about a take, read directly (not through the proxy). */
async function serverView(recordingId: string): Promise<{ items: ServerAssessment[]; scoring: ServerScoring }> {
  const res = await fetch(`${base}/api/v1/recordings/${recordingId}/assessments`, { headers: { Authorization: `Bearer ${me.token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as { items: ServerAssessment[]; scoring: ServerScoring };
}

/** A material (8 s) whose one segment says `text`, and a take of it. */
async function takeOf(text: string, audio: Uint8Array<ArrayBuffer>): Promise<LocalRecording> {
  const m = await materials.createLocalMaterial(db, {
    title: 'Lesson',
    type: 'audio',
    media: new Blob([MEDIA], { type: 'audio/ogg' }),
    fileName: 'lesson.ogg',
    durationMs: 8000,
    segments: [{ startTime: 0, endTime: 3000, text }],
  });
  const [segment] = await materials.listSegments(db, m.id);
  return recordings.addRecording(db, { segmentId: segment!.id, materialId: m.id, blob: new Blob([audio], { type: 'audio/ogg' }), duration: 2000 });
}

/** Signs in and backs the take up through the backup engine (which marks it synced). */
async function backUp(): Promise<void> {
  if (!(await auth.getSession(db))) await signIn();
  expect(await runOnce({ db, signal: new AbortController().signal, random: () => 0, planTtlMs: 0 })).toEqual({ kind: 'idle' });
}

const askedAbout = (id: string) => proxy.count('GET', new RegExp(`/recordings/${id}/assessments$`));

function pass(options: { skip?: Set<string>; now?: () => number } = {}): Promise<ScoringPassResult> {
  return runScoringPass({ db, signal: new AbortController().signal, skip: options.skip ?? new Set(), now: options.now, random: () => 0 });
}

const problem = (status: number, code: string, headers: Record<string, string> = {}) => ({
  status,
  headers,
  body: { type: 'about:blank', title: code, status, code, detail: code },
});

const spokenWords = (a: ServerAssessment | undefined) =>
  (a?.word_results ?? []).filter((w) => w.error_type !== 'Insertion').map((w) => w.word.toLowerCase().replace(/[^a-z]/g, ''));

/**
 * Runs passes (waiting as each says) until one is idle; after each, `check`
 * sees the stored row. Returns the passes' results.
 */
async function settle(takeId: string, check: (row: StoredAssessment | undefined) => void = () => {}, ms = 100_000): Promise<ScoringPassResult[]> {
  const results: ScoringPassResult[] = [];
  const end = Date.now() + ms;
  for (;;) {
    const result = await pass();
    results.push(result);
    check(await assessments.getAssessment(db, takeId));
    if (result.kind === 'idle') return results;
    expect(result.kind).toBe('waiting');
    if (Date.now() > end) throw new Error(`not settled in time: ${JSON.stringify(await assessments.getAssessment(db, takeId))}`);
    if (result.kind === 'waiting') await waitUntil(result.until);
  }
}

/** The learner corrects the take's sentence (the repository the practice page uses). */
const correct = (take: LocalRecording, text: string) => materials.editSegmentText(db, take.materialId, take.segmentId, text);

describe('scoring fetcher (against the real server)', () => {
  it('asks nothing signed out or about takes not backed up yet', async () => {
    await takeOf('hello there', TONE);
    expect(await pass()).toEqual({ kind: 'signedOut' });
    await signIn();
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(proxy.log).toHaveLength(0);
  });

  it('polls a backed-up take while the server scores it, then stores its assessment as received and stops', { timeout: 120_000 }, async () => {
    await useServer('scoringServer');
    const take = await takeOf(SPOKEN_TEXT, SPOKEN);
    await backUp();
    const results: ScoringPassResult[] = [];
    const end = Date.now() + 100_000;
    for (;;) {
      const result = await pass();
      results.push(result);
      if (result.kind === 'idle') break;
      expect(result.kind).toBe('waiting');
      if (Date.now() > end) throw new Error(`not scored in time: ${JSON.stringify(await assessments.getAssessment(db, take.id))}`);
      if (result.kind === 'waiting') await waitUntil(result.until);
    }
    const stored = await assessments.getAssessment(db, take.id);
    const onServer = await serverView(take.id);
    expect(onServer.scoring).toEqual({ state: 'done' });
    expect(stored).toMatchObject({ recordingId: take.id, scoring: { state: 'done' }, attempts: 0 });
    expect(stored?.nextCheckAt).toBeUndefined();
    expect(stored?.assessment).toEqual(onServer.items[0]);
    const words = stored!.assessment!.word_results.filter((w) => w.error_type !== 'Insertion').map((w) => w.word.toLowerCase().replace(/[^a-z]/g, ''));
    expect(words).toEqual(['the', 'weather', 'is', 'nice', 'today']);
    expect(stored!.assessment!.overall_score).toBeGreaterThan(0);
    // One ask per pass until done; none after.
    const asked = askedAbout(take.id);
    expect(asked).toBe(results.length);
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(askedAbout(take.id)).toBe(asked);
  });

  it('a server that does not score says `none`: stored, final, not asked again', async () => {
    const take = await takeOf('hello there', TONE);
    await backUp();
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(await assessments.getAssessment(db, take.id)).toMatchObject({ scoring: { state: 'none' }, attempts: 0 });
    expect((await assessments.getAssessment(db, take.id))?.assessment).toBeUndefined();
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(askedAbout(take.id)).toBe(1);
  });

  it('a take the server does not have (404) is final: no score, never asked again', async () => {
    const take = await takeOf('hello there', TONE);
    await signIn();
    await db.recordings.update(take.id, { syncStatus: 'synced' }); // marked backed up, never uploaded
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(askedAbout(take.id)).toBe(1);
    const row = await assessments.getAssessment(db, take.id);
    expect(row).toMatchObject({ scoring: { state: 'none' }, attempts: 0 });
    expect(row?.assessment).toBeUndefined();
    expect(row?.nextCheckAt).toBeUndefined();
  });

  it('server unreachable: the pass ends quietly and records nothing', async () => {
    const take = await takeOf('hello there', TONE);
    await backUp();
    proxy.rule(() => 'offline');
    expect(await pass()).toEqual({ kind: 'offline' });
    expect(await assessments.getAssessment(db, take.id)).toBeUndefined();
  });

  it('a passing problem (503, 429 with Retry-After) asks again later with backoff', async () => {
    const take = await takeOf('hello there', TONE);
    await backUp();
    let clock = 1_000_000;
    const now = () => clock;
    proxy.rule((req) => (req.path.endsWith('/assessments') ? problem(503, 'unavailable_for_now') : 'pass'));
    expect(await pass({ now })).toEqual({ kind: 'waiting', until: clock + 1000 });
    expect(await assessments.getAssessment(db, take.id)).toEqual({ recordingId: take.id, attempts: 1, nextCheckAt: clock + 1000 });
    expect(await pass({ now })).toEqual({ kind: 'waiting', until: clock + 1000 }); // not due yet: nothing asked
    expect(askedAbout(take.id)).toBe(1);

    clock += 1000;
    proxy.clearRules();
    proxy.rule((req) => (req.path.endsWith('/assessments') ? problem(429, 'rate_limited', { 'Retry-After': '30' }) : 'pass'));
    expect(await pass({ now })).toEqual({ kind: 'waiting', until: clock + 30_000 });
    expect(await assessments.getAssessment(db, take.id)).toMatchObject({ attempts: 2, nextCheckAt: clock + 30_000 });

    clock += 30_000;
    proxy.clearRules();
    expect(await pass({ now })).toEqual({ kind: 'idle' });
    expect(await assessments.getAssessment(db, take.id)).toMatchObject({ scoring: { state: 'none' }, attempts: 0 });
  });

  it('a session the server no longer knows (401) is forgotten', async () => {
    await takeOf('hello there', TONE);
    await backUp();
    await signIn('not-a-valid-token');
    expect(await pass()).toEqual({ kind: 'signedOut' });
    expect(await auth.getSession(db)).toBeNull();
    expect(await db.assessments.count()).toBe(0);
  });
});

describe('scoring fetcher after the learner corrects a sentence (against the real server)', () => {
  const MISHEARD = 'The weather is ice today.';

  it('waits for the corrected sentence to be backed up, then asks until the server’s new score names the corrected text', { timeout: 180_000 }, async () => {
    await useServer('scoringServer');
    const take = await takeOf(MISHEARD, SPOKEN);
    await backUp();
    await settle(take.id);
    const first = (await assessments.getAssessment(db, take.id))!;
    expect(first.assessment?.reference_text).toBe(MISHEARD);
    expect(spokenWords(first.assessment)).toEqual(['the', 'weather', 'is', 'ice', 'today']);
    const asked = askedAbout(take.id);

    await correct(take, SPOKEN_TEXT);
    // The server still has the old text: nobody asks it until the correction is backed up.
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(askedAbout(take.id)).toBe(asked);
    const waiting = (await assessments.getAssessment(db, take.id))!;
    expect(scoreView({ syncStatus: 'synced' }, waiting, true, SPOKEN_TEXT)).toEqual({ kind: 'rescoring' });

    const [lists, pushes] = [proxy.count('PUT', /segments$/), proxy.count('POST', /\/sync\/push$/)];
    await backUp();
    // The sentence went up alone, in the batched push.
    expect([proxy.count('PUT', /segments$/), proxy.count('POST', /\/sync\/push$/)]).toEqual([lists, pushes + 1]);
    // From here on a stored row is either still asked about or judged against the corrected text: never an old score as final.
    await settle(take.id, (row) => {
      expect(row?.nextCheckAt !== undefined || row?.assessment?.reference_text === SPOKEN_TEXT).toBe(true);
    });
    const stored = (await assessments.getAssessment(db, take.id))!;
    const onServer = await serverView(take.id);
    expect(onServer.scoring).toEqual({ state: 'done' });
    expect(stored.assessment).toEqual(onServer.items[0]);
    expect(stored.assessment?.id).toBe(first.assessment?.id); // the server replaced its assessment, same id
    expect(stored.assessment?.reference_text).toBe(SPOKEN_TEXT);
    expect(spokenWords(stored.assessment)).toEqual(['the', 'weather', 'is', 'nice', 'today']);
    expect(stored).toMatchObject({ scoring: { state: 'done' }, attempts: 0 });
    expect(stored.nextCheckAt).toBeUndefined();
    expect(stored.afterBackupOf).toBeUndefined();
    expect(scoreView({ syncStatus: 'synced' }, stored, true, SPOKEN_TEXT)).toEqual({ kind: 'scored', overall: stored.assessment!.overall_score });
    // Not asked again.
    const total = askedAbout(take.id);
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(askedAbout(take.id)).toBe(total);
  });

  it('a correction the server cannot score ends with its reason; the old score stays, marked as judged against the earlier text', { timeout: 180_000 }, async () => {
    await useServer('scoringServer');
    const take = await takeOf(SPOKEN_TEXT, SPOKEN);
    await backUp();
    await settle(take.id);
    await correct(take, '♪ ♪ ♪');
    await backUp();
    await settle(take.id);
    const stored = (await assessments.getAssessment(db, take.id))!;
    expect((await serverView(take.id)).scoring).toMatchObject({ state: 'failed', code: 'no_text' });
    expect(stored.scoring).toMatchObject({ state: 'failed', code: 'no_text' });
    expect(stored.nextCheckAt).toBeUndefined();
    expect(stored.assessment?.reference_text).toBe(SPOKEN_TEXT);
    expect(earlierText(stored, '♪ ♪ ♪')).toBe(SPOKEN_TEXT);
    expect(scoreView({ syncStatus: 'synced' }, stored, true, '♪ ♪ ♪')).toMatchObject({ kind: 'failed', code: 'no_text' });
  });

  it('a score the server did not name a text for (posted by a client) is asked about once after the correction reached the server, then kept as an earlier text’s', async () => {
    const take = await takeOf('hello there', TONE);
    await backUp();
    const posted = await fetch(`${base}/api/v1/recordings/${take.id}/assessments`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${me.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        id: crypto.randomUUID(),
        overall_score: 64,
        word_results: [
          { word: 'hello', accuracy_score: 70, error_type: 'None', offset_ms: 0, duration_ms: 400 },
          { word: 'there', accuracy_score: 58, error_type: 'Mispronunciation', offset_ms: 400, duration_ms: 400 },
        ],
      }),
    });
    expect(posted.status).toBe(201);
    expect(await pass()).toEqual({ kind: 'idle' });
    expect((await assessments.getAssessment(db, take.id))?.assessment?.reference_text ?? null).toBeNull();
    expect(askedAbout(take.id)).toBe(1);

    await correct(take, 'hello there, friend');
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(askedAbout(take.id)).toBe(1);
    await backUp();
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(await pass()).toEqual({ kind: 'idle' });
    expect(askedAbout(take.id)).toBe(2);
    const stored = (await assessments.getAssessment(db, take.id))!;
    expect(stored).toMatchObject({ judgedText: 'hello there', attempts: 0, assessment: { overall_score: 64 } });
    expect(stored.nextCheckAt).toBeUndefined();
    expect(scoreView({ syncStatus: 'synced' }, stored, true, 'hello there, friend')).toEqual({ kind: 'scoredEarlier', overall: 64 });
  });
});

describe('scoring scheduler (against the real server)', () => {
  async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 10_000) {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  function scheduler(locks: FakeLocks, passes: ScoringPassResult[]) {
    const s = new ScoringScheduler({ db, locks: locks as unknown as LockManager, events: null, random: () => 0, onPass: (r) => passes.push(r) });
    started.push(s);
    s.start();
    return s;
  }

  it('one tab asks; a newly backed-up take wakes it; when it closes the next tab takes over', async () => {
    const locks = new FakeLocks();
    const passesA: ScoringPassResult[] = [];
    const passesB: ScoringPassResult[] = [];
    const first = await takeOf('hello there', TONE);
    await backUp();
    const a = scheduler(locks, passesA);
    scheduler(locks, passesB);
    await waitFor(async () => (await assessments.getAssessment(db, first.id))?.scoring?.state === 'none', 'first take answered');
    expect(passesB).toEqual([]);

    const second = await takeOf('good morning', TONE);
    await backUp();
    await waitFor(async () => (await assessments.getAssessment(db, second.id))?.scoring?.state === 'none', 'second take answered');
    expect(passesB).toEqual([]);

    a.stop();
    const third = await takeOf('good night', TONE);
    await backUp();
    await waitFor(async () => (await assessments.getAssessment(db, third.id))?.scoring?.state === 'none', 'the other tab answers');
    // The answer is stored inside the pass; the pass is counted when it returns.
    await waitFor(() => passesB.length > 0, 'the other tab’s pass ends');
    expect([first, second, third].map((t) => askedAbout(t.id))).toEqual([1, 1, 1]);
  });

  it('a corrected sentence being backed up wakes it, and it fetches the new score', { timeout: 180_000 }, async () => {
    await useServer('scoringServer');
    const take = await takeOf('The weather is ice today.', SPOKEN);
    await backUp();
    const passes: ScoringPassResult[] = [];
    scheduler(new FakeLocks(), passes);
    await waitFor(async () => (await assessments.getAssessment(db, take.id))?.scoring?.state === 'done', 'first score', 100_000);
    const asked = askedAbout(take.id);
    await correct(take, SPOKEN_TEXT);
    await new Promise((r) => setTimeout(r, 1000));
    expect(askedAbout(take.id)).toBe(asked); // the server has the old text until the backup
    // Only the backup runs now: the list going up is what wakes the fetcher.
    await backUp();
    await waitFor(async () => (await assessments.getAssessment(db, take.id))?.assessment?.reference_text === SPOKEN_TEXT, 'the new score', 100_000);
    expect((await assessments.getAssessment(db, take.id))?.nextCheckAt).toBeUndefined();
  });

  it('uses a lock of its own, so an upload in progress does not hold scores back', () => {
    expect(SCORING_LOCK).toBe('echoloop-scoring');
  });
});
