import { useLiveQuery } from 'dexie-react-hooks';
import { useCallback, useEffect, useState } from 'react';
import { auth, getDb, type StoredSession } from '../../../db';
import { fetchEntitlements, fetchMe, fetchSubscription, listSessions, type Entitlements, type ServerSession, type Subscription } from '../api/account';

/** The stored session: undefined while loading, null when signed out. */
export function useSession(): StoredSession | null | undefined {
  return useLiveQuery(() => auth.getSession(getDb()), []);
}

export interface AccountData {
  sessions?: ServerSession[];
  entitlements?: Entitlements;
  subscription?: Subscription;
  error?: unknown;
  loading: boolean;
}

/** Loads the server side of the account page; `reload` after a change. */
export function useAccountData(signedIn: boolean): AccountData & { reload: () => void } {
  const [data, setData] = useState<AccountData>({ loading: true });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  useEffect(() => {
    if (!signedIn) return;
    let alive = true;
    void (async () => {
      try {
        const [, sessions, entitlements, subscription] = await Promise.all([fetchMe(), listSessions(), fetchEntitlements(), fetchSubscription()]);
        if (alive) setData({ sessions, entitlements, subscription, loading: false });
      } catch (error) {
        if (alive) setData((d) => ({ ...d, error, loading: false }));
      }
    })();
    return () => {
      alive = false;
    };
  }, [signedIn, tick]);
  return { ...data, reload };
}
