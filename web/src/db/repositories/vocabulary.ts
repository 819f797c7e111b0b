import { stamp } from '../../lib/clock';
import { scheduleFromLog, type ReviewEntry, type ReviewSchedule } from '../../lib/core';
import type { EcholoopDb } from '../database';
import type { LocalReviewLog, LocalVocabularyItem, ReviewRating, VocabularyContext } from '../schema';
import { dropQueued, enqueue, enqueueCreated } from './outbox';

/** The server keeps a context sentence of at most this many characters. */
export const MAX_CONTEXT_CHARS = 2000;

/** New words a day's reviews introduce at most (the rest wait for the next days). */
export const NEW_WORDS_PER_DAY = 20;

export interface NewWord {
  /** The core's lookup key of the word (`tokenize`'s `key`). */
  word: string;
  /** The word as it stood in the sentence. */
  surface: string;
  language: string;
  context?: VocabularyContext;
}

export function findWord(db: EcholoopDb, word: string, language: string): Promise<LocalVocabularyItem | undefined> {
  return db.vocabulary.where('[word+language]').equals([word, language]).first();
}

export function getWord(db: EcholoopDb, id: string): Promise<LocalVocabularyItem | undefined> {
  return db.vocabulary.get(id);
}

/**
 * Saves a word with where it was met, queued for backup. A word saved
 * already (same key and language) is answered as it is: one row per word,
 * as on the server.
 */
export async function saveWord(db: EcholoopDb, input: NewWord, now = Date.now()): Promise<{ item: LocalVocabularyItem; created: boolean }> {
  return db.transaction('rw', [db.vocabulary, db.outbox], async () => {
    const existing = await findWord(db, input.word, input.language);
    if (existing) return { item: existing, created: false };
    const item: LocalVocabularyItem = {
      id: crypto.randomUUID(),
      word: input.word,
      surface: input.surface,
      language: input.language,
      ...(input.context ? { context: clip(input.context) } : {}),
      status: 'new',
      nextReviewAt: now,
      stability: null,
      difficulty: null,
      reviews: 0,
      lapses: 0,
      lastReviewedAt: null,
      createdAt: now,
      updatedAt: now,
      syncStatus: 'local',
      hlc: stamp(),
    };
    await db.vocabulary.add(item);
    await enqueueCreated(db, [['vocabulary', item.id]]);
    return { item, created: true };
  });
}

/** Newest saved first. */
export function listWords(db: EcholoopDb): Promise<LocalVocabularyItem[]> {
  return db.vocabulary.orderBy('createdAt').reverse().toArray();
}

/** Deletes a word and its review answers here, and queues the delete for the server. */
export async function deleteWord(db: EcholoopDb, id: string): Promise<void> {
  await db.transaction('rw', [db.vocabulary, db.reviewLogs, db.outbox], async () => {
    if (!(await db.vocabulary.get(id))) return;
    await db.reviewLogs.where('itemId').equals(id).delete();
    // The server deletes the word's reviews with it: queued ones are moot.
    await dropQueued(db, [['reviews', id]]);
    await db.vocabulary.delete(id);
    await enqueue(db, 'vocabulary', id, 'delete', stamp());
  });
}

const clip = (context: VocabularyContext): VocabularyContext => ({ ...context, sentence: [...context.sentence].slice(0, MAX_CONTEXT_CHARS).join('') });

/**
 * The learner keeps another sentence as the word's context (met again
 * elsewhere): a stamped edit of the word, queued for backup. Returns the
 * word as it is now (undefined when it is gone); the same sentence again
 * changes nothing.
 */
export async function changeContext(db: EcholoopDb, id: string, context: VocabularyContext, now = Date.now()): Promise<LocalVocabularyItem | undefined> {
  return db.transaction('rw', [db.vocabulary, db.outbox], async () => {
    const item = await db.vocabulary.get(id);
    if (!item) return undefined;
    const next = clip(context);
    if (JSON.stringify(item.context ?? null) === JSON.stringify(next)) return item;
    const changed: LocalVocabularyItem = { ...item, context: next, updatedAt: now, syncStatus: item.syncStatus === 'local' ? 'local' : 'pending', hlc: stamp() };
    await db.vocabulary.put(changed);
    await enqueue(db, 'vocabulary', id, 'upsert');
    return changed;
  });
}

const toEntry = (log: LocalReviewLog): ReviewEntry => ({ id: log.id, reviewed_at_ms: log.reviewedAt, rating: log.rating });

/** A word's review log as the core reads it, in time order. */
export async function reviewLogOf(db: EcholoopDb, itemId: string): Promise<ReviewEntry[]> {
  const logs = await db.reviewLogs.where('itemId').equals(itemId).sortBy('reviewedAt');
  return logs.map(toEntry);
}

/** The schedule fields of a word as the core derived them. */
function scheduled(item: LocalVocabularyItem, schedule: ReviewSchedule, now: number): LocalVocabularyItem {
  return {
    ...item,
    status: schedule.status,
    nextReviewAt: schedule.due_at_ms ?? item.createdAt,
    stability: schedule.stability_days,
    difficulty: schedule.difficulty,
    reviews: schedule.reviews,
    lapses: schedule.lapses,
    lastReviewedAt: schedule.last_reviewed_at_ms,
    updatedAt: now,
  };
}

/**
 * Records an answer (1 Again … 4 Easy) and derives the word's schedule
 * again from its whole log through the core, in one transaction; the
 * answer is queued for backup. Undefined when the word is gone.
 */
export async function recordReview(db: EcholoopDb, itemId: string, rating: ReviewRating, now = Date.now()): Promise<LocalVocabularyItem | undefined> {
  return db.transaction('rw', [db.vocabulary, db.reviewLogs, db.outbox], async () => {
    const item = await db.vocabulary.get(itemId);
    if (!item) return undefined;
    const log: LocalReviewLog = { id: crypto.randomUUID(), itemId, reviewedAt: now, rating, syncStatus: 'pending' };
    const entries = [...(await reviewLogOf(db, itemId)), toEntry(log)];
    const next = scheduled(item, scheduleFromLog(entries), now);
    await db.reviewLogs.add(log);
    await db.vocabulary.put(next);
    await enqueue(db, 'reviews', itemId, 'upsert');
    return next;
  });
}

/** Local midnight before `now`: "today" for the new-word cap is the learner's day. */
export function startOfDay(now: number): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/** How many words had their first review today. */
async function introducedToday(db: EcholoopDb, now: number): Promise<number> {
  const dayStart = startOfDay(now);
  const today = new Set((await db.reviewLogs.where('reviewedAt').aboveOrEqual(dayStart).toArray()).map((l) => l.itemId));
  let count = 0;
  for (const itemId of today) {
    const earlier = await db.reviewLogs
      .where('itemId')
      .equals(itemId)
      .filter((l) => l.reviewedAt < dayStart)
      .count();
    if (earlier === 0) count++;
  }
  return count;
}

/**
 * What to review now: words seen before whose time has come (most overdue
 * first), then new words in the order they were saved, as many as today's
 * cap for new words still allows.
 */
export async function dueWords(db: EcholoopDb, now = Date.now(), newPerDay = NEW_WORDS_PER_DAY): Promise<LocalVocabularyItem[]> {
  const due = await db.vocabulary.where('nextReviewAt').belowOrEqual(now).toArray();
  const seen = due.filter((w) => w.status !== 'new').sort((a, b) => a.nextReviewAt - b.nextReviewAt);
  const fresh = due.filter((w) => w.status === 'new').sort((a, b) => a.createdAt - b.createdAt);
  const room = Math.max(0, newPerDay - (await introducedToday(db, now)));
  return [...seen, ...fresh.slice(0, room)];
}

/** The earliest time a word not due now comes due (for "next review at …"); undefined when none. */
export async function nextDueAfter(db: EcholoopDb, now = Date.now()): Promise<number | undefined> {
  const next = await db.vocabulary.where('nextReviewAt').above(now).first();
  return next?.nextReviewAt;
}

/** A word's answers the server does not have yet, oldest first. */
export async function unsentReviews(db: EcholoopDb, itemId: string): Promise<LocalReviewLog[]> {
  const logs = await db.reviewLogs.where('itemId').equals(itemId).sortBy('reviewedAt');
  return logs.filter((l) => l.syncStatus !== 'synced');
}

/**
 * The server already had this word under another id (saved on another
 * device): this device's row takes the server's id, its review answers
 * move with it, and so does everything queued for it (answers, a delete
 * made meanwhile). The schedule is derived again from the merged log.
 * Call with the outbox rows of the old id's word upload already handled
 * (`doneUpTo`: the newest row the runner worked on).
 */
export async function adoptServerId(db: EcholoopDb, localId: string, serverId: string, doneUpTo: number, now = Date.now()): Promise<void> {
  await db.transaction('rw', [db.vocabulary, db.reviewLogs, db.outbox], async () => {
    await db.outbox
      .where('[entity+entityId]')
      .equals(['vocabulary', localId])
      .filter((row) => (row.seq ?? 0) <= doneUpTo)
      .delete();
    await db.outbox
      .where('[entity+entityId]')
      .anyOf([
        ['vocabulary', localId],
        ['reviews', localId],
      ])
      .modify((row) => {
        row.entityId = serverId;
      });
    await db.reviewLogs
      .where('itemId')
      .equals(localId)
      .modify((log) => {
        log.itemId = serverId;
      });
    const local = await db.vocabulary.get(localId);
    // The server's word wins: a copy made from this device's row has no
    // clock, so the server's row (pulled next) replaces its fields.
    const kept = (await db.vocabulary.get(serverId)) ?? (local ? { ...withoutClock(local), id: serverId } : undefined);
    await db.vocabulary.delete(localId);
    if (!kept) return;
    const newer = (await db.outbox.where('[entity+entityId]').equals(['vocabulary', serverId]).count()) > 0;
    const item = scheduled({ ...kept, serverId, syncStatus: newer ? 'pending' : 'synced' }, scheduleFromLog(await reviewLogOf(db, serverId)), now);
    await db.vocabulary.put(item);
  });
}

function withoutClock(item: LocalVocabularyItem): LocalVocabularyItem {
  const copy = { ...item };
  delete copy.hlc;
  return copy;
}

/** How many saved words there are by status (the list's header). */
export async function countByStatus(db: EcholoopDb): Promise<Record<LocalVocabularyItem['status'], number>> {
  const counts = { new: 0, learning: 0, mastered: 0 };
  await db.vocabulary.each((w) => {
    counts[w.status]++;
  });
  return counts;
}

export type { ReviewRating };
