import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, apiDownload, apiFetch, apiRequest, OfflineError, parseProblem } from './api';

const problem = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(typeof body === 'string' ? body : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/problem+json', ...headers } });

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('parseProblem', () => {
  it('reads code, field and detail of a problem document', async () => {
    const e = await parseProblem(
      problem(422, { type: 'about:blank', title: 'Unprocessable', status: 422, detail: 'must be 8 to 1024 characters', code: 'validation_failed', field: 'password' }),
    );
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 422, code: 'validation_failed', field: 'password', detail: 'must be 8 to 1024 characters' });
    expect(e.message).toBe('must be 8 to 1024 characters');
  });

  it('has no field for errors that are not about an input', async () => {
    const e = await parseProblem(problem(409, { title: 'Conflict', status: 409, detail: 'taken', code: 'email_taken' }));
    expect(e.code).toBe('email_taken');
    expect(e.field).toBeUndefined();
  });

  it('keeps Retry-After on rate limits', async () => {
    const e = await parseProblem(problem(429, { code: 'rate_limited', detail: 'slow down' }, { 'Retry-After': '120' }));
    expect(e).toMatchObject({ code: 'rate_limited', retryAfter: 120 });
  });

  it('falls back to a code from the status when the body is not a problem', async () => {
    expect((await parseProblem(new Response('<html>nope</html>', { status: 401 }))).code).toBe('unauthorized');
    expect((await parseProblem(new Response('', { status: 404 }))).code).toBe('not_found');
    const e = await parseProblem(new Response('boom', { status: 500 }));
    expect(e).toMatchObject({ code: 'http_error', detail: 'boom', status: 500 });
    expect((await parseProblem(problem(400, { title: 'Bad', code: 7 }))).code).toBe('http_error');
  });
});

describe('apiRequest', () => {
  it('sends JSON with the bearer token to /api/v1 and parses the answer', async () => {
    const fetchMock = vi.fn(async () => new Response(JSON.stringify({ ok: 1 }), { status: 201, headers: { 'Content-Type': 'application/json' } }));
    vi.stubGlobal('fetch', fetchMock);
    const out = await apiRequest<{ ok: number }>('/sessions', { method: 'POST', body: { email: 'a@b.co' }, token: 'tok' });
    expect(out).toEqual({ ok: 1 });
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/sessions');
    expect(init.method).toBe('POST');
    expect(init.body).toBe('{"email":"a@b.co"}');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer tok');
    expect((init.headers as Record<string, string>)['Content-Type']).toBe('application/json');
  });

  it('sends no Authorization header without a token; 204 resolves undefined', async () => {
    const fetchMock = vi.fn(async () => new Response(null, { status: 204 }));
    vi.stubGlobal('fetch', fetchMock);
    expect(await apiRequest('/sessions/current', { method: 'DELETE' })).toBeUndefined();
    const [, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect((init.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it('throws ApiError for a problem answer', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => problem(401, { code: 'invalid_credentials', detail: 'wrong email or password' })));
    await expect(apiRequest('/sessions', { method: 'POST', body: {} })).rejects.toMatchObject({ name: 'ApiError', code: 'invalid_credentials', status: 401 });
  });

  it('throws OfflineError when the server cannot be reached or a proxy says it is down', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    await expect(apiRequest('/me')).rejects.toBeInstanceOf(OfflineError);
    vi.stubGlobal('fetch', vi.fn(async () => new Response('Bad Gateway', { status: 502 })));
    await expect(apiRequest('/me')).rejects.toBeInstanceOf(OfflineError);
  });

  it('keeps a 503 problem from the server itself (billing_disabled) as ApiError', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => problem(503, { code: 'billing_disabled', detail: 'billing is not configured' })));
    await expect(apiRequest('/billing/checkout', { method: 'POST' })).rejects.toMatchObject({ code: 'billing_disabled', status: 503 });
  });
});

describe('apiDownload', () => {
  it('returns the blob and the file name of Content-Disposition', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response('{"format":1}', { status: 200, headers: { 'Content-Type': 'application/json', 'Content-Disposition': 'attachment; filename="echoloop-export-2026.json"' } })),
    );
    const { blob, fileName } = await apiDownload('/me/export', { token: 't' });
    expect(fileName).toBe('echoloop-export-2026.json');
    expect(await blob.text()).toBe('{"format":1}');
  });
});

describe('apiFetch (raw requests: tus)', () => {
  it('sends its own headers and a raw body and hands back the response', async () => {
    const fetchMock = vi.fn(async () => new Response(null, { status: 204, headers: { 'Upload-Offset': '3' } }));
    vi.stubGlobal('fetch', fetchMock);
    const res = await apiFetch('/uploads/u1', { method: 'PATCH', headers: { 'Upload-Offset': '0' }, body: new Blob(['abc']), token: 'tok' });
    expect(res.headers.get('Upload-Offset')).toBe('3');
    const [url, init] = fetchMock.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/v1/uploads/u1');
    expect(init.method).toBe('PATCH');
    expect(init.body).toBeInstanceOf(Blob);
    expect(init.headers).toMatchObject({ 'Upload-Offset': '0', Authorization: 'Bearer tok' });
  });

  it('maps errors like apiRequest: problem → ApiError, HEAD 404 without a body → not_found', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(null, { status: 404 })));
    await expect(apiFetch('/uploads/gone', { method: 'HEAD' })).rejects.toMatchObject({ name: 'ApiError', status: 404, code: 'not_found' });
  });

  it('rethrows the caller’s abort, but a timeout means offline', async () => {
    const hang = (_: unknown, init: RequestInit) =>
      new Promise<Response>((_, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    vi.stubGlobal('fetch', vi.fn(hang));
    const stop = new AbortController();
    const aborted = apiFetch('/materials', { signal: stop.signal });
    stop.abort();
    await expect(aborted).rejects.toMatchObject({ name: 'AbortError' });
    await expect(apiFetch('/materials', { signal: new AbortController().signal, timeoutMs: 20 })).rejects.toBeInstanceOf(OfflineError);
  });
});
