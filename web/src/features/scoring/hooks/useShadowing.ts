import { useEffect, useState } from 'react';
import { compareTakeWithOriginal, shadowingKey, type ShadowingInput, type ShadowingOutcome } from '../api/shadowing';

export type ShadowingState = { kind: 'computing' } | ShadowingOutcome;

/** The shadowing comparison of the input, computed in the browser when it changes ("computing" until then). */
export function useShadowing(input: ShadowingInput | undefined): ShadowingState {
  const [done, setDone] = useState<{ key: string; outcome: ShadowingOutcome }>();
  useEffect(() => {
    if (!input) return;
    let alive = true;
    const key = shadowingKey(input);
    const settle = (outcome: ShadowingOutcome) => {
      if (alive) setDone((prev) => (prev?.key === key && prev.outcome === outcome ? prev : { key, outcome }));
    };
    compareTakeWithOriginal(input).then(settle, (e: unknown) => settle({ kind: 'refused', detail: e instanceof Error ? e.message : String(e) }));
    return () => {
      alive = false;
    };
  }, [input]);
  return input && done?.key === shadowingKey(input) ? done.outcome : { kind: 'computing' };
}
