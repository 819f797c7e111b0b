/** Byte counts for people (base 1000 for plan sizes, which the server states in decimal MB). */
export function formatBytes(bytes: number, base: 1000 | 1024 = 1024): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= base && i < units.length - 1) {
    v /= base;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** Short m:ss display for durations in ms (UI only; the core's formatClock is the reference format). */
export function formatDuration(ms: number, round: 'nearest' | 'down' = 'nearest'): string {
  const secs = Math.max(0, ms / 1000);
  const total = round === 'down' ? Math.floor(secs) : Math.round(secs);
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${m}:${String(s).padStart(2, '0')}`;
}
