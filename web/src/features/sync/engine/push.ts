/**
 * The batched push (`POST /sync/push`, SPEC §5): in a pass, the ready
 * groups of materials (rows and deletes), sentences corrected in a list
 * the server has, saved words, their answers, progress and take deletes go
 * out as one batch of clocked changes (chunks of `MAX_PUSH_CHANGES`), in
 * dependency order — a material before its progress and words, a word
 * before its answers — and each change is answered on its own:
 *
 * - `applied`: the group is done (serverId, synced, its rows up to
 *   `maxSeq` removed), as a resource request's success was.
 * - `conflict`: a newer write (or a tombstone) won on the server; its row
 *   is applied here as if pulled (the pull's own applier) and the group is
 *   done. A delete that lost to a newer edit brings the row back, and the
 *   next pull starts over so what was under it comes back too.
 * - `rejected`: the group fails with the server's problem (shown, not
 *   retried by itself) — but `word_already_saved` adopts the server's id as
 *   before, `clock_ahead` waits for the server's clock to catch up (the
 *   learner is told to set the time), asking again at least every
 *   `CLOCK_AHEAD_RECHECK_MS` — unless the device's wall clock is
 *   within the server's bound by now (the time was set right): then the
 *   device clock forgets its future, every change waiting on the clock is
 *   stamped afresh and sent again at once —, a delete of what the server never had
 *   is done, and a child whose parent in the same batch did not get through
 *   waits for it instead of failing.
 *
 * A batch the server could not answer (network, 5xx, 429) is retried as a
 * whole with the groups' backoff. Whole segment lists, takes and media stay
 * on their own endpoints (handlers/).
 */
import { materials, outbox, progress, pull, vocabulary, type EcholoopDb, type LocalVocabularyItem, type OutboxGroup, type SyncEffect, type SyncProblem } from '../../../db';
import { deviceClock, observe, physicalMs } from '../../../lib/clock';
import { maxClockAheadMs, tokenize } from '../../../lib/core';
import { terminateUpload } from '../../../lib/tus';
import { MAX_PUSH_CHANGES, pushChanges, type ApiCall, type PushChange, type PushProblem, type PushResult } from '../api/server';
import { backoffDelay, ITEM_BACKOFF } from './backoff';
import type { Blocker } from './handlers';
import { classify } from './problems';

/** Unexpected (non-HTTP) errors are retried this often, then shown as failed. */
export const MAX_CLIENT_ATTEMPTS = 5;

/** Whether the batch carries this group (the rest have handlers). */
export function isBatched(group: Pick<OutboxGroup, 'entity' | 'op'>): boolean {
  return (
    group.entity === 'material' ||
    group.entity === 'segment' ||
    group.entity === 'progress' ||
    group.entity === 'vocabulary' ||
    group.entity === 'reviews' ||
    (group.entity === 'recording' && group.op === 'delete')
  );
}

export interface PushContext {
  db: EcholoopDb;
  call: ApiCall;
  now: () => number;
  random: () => number;
  /** Groups waiting for a parent (not sent, nothing counted); filled here. */
  blocked: Set<string>;
  /** This push re-sends what was stamped again after the clock was set right: no second recovery. */
  restamped?: boolean;
}

export type PushStop = { kind: 'stopped' } | { kind: 'offline'; problem: SyncProblem } | { kind: 'signedOut' };

export interface PushOutcome {
  /** Groups the server answered. */
  answered: number;
  /** The whole run must stop (stopped, offline, signed out). */
  stop?: PushStop;
  /** A delete made here lost to a newer edit elsewhere: the next pull starts from the beginning. */
  restartPull: boolean;
  /** A `clock_ahead` was answered while the wall clock is within the server's bound: re-stamp and send again. */
  clockSetRight?: boolean;
}

const keyOf = (g: Pick<OutboxGroup, 'entity' | 'entityId'>) => `${g.entity}:${g.entityId}`;

/** One group's part of the batch. */
interface Planned {
  group: OutboxGroup;
  changes: PushChange[];
  /** Done when every change is applied. */
  effect: SyncEffect;
  /** The group in this batch it needs on the server first (a material upsert, a word). */
  parent?: string;
}

type Plan = { kind: 'send'; planned: Planned } | { kind: 'blocked'; by: Blocker } | { kind: 'done'; effect?: SyncEffect };

/** Where a saved word was met, as the server takes it. */
interface ServerContext {
  sentence: string;
  /** The form the word was tapped in, a word of `sentence` keyed as the item's word. */
  surface?: string;
  material_id?: string;
  segment_id?: string;
  time_ms?: number;
}

/** What this batch sends ahead of its children: material upserts and word upserts, by id. */
interface Parents {
  materials: Map<string, string>;
  words: Map<string, string>;
}

/** Sends every ready batched group once (several chunks if needed) and records each answer. */
export async function pushBatch(ctx: PushContext, groups: OutboxGroup[]): Promise<PushOutcome> {
  const { db } = ctx;
  const parents: Parents = { materials: new Map(), words: new Map() };
  const batch: Planned[] = [];
  for (const listed of groups) {
    const group = await outbox.loadGroup(db, listed.entity, listed.entityId);
    if (!group || !isBatched(group) || !outbox.isReady(group, ctx.now())) continue;
    const plan = await planGroup(db, ctx.call, group, parents);
    if (plan.kind === 'blocked') {
      ctx.blocked.add(keyOf(group));
      await outbox.markWaiting(db, group);
      continue;
    }
    ctx.blocked.delete(keyOf(group));
    if (plan.kind === 'done') {
      await outbox.completeGroup(db, group, plan.effect, ctx.now());
      continue;
    }
    const upsert = plan.planned.changes.some((c) => c.op === 'upsert' || c.op === 'create');
    if (group.entity === 'material' && upsert) parents.materials.set(group.entityId, keyOf(group));
    if (group.entity === 'vocabulary' && upsert) parents.words.set(group.entityId, keyOf(group));
    batch.push(plan.planned);
  }
  const outcome: PushOutcome = { answered: 0, restartPull: false };
  if (!batch.length) return outcome;
  for (const planned of batch) await outbox.markUploading(db, planned.group);

  // Every change in order, chunked; a group's changes may span chunks (a long log of answers).
  const flat = batch.flatMap((planned, index) => planned.changes.map((change) => ({ change, index })));
  const results: PushResult[] = [];
  const failedParents = new Set<string>();
  let serverTime = ctx.now();
  let next = 0;
  const settle = async () => {
    for (; next < batch.length; next++) {
      const planned = batch[next] as Planned;
      const last = flat.findLastIndex((f) => f.index === next);
      if (last >= results.length) return;
      const first = flat.findIndex((f) => f.index === next);
      const ok = await settleGroup(ctx, planned, results.slice(first, last + 1), serverTime, failedParents, outcome);
      if (!ok) failedParents.add(keyOf(planned.group));
      outcome.answered++;
    }
  };
  try {
    for (let from = 0; from < flat.length; from += MAX_PUSH_CHANGES) {
      const chunk = flat.slice(from, from + MAX_PUSH_CHANGES).map((f) => f.change);
      const answer = await pushChanges(ctx.call, chunk);
      serverTime = answer.server_time_ms;
      results.push(...chunk.map((_, i) => answer.results[i] ?? missing()));
      await settle();
    }
  } catch (e) {
    const verdict = classify(e, ctx.now());
    const unanswered = batch.slice(next).map((p) => p.group);
    switch (verdict.kind) {
      case 'stopped':
        outcome.stop = { kind: 'stopped' }; // as after a crash: the rows stay 'uploading' until the next runner starts
        break;
      case 'offline':
        for (const group of unanswered) await outbox.markWaiting(db, group, verdict.problem);
        outcome.stop = { kind: 'offline', problem: verdict.problem };
        break;
      case 'signedOut':
        for (const group of unanswered) await outbox.markWaiting(db, group);
        outcome.stop = { kind: 'signedOut' };
        break;
      case 'retry':
        for (const group of unanswered) {
          const attempts = group.attempts + 1;
          if (verdict.problem.code === 'client_error' && attempts >= MAX_CLIENT_ATTEMPTS) await outbox.markFailed(db, group, verdict.problem);
          else await outbox.markRetry(db, group, verdict.problem, ctx.now() + backoffDelay(attempts, ITEM_BACKOFF, ctx.random(), verdict.retryAfterMs));
        }
        break;
      case 'rejected':
        // The request itself was refused (not a batch the server takes): every group shows why.
        for (const group of unanswered) await outbox.markFailed(db, group, verdict.problem);
        break;
    }
  }
  if (outcome.clockSetRight && !outcome.stop && !ctx.restamped) {
    // The time was set right: what waited on the clock goes again now, with fresh clocks.
    const restamped = await outbox.restampClockAhead(db, serverTime, maxClockAheadMs());
    const again = await pushBatch({ ...ctx, restamped: true }, restamped);
    outcome.answered += again.answered;
    outcome.restartPull ||= again.restartPull;
    if (again.stop) outcome.stop = again.stop;
  }
  delete outcome.clockSetRight;
  return outcome;
}

const missing = (): PushResult => ({ kind: null, id: null, status: 'rejected', problem: { code: 'no_answer', detail: 'the server did not answer this change' } });

/** What the server answered for one group; returns whether the group got through (its children may follow). */
async function settleGroup(ctx: PushContext, planned: Planned, results: PushResult[], serverTime: number, failedParents: Set<string>, outcome: PushOutcome): Promise<boolean> {
  const { db } = ctx;
  const { group } = planned;
  const rejected = results.map((r, i) => ({ r, change: planned.changes[i] as PushChange })).filter(({ r, change }) => r.status === 'rejected' && !(change.op === 'delete' && r.problem?.code === 'not_found'));
  if (rejected.length) {
    const [first] = rejected as [(typeof rejected)[number]];
    const problem = first.r.problem ?? { code: 'rejected' };
    // Saved on another device first, under its id: this device takes that id (its answers follow).
    if (group.entity === 'vocabulary' && problem.code === 'word_already_saved' && typeof problem.existing_id === 'string' && problem.existing_id !== group.entityId) {
      await vocabulary.adoptServerId(db, group.entityId, problem.existing_id, group.maxSeq);
      return false;
    }
    // Its parent in this batch did not get through: it waits for it, as a child always does.
    if (planned.parent && failedParents.has(planned.parent)) {
      ctx.blocked.add(keyOf(group));
      await outbox.markWaiting(db, group);
      return false;
    }
    if (problem.code === 'clock_ahead') {
      const aheadMs = Math.max(0, physicalMs(first.change.hlc ?? '0-') - serverTime);
      const detail = problem.detail ?? 'this device’s clock is ahead of the server’s';
      // Until the server's clock catches up with the change's, but tried again within the recheck: a clock set right meanwhile is noticed below.
      const waitMs = Math.min(Math.max(backoffDelay(group.attempts + 1, ITEM_BACKOFF, ctx.random()), aheadMs - maxClockAheadMs() + 1000), outbox.CLOCK_AHEAD_RECHECK_MS);
      const p: SyncProblem = { kind: 'transient', code: 'clock_ahead', detail, aheadMs, at: ctx.now(), ...(problem.field ? { field: problem.field } : {}) };
      await outbox.markRetry(db, group, p, ctx.now() + waitMs);
      // The learner has set the time right since the change was stamped (decision 0024): it need not wait.
      if (deviceClock().forgetAhead(serverTime, maxClockAheadMs())) outcome.clockSetRight = true;
      return false;
    }
    await outbox.markFailed(db, group, toProblem(problem, ctx.now()));
    return false;
  }
  const winners = results.flatMap((r) => (r.status === 'conflict' && r.change ? [r.change] : []));
  if (winners.length) {
    if (await pull.adoptWinners(db, group, winners, ctx.now())) outcome.restartPull = true;
    return true;
  }
  // The server holds these clocks now: the device clock, set right after running ahead, never goes back below them.
  const stored = planned.changes.flatMap((c, i) => (c.hlc && results[i]?.status === 'applied' ? [c.hlc] : []));
  if (stored.length) observe(stored.reduce((a, b) => (b > a ? b : a)));
  await outbox.completeGroup(db, group, planned.effect, ctx.now());
  return true;
}

function toProblem(p: PushProblem, at: number): SyncProblem {
  return {
    kind: 'rejected',
    code: p.code,
    detail: p.detail || p.code,
    ...(typeof p.status === 'number' ? { status: p.status } : {}),
    ...(p.field ? { field: p.field } : {}),
    at,
  };
}

/** One group's changes from what is on the device now, or why it waits, or that nothing needs sending. */
async function planGroup(db: EcholoopDb, call: ApiCall, group: OutboxGroup, parents: Parents): Promise<Plan> {
  const id = group.entityId;
  const send = (changes: PushChange[], effect: SyncEffect, parent?: string): Plan => ({ kind: 'send', planned: { group, changes, effect, ...(parent ? { parent } : {}) } });
  switch (group.entity) {
    case 'material': {
      // A YouTube material removed and added again: its delete goes first.
      const deleted: PushChange[] = group.op === 'delete' || group.deleteFirst ? [{ kind: 'material', op: 'delete', id, hlc: await outbox.deleteClock(db, group) }] : [];
      if (group.op === 'delete') return send(deleted, { uploaded: true });
      const m = await materials.getMaterial(db, id);
      const hlc = await outbox.rowClock(db, 'materials', id);
      if (!m || !hlc) return deleted.length ? send(deleted, { uploaded: true }) : { kind: 'done' };
      const data = {
        type: m.type,
        source_type: m.sourceType,
        title: m.title,
        metadata: m.sourceType === 'youtube' && m.externalId ? { external_id: m.externalId } : {},
        ...(m.durationMs && m.durationMs > 0 ? { duration: m.durationMs } : {}),
      };
      // Not confirmed yet: a creation, which brings back an id deleted before it (a video imported again).
      const op = m.serverId ? 'upsert' : 'create';
      return send([...deleted, { kind: 'material', op, id, hlc, data }], { materialId: id, serverId: id, uploaded: true });
    }
    case 'segment': {
      // One corrected sentence of a list the server has; a list still queued carries it instead.
      const materialId = group.materialId;
      if (!materialId || !(await materials.getMaterial(db, materialId)) || (await outbox.hasQueued(db, 'segments', materialId))) return { kind: 'done' };
      const parent = await materialParent(db, materialId, false, parents);
      if (typeof parent === 'object') return parent;
      const segment = (await materials.listSegments(db, materialId)).find((s) => s.id === id);
      const hlc = await outbox.segmentClock(db, materialId, id);
      if (!segment || !hlc) return { kind: 'done' }; // no longer in its list (replaced meanwhile)
      return send([{ kind: 'segment', op: 'upsert', id, hlc, data: { text: segment.text } }], { uploaded: true }, parent);
    }
    case 'progress': {
      const p = await progress.getProgress(db, id);
      const hlc = await outbox.rowClock(db, 'progress', id);
      if (!p || !hlc) return { kind: 'done' };
      const parent = await materialParent(db, id, true, parents);
      if (typeof parent === 'object') return parent;
      return send([{ kind: 'progress', op: 'upsert', id, hlc, data: { last_segment_index: p.lastSegmentIndex, status: p.status } }], { uploaded: true }, parent);
    }
    case 'vocabulary': {
      const deleted: PushChange[] = group.op === 'delete' || group.deleteFirst ? [{ kind: 'vocabulary_item', op: 'delete', id, hlc: await outbox.deleteClock(db, group) }] : [];
      if (group.op === 'delete') return send(deleted, { uploaded: true });
      const item = await vocabulary.getWord(db, id);
      const hlc = await outbox.rowClock(db, 'vocabulary', id);
      if (!item || !hlc) return deleted.length ? send(deleted, { uploaded: true }) : { kind: 'done' };
      const context = await serverContext(db, item, parents);
      if (context.kind === 'blocked') return context;
      const data = { word: item.word, language: item.language, ...(context.value ? { context: context.value } : {}) };
      const op = item.serverId ? 'upsert' : 'create';
      return send([...deleted, { kind: 'vocabulary_item', op, id, hlc, data }], { vocabularyId: id, uploaded: true }, context.parent);
    }
    case 'reviews': {
      const item = await vocabulary.getWord(db, id);
      if (!item) return { kind: 'done' };
      // The word first: confirmed by the server, or ahead of its answers in this batch.
      const parent = parents.words.get(id);
      if (!parent && (!item.serverId || (await outbox.hasQueued(db, 'vocabulary', id)))) return { kind: 'blocked', by: 'vocabulary' };
      const logs = await vocabulary.unsentReviews(db, id);
      if (!logs.length) return { kind: 'done' };
      const changes = logs.map(
        (log): PushChange => ({ kind: 'review_log', op: 'upsert', id: log.id, data: { vocabulary_item_id: id, rating: log.rating, reviewed_at: new Date(log.reviewedAt).toISOString() } }),
      );
      return send(changes, { reviewLogIds: logs.map((l) => l.id), uploaded: true }, parent);
    }
    case 'recording': {
      // A take deleted while its upload was under way: the upload goes too (tus termination; gone already is fine).
      if (group.upload) await terminateUpload(call, group.upload.url).catch(() => undefined);
      return send([{ kind: 'recording', op: 'delete', id, hlc: await outbox.deleteClock(db, group) }], { uploaded: true });
    }
    default:
      return { kind: 'done' };
  }
}

/**
 * The material a child needs on the server first: confirmed there, or sent
 * ahead of it in this batch (returned: its group's key); else what it waits
 * for. Progress also needs the segment list (the server checks the
 * position against it). A material no longer here blocks nothing.
 */
async function materialParent(db: EcholoopDb, materialId: string, needsSegments: boolean, parents: Parents): Promise<string | undefined | { kind: 'blocked'; by: Blocker }> {
  const material = await materials.getMaterial(db, materialId);
  if (!material) return undefined;
  const parent = parents.materials.get(materialId);
  if (!material.serverId && !parent) return { kind: 'blocked', by: 'material' };
  if (needsSegments && (await outbox.hasQueued(db, 'segments', materialId))) return { kind: 'blocked', by: 'segments' };
  return parent;
}

/**
 * The form the word was tapped in, when it is a word of the sentence whose
 * key is the item's word — the server's rule, with the same core tokens
 * (docs/api/vocabulary.md): a context changed to a sentence without that
 * form goes up without it rather than be refused.
 */
function tappedForm(item: LocalVocabularyItem, sentence: string): { surface?: string } {
  const found = tokenize(sentence, item.language).some((t) => t.kind === 'word' && t.text === item.surface && t.key === item.word);
  return found ? { surface: item.surface } : {};
}

/**
 * Where the word was met, as the server can take it: the server checks
 * that the material and segment are the account's, so the word waits for
 * the material's row and its segment list. A material no longer on this
 * device leaves the sentence alone; a segment no longer in its list (the
 * subtitles were replaced) leaves the material and time.
 */
async function serverContext(
  db: EcholoopDb,
  item: LocalVocabularyItem,
  parents: Parents,
): Promise<{ kind: 'context'; value?: ServerContext; parent?: string } | { kind: 'blocked'; by: Blocker }> {
  if (!item.context) return { kind: 'context' };
  const { sentence: text, materialId, segmentId, timeMs } = item.context;
  const sentence = { sentence: text, ...tappedForm(item, text) };
  if (!materialId) return { kind: 'context', value: sentence };
  const parent = await materialParent(db, materialId, Boolean(segmentId), parents);
  if (typeof parent === 'object') return parent;
  if (!(await materials.getMaterial(db, materialId))) return { kind: 'context', value: sentence };
  const placed: ServerContext = { ...sentence, material_id: materialId, ...(timeMs !== undefined ? { time_ms: timeMs } : {}) };
  const withParent = parent ? { parent } : {};
  if (!segmentId) return { kind: 'context', value: placed, ...withParent };
  const segments = await materials.listSegments(db, materialId);
  return { kind: 'context', value: segments.some((s) => s.id === segmentId) ? { ...placed, segment_id: segmentId } : placed, ...withParent };
}
