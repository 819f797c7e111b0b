import { useEffect, useState } from 'react';

/**
 * Grows a visible-item count by `step` when the returned sentinel scrolls
 * into view, so long lists render their first screen fast.
 */
export function useInfiniteCount(total: number, step: number, resetKey: unknown) {
  const [state, setState] = useState({ key: resetKey, count: step });
  const count = state.key === resetKey ? state.count : step;
  const [el, setSentinel] = useState<HTMLElement | null>(null);
  useEffect(() => {
    if (!el || count >= total) return;
    const io = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) setState({ key: resetKey, count: count + step });
      },
      { rootMargin: '600px' },
    );
    io.observe(el);
    return () => io.disconnect();
  }, [el, count, total, step, resetKey]);
  const more = () => setState({ key: resetKey, count: count + step });
  return { visible: Math.min(count, total), setSentinel, more, hasMore: count < total };
}
