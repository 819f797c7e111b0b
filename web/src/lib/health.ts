export interface Health {
  status: string;
  version: string;
}

/** GET /healthz; resolves null when the server cannot be reached. */
export async function fetchHealth(signal?: AbortSignal): Promise<Health | null> {
  try {
    const res = await fetch('/healthz', { cache: 'no-store', signal: signal ?? AbortSignal.timeout(4000) });
    if (!res.ok) return null;
    const body: unknown = await res.json();
    if (typeof body === 'object' && body !== null && 'status' in body && 'version' in body) {
      return { status: String(body.status), version: String(body.version) };
    }
    return null;
  } catch {
    return null;
  }
}
