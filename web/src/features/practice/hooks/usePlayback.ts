import { useCallback, useEffect, useRef, useState } from 'react';
import type { LocalSegment } from '../../../db';
import type { MediaPort } from '../api/mediaPort';
import { boundaryAction, segmentAt, type LoopMode } from '../api/segments';
import { stallWatch } from '../api/stallWatch';

export interface PlaybackOptions {
  segments: LocalSegment[];
  initialIndex: number;
  onIndexChange?: (index: number, reachedEnd: boolean) => void;
}

/**
 * The echo loop: plays segments, stops at their end for shadowing, loops a
 * segment or a range, and keeps the current segment in sync with the media.
 */
export function usePlayback({ segments, initialIndex, onIndexChange }: PlaybackOptions) {
  const port = useRef<MediaPort | null>(null);
  const [index, setIndexState] = useState(initialIndex);
  const [playing, setPlaying] = useState(false);
  const [loop, setLoop] = useState<LoopMode>({ kind: 'off' });
  const [autoPause, setAutoPause] = useState(true);
  const [rate, setRateState] = useState(1);
  const state = useRef({ index: initialIndex, loop, autoPause, segments, stopWaiters: [] as (() => void)[], forceStop: false, savedLoop: null as LoopMode | null });
  const onChange = useRef(onIndexChange);
  useEffect(() => {
    state.current.loop = state.current.savedLoop ? { kind: 'off' } : loop;
    state.current.autoPause = autoPause;
    state.current.segments = segments;
    onChange.current = onIndexChange;
  });

  const setIndex = useCallback((i: number, reachedEnd = false) => {
    state.current.index = i;
    setIndexState(i);
    onChange.current?.(i, reachedEnd);
  }, []);

  const notifyStopped = () => {
    const waiters = state.current.stopWaiters;
    state.current.stopWaiters = [];
    state.current.forceStop = false;
    if (state.current.savedLoop) {
      state.current.loop = state.current.savedLoop;
      state.current.savedLoop = null;
    }
    waiters.forEach((w) => w());
  };

  // The monitor: runs every frame while playing.
  useEffect(() => {
    if (!playing) return;
    let raf = 0;
    const stalled = stallWatch();
    const tick = () => {
      const p = port.current;
      if (!p) return;
      const { segments: segs, index: i, loop: lp, autoPause: ap } = state.current;
      const ms = p.time();
      const action = boundaryAction(segs, i, ms, lp, ap || state.current.forceStop);
      if (action.kind === 'pause') {
        p.pause();
        const end = segs[i]?.endTime;
        if (end !== undefined) p.seek(end);
        setPlaying(false);
        if (i === segs.length - 1) onChange.current?.(i, true);
        notifyStopped();
        return;
      }
      if (action.kind === 'seek') {
        const s = segs[action.index];
        if (s) p.seek(s.startTime);
        if (action.index !== i) setIndex(action.index);
      } else if (action.kind === 'advance') {
        setIndex(action.index);
      }
      if (p.paused()) {
        const last = segs[segs.length - 1];
        if (last && state.current.index === segs.length - 1 && p.time() >= last.endTime - 50) onChange.current?.(segs.length - 1, true);
        setPlaying(false);
        notifyStopped();
        return;
      }
      if (stalled(performance.now(), p.time())) p.recover?.();
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [playing, setIndex]);

  const attach = useCallback((p: MediaPort | null) => {
    port.current = p;
    // A detached player is not playing: clearing the state lets the next
    // play start the monitor again instead of finding `playing` still true.
    if (!p) setPlaying(false);
    if (p) {
      p.setRate(1);
      const s = state.current.segments[state.current.index];
      if (s) p.seek(s.startTime);
    }
  }, []);

  const playFrom = useCallback(async (ms: number) => {
    const p = port.current;
    if (!p) return;
    p.seek(ms);
    try {
      await p.play();
      setPlaying(true);
    } catch {
      setPlaying(false);
    }
  }, []);

  /** Plays segment i from its start. */
  const playSegment = useCallback(
    async (i: number) => {
      const s = state.current.segments[i];
      if (!s) return;
      if (i !== state.current.index) setIndex(i);
      await playFrom(s.startTime);
    },
    [playFrom, setIndex],
  );

  /** Plays segment i and resolves when playback stops. */
  const playSegmentOnce = useCallback(
    (i: number) =>
      new Promise<void>((resolve) => {
        state.current.savedLoop ??= state.current.loop;
        state.current.loop = { kind: 'off' };
        state.current.forceStop = true;
        state.current.stopWaiters.push(resolve);
        void playSegment(i);
      }),
    [playSegment],
  );

  const pause = useCallback(() => {
    port.current?.pause();
    setPlaying(false);
  }, []);

  const toggle = useCallback(() => {
    const p = port.current;
    if (!p) return;
    if (!p.paused()) return pause();
    const s = state.current.segments[state.current.index];
    if (!s) {
      void p.play().then(() => setPlaying(true), () => setPlaying(false));
      return;
    }
    const ms = p.time();
    const inside = ms >= s.startTime && ms < s.endTime - 30;
    void playFrom(inside ? ms : s.startTime);
  }, [pause, playFrom]);

  const go = useCallback(
    (delta: number) => {
      const segs = state.current.segments;
      if (!segs.length) return;
      const next = Math.min(segs.length - 1, Math.max(0, state.current.index + delta));
      const p = port.current;
      const wasPlaying = p ? !p.paused() : false;
      setIndex(next);
      const s = segs[next];
      if (p && s) {
        if (wasPlaying) void playFrom(s.startTime);
        else p.seek(s.startTime);
      }
    },
    [playFrom, setIndex],
  );

  const setRate = useCallback((r: number) => {
    const clamped = Math.min(2, Math.max(0.5, r));
    setRateState(clamped);
    port.current?.setRate(clamped);
  }, []);

  const toggleLoop = useCallback(() => setLoop((l) => (l.kind === 'off' ? { kind: 'segment' } : { kind: 'off' })), []);

  /** Follows the media when the user seeks with the native controls. */
  const syncToTime = useCallback(
    (ms: number) => {
      const at = segmentAt(state.current.segments, ms);
      if (at >= 0 && at !== state.current.index && !playing) setIndex(at);
    },
    [playing, setIndex],
  );

  return {
    attach,
    index,
    playing,
    loop,
    setLoop,
    toggleLoop,
    autoPause,
    setAutoPause,
    rate,
    setRate,
    playSegment,
    playSegmentOnce,
    toggle,
    pause,
    go,
    setIndex,
    syncToTime,
  };
}
