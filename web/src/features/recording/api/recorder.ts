/** Microphone capture with MediaRecorder; one stream kept open per page. */

let stream: MediaStream | null = null;

export class RecorderUnavailableError extends Error {}

function pickMimeType(): string | undefined {
  const candidates = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'];
  return candidates.find((c) => typeof MediaRecorder !== 'undefined' && MediaRecorder.isTypeSupported(c));
}

async function microphone(): Promise<MediaStream> {
  if (stream && stream.getAudioTracks().some((t) => t.readyState === 'live')) return stream;
  if (!navigator.mediaDevices?.getUserMedia) throw new RecorderUnavailableError('getUserMedia unsupported');
  stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
  return stream;
}

export function releaseMicrophone(): void {
  stream?.getTracks().forEach((t) => t.stop());
  stream = null;
}

export interface ActiveRecording {
  stop(): Promise<{ blob: Blob; duration: number }>;
  cancel(): void;
}

/** Starts recording; stop() resolves with the take as soon as the recorder flushes. */
export async function startRecording(): Promise<ActiveRecording> {
  if (typeof MediaRecorder === 'undefined') throw new RecorderUnavailableError('MediaRecorder unsupported');
  const mic = await microphone();
  const mimeType = pickMimeType();
  const recorder = new MediaRecorder(mic, mimeType ? { mimeType } : undefined);
  const chunks: Blob[] = [];
  recorder.ondataavailable = (e) => {
    if (e.data.size > 0) chunks.push(e.data);
  };
  let started = performance.now();
  recorder.onstart = () => {
    started = performance.now();
  };
  recorder.start(250);
  return {
    stop: () =>
      new Promise((resolve, reject) => {
        const duration = performance.now() - started;
        recorder.onstop = () => resolve({ blob: new Blob(chunks, { type: recorder.mimeType || mimeType || 'audio/webm' }), duration });
        recorder.onerror = () => reject(new Error('recorder error'));
        if (recorder.state === 'inactive') recorder.onstop(new Event('stop'));
        else recorder.stop();
      }),
    cancel: () => {
      if (recorder.state !== 'inactive') recorder.stop();
    },
  };
}
