import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EcholoopDb } from './database';
import * as assessments from './repositories/assessments';
import * as materials from './repositories/materials';
import * as outbox from './repositories/outbox';
import * as recordings from './repositories/recordings';
import type { LocalRecording, ServerAssessment } from './schema';

let db: EcholoopDb;
let n = 0;

beforeEach(async () => {
  db = new EcholoopDb(`assessments-test-${Date.now()}-${n++}`);
  await db.open();
});

afterEach(async () => {
  db.close();
  await Dexie.delete(db.name);
});

function serverAssessment(recordingId: string, overall = 84): ServerAssessment {
  return {
    id: crypto.randomUUID(),
    recording_id: recordingId,
    overall_score: overall,
    accuracy_score: 80,
    fluency_score: 90,
    completeness_score: 100,
    prosody_score: null,
    word_results: [
      { word: 'hello', accuracy_score: 95, error_type: 'None', offset_ms: 100, duration_ms: 300 },
      { word: 'there', accuracy_score: 40, error_type: 'Mispronunciation', offset_ms: 420, duration_ms: 310, phonemes: [{ unit: 'ð', accuracy_score: 20 }] },
    ],
    engine: 'builtin-hama',
    created_at: '2026-01-01T00:00:00Z',
    change_seq: 7,
  };
}

async function lessonWithTakes(count: number): Promise<{ materialId: string; takes: LocalRecording[] }> {
  const m = await materials.createLocalMaterial(db, {
    title: 'Lesson',
    type: 'audio',
    media: new Blob([new Uint8Array(10)], { type: 'audio/ogg' }),
    fileName: 'lesson.ogg',
    durationMs: 5000,
    segments: [{ startTime: 0, endTime: 1000, text: 'hello there' }],
  });
  const [segment] = await materials.listSegments(db, m.id);
  const takes: LocalRecording[] = [];
  for (let i = 0; i < count; i++) {
    takes.push(await recordings.addRecording(db, { segmentId: segment!.id, materialId: m.id, blob: new Blob([`take ${i}`]), duration: 900 }));
  }
  return { materialId: m.id, takes };
}

const markSynced = (ids: string[]) => db.recordings.where('id').anyOf(ids).modify({ syncStatus: 'synced' });

describe('assessments repository', () => {
  it('asks about backed-up takes only, until their answer is final, and says when the next ask is due', async () => {
    const { takes } = await lessonWithTakes(4);
    const [waiting, scored, later, local] = takes.map((t) => t.id) as [string, string, string, string];
    await markSynced([waiting, scored, later]);
    expect((await assessments.scoringWork(db, 1000)).due.sort()).toEqual([waiting, scored, later].sort());

    await assessments.saveAnswer(db, waiting, { scoring: { state: 'pending' } }, { attempts: 1, nextCheckAt: 3000 }, 1000);
    await assessments.saveAnswer(db, scored, { assessment: serverAssessment(scored), scoring: { state: 'done' } }, { attempts: 0 }, 1000);
    await assessments.saveAnswer(db, later, { scoring: { state: 'pending' } }, { attempts: 2, nextCheckAt: 9000 }, 1000);
    expect(await assessments.scoringWork(db, 2000)).toEqual({ due: [], nextAt: 3000 });
    expect(await assessments.scoringWork(db, 3000)).toEqual({ due: [waiting], nextAt: 9000 });
    expect(await assessments.scoringWork(db, 3000, new Set([waiting]))).toEqual({ due: [], nextAt: 9000 });
    expect((await assessments.scoringWork(db, 10_000)).due.sort()).toEqual([waiting, later].sort());
    expect((await assessments.getAssessments(db, [scored, local])).get(scored)?.assessment?.overall_score).toBe(84);
    expect((await assessments.getAssessments(db, [scored, local])).has(local)).toBe(false);
  });

  it('stores nothing for a take deleted while the server was asked', async () => {
    const { takes } = await lessonWithTakes(1);
    const id = takes[0]!.id;
    await recordings.deleteRecording(db, id);
    expect(await assessments.saveAnswer(db, id, { assessment: serverAssessment(id), scoring: { state: 'done' } }, { attempts: 0 }, 1)).toBe(false);
    await assessments.postpone(db, id, { attempts: 1, nextCheckAt: 5 });
    expect(await db.assessments.count()).toBe(0);
  });

  it('keeps a received assessment when a later answer or a postponed ask has none', async () => {
    const { takes } = await lessonWithTakes(1);
    const id = takes[0]!.id;
    const first = serverAssessment(id, 61);
    await assessments.saveAnswer(db, id, { assessment: first, scoring: { state: 'pending' } }, { attempts: 1, nextCheckAt: 10 }, 1);
    await assessments.postpone(db, id, { attempts: 2, nextCheckAt: 20 });
    expect(await assessments.getAssessment(db, id)).toEqual({ recordingId: id, assessment: first, scoring: { state: 'pending' }, checkedAt: 1, attempts: 2, nextCheckAt: 20 });
    await assessments.saveAnswer(db, id, { scoring: { state: 'failed', code: 'scoring_failed', detail: 'x' } }, { attempts: 0 }, 30);
    expect(await assessments.getAssessment(db, id)).toEqual({ recordingId: id, assessment: first, scoring: { state: 'failed', code: 'scoring_failed', detail: 'x' }, checkedAt: 30, attempts: 0 });
  });

  it('deletes a take’s score with the take, and every score of a deleted material’s takes', async () => {
    const { materialId, takes } = await lessonWithTakes(3);
    for (const take of takes) await assessments.saveAnswer(db, take.id, { assessment: serverAssessment(take.id), scoring: { state: 'done' } }, { attempts: 0 }, 1);
    const other = await lessonWithTakes(1);
    await assessments.saveAnswer(db, other.takes[0]!.id, { scoring: { state: 'pending' } }, { attempts: 1, nextCheckAt: 2 }, 1);

    await recordings.deleteRecording(db, takes[0]!.id);
    expect(await assessments.getAssessment(db, takes[0]!.id)).toBeUndefined();
    expect(await db.assessments.count()).toBe(3);
    await materials.deleteMaterial(db, materialId);
    expect(await db.assessments.toCollection().primaryKeys()).toEqual([other.takes[0]!.id]);
  });

  it('another account backing up the device keeps received scores and forgets waiting states and reasons', async () => {
    const { takes } = await lessonWithTakes(3);
    const [scored, failed, waiting] = takes.map((t) => t.id) as [string, string, string];
    await markSynced(takes.map((t) => t.id));
    await assessments.saveAnswer(db, scored, { assessment: serverAssessment(scored), scoring: { state: 'done' } }, { attempts: 0 }, 1);
    await assessments.saveAnswer(db, failed, { scoring: { state: 'failed', code: 'scoring_unavailable' } }, { attempts: 0 }, 1);
    await assessments.saveAnswer(db, waiting, { scoring: { state: 'pending' } }, { attempts: 3, nextCheckAt: 99 }, 1);
    await outbox.requeueEverything(db);
    expect(await db.assessments.toCollection().primaryKeys()).toEqual([scored]);
  });
});
