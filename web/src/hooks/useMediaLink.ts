import { useCallback, useEffect, useRef, useState } from 'react';
import { linkFailure, type LinkFailure, type MediaLink } from '../lib/mediaLink';

export interface MediaLinkState {
  /** What the element streams from; kept while a new link is asked for, so the element stays. */
  url: string | null;
  busy: boolean;
  failure: { kind: LinkFailure; detail: string } | null;
}

export interface MediaLinkControl extends MediaLinkState {
  /**
   * The element failed (its link expired, `410`, or went away): ask for a
   * new link. A new link that fails again before its metadata loaded is not
   * renewed once more: the media itself does not play, and that is said.
   */
  renew(): void;
  /** The element has the media's metadata with the current link. */
  loaded(): void;
  /** Try again after a failure. */
  retry(): void;
}

const isOffline = () => typeof navigator !== 'undefined' && navigator.onLine === false;

/**
 * A media link for a player, asked for when `get` is given (lazily: when
 * the player shows), renewed when the player fails with it, asked for again
 * when the browser comes back online after failing offline.
 */
export function useMediaLink(get: ((options: { fresh: boolean }) => Promise<MediaLink>) | null): MediaLinkControl {
  // Offline, no link is asked for: the learner is told the media needs a connection, and it is asked for once back online.
  const [state, setState] = useState<MediaLinkState>(() =>
    isOffline() ? { url: null, busy: false, failure: { kind: 'offline', detail: 'offline' } } : { url: null, busy: get !== null, failure: null },
  );
  const renewedSinceLoad = useRef(false);
  const generation = useRef(0);

  const ask = useCallback(
    (fresh: boolean) => {
      if (!get) return;
      const mine = ++generation.current;
      setState((s) => (s.busy && !s.failure ? s : { ...s, busy: true, failure: null }));
      get({ fresh }).then(
        (link) => mine === generation.current && setState({ url: link.url, busy: false, failure: null }),
        (e: unknown) => {
          if (mine !== generation.current) return;
          setState((s) => ({ ...s, busy: false, failure: { kind: linkFailure(e), detail: e instanceof Error ? e.message : String(e) } }));
        },
      );
    },
    [get],
  );

  useEffect(() => {
    if (!get || isOffline()) return;
    const mine = ++generation.current;
    let alive = true;
    const current = () => alive && mine === generation.current;
    renewedSinceLoad.current = false;
    get({ fresh: false }).then(
      (link) => current() && setState({ url: link.url, busy: false, failure: null }),
      (e: unknown) => current() && setState({ url: null, busy: false, failure: { kind: linkFailure(e), detail: e instanceof Error ? e.message : String(e) } }),
    );
    return () => {
      alive = false;
    };
  }, [get]);

  const offline = state.failure?.kind === 'offline';
  useEffect(() => {
    if (!offline) return;
    const back = () => ask(true);
    window.addEventListener('online', back);
    return () => window.removeEventListener('online', back);
  }, [offline, ask]);

  const renew = useCallback(() => {
    if (renewedSinceLoad.current) {
      setState((s) => ({ ...s, busy: false, failure: { kind: 'error', detail: 'the media did not play' } }));
      return;
    }
    renewedSinceLoad.current = true;
    ask(true);
  }, [ask]);

  const loaded = useCallback(() => {
    renewedSinceLoad.current = false;
  }, []);

  const retry = useCallback(() => {
    renewedSinceLoad.current = false;
    ask(true);
  }, [ask]);

  return { ...state, renew, loaded, retry };
}
