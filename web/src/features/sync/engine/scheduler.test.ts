import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EcholoopDb } from '../../../db/database';
import * as materials from '../../../db/repositories/materials';
import * as outbox from '../../../db/repositories/outbox';
import * as progress from '../../../db/repositories/progress';
import * as syncState from '../../../db/repositories/syncState';
import { FakeLocks } from '../../../test/fakeLocks';
import { connect, FaultProxy, reader, registerUser, signIn, type TestUser } from '../../../test/realServer';
import type { RunResult } from './runner';
import { BackupScheduler, LOCK_NAME } from './scheduler';

let db: EcholoopDb;
let proxy: FaultProxy;
let me: TestUser;
let server: ReturnType<typeof reader>;
const started: BackupScheduler[] = [];

beforeEach(async () => {
  db = new EcholoopDb(`scheduler-test-${Date.now()}-${Math.random()}`);
  await db.open();
  const connected = await connect();
  proxy = connected.proxy;
  me = await registerUser(connected.server);
  server = reader(connected.server, me);
});

afterEach(async () => {
  started.splice(0).forEach((s) => s.stop());
  await new Promise((r) => setTimeout(r, 50)); // let a run in flight notice the stop
  vi.unstubAllGlobals();
  await proxy.close();
  db.close();
  await Dexie.delete(db.name);
});

async function waitFor(check: () => boolean | Promise<boolean>, what: string, ms = 3000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function scheduler(locks: FakeLocks, runs: RunResult[], pullIntervalMs?: number) {
  const s = new BackupScheduler({ db, locks: locks as unknown as LockManager, events: null, debounceMs: 10, onRun: (r) => runs.push(r), ...(pullIntervalMs ? { pullIntervalMs } : {}) });
  started.push(s);
  s.start();
  return s;
}

const addLesson = (title: string) =>
  materials.createLocalMaterial(db, {
    title,
    type: 'audio',
    media: new Blob([new Uint8Array(100)], { type: 'audio/ogg' }),
    durationMs: 5000,
    segments: [{ startTime: 0, endTime: 1000, text: 'hello' }],
  });

/** How many materials the server holds for the test user. */
const onServer = async () => (await server.materials()).length;

describe('backup scheduler', () => {
  it('one tab leads: it backs up on sign-in and on new changes; the next tab takes over when it stops', async () => {
    const locks = new FakeLocks();
    const runsA: RunResult[] = [];
    const runsB: RunResult[] = [];
    const a = scheduler(locks, runsA);
    scheduler(locks, runsB);
    await addLesson('First');
    await waitFor(() => runsA.length > 0, 'the leader runs at start');
    expect(runsA[0]).toEqual({ kind: 'signedOut' });
    expect(await onServer()).toBe(0);

    // Signing in starts the backup.
    await signIn(db, me);
    await waitFor(async () => (await onServer()) === 1 && (await outbox.countPending(db)) === 0, 'first material backed up');

    // A new local change is picked up without anyone asking.
    await addLesson('Second');
    await waitFor(async () => (await onServer()) === 2 && (await outbox.countPending(db)) === 0, 'second material backed up');
    expect(runsB).toEqual([]);

    // The leading tab closes: the other one takes the lock and carries on.
    a.stop();
    await addLesson('Third');
    await waitFor(async () => (await onServer()) === 3 && runsB.length > 0, 'the second tab backs up');
    expect(proxy.count('PUT', /\/segments$/)).toBe(3); // each lesson sent once, whichever tab led
  });

  it('retries on its own after an offline spell, and "Back up now" runs at once', async () => {
    const locks = new FakeLocks();
    const runs: RunResult[] = [];
    await signIn(db, me);
    let offline = true;
    proxy.rule(() => (offline ? 'offline' : 'pass'));
    scheduler(locks, runs);
    await waitFor(() => runs.some((r) => r.kind === 'offline'), 'offline run');
    const state = await syncState.getSyncState(db);
    expect(state.problem?.kind).toBe('offline');
    expect(state.nextRunAt).toBeGreaterThan(Date.now() - 100);

    await addLesson('Offline lesson');
    offline = false;
    await syncState.requestBackup(db);
    await waitFor(async () => (await onServer()) === 1, 'uploaded after "Back up now"');
    await waitFor(async () => (await syncState.getSyncState(db)).problem === undefined, 'problem cleared');
  });

  it('an item waiting for a refused parent does not make the runner spin', async () => {
    const runs: RunResult[] = [];
    await signIn(db, me);
    // Segments past the material's end are refused; the progress waits for them.
    const m = await materials.createLocalMaterial(db, {
      title: 'Bad',
      type: 'audio',
      media: new Blob([new Uint8Array(10)]),
      durationMs: 1000,
      segments: [{ startTime: 0, endTime: 5000, text: 'too long' }],
    });
    await progress.saveProgress(db, m.id, 0);
    scheduler(new FakeLocks(), runs);
    await waitFor(async () => (await outbox.loadGroup(db, 'segments', m.id))?.status === 'failed', 'segments refused');
    await new Promise((r) => setTimeout(r, 600));
    const settled = runs.length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(runs.length).toBe(settled);
    expect(settled).toBeLessThanOrEqual(3);
    expect(runs.at(-1)).toEqual({ kind: 'idle' });
    expect(await outbox.loadGroup(db, 'progress', m.id)).toMatchObject({ status: 'pending', attempts: 0 });
  });

  it('pulls again on its own after the interval, and at once when a tab regains the focus', async () => {
    await signIn(db, me);
    const pulls = () => proxy.count('GET', /\/sync\/pull$/);
    const runs: RunResult[] = [];
    const s = scheduler(new FakeLocks(), runs, 300);
    await waitFor(() => pulls() >= 1, 'the first pull');
    await waitFor(() => pulls() >= 3, 'pulls every 300 ms while idle');
    expect(runs.every((r) => r.kind === 'idle')).toBe(true);
    s.stop();

    const focused = scheduler(new FakeLocks(), [], 60 * 60 * 1000);
    await waitFor(() => pulls() >= 4, 'the new leader pulls at start');
    await new Promise((r) => setTimeout(r, 100));
    const before = pulls();
    await syncState.requestPull(db);
    await waitFor(() => pulls() === before + 1, 'a pull right after the focus');
    focused.stop();
  });

  it('uses the lock named for the backup', () => {
    expect(LOCK_NAME).toBe('echoloop-backup');
  });
});
