import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EcholoopDb, setDb } from '../../../db/database';
import * as materials from '../../../db/repositories/materials';
import * as outbox from '../../../db/repositories/outbox';
import * as vocabulary from '../../../db/repositories/vocabulary';
import { connect, FaultProxy, registerUser, signIn as saveSignIn, type TestUser } from '../../../test/realServer';
import type { PushChange } from '../api/server';
import { runOnce } from './runner';

let db: EcholoopDb;
let proxy: FaultProxy;
let base: string;
let me: TestUser;
let n = 0;
/** The bodies of the pushes sent, in order. */
let pushes: PushChange[][];

beforeEach(async () => {
  db = new EcholoopDb(`vocab-sync-test-${Date.now()}-${n++}`);
  await db.open();
  setDb(db);
  ({ proxy, server: base } = await connect('server'));
  me = await registerUser(base);
  await saveSignIn(db, me);
  pushes = [];
  proxy.rule((req, body) => {
    if (req.method === 'POST' && req.path === '/api/v1/sync/push') pushes.push((JSON.parse(body.toString()) as { changes: PushChange[] }).changes);
    return 'pass';
  });
});

afterEach(async () => {
  vi.unstubAllGlobals();
  await proxy.close();
  db.close();
  await Dexie.delete(db.name);
});

const run = (signal = new AbortController().signal) => runOnce({ db, signal, random: () => 0, planTtlMs: 0 });

/** The server as the user sees it, bypassing the proxy. */
async function serverItem(id: string): Promise<Record<string, unknown> | null> {
  const res = await fetch(`${base}/api/v1/vocabulary/${id}`, { headers: { Authorization: `Bearer ${me.token}` } });
  if (res.status === 404) return null;
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

async function lessonWithWord(word = 'house') {
  const m = await materials.createLocalMaterial(db, {
    title: 'Lesson',
    type: 'audio',
    media: new Blob([new Uint8Array(8)], { type: 'audio/ogg' }),
    fileName: 'lesson.ogg',
    durationMs: 8000,
    segments: [{ startTime: 0, endTime: 2000, text: `The ${word} is big.` }],
  });
  const [segment] = await materials.listSegments(db, m.id);
  const { item } = await vocabulary.saveWord(db, {
    word,
    surface: word,
    language: 'en',
    context: { sentence: segment!.text, materialId: m.id, segmentId: segment!.id, timeMs: 0 },
  });
  return { m, segment: segment!, item };
}

const T = Date.now() - 3 * 24 * 60 * 60 * 1000;

describe('backing up saved words and their reviews (against the real server)', () => {
  it('puts the word after its material and segments, then its answers, and the server derives the same schedule', async () => {
    const { m, segment, item } = await lessonWithWord();
    await vocabulary.recordReview(db, item.id, 3, T);
    const local = await vocabulary.recordReview(db, item.id, 2, T + 2 * 24 * 60 * 60 * 1000);
    expect(await run()).toEqual({ kind: 'idle' });

    // The material in the first batch, its list on its own endpoint, then the word and its answers in the next batch.
    const order = proxy.log.filter((r) => r.method !== 'GET' && r.method !== 'HEAD').map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, ':id')}`);
    expect(order.slice(0, 3)).toEqual(['POST /api/v1/sync/push', 'PUT /api/v1/materials/:id/segments', 'POST /api/v1/sync/push']);
    expect(pushes[0]!.map((c) => c.kind)).toEqual(['material']);
    expect(pushes[1]!.map((c) => c.kind)).toEqual(['vocabulary_item', 'review_log', 'review_log']);

    const server = await serverItem(item.id);
    expect(server).toMatchObject({
      id: item.id,
      word: 'house',
      language: 'en',
      reviews: 2,
      lapses: 0,
      status: local!.status,
      context: { sentence: 'The house is big.', material_id: m.id, segment_id: segment.id, time_ms: 0 },
    });
    expect(Date.parse(String(server!.next_review_at))).toBe(local!.nextReviewAt);
    expect(await db.vocabulary.get(item.id)).toMatchObject({ serverId: item.id, syncStatus: 'synced' });
    expect((await db.reviewLogs.toArray()).map((l) => l.syncStatus)).toEqual(['synced', 'synced']);
    expect(await db.outbox.count()).toBe(0);
  });

  it('sends answers again after a lost answer without counting them twice, and only new ones afterwards', async () => {
    const { item } = await lessonWithWord();
    await vocabulary.recordReview(db, item.id, 3, T);
    const stop = new AbortController();
    const answers = (changes: PushChange[]) => changes.filter((c) => c.kind === 'review_log').length;
    proxy.rule((req, body) => (req.path === '/api/v1/sync/push' && body.includes('review_log') ? { loseAnswer: true, then: () => stop.abort() } : 'pass'));
    expect(await run(stop.signal)).toEqual({ kind: 'stopped' });
    proxy.clearRules();
    expect(await outbox.resetInterrupted(db)).toBeGreaterThan(0);
    pushes.length = 0;
    proxy.rule((req, body) => {
      if (req.path === '/api/v1/sync/push') pushes.push((JSON.parse(body.toString()) as { changes: PushChange[] }).changes);
      return 'pass';
    });
    expect(await run()).toEqual({ kind: 'idle' });
    expect(pushes.map(answers)).toEqual([1]); // the same answer again
    expect(await serverItem(item.id)).toMatchObject({ reviews: 1 });

    await vocabulary.recordReview(db, item.id, 4, T + 24 * 60 * 60 * 1000);
    expect(await run()).toEqual({ kind: 'idle' });
    expect(await serverItem(item.id)).toMatchObject({ reviews: 2 });
  });

  it('sends a long log in pushes the server takes (at most 500 changes each)', async () => {
    const { item } = await lessonWithWord();
    const logs = Array.from({ length: 501 }, (_, i) => ({ id: crypto.randomUUID(), itemId: item.id, reviewedAt: T + i * 60_000, rating: 3 as const, syncStatus: 'pending' as const }));
    await db.reviewLogs.bulkAdd(logs);
    await db.transaction('rw', db.outbox, () => db.outbox.add({ entity: 'reviews', entityId: item.id, op: 'upsert', createdAt: 0, attempts: 0, status: 'pending', nextAttemptAt: 0 }));
    expect(await run()).toEqual({ kind: 'idle' });
    const sizes = pushes.map((p) => p.length);
    expect(Math.max(...sizes)).toBe(500);
    expect(pushes.flat().filter((c) => c.kind === 'review_log')).toHaveLength(501);
    expect(await serverItem(item.id)).toMatchObject({ reviews: 501 });
    expect(await db.outbox.count()).toBe(0);
  });

  it('takes the server’s id for a word another device saved first, and its answers follow', async () => {
    const { item } = await lessonWithWord();
    await vocabulary.recordReview(db, item.id, 3, T);
    // Another device saved "house" first, under its own id.
    const otherId = crypto.randomUUID();
    const res = await fetch(`${base}/api/v1/vocabulary/${otherId}`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${me.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ word: 'house', language: 'en', context: { sentence: 'My house.' } }),
    });
    expect(res.status).toBe(201);

    // The answers move to the server's id during the pass that learnt it: due at once, they go up in the next.
    const first = await run();
    expect(first).toMatchObject({ kind: 'waiting' });
    expect(first.kind === 'waiting' && first.until <= Date.now()).toBe(true);
    expect(await run()).toEqual({ kind: 'idle' });
    expect(await db.vocabulary.get(item.id)).toBeUndefined();
    expect(await db.vocabulary.get(otherId)).toMatchObject({ id: otherId, serverId: otherId, syncStatus: 'synced', word: 'house', reviews: 1 });
    expect((await db.reviewLogs.toArray()).map((l) => [l.itemId, l.syncStatus])).toEqual([[otherId, 'synced']]);
    expect(await serverItem(otherId)).toMatchObject({ reviews: 1, status: 'learning' });
    expect(await serverItem(item.id)).toBeNull();
    expect(await db.outbox.count()).toBe(0);
  });

  it('deletes a backed-up word on the server; a refused word fails its group alone with the server’s field', async () => {
    const { item } = await lessonWithWord();
    expect(await run()).toEqual({ kind: 'idle' });
    await vocabulary.deleteWord(db, item.id);
    const refused = (await vocabulary.saveWord(db, { word: 'hill', surface: 'hill', language: 'not a language!' })).item;
    expect(await run()).toEqual({ kind: 'idle' });
    expect(await serverItem(item.id)).toBeNull();
    const [failed] = await db.outbox.toArray();
    expect(failed).toMatchObject({ entity: 'vocabulary', entityId: refused.id, status: 'failed', lastError: { kind: 'rejected', code: 'validation_failed' } });
    expect(failed!.lastError?.field).toMatch(/^changes\[\d+\]\.data\.language$/);
  });
});
