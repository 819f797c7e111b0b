import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SegmentTextError } from '../lib/segmentText';
import { EcholoopDb } from './database';
import * as assessments from './repositories/assessments';
import * as materials from './repositories/materials';
import * as outbox from './repositories/outbox';
import * as recordings from './repositories/recordings';
import type { LocalRecording, ServerAssessment } from './schema';

let db: EcholoopDb;
let n = 0;

beforeEach(async () => {
  db = new EcholoopDb(`correction-test-${Date.now()}-${n++}`);
  await db.open();
});

afterEach(async () => {
  db.close();
  await Dexie.delete(db.name);
});

const OLD = 'but wherever is ice today';
const NEW = 'but the weather is nice today';

function serverAssessment(recordingId: string, reference_text: string | null | undefined, change_seq = 7): ServerAssessment {
  return {
    id: `a-${recordingId}`,
    recording_id: recordingId,
    overall_score: 70,
    accuracy_score: 80,
    fluency_score: 90,
    completeness_score: 100,
    prosody_score: null,
    word_results: [{ word: 'but', accuracy_score: 95, error_type: 'None', offset_ms: 100, duration_ms: 300 }],
    engine: 'builtin-hama',
    ...(reference_text !== undefined ? { reference_text } : {}),
    created_at: '2026-01-01T00:00:00Z',
    change_seq,
  };
}

/** A lesson of two sentences (the first transcribed), backed up, with `count` takes of the first. */
async function lesson(count: number) {
  const m = await materials.createLocalMaterial(db, {
    title: 'Lesson',
    type: 'audio',
    media: new Blob([new Uint8Array(10)], { type: 'audio/ogg' }),
    fileName: 'lesson.ogg',
    durationMs: 5000,
    segments: [
      { startTime: 0, endTime: 1000, text: OLD, translation: 'aber wo auch immer heute Eis ist' },
      { startTime: 1200, endTime: 2000, text: 'see you' },
    ],
  });
  const list = (await db.segmentLists.get(m.id))!;
  await db.segmentLists.put({ ...list, segments: list.segments.map((s, i) => (i === 0 ? { ...s, origin: 'asr_cloud' as const } : s)) });
  const [first] = await materials.listSegments(db, m.id);
  const takes: LocalRecording[] = [];
  for (let i = 0; i < count; i++) {
    takes.push(await recordings.addRecording(db, { segmentId: first!.id, materialId: m.id, blob: new Blob([`take ${i}`]), duration: 900 }));
  }
  await db.outbox.clear(); // everything backed up
  await db.recordings.toCollection().modify({ syncStatus: 'synced' });
  return { materialId: m.id, segmentId: first!.id, takes };
}

const queuedLists = async () => (await outbox.pendingChanges(db)).filter((row) => row.entity === 'segments');

describe('correcting a sentence', () => {
  it('changes its text only: id, times, translation and origin stay; it is marked as corrected here and queued for backup once', async () => {
    const { materialId, segmentId } = await lesson(0);
    const before = await materials.listSegments(db, materialId);
    expect(await materials.editSegmentText(db, materialId, segmentId, `  ${NEW} `, 5000)).toBe(true);
    const after = await materials.listSegments(db, materialId);
    expect(after[0]).toEqual({ ...before[0], text: NEW, editedAt: 5000 });
    expect(after[0]!.origin).toBe('asr_cloud');
    expect(after[1]).toEqual(before[1]);
    expect((await materials.getMaterial(db, materialId))?.updatedAt).toBe(5000);
    expect(await queuedLists()).toEqual([expect.objectContaining({ entityId: materialId, op: 'upsert', status: 'pending' })]);

    // A second correction before the backup ran: still one queued list (the backup sends the current one).
    await materials.editSegmentText(db, materialId, segmentId, `${NEW}!`, 6000);
    expect(await queuedLists()).toHaveLength(1);
    expect((await materials.listSegments(db, materialId))[0]).toMatchObject({ id: segmentId, text: `${NEW}!`, editedAt: 6000 });
  });

  it('the same text again changes nothing and queues nothing', async () => {
    const { materialId, segmentId } = await lesson(1);
    expect(await materials.editSegmentText(db, materialId, segmentId, ` ${OLD}`)).toBe(false);
    expect((await materials.listSegments(db, materialId))[0]?.editedAt).toBeUndefined();
    expect(await outbox.countPending(db)).toBe(0);
    expect(await db.assessments.count()).toBe(0);
  });

  it('refuses blank or too long text, and an unknown sentence, changing nothing', async () => {
    const { materialId, segmentId } = await lesson(1);
    const before = await db.segmentLists.get(materialId);
    await expect(materials.editSegmentText(db, materialId, segmentId, '  \n ')).rejects.toEqual(new SegmentTextError({ kind: 'blank' }));
    await expect(materials.editSegmentText(db, materialId, segmentId, 'x'.repeat(5001))).rejects.toBeInstanceOf(SegmentTextError);
    await expect(materials.editSegmentText(db, materialId, 'no-such-segment', NEW)).rejects.toThrow('Segment not found');
    await expect(materials.editSegmentText(db, 'no-such-material', segmentId, NEW)).rejects.toThrow('Segment not found');
    expect(await db.segmentLists.get(materialId)).toEqual(before);
    expect(await outbox.countPending(db)).toBe(0);
    expect(await db.assessments.count()).toBe(0);
  });

  it('its takes wait for the corrected list to be backed up, then are asked about again', async () => {
    const { materialId, segmentId, takes } = await lesson(3);
    const [named, unnamed, unasked] = takes.map((t) => t.id) as [string, string, string];
    await assessments.saveAnswer(db, named, { assessment: serverAssessment(named, OLD), scoring: { state: 'done' } }, { attempts: 0 }, 1);
    await assessments.saveAnswer(db, unnamed, { assessment: serverAssessment(unnamed, null), scoring: { state: 'done' } }, { attempts: 0 }, 1);
    const local = await recordings.addRecording(db, { segmentId, materialId, blob: new Blob(['not backed up']), duration: 900 });
    await db.outbox.clear();
    expect(await assessments.scoringWork(db, 100)).toEqual({ due: [unasked] });

    await materials.editSegmentText(db, materialId, segmentId, NEW, 200);
    const rows = await assessments.getAssessments(db, [named, unnamed, unasked, local.id]);
    expect(rows.get(named)).toMatchObject({ attempts: 0, nextCheckAt: 200, afterBackupOf: materialId });
    expect(rows.get(named)?.judgedText).toBeUndefined(); // the server named the text
    expect(rows.get(unnamed)).toMatchObject({ judgedText: OLD, nextCheckAt: 200, afterBackupOf: materialId });
    expect(rows.get(unasked)).toEqual({ recordingId: unasked, attempts: 0, nextCheckAt: 200, afterBackupOf: materialId });
    expect(rows.has(local.id)).toBe(false); // uploaded after the corrected list, so scored against it
    expect(assessments.judgedText(rows.get(unnamed)!)).toBe(OLD);

    // The list waits in the outbox: nobody is asked (the server still has the old text), nothing is due later either.
    expect(await assessments.scoringWork(db, 10_000)).toEqual({ due: [] });
    const signature = await assessments.listsSignature(db);
    // Backed up: all three are due at once.
    await db.outbox.where('entity').equals('segments').delete();
    expect(await assessments.listsSignature(db)).not.toBe(signature);
    expect((await assessments.scoringWork(db, 10_000)).due.sort()).toEqual([named, unnamed, unasked].sort());
  });

  it('an answer keeps the device’s judged text only while it is the same assessment, and clears the wait once decided', async () => {
    const { materialId, segmentId, takes } = await lesson(1);
    const id = takes[0]!.id;
    await assessments.saveAnswer(db, id, { assessment: serverAssessment(id, null, 7), scoring: { state: 'done' } }, { attempts: 0 }, 1);
    await materials.editSegmentText(db, materialId, segmentId, NEW, 2);
    const contexts: assessments.AnswerContext[] = [];
    const decide = (next: assessments.NextCheck) => (context: assessments.AnswerContext) => {
      contexts.push(context);
      return next;
    };

    // Asked while the list still waits (a request sent before the correction): the device sees it.
    await assessments.saveAnswer(db, id, { assessment: serverAssessment(id, null, 7), scoring: { state: 'done' } }, decide({ attempts: 0, nextCheckAt: 3, afterBackup: true }), 3);
    expect(contexts.at(-1)).toEqual({ sentence: NEW, judged: OLD, corrected: true, backupPending: true });
    expect(await assessments.getAssessment(db, id)).toMatchObject({ judgedText: OLD, afterBackupOf: materialId, nextCheckAt: 3 });

    // Backed up; the server sends the same assessment (it did not score again): final, still judged against the old text.
    await db.outbox.clear();
    await assessments.saveAnswer(db, id, { assessment: serverAssessment(id, null, 7), scoring: { state: 'done' } }, decide({ attempts: 0 }), 4);
    expect(contexts.at(-1)).toEqual({ sentence: NEW, judged: OLD, corrected: true, backupPending: false });
    const kept = await assessments.getAssessment(db, id);
    expect(kept).toMatchObject({ judgedText: OLD, attempts: 0 });
    expect(kept?.afterBackupOf).toBeUndefined();
    expect(kept?.nextCheckAt).toBeUndefined();

    // A new version of the assessment: the device's guess goes, the server's text counts.
    await assessments.saveAnswer(db, id, { assessment: serverAssessment(id, NEW, 9), scoring: { state: 'done' } }, decide({ attempts: 0 }), 5);
    expect(contexts.at(-1)).toEqual({ sentence: NEW, judged: NEW, corrected: false, backupPending: false });
    expect((await assessments.getAssessment(db, id))?.judgedText).toBeUndefined();
  });

  it('another account backing up the device keeps a corrected take’s score with what it was judged against', async () => {
    const { materialId, segmentId, takes } = await lesson(1);
    const id = takes[0]!.id;
    await assessments.saveAnswer(db, id, { assessment: serverAssessment(id, null), scoring: { state: 'done' } }, { attempts: 0 }, 1);
    await materials.editSegmentText(db, materialId, segmentId, NEW, 2);
    await outbox.requeueEverything(db);
    expect(await assessments.getAssessment(db, id)).toMatchObject({ judgedText: OLD, assessment: { id: `a-${id}` } });
  });
});
