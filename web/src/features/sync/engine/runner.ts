/**
 * One run of the backup: as the signed-in account, push every due outbox
 * group in dependency order, then pull what changed on the server since
 * this device last looked (other devices' work, and this one's coming
 * back). Materials, saved words, their answers, progress and take deletes
 * go out as one clocked batch (`POST /sync/push`, push.ts); segment lists,
 * takes and media on their own endpoints (handlers/), in rounds: the
 * batch, then the lists of materials the server now has, then the batch
 * again for what waited on those lists; then takes and media. Each group is
 * pushed from the entity's current local state, every request is
 * idempotent and a pulled page is applied with its cursor in one
 * transaction, so a run stopped anywhere — crash, reload, closed tab — is
 * simply run again.
 */
import { auth, outbox, pull, syncState, type EcholoopDb, type OutboxGroup, type SyncProblem, type SyncState } from '../../../db';
import { getEntitlements, pullChanges, PULL_PAGE_SIZE, type ApiCall } from '../api/server';
import { DEFAULT_CHUNK_BYTES } from '../../../lib/tus';
import { backoffDelay, ITEM_BACKOFF } from './backoff';
import { HANDLERS, type HandlerContext } from './handlers';
import { classify } from './problems';
import { isBatched, MAX_CLIENT_ATTEMPTS, pushBatch } from './push';

export interface RunOptions {
  db: EcholoopDb;
  signal: AbortSignal;
  now?: () => number;
  random?: () => number;
  chunkBytes?: number;
  /** How long the plan's media rule is trusted before `/me/entitlements` is asked again. */
  planTtlMs?: number;
  /** Changes per pull request. */
  pullPageSize?: number;
}

export type RunResult =
  | { kind: 'idle' }
  | { kind: 'waiting'; until: number }
  | { kind: 'offline'; problem: SyncProblem }
  | { kind: 'signedOut' }
  | { kind: 'stopped' };

export { MAX_CLIENT_ATTEMPTS };
const PLAN_TTL_MS = 10 * 60 * 1000;

interface Run {
  db: EcholoopDb;
  call: ApiCall;
  now: () => number;
  random: () => number;
  chunkBytes: number;
  largeMediaBackup: boolean;
  userId: string;
}

export async function runOnce(options: RunOptions): Promise<RunResult> {
  const { db, signal } = options;
  const now = options.now ?? Date.now;
  const session = await auth.getSession(db);
  if (!session) return { kind: 'signedOut' };
  const call: ApiCall = { token: session.token, signal };
  const state = await adoptAccount(db, session.user.id);
  await syncState.updateSyncState(db, { running: true });
  let result: RunResult;
  try {
    const largeMediaBackup = await planBacksUpMedia(db, call, state, now(), options.planTtlMs ?? PLAN_TTL_MS);
    const run: Run = { db, call, now, random: options.random ?? Math.random, chunkBytes: options.chunkBytes ?? DEFAULT_CHUNK_BYTES, largeMediaBackup, userId: session.user.id };
    result = await runPass(run);
    if (result.kind === 'idle' || result.kind === 'waiting') result = earliest(result, await pullAll(run, session.user.id, options.pullPageSize ?? PULL_PAGE_SIZE));
  } catch (e) {
    const verdict = classify(e, now());
    if (verdict.kind === 'stopped') result = { kind: 'stopped' };
    else if (verdict.kind === 'offline') result = { kind: 'offline', problem: verdict.problem };
    else if (verdict.kind === 'signedOut') result = { kind: 'signedOut' };
    else result = { kind: 'waiting', until: now() + backoffDelay(1, ITEM_BACKOFF, (options.random ?? Math.random)(), verdict.kind === 'retry' ? verdict.retryAfterMs : 0) };
  }
  if (result.kind === 'signedOut') await auth.clearSession(db, session.token);
  if (result.kind !== 'stopped') {
    await syncState.updateSyncState(db, { running: false, problem: result.kind === 'offline' ? result.problem : undefined });
  }
  return result;
}

/**
 * The first run for an account records it; a different account than the
 * last one means the device's data is queued again for the new account.
 */
async function adoptAccount(db: EcholoopDb, userId: string): Promise<SyncState> {
  const state = await syncState.getSyncState(db);
  if (state.userId === userId) return state;
  if (state.userId !== undefined) await outbox.requeueEverything(db);
  await syncState.updateSyncState(db, { userId, planCheckedAt: undefined, lastBackupAt: undefined });
  return syncState.getSyncState(db);
}

/** The plan's media rule, asked again after a while or when the learner pressed "Back up now". */
async function planBacksUpMedia(db: EcholoopDb, call: ApiCall, state: SyncState, now: number, ttl: number): Promise<boolean> {
  const fresh = state.planCheckedAt !== undefined && now - state.planCheckedAt < ttl && (state.requestedAt ?? 0) <= state.planCheckedAt;
  if (fresh && state.largeMediaBackup !== undefined) return state.largeMediaBackup;
  const { limits } = await getEntitlements(call);
  await syncState.updateSyncState(db, { largeMediaBackup: limits.large_media_backup, planCheckedAt: now });
  if (limits.large_media_backup) await outbox.queueDeviceOnlyMedia(db);
  return limits.large_media_backup;
}

/**
 * Requests in flight at once per entity on its own endpoint: a take costs
 * the server an ffprobe run, so a backlog of takes goes up several at a
 * time. Media files go one by one (bandwidth).
 */
export const CONCURRENCY: Record<HandledEntity, number> = { segments: 3, recording: 3, media: 1 };

type HandledEntity = keyof typeof HANDLERS;

/** Batch, then segment lists, repeated while one unblocks the other (a material's list after its row; progress and words after the list). */
const MAX_ROUNDS = 3;

async function runPass(run: Run): Promise<RunResult> {
  const blocked = new Set<string>();
  let restartPull = false;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const queue = await outbox.loadQueue(run.db);
    const batched = queue.filter(isBatched);
    const pushed = await pushBatch({ db: run.db, call: run.call, now: run.now, random: run.random, blocked }, batched);
    restartPull ||= pushed.restartPull;
    if (pushed.stop) return pushed.stop;
    const lists = await runHandlers(run, (await outbox.loadQueue(run.db)).filter((g) => g.entity === 'segments'), blocked);
    if (lists.stop) return lists.stop;
    const waiting = (await outbox.loadQueue(run.db)).some((g) => isBatched(g) && blocked.has(keyOf(g)));
    if (!waiting || (pushed.answered === 0 && lists.done === 0)) break;
  }
  if (restartPull) await pull.restartPull(run.db, run.userId);
  const rest = await runHandlers(run, (await outbox.loadQueue(run.db)).filter((g) => g.entity === 'recording' || g.entity === 'media'), blocked);
  if (rest.stop) return rest.stop;
  return nextWake(await outbox.loadQueue(run.db), blocked, run.now());
}

/** Pushes groups through their own endpoints, entity by entity in dependency order, several at once. */
async function runHandlers(run: Run, queue: OutboxGroup[], blocked: Set<string>): Promise<{ stop: RunResult | null; done: number }> {
  let stop: RunResult | null = null;
  let done = 0;
  const ranks = (Object.keys(HANDLERS) as HandledEntity[]).sort((a, b) => outbox.ENTITY_RANK[a] - outbox.ENTITY_RANK[b]);
  for (const entity of ranks) {
    const groups = queue.filter((g) => g.entity === entity && !isBatched(g));
    const worker = async () => {
      for (let listed = groups.shift(); listed && !stop; listed = groups.shift()) {
        if (run.call.signal?.aborted) stop = { kind: 'stopped' };
        else {
          const group = await outbox.loadGroup(run.db, listed.entity, listed.entityId);
          if (group && !isBatched(group) && outbox.isReady(group, run.now())) {
            const result = await pushGroup(run, group, blocked);
            if (result === 'done') done++;
            else if (result) stop ??= result;
          }
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY[entity] }, worker));
    if (stop) break;
  }
  return { stop, done };
}

const keyOf = (g: Pick<OutboxGroup, 'entity' | 'entityId'>) => `${g.entity}:${g.entityId}`;

/** Pushes one group and records the outcome; returns a result when the whole run must stop, 'done' when the group is. */
async function pushGroup(run: Run, group: OutboxGroup, blocked: Set<string>): Promise<RunResult | 'done' | null> {
  const { db } = run;
  await outbox.markUploading(db, group);
  const ctx: HandlerContext = {
    db,
    call: run.call,
    largeMediaBackup: run.largeMediaBackup,
    chunkBytes: run.chunkBytes,
    saveUpload: (progress) => outbox.saveUpload(db, group, progress),
  };
  try {
    const outcome = await HANDLERS[group.entity as HandledEntity](ctx, group);
    if (outcome.kind === 'blocked') {
      blocked.add(keyOf(group));
      await outbox.markWaiting(db, group);
      return null;
    }
    blocked.delete(keyOf(group));
    await outbox.completeGroup(db, group, outcome.effect, run.now());
    return 'done';
  } catch (e) {
    const verdict = classify(e, run.now());
    switch (verdict.kind) {
      case 'stopped':
        return { kind: 'stopped' }; // as after a crash: the rows stay 'uploading' until the next runner starts
      case 'offline':
        await outbox.markWaiting(db, group, verdict.problem);
        return { kind: 'offline', problem: verdict.problem };
      case 'signedOut':
        await outbox.markWaiting(db, group);
        return { kind: 'signedOut' };
      case 'retry': {
        const attempts = group.attempts + 1;
        if (verdict.problem.code === 'client_error' && attempts >= MAX_CLIENT_ATTEMPTS) {
          await outbox.markFailed(db, group, verdict.problem);
        } else {
          const delay = backoffDelay(attempts, ITEM_BACKOFF, run.random(), verdict.retryAfterMs);
          await outbox.markRetry(db, group, verdict.problem, run.now() + delay);
        }
        return null;
      }
      case 'rejected':
        await outbox.markFailed(db, group, verdict.problem);
        return null;
    }
  }
}

/** Idle when nothing waits; else the earliest retry. Groups blocked by a parent wake with the parent. */
function nextWake(queue: OutboxGroup[], blocked: Set<string>, now: number): RunResult {
  const due = queue.filter((g) => g.status !== 'failed' && !blocked.has(keyOf(g))).map((g) => outbox.dueAt(g, now));
  if (!due.length) return { kind: 'idle' };
  return { kind: 'waiting', until: Math.max(now, Math.min(...due)) };
}

/**
 * Pulls pages until the server has no more, each applied in one transaction
 * with the cursor it ends at. Returns what the run must do about a problem
 * (null: all pulled, or refused and shown until the next run).
 */
async function pullAll(run: Run, userId: string, pageSize: number): Promise<RunResult | null> {
  const { db, call } = run;
  let cursor = await pull.pullCursor(db, userId);
  let received = 0;
  try {
    for (let more = true; more; ) {
      const page = await pullChanges(call, cursor, pageSize);
      received += (await pull.applyPullPage(db, userId, page.changes, page.next_cursor, run.now())).received;
      cursor = page.next_cursor;
      more = page.more && page.changes.length > 0;
    }
    await syncState.updateSyncState(db, { lastPullAt: run.now(), lastPullChanges: received, pullProblem: undefined, pullAttempts: undefined });
    return null;
  } catch (e) {
    const verdict = classify(e, run.now());
    switch (verdict.kind) {
      case 'stopped':
        return { kind: 'stopped' };
      case 'offline':
        return { kind: 'offline', problem: verdict.problem };
      case 'signedOut':
        return { kind: 'signedOut' };
      case 'retry': {
        const attempts = ((await syncState.getSyncState(db)).pullAttempts ?? 0) + 1;
        await syncState.updateSyncState(db, { pullProblem: verdict.problem, pullAttempts: attempts });
        return { kind: 'waiting', until: run.now() + backoffDelay(attempts, ITEM_BACKOFF, run.random(), verdict.retryAfterMs) };
      }
      case 'rejected':
        await syncState.updateSyncState(db, { pullProblem: verdict.problem, pullAttempts: undefined });
        return null;
    }
  }
}

/** The push's outcome combined with the pull's: a stop wins, else the earlier wake-up. */
function earliest(push: RunResult, pulled: RunResult | null): RunResult {
  if (!pulled || push.kind !== 'waiting') return pulled ?? push;
  if (pulled.kind !== 'waiting') return pulled;
  return { kind: 'waiting', until: Math.min(push.until, pulled.until) };
}
