import { useCallback, useEffect, useRef, useState } from 'react';
import type { LocalRecording } from '../../../db';
import { releaseMicrophone, startRecording, type ActiveRecording } from '../api/recorder';
import { saveTake } from '../api/takes';

export type RecorderState = { state: 'idle' } | { state: 'recording'; since: number } | { state: 'error'; reason: string };

/** Hold-to-record: start() on press, stop() on release saves the take. */
export function useRecorder(onSaved?: (take: LocalRecording) => void) {
  const [state, setState] = useState<RecorderState>({ state: 'idle' });
  const active = useRef<Promise<ActiveRecording | null> | null>(null);
  const target = useRef<{ segmentId: string; materialId: string } | null>(null);

  const start = useCallback((segmentId: string, materialId: string) => {
    if (active.current) return;
    target.current = { segmentId, materialId };
    setState({ state: 'recording', since: Date.now() });
    active.current = startRecording().catch((e: unknown) => {
      setState({ state: 'error', reason: e instanceof Error ? e.message : String(e) });
      active.current = null;
      return null;
    });
  }, []);

  const stop = useCallback(async () => {
    const pending = active.current;
    if (!pending) return;
    active.current = null;
    const rec = await pending;
    if (!rec || !target.current) return;
    const { blob, duration } = await rec.stop();
    setState({ state: 'idle' });
    if (blob.size === 0) return;
    const take = await saveTake(target.current.segmentId, target.current.materialId, blob, duration);
    onSaved?.(take);
  }, [onSaved]);

  useEffect(() => () => releaseMicrophone(), []);

  return { state, start, stop };
}
