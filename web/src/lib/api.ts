/**
 * The one HTTP client for the server API (`/api/v1`, same origin). Errors
 * come back as RFC 9457 problem+json and are thrown as `ApiError` (stable
 * `code`, optional `field`); a server that cannot be reached throws
 * `OfflineError`, so callers can say "offline" instead of failing.
 */

export const API_BASE = '/api/v1';

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly field?: string;
  readonly detail: string;
  /** Seconds, from `Retry-After` on 429. */
  readonly retryAfter?: number;
  /** The whole problem document, for members an endpoint adds (e.g. `existing_id`). */
  readonly problem: Readonly<Record<string, unknown>>;

  constructor(init: { status: number; code: string; field?: string; detail?: string; title?: string; retryAfter?: number; problem?: Record<string, unknown> }) {
    super(init.detail || init.title || init.code);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.field = init.field;
    this.detail = init.detail ?? '';
    this.retryAfter = init.retryAfter;
    this.problem = init.problem ?? {};
  }
}

export class OfflineError extends Error {
  constructor(cause?: unknown) {
    super('server unreachable', { cause });
    this.name = 'OfflineError';
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Turns a failed response into an `ApiError`, whatever its body. */
export async function parseProblem(res: Response): Promise<ApiError> {
  let body: unknown = null;
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
  }
  const retry = Number(res.headers.get('Retry-After'));
  const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : undefined;
  if (typeof body === 'object' && body !== null) {
    const p = body as Record<string, unknown>;
    return new ApiError({
      status: res.status,
      code: str(p.code) ?? fallbackCode(res.status),
      field: str(p.field),
      detail: str(p.detail),
      title: str(p.title),
      retryAfter,
      problem: p,
    });
  }
  return new ApiError({ status: res.status, code: fallbackCode(res.status), detail: text.slice(0, 200) || res.statusText, retryAfter });
}

function fallbackCode(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  // A proxy in front of a stopped server answers 502/503/504 without a problem body.
  if (status === 502 || status === 503 || status === 504) return 'unavailable';
  return 'http_error';
}

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  method?: HttpMethod;
  body?: unknown;
  token?: string | null;
  /** Cancels the request (an `AbortError` is rethrown, not turned into `OfflineError`). */
  signal?: AbortSignal;
  /** Gives up after this long (then `OfflineError`); 15 s by default. */
  timeoutMs?: number;
  /** Extra request headers (e.g. `Prefer`). */
  headers?: Record<string, string>;
}

/** A request with its own headers and a raw body (tus uploads). */
export interface RawRequestOptions extends Omit<RequestOptions, 'body'> {
  body?: BodyInit;
}

const DEFAULT_TIMEOUT_MS = 15000;

async function send(path: string, { method = 'GET', headers: extra, body, token, signal, timeoutMs = DEFAULT_TIMEOUT_MS }: RawRequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json', ...extra };
  if (token) headers.Authorization = `Bearer ${token}`;
  const timeout = AbortSignal.timeout(timeoutMs);
  let res: Response;
  try {
    res = await fetch(`${API_BASE}${path}`, {
      method,
      headers,
      body,
      cache: 'no-store',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new OfflineError(e);
  }
  if (!res.ok) {
    const err = await parseProblem(res);
    if (err.code === 'unavailable') throw new OfflineError(err);
    throw err;
  }
  return res;
}

function sendJson(path: string, { body, headers, ...options }: RequestOptions): Promise<Response> {
  if (body === undefined) return send(path, { ...options, headers });
  return send(path, { ...options, headers: { ...headers, 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

/**
 * A request whose answer the caller reads itself (status, headers): errors
 * are mapped as for `apiRequest`.
 */
export function apiFetch(path: string, options: RawRequestOptions = {}): Promise<Response> {
  return send(path, options);
}

/** A JSON request; resolves the parsed body (undefined for 204). */
export async function apiRequest<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const res = await sendJson(path, options);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

/** A download: the body as a Blob and the file name from Content-Disposition. */
export async function apiDownload(path: string, options: RequestOptions = {}): Promise<{ blob: Blob; fileName?: string }> {
  const res = await sendJson(path, options);
  const blob = await res.blob();
  const match = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(res.headers.get('Content-Disposition') ?? '');
  return { blob, fileName: match?.[1] ? decodeURIComponent(match[1]) : undefined };
}
