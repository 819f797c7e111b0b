import Dexie from 'dexie';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { EcholoopDb } from '../../../db/database';
import * as auth from '../../../db/repositories/auth';
import * as materials from '../../../db/repositories/materials';
import * as progress from '../../../db/repositories/progress';
import * as recordings from '../../../db/repositories/recordings';
import { FakeServer } from '../../../test/fakeServer';
import { runOnce } from '../engine/runner';
import { readOverview } from './overview';

let db: EcholoopDb;
let server: FakeServer;

beforeEach(async () => {
  db = new EcholoopDb(`overview-test-${Date.now()}-${Math.random()}`);
  await db.open();
  server = new FakeServer();
  vi.stubGlobal('fetch', server.fetch);
});

afterEach(async () => {
  vi.unstubAllGlobals();
  db.close();
  await Dexie.delete(db.name);
});

it('names what failed and why, and what waits for it', async () => {
  const m = await materials.createLocalMaterial(db, {
    title: 'Past the end',
    type: 'audio',
    media: new Blob([new Uint8Array(10)]),
    durationMs: 1000,
    segments: [{ startTime: 0, endTime: 4000, text: 'too long' }],
  });
  const [seg] = await materials.listSegments(db, m.id);
  await progress.saveProgress(db, m.id, 0);
  const take = await recordings.addRecording(db, { segmentId: seg!.id, materialId: m.id, blob: new Blob(['a']), duration: 5 });

  const before = await readOverview(db);
  expect(before).toMatchObject({ waiting: 5, failed: 0, uploading: 0, mediaOnDevice: 0 });

  await auth.saveSession(db, { token: server.token, sessionId: 's', user: { id: 'u', email: 'a@b.co', native_language: 'en', learning_language: null, created_at: '', updated_at: '' } });
  await runOnce({ db, signal: new AbortController().signal });
  const o = await readOverview(db);
  expect(o).toMatchObject({ waiting: 2, failed: 1, uploading: 0, mediaOnDevice: 1 });
  expect(o.state.lastBackupAt).toBeGreaterThan(0);
  const byKey = Object.fromEntries(o.entries.map((e) => [e.key, e]));
  expect(byKey[`segments:${m.id}`]).toMatchObject({ title: 'Past the end', group: { status: 'failed', lastError: { field: 'segments[0].end_time' } } });
  expect(byKey[`progress:${m.id}`]).toMatchObject({ title: 'Past the end', blockedBy: 'segments' });
  expect(byKey[`recording:${take.id}`]).toMatchObject({ title: 'Past the end', blockedBy: 'segments' });
});
