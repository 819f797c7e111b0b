import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deviceClock } from '../lib/clock';
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

/**
 * A lesson of two sentences (the first transcribed), backed up, with `count`
 * takes of the first. `confirmed: false`: the material never reached the
 * server (signed out so far), so its list is not there either.
 */
async function lesson(count: number, { confirmed = true } = {}) {
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
  if (confirmed) await db.materials.update(m.id, { serverId: m.id, syncStatus: 'synced' });
  return { materialId: m.id, segmentId: first!.id, takes };
}

const queued = async () => (await outbox.pendingChanges(db)).map((row) => ({ entity: row.entity, entityId: row.entityId, op: row.op, status: row.status, ...(row.materialId ? { materialId: row.materialId } : {}) }));

describe('correcting a sentence', () => {
  it('changes its text only: id, times, translation and origin stay; it is marked as corrected here, stamped, and queued as that one sentence once', async () => {
    const { materialId, segmentId } = await lesson(0);
    const before = await materials.listSegments(db, materialId);
    const clockBefore = deviceClock().last() ?? '';
    expect(await materials.editSegmentText(db, materialId, segmentId, `  ${NEW} `, 5000)).toBe(true);
    const after = await materials.listSegments(db, materialId);
    expect(after[0]).toEqual({ ...before[0], text: NEW, editedAt: 5000, hlc: after[0]!.hlc });
    expect(after[0]!.hlc! > clockBefore).toBe(true);
    expect(after[0]!.origin).toBe('asr_cloud');
    expect(after[1]).toEqual(before[1]);
    expect((await materials.getMaterial(db, materialId))?.updatedAt).toBe(5000);
    // The server has the list: the sentence goes up on its own, not the whole list.
    expect(await queued()).toEqual([{ entity: 'segment', entityId: segmentId, materialId, op: 'upsert', status: 'pending' }]);

    // A second correction before the backup ran: still one queued change (the backup sends the current text), a newer clock.
    await materials.editSegmentText(db, materialId, segmentId, `${NEW}!`, 6000);
    expect(await queued()).toHaveLength(1);
    const again = (await materials.listSegments(db, materialId))[0]!;
    expect(again).toMatchObject({ id: segmentId, text: `${NEW}!`, editedAt: 6000 });
    expect(again.hlc! > after[0]!.hlc!).toBe(true);
    // Another sentence: a change of its own.
    await materials.editSegmentText(db, materialId, after[1]!.id, 'see you soon', 7000);
    expect((await queued()).map((row) => row.entityId)).toEqual([segmentId, after[1]!.id]);
  });

  it('rides in the list when the server does not have the list yet, or the list itself waits to be backed up', async () => {
    const fresh = await lesson(0, { confirmed: false });
    await materials.editSegmentText(db, fresh.materialId, fresh.segmentId, NEW);
    expect(await queued()).toEqual([{ entity: 'segments', entityId: fresh.materialId, op: 'upsert', status: 'pending' }]);

    await db.outbox.clear();
    const { materialId, segmentId } = await lesson(0);
    await db.outbox.add({ entity: 'segments', entityId: materialId, op: 'upsert', createdAt: 1, attempts: 1, status: 'failed', nextAttemptAt: 0 });
    await materials.editSegmentText(db, materialId, segmentId, NEW);
    expect((await queued()).map((row) => `${row.entity}:${row.entityId}`)).toEqual([`segments:${materialId}`, `segments:${materialId}`]);
  });

  it('replacing the subtitles or deleting the material drops its queued corrections (the list carries the text, or nothing is left)', async () => {
    const { materialId, segmentId } = await lesson(0);
    await materials.editSegmentText(db, materialId, segmentId, NEW);
    await materials.replaceSegments(db, materialId, [{ startTime: 0, endTime: 1000, text: NEW }]);
    expect(await queued()).toEqual([{ entity: 'segments', entityId: materialId, op: 'upsert', status: 'pending' }]);

    await db.outbox.clear();
    const [first] = await materials.listSegments(db, materialId);
    await materials.editSegmentText(db, materialId, first!.id, `${NEW}!`);
    expect((await queued()).map((row) => row.entity)).toEqual(['segment']);
    await materials.deleteMaterial(db, materialId);
    expect((await queued()).map((row) => `${row.entity}:${row.op}`)).toEqual(['material:delete']);
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

  it('its takes wait for the corrected sentence to be backed up, then are asked about again', async () => {
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

    // The correction waits in the outbox: nobody is asked (the server still has the old text), nothing is due later either.
    expect(await assessments.scoringWork(db, 10_000)).toEqual({ due: [] });
    const signature = await assessments.listsSignature(db);
    // Another sentence's correction going up changes nothing for them.
    const other = (await materials.listSegments(db, materialId))[1]!;
    await materials.editSegmentText(db, materialId, other.id, 'see you soon', 300);
    await db.outbox.where('[entity+entityId]').equals(['segment', other.id]).delete();
    expect(await assessments.scoringWork(db, 10_000)).toEqual({ due: [] });
    // Backed up: all three are due at once.
    await db.outbox.where('[entity+entityId]').equals(['segment', segmentId]).delete();
    expect(await assessments.listsSignature(db)).not.toBe(signature);
    expect((await assessments.scoringWork(db, 10_000)).due.sort()).toEqual([named, unnamed, unasked].sort());
  });

  it('its takes wait for the list instead when the correction rides in it', async () => {
    const { materialId, segmentId, takes } = await lesson(1, { confirmed: false });
    await materials.editSegmentText(db, materialId, segmentId, NEW, 200);
    expect(await assessments.scoringWork(db, 10_000)).toEqual({ due: [] });
    await db.outbox.where('entity').equals('segments').delete();
    expect(await assessments.scoringWork(db, 10_000)).toEqual({ due: [takes[0]!.id] });
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
