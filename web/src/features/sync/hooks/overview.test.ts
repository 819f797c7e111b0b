import Dexie from 'dexie';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { EcholoopDb } from '../../../db/database';
import * as materials from '../../../db/repositories/materials';
import * as outbox from '../../../db/repositories/outbox';
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

it('shows when a change is next tried by the runner’s rule, also after the clock was set back', async () => {
  const m = await materials.createLocalMaterial(db, {
    title: 'Later',
    type: 'audio',
    media: new Blob([new Uint8Array(10)]),
    durationMs: 1000,
    segments: [{ startTime: 0, endTime: 1000, text: 'soon' }],
  });
  await progress.saveProgress(db, m.id, 0);
  const now = Date.now();
  const hour = 60 * 60_000;
  // A refusal for the clock stored an hour out (set before the clock went back an hour), and a server error's backoff.
  await outbox.markRetry(db, (await outbox.loadGroup(db, 'material', m.id))!, { kind: 'transient', code: 'clock_ahead', detail: 'ahead', aheadMs: hour, at: now }, now + hour);
  await outbox.markRetry(db, (await outbox.loadGroup(db, 'progress', m.id))!, { kind: 'transient', code: 'http_503', detail: 'busy', at: now }, now + 10 * 60_000);
  const byKey = Object.fromEntries((await readOverview(db)).entries.map((e) => [e.key, e]));
  // The runner tries the clock's refusal now; the panel says so rather than an hour late.
  expect(byKey[`material:${m.id}`]!.retryAt).toBeLessThanOrEqual(Date.now());
  expect(byKey[`material:${m.id}`]!.group.nextAttemptAt).toBe(now + hour);
  expect(byKey[`progress:${m.id}`]!.retryAt).toBe(now + 10 * 60_000);
});
