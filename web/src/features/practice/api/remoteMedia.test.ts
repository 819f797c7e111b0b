import { readFileSync } from 'node:fs';
import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { EcholoopDb, setDb } from '../../../db/database';
import * as materials from '../../../db/repositories/materials';
import * as recordings from '../../../db/repositories/recordings';
import type { LocalMaterial } from '../../../db/schema';
import { ApiError, OfflineError } from '../../../lib/api';
import { linkFailure } from '../../../lib/mediaLink';
import { connect, FaultProxy, registerUser, signIn, type TestUser } from '../../../test/realServer';
// A take from another device streams the same way, through the recording feature's api module.
import { takeAudioLink } from '../../recording/api/takes';
import { forgetMediaLinks, keepMediaOnDevice, keepingProgress, materialMediaLink, subscribeKeeping, type KeepProgress } from './remoteMedia';

// Real media (the server checks uploads with ffprobe): a 3 s lesson and a 1 s take.
const LESSON = new Uint8Array(readFileSync(inject('media').lesson));
const TAKE = new Uint8Array(readFileSync(inject('media').take));

const realFetch = globalThis.fetch;
let db: EcholoopDb;
let proxy: FaultProxy;
let server: string;
let me: TestUser;
let n = 0;

// The server whose free plan backs media up; device B (this database) has none of it.
beforeEach(async () => {
  db = new EcholoopDb(`remote-media-${Date.now()}-${n++}`);
  await db.open();
  setDb(db);
  ({ proxy, server } = await connect('mediaServer'));
  me = await registerUser(server);
  await signIn(db, me);
});

afterEach(async () => {
  forgetMediaLinks();
  vi.unstubAllGlobals();
  await proxy.close();
  db.close();
  await Dexie.delete(db.name);
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** The server's API as device A, which made the material (straight to the server, not through the proxy). */
async function api(path: string, init: RequestInit & { expect: number }): Promise<Response> {
  const res = await realFetch(`${server}/api/v1${path}`, { ...init, headers: { Authorization: `Bearer ${me.token}`, ...init.headers } });
  if (res.status !== init.expect) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

async function upload(metadata: Record<string, string>, bytes: Uint8Array): Promise<void> {
  await api('/uploads', {
    method: 'POST',
    expect: 201,
    headers: {
      'Tus-Resumable': '1.0.0',
      'Upload-Length': String(bytes.length),
      'Upload-Metadata': Object.entries(metadata)
        .map(([k, v]) => `${k} ${b64(v)}`)
        .join(','),
      'Content-Type': 'application/offset+octet-stream',
    },
    body: new Blob([new Uint8Array(bytes)]),
  });
}

/** A material device A made, with its media uploaded unless `withMedia` is false, and one sentence. */
async function materialOnServer({ withMedia = true } = {}): Promise<{ id: string; segmentId: string }> {
  const id = crypto.randomUUID();
  await api('/materials', {
    method: 'POST',
    expect: 201,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ id, type: 'audio', source_type: 'local_upload', title: 'Lesson from A', duration: 3000 }),
  });
  const res = await api(`/materials/${id}/segments`, {
    method: 'PUT',
    expect: 200,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ segments: [{ start_time: 200, end_time: 1500, text: 'Hello there.' }] }),
  });
  const { segments } = (await res.json()) as { segments: { id: string }[] };
  if (withMedia) await upload({ target: 'material', material_id: id }, LESSON);
  return { id, segmentId: segments[0]!.id };
}

/** The material as device B has it after a pull: where the media is, no media here. */
async function pulledHere(id: string, withMedia = true): Promise<LocalMaterial> {
  const row: LocalMaterial = {
    id,
    serverId: id,
    title: 'Lesson from A',
    type: 'audio',
    syncStatus: 'synced',
    createdAt: Date.now(),
    updatedAt: Date.now(),
    sourceType: 'local_upload',
    durationMs: 3000,
    searchTitle: 'lesson from a',
    segmentCount: 1,
    hasTranslations: false,
    ...(withMedia ? { mediaUrl: `/api/v1/materials/${id}/media`, mediaSize: LESSON.length } : {}),
  };
  await db.materials.put(row);
  return row;
}

/** Plays a link as a media element does: same origin, no Authorization, with Range. */
const play = (url: string, range?: string) => realFetch(`${server}${url}`, range ? { headers: { Range: range } } : {});

const linkMints = () => proxy.count('POST', /\/media\/link$/);

describe('streaming a material’s media from the server (against the real server)', () => {
  it('gives a link a media element streams from without the token, with Range, for about six hours', async () => {
    const { id } = await materialOnServer();
    const before = Date.now();
    const link = await materialMediaLink(id);
    expect(link.url).toMatch(/^\/api\/v1\/media\/[^/]+$/);
    expect(link.expiresAt).toBeGreaterThan(before + 6 * 3600_000 - 60_000);
    expect(link.expiresAt).toBeLessThan(Date.now() + 6 * 3600_000 + 60_000);

    const part = await play(link.url, 'bytes=0-99');
    expect(part.status).toBe(206);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(LESSON.slice(0, 100));
    const tail = await play(link.url, `bytes=100-`);
    expect(tail.status).toBe(206);
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(LESSON.slice(100));
    // Nothing was kept on this device.
    expect(await db.blobs.count()).toBe(0);
  });

  it('keeps the link in memory while fresh; a player that failed gets a new one, which plays', async () => {
    const { id } = await materialOnServer();
    const [a, b] = await Promise.all([materialMediaLink(id), materialMediaLink(id)]);
    expect(b).toEqual(a);
    expect(await materialMediaLink(id)).toEqual(a);
    expect(linkMints()).toBe(1);

    const renewed = await materialMediaLink(id, { fresh: true });
    expect(linkMints()).toBe(2);
    expect(renewed.url).not.toBe(a.url);
    const res = await play(renewed.url);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(LESSON);
    // The renewed link is the one handed out from now on.
    expect(await materialMediaLink(id)).toEqual(renewed);
    expect(linkMints()).toBe(2);
  });

  it('answers “gone” for media the server does not have, and a link dies with its material', async () => {
    const { id: bare } = await materialOnServer({ withMedia: false });
    const e = await materialMediaLink(bare).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(404);
    expect(linkFailure(e)).toBe('gone');

    const { id } = await materialOnServer();
    const link = await materialMediaLink(id);
    await api(`/materials/${id}`, { method: 'DELETE', expect: 204 });
    expect((await play(link.url)).status).toBe(404);
    expect(linkFailure(await materialMediaLink(id, { fresh: true }).catch((err: unknown) => err))).toBe('gone');
  });

  it('answers “offline” when the server cannot be reached, and “signed out” without a session, whatever links it had', async () => {
    const { id } = await materialOnServer();
    proxy.rule(() => 'offline');
    const e = await materialMediaLink(id).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(OfflineError);
    expect(linkFailure(e)).toBe('offline');
    proxy.clearRules();

    await materialMediaLink(id);
    await db.auth.clear();
    expect(linkFailure(await materialMediaLink(id).catch((err: unknown) => err))).toBe('signedOut');
  });
});

describe('keeping a material’s media on this device (against the real server)', () => {
  it('downloads the whole file once however many buttons ask, reporting progress, and stores it as the material’s media', async () => {
    const { id } = await materialOnServer();
    const material = await pulledHere(id);
    const seen: KeepProgress[] = [];
    const unsubscribe = subscribeKeeping(() => {
      const p = keepingProgress(id);
      if (p) seen.push(p);
    });
    await Promise.all([keepMediaOnDevice(material), keepMediaOnDevice(material)]);
    unsubscribe();

    expect(proxy.count('GET', new RegExp(`/materials/${id}/media$`))).toBe(1);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.at(-1)).toEqual({ loaded: LESSON.length, total: LESSON.length });
    expect(seen.every((p, i) => i === 0 || p.loaded >= seen[i - 1]!.loaded)).toBe(true);
    expect(keepingProgress(id)).toBeUndefined();

    const kept = await materials.getMaterial(db, id);
    expect(kept).toMatchObject({ mediaBackup: 'synced', mimeType: 'audio/ogg' });
    const stored = await db.blobs.get(kept!.mediaBlobKey!);
    expect(new Uint8Array(await stored!.blob.arrayBuffer())).toEqual(LESSON);
    expect(await db.outbox.count()).toBe(0); // the server has it already
  });

  it('fails without storing anything when the download fails, and can be asked again', async () => {
    const { id } = await materialOnServer();
    const material = await pulledHere(id);
    proxy.rule((req) => (req.method === 'GET' && req.path.endsWith('/media') ? 'offline' : 'pass'));
    await expect(keepMediaOnDevice(material)).rejects.toBeInstanceOf(OfflineError);
    expect(keepingProgress(id)).toBeUndefined();
    expect((await materials.getMaterial(db, id))?.mediaBlobKey).toBeUndefined();
    expect(await db.blobs.count()).toBe(0);

    proxy.clearRules();
    await keepMediaOnDevice(material);
    expect((await materials.getMaterial(db, id))?.mediaBlobKey).toBeDefined();
  });
});

describe('streaming a take from another device (against the real server)', () => {
  it('gives a link to the take’s audio, reused while fresh and renewed on request', async () => {
    const { id, segmentId } = await materialOnServer({ withMedia: false });
    const takeId = crypto.randomUUID();
    await upload({ target: 'recording', recording_id: takeId, segment_id: segmentId }, TAKE);
    await db.recordings.put({ id: takeId, segmentId, materialId: id, cloudUrl: `/api/v1/recordings/${takeId}/audio`, duration: 1000, mimeType: 'audio/ogg', syncStatus: 'synced', createdAt: Date.now() });

    const link = await takeAudioLink(takeId);
    expect(link.url).toMatch(/^\/api\/v1\/media\//);
    const res = await play(link.url);
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(TAKE);
    expect(await takeAudioLink(takeId)).toEqual(link);
    const renewed = await takeAudioLink(takeId, { fresh: true });
    expect(renewed.url).not.toBe(link.url);
    expect((await play(renewed.url, 'bytes=0-9')).status).toBe(206);
    expect(proxy.count('POST', new RegExp(`/recordings/${takeId}/audio/link$`))).toBe(2);
    // Streaming keeps nothing: the take still has no audio here.
    expect((await recordings.getRecording(db, takeId))?.blob).toBeUndefined();
  });
});
