import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';

const decoded = new WeakMap<Blob, Promise<AudioBuffer>>();
/** Whole-file decoding of very large media would exhaust memory: skip it. */
const MAX_DECODE_BYTES = 120 * 1024 * 1024;
let ctx: AudioContext | null = null;

function decode(blob: Blob): Promise<AudioBuffer> {
  if (blob.size > MAX_DECODE_BYTES) return Promise.reject(new Error('too large to decode'));
  let p = decoded.get(blob);
  if (!p) {
    ctx ??= new AudioContext();
    const c = ctx;
    p = blob.arrayBuffer().then((buf) => c.decodeAudioData(buf));
    decoded.set(blob, p);
  }
  return p;
}

function draw(canvas: HTMLCanvasElement, buffer: AudioBuffer, fromMs: number, toMs: number, color: string) {
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.floor(canvas.clientWidth * dpr));
  const height = Math.max(1, Math.floor(canvas.clientHeight * dpr));
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext('2d');
  if (!g) return;
  g.clearRect(0, 0, width, height);
  const data = buffer.getChannelData(0);
  const start = Math.max(0, Math.floor((fromMs / 1000) * buffer.sampleRate));
  const end = Math.min(data.length, Math.ceil((toMs / 1000) * buffer.sampleRate));
  const per = Math.max(1, Math.floor((end - start) / width));
  const mid = height / 2;
  g.fillStyle = color;
  for (let x = 0; x < width; x++) {
    let peak = 0;
    const from = start + x * per;
    for (let i = from; i < from + per && i < end; i++) {
      const v = Math.abs(data[i] ?? 0);
      if (v > peak) peak = v;
    }
    const h = Math.max(1, peak * height * 0.95);
    g.fillRect(x, mid - h / 2, 1, h);
  }
}

interface Props {
  blob?: Blob;
  fromMs?: number;
  toMs?: number;
  label: string;
  color: string;
  emptyText?: string;
  testId: string;
}

/** A segment's waveform drawn from a decoded blob. */
export function Waveform({ blob, fromMs = 0, toMs, label, color, emptyText, testId }: Props) {
  const { t } = useTranslation();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [status, setStatus] = useState<'idle' | 'ready' | 'error'>('idle');
  useEffect(() => {
    if (!blob) return;
    let alive = true;
    decode(blob).then(
      (buffer) => {
        if (!alive || !canvas.current) return;
        draw(canvas.current, buffer, fromMs, toMs ?? buffer.duration * 1000, color);
        setStatus('ready');
      },
      () => alive && setStatus('error'),
    );
    return () => {
      alive = false;
    };
  }, [blob, fromMs, toMs, color]);
  return (
    <figure className="wave" data-testid={testId} data-state={blob ? status : 'empty'}>
      <figcaption>{label}</figcaption>
      {blob ? <canvas ref={canvas} role="img" aria-label={label} /> : <p className="muted">{emptyText}</p>}
      {status === 'error' && blob && <p className="muted">{t('practice.waveUnavailable')}</p>}
    </figure>
  );
}
