import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { scheduleFromLog } from '../lib/core';
import { EcholoopDb } from './database';
import * as outbox from './repositories/outbox';
import * as vocabulary from './repositories/vocabulary';

let db: EcholoopDb;
let n = 0;

beforeEach(async () => {
  db = new EcholoopDb(`vocabulary-test-${Date.now()}-${n++}`);
  await db.open();
});

afterEach(async () => {
  db.close();
  await Dexie.delete(db.name);
});

const DAY = 24 * 60 * 60 * 1000;
const T0 = new Date(2026, 10, 2, 9, 0).getTime();
const context = { sentence: 'The house is big.', materialId: 'm1', segmentId: 's1', timeMs: 1200 };
const save = (word: string, now = T0) => vocabulary.saveWord(db, { word, surface: word, language: 'en', context }, now);
const queued = async () => (await db.outbox.orderBy('seq').toArray()).map((r) => `${r.entity}:${r.entityId}:${r.op}`);

describe('saving words', () => {
  it('keeps the word new, due at once, with its context, and queues it for backup', async () => {
    const { item, created } = await save('house');
    expect(created).toBe(true);
    expect(item).toMatchObject({ word: 'house', language: 'en', status: 'new', nextReviewAt: T0, reviews: 0, lapses: 0, stability: null, syncStatus: 'local', context });
    expect(await queued()).toEqual([`vocabulary:${item.id}:upsert`]);
  });

  it('answers a word saved already as it is: one row and one queued upload per word and language', async () => {
    const first = await save('house');
    const again = await save('house', T0 + 5000);
    expect(again).toEqual({ item: first.item, created: false });
    await vocabulary.saveWord(db, { word: 'house', surface: 'house', language: 'fr' }, T0);
    expect(await db.vocabulary.count()).toBe(2);
    expect((await queued()).filter((q) => q.startsWith('vocabulary:'))).toHaveLength(2);
  });

  it('cuts a context sentence to what the server keeps', async () => {
    const { item } = await vocabulary.saveWord(db, { word: 'a', surface: 'a', language: 'en', context: { sentence: 'é'.repeat(2100) } }, T0);
    expect([...(item.context?.sentence ?? '')]).toHaveLength(vocabulary.MAX_CONTEXT_CHARS);
  });
});

describe('reviews', () => {
  it('derives the schedule from the whole log through the core, and queues the answer', async () => {
    const { item } = await save('house');
    await db.outbox.clear();
    const good = await vocabulary.recordReview(db, item.id, 3, T0 + 1000);
    const log = await vocabulary.reviewLogOf(db, item.id);
    expect(log).toEqual([{ id: expect.any(String), reviewed_at_ms: T0 + 1000, rating: 3 }]);
    const expected = scheduleFromLog(log);
    expect(good).toMatchObject({ status: expected.status, nextReviewAt: expected.due_at_ms, stability: expected.stability_days, reviews: 1, lapses: 0, lastReviewedAt: T0 + 1000 });
    expect(good?.status).toBe('learning');
    expect(good!.nextReviewAt - (T0 + 1000)).toBeGreaterThanOrEqual(DAY);
    expect(await db.reviewLogs.get(log[0]!.id)).toMatchObject({ itemId: item.id, syncStatus: 'pending' });
    expect(await queued()).toEqual([`reviews:${item.id}:upsert`]);

    // Again later: a lapse, back in ten minutes; still one queued row for the word's answers.
    const later = good!.nextReviewAt + 1000;
    const again = await vocabulary.recordReview(db, item.id, 1, later);
    expect(again).toMatchObject({ reviews: 2, lapses: 1, nextReviewAt: later + 10 * 60 * 1000 });
    expect(await queued()).toEqual([`reviews:${item.id}:upsert`]);
    expect(await vocabulary.unsentReviews(db, item.id)).toHaveLength(2);
  });

  it('answers nothing for a word deleted meanwhile', async () => {
    expect(await vocabulary.recordReview(db, 'gone', 3, T0)).toBeUndefined();
    expect(await db.reviewLogs.count()).toBe(0);
  });

  it('lists words due (most overdue first), then new ones in saved order up to the day’s cap', async () => {
    const a = (await save('a', T0)).item;
    const b = (await save('b', T0 + 1)).item;
    const c = (await save('c', T0 + 2)).item;
    await vocabulary.recordReview(db, a.id, 1, T0 + 10); // due in 10 minutes
    const now = T0 + 20 * 60 * 1000;
    expect((await vocabulary.dueWords(db, now, 20)).map((w) => w.word)).toEqual(['a', 'b', 'c']);
    // "a" was introduced today: with a cap of 2, one more new word today.
    expect((await vocabulary.dueWords(db, now, 2)).map((w) => w.word)).toEqual(['a', 'b']);
    expect((await vocabulary.dueWords(db, now, 1)).map((w) => w.word)).toEqual(['a']);
    // The next day the cap starts again.
    expect((await vocabulary.dueWords(db, vocabulary.startOfDay(now) + DAY + 1, 1)).map((w) => w.word)).toEqual(['a', 'b']);
    // A word answered Good is not due until its day.
    const good = await vocabulary.recordReview(db, b.id, 3, now);
    expect((await vocabulary.dueWords(db, now + 1, 20)).map((w) => w.word)).toEqual(['a', 'c']);
    expect(await vocabulary.nextDueAfter(db, now + 1)).toBe(good!.nextReviewAt);
    expect(c.status).toBe('new');
  });
});

describe('deleting and adopting', () => {
  it('deletes the word and its answers, drops their queued upload and queues the delete', async () => {
    const { item } = await save('house');
    await vocabulary.recordReview(db, item.id, 3, T0 + 1);
    await vocabulary.deleteWord(db, item.id);
    expect(await db.vocabulary.count()).toBe(0);
    expect(await db.reviewLogs.count()).toBe(0);
    expect(await queued()).toEqual([`vocabulary:${item.id}:upsert`, `vocabulary:${item.id}:delete`]);
  });

  it('takes the server’s id for a word saved on another device: answers and queued rows follow', async () => {
    const { item } = await save('house');
    await vocabulary.recordReview(db, item.id, 3, T0 + 1);
    const group = (await outbox.loadGroup(db, 'vocabulary', item.id))!;
    const serverId = '0193a1b2-c3d4-4e5f-8a6b-7c8d9e0f1a2b';
    await vocabulary.adoptServerId(db, item.id, serverId, group.maxSeq, T0 + 2);
    expect(await db.vocabulary.get(item.id)).toBeUndefined();
    const adopted = await db.vocabulary.get(serverId);
    expect(adopted).toMatchObject({ id: serverId, serverId, syncStatus: 'synced', word: 'house', context, reviews: 1, status: 'learning' });
    expect((await db.reviewLogs.toArray()).map((l) => l.itemId)).toEqual([serverId]);
    expect(await queued()).toEqual([`reviews:${serverId}:upsert`]);
  });

  it('moves a delete queued meanwhile to the server’s id', async () => {
    const { item } = await save('house');
    const group = (await outbox.loadGroup(db, 'vocabulary', item.id))!;
    await vocabulary.deleteWord(db, item.id);
    await vocabulary.adoptServerId(db, item.id, 'server-id', group.maxSeq, T0 + 2);
    expect(await db.vocabulary.count()).toBe(0);
    expect(await queued()).toEqual(['vocabulary:server-id:delete']);
  });
});
