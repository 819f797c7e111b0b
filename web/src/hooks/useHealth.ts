import { useEffect, useState } from 'react';
import { fetchHealth, type Health } from '../lib/health';

export type HealthState = { state: 'checking' } | { state: 'online'; health: Health } | { state: 'offline' };

/** Polls the server's /healthz; offline when it cannot be reached. */
export function useHealth(intervalMs = 30000): HealthState {
  const [state, setState] = useState<HealthState>({ state: 'checking' });
  useEffect(() => {
    let alive = true;
    const check = async () => {
      const health = await fetchHealth();
      if (alive) setState(health ? { state: 'online', health } : { state: 'offline' });
    };
    void check();
    const timer = window.setInterval(() => void check(), intervalMs);
    const onChange = () => void check();
    window.addEventListener('online', onChange);
    window.addEventListener('offline', onChange);
    return () => {
      alive = false;
      window.clearInterval(timer);
      window.removeEventListener('online', onChange);
      window.removeEventListener('offline', onChange);
    };
  }, [intervalMs]);
  return state;
}
