import { auth, getDb, recordings, type LocalRecording } from '../../../db';
import { API_BASE, apiDownload } from '../../../lib/api';
import { LinkCache, mintMediaLink, type MediaLink } from '../../../lib/mediaLink';

export function saveTake(segmentId: string, materialId: string, blob: Blob, duration: number) {
  return recordings.addRecording(getDb(), { segmentId, materialId, blob, duration });
}

export function deleteTake(id: string) {
  return recordings.deleteRecording(getDb(), id);
}

const links = new LinkCache();

/**
 * A link an `<audio>` element streams a take recorded on another device
 * from (its audio stays on the server); in memory, reused while fresh.
 * `fresh`: the element failed with the one it had.
 */
export async function takeAudioLink(takeId: string, { fresh = false } = {}): Promise<MediaLink> {
  const token = await auth.getToken(getDb());
  // Per session, as a material's (practice/api/remoteMedia.ts).
  return links.get(`${token ?? ''} recording:${takeId}`, () => mintMediaLink(`/recordings/${takeId}/audio/link`, token), { fresh });
}

/** Fetches the audio of a take recorded on another device from the server (`cloud_url`, with the token) and keeps it here. */
export async function fetchTakeAudio(take: LocalRecording): Promise<void> {
  if (!take.cloudUrl) throw new Error('The audio of this take is not on the server');
  const db = getDb();
  const path = take.cloudUrl.startsWith(API_BASE) ? take.cloudUrl.slice(API_BASE.length) : take.cloudUrl;
  const { blob } = await apiDownload(path, { token: await auth.getToken(db), timeoutMs: 5 * 60 * 1000 });
  await recordings.attachAudio(db, take.id, blob);
}

let player: HTMLAudioElement | null = null;
let playerUrl: string | null = null;

/**
 * Plays a take; resolves when it ends (or is interrupted). A take from
 * another device whose audio is only on the server streams through a media
 * link (asked for again once if the one in memory fails: it expired).
 */
export async function playTake(take: LocalRecording): Promise<void> {
  stopTake();
  if (take.blob) {
    playerUrl = URL.createObjectURL(take.blob);
    await playUrl(take.id, playerUrl);
    return;
  }
  if (!take.cloudUrl) return; // recorded on another device and not on the server: its audio is not here
  const ticket = ++streamTicket;
  for (const fresh of [false, true]) {
    let link: MediaLink;
    try {
      link = await takeAudioLink(take.id, { fresh });
    } catch {
      return; // offline, or gone: nothing to play
    }
    if (ticket !== streamTicket) return; // another take started, or stopped, meanwhile
    if ((await playUrl(take.id, link.url)) === 'ended') return;
  }
}

let streamTicket = 0;

function playUrl(takeId: string, url: string): Promise<'ended' | 'failed'> {
  const audio = new Audio(url);
  audio.dataset.takeId = takeId;
  player = audio;
  return new Promise((resolve) => {
    const done = () => resolve('ended');
    const failed = () => resolve(audio.currentTime > 0 ? 'ended' : 'failed');
    audio.addEventListener('ended', done, { once: true });
    audio.addEventListener('pause', done, { once: true });
    audio.addEventListener('error', failed, { once: true });
    audio.play().catch(failed);
  });
}

/** A little before and after a word, so its first and last sounds are not clipped. */
const PART_PADDING_MS = 80;
let partContext: AudioContext | null = null;
let partSource: AudioBufferSourceNode | null = null;
const decodedTakes = new WeakMap<Blob, Promise<AudioBuffer>>();

/**
 * Plays `durationMs` of a take from `fromMs` (a word the server placed in
 * it). Decoded with WebAudio: a recorder's WebM has no index to seek in,
 * and a buffer source starts and stops exactly where asked.
 */
export async function playTakePart(take: LocalRecording, fromMs: number, durationMs: number): Promise<void> {
  stopTake();
  const blob = take.blob;
  if (!blob) return;
  partContext ??= new AudioContext();
  const context = partContext;
  await context.resume();
  let decoded = decodedTakes.get(blob);
  if (!decoded) {
    decoded = blob.arrayBuffer().then((bytes) => context.decodeAudioData(bytes));
    decodedTakes.set(blob, decoded);
  }
  const buffer = await decoded;
  const from = Math.max(0, fromMs - PART_PADDING_MS) / 1000;
  if (from >= buffer.duration) return;
  const source = context.createBufferSource();
  source.buffer = buffer;
  source.connect(context.destination);
  partSource = source;
  await new Promise<void>((resolve) => {
    source.onended = () => resolve();
    source.start(0, from, Math.min(buffer.duration - from, (durationMs + 2 * PART_PADDING_MS) / 1000));
  });
  if (partSource === source) partSource = null;
}

export function stopTake(): void {
  streamTicket++;
  if (partSource) {
    partSource.stop(); // fires `ended`, which settles the playTakePart() that started it
    partSource = null;
  }
  if (player) {
    player.pause();
    player = null;
  }
  if (playerUrl) {
    URL.revokeObjectURL(playerUrl);
    playerUrl = null;
  }
}
