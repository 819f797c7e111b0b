import { getDb, recordings, type LocalRecording } from '../../../db';

export function saveTake(segmentId: string, materialId: string, blob: Blob, duration: number) {
  return recordings.addRecording(getDb(), { segmentId, materialId, blob, duration });
}

export function deleteTake(id: string) {
  return recordings.deleteRecording(getDb(), id);
}

let player: HTMLAudioElement | null = null;
let playerUrl: string | null = null;

/** Plays a take; resolves when it ends (or is interrupted). */
export function playTake(take: LocalRecording): Promise<void> {
  stopTake();
  playerUrl = URL.createObjectURL(take.blob);
  const audio = new Audio(playerUrl);
  audio.dataset.takeId = take.id;
  player = audio;
  return new Promise((resolve) => {
    const done = () => resolve();
    audio.addEventListener('ended', done, { once: true });
    audio.addEventListener('pause', done, { once: true });
    audio.addEventListener('error', done, { once: true });
    audio.play().catch(done);
  });
}

export function stopTake(): void {
  if (player) {
    player.pause();
    player = null;
  }
  if (playerUrl) {
    URL.revokeObjectURL(playerUrl);
    playerUrl = null;
  }
}
