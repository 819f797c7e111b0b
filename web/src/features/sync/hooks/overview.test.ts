import Dexie from 'dexie';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { EcholoopDb } from '../../../db/database';
import * as materials from '../../../db/repositories/materials';
import * as progress from '../../../db/repositories/progress';
import * as recordings from '../../../db/repositories/recordings';
import { connect, FaultProxy, reader, registerUser, signIn, type TestUser } from '../../../test/realServer';
import { runOnce } from '../engine/runner';
import { readOverview } from './overview';

let db: EcholoopDb;
let proxy: FaultProxy;
let me: TestUser;
let server: ReturnType<typeof reader>;

beforeEach(async () => {
  db = new EcholoopDb(`overview-test-${Date.now()}-${Math.random()}`);
  await db.open();
  const connected = await connect();
  proxy = connected.proxy;
  me = await registerUser(connected.server);
  server = reader(connected.server, me);
});

afterEach(async () => {
  vi.unstubAllGlobals();
  await proxy.close();
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

  await signIn(db, me);
  await runOnce({ db, signal: new AbortController().signal });
  const o = await readOverview(db);
  expect(o).toMatchObject({ waiting: 2, failed: 1, uploading: 0, mediaOnDevice: 1 });
  expect(o.state.lastBackupAt).toBeGreaterThan(0);
  // The server holds the material, and nothing of what waits or failed.
  expect((await server.material(m.id))?.title).toBe('Past the end');
  expect(await server.segments(m.id)).toEqual([]);
  expect(await server.recording(take.id)).toBeNull();
  const byKey = Object.fromEntries(o.entries.map((e) => [e.key, e]));
  expect(byKey[`segments:${m.id}`]).toMatchObject({ title: 'Past the end', group: { status: 'failed', lastError: { field: 'segments[0].end_time' } } });
  expect(byKey[`progress:${m.id}`]).toMatchObject({ title: 'Past the end', blockedBy: 'segments' });
  expect(byKey[`recording:${take.id}`]).toMatchObject({ title: 'Past the end', blockedBy: 'segments' });
});
