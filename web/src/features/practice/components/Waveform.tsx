import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { peaks } from '../api/peaks';

function draw(canvas: HTMLCanvasElement, bins: Float32Array, color: string) {
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.floor(canvas.clientWidth * dpr));
  const height = Math.max(1, Math.floor(canvas.clientHeight * dpr));
  canvas.width = width;
  canvas.height = height;
  const g = canvas.getContext('2d');
  if (!g) return;
  g.clearRect(0, 0, width, height);
  const mid = height / 2;
  g.fillStyle = color;
  for (let x = 0; x < width; x++) {
    // Each column shows the loudest bin it covers.
    const first = Math.floor((x * bins.length) / width);
    const last = Math.max(first + 1, Math.floor(((x + 1) * bins.length) / width));
    let peak = 0;
    for (let i = first; i < last; i++) peak = Math.max(peak, bins[i] ?? 0);
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

/** A waveform of a blob: of the range [fromMs, toMs) when given (the original's segment), else of the whole blob (a take). */
export function Waveform({ blob, fromMs, toMs, label, color, emptyText, testId }: Props) {
  const { t } = useTranslation();
  const canvas = useRef<HTMLCanvasElement>(null);
  const [status, setStatus] = useState<'idle' | 'ready' | 'error'>('idle');
  useEffect(() => {
    if (!blob) return;
    let alive = true;
    peaks(blob, fromMs, toMs).then(
      (bins) => {
        if (!alive || !canvas.current) return;
        draw(canvas.current, bins, color);
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
