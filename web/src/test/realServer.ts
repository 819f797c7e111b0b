/**
 * Test support for code that talks to our server: the real `echoloop`
 * binary (started by globalSetup.ts) behind a fault-injecting TCP proxy.
 * The proxy fakes the network, not the server: it forwards each request and
 * can, per rule, answer a status itself, drop the connection before or after
 * the server handled the request, or cut a request body half-way. What
 * reached the server is read back from its API with the test user's token.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inject, vi } from 'vitest';
import type { EcholoopDb } from '../db/database';
import * as auth from '../db/repositories/auth';
import type { AccountUser } from '../db/schema';

export interface Seen {
  method: string;
  path: string;
  /** Bytes in the body of a tus PATCH. */
  bytes?: number;
}

export type Fault =
  | 'pass'
  /** The connection drops before anything reaches the server. */
  | 'offline'
  /** The proxy answers itself; nothing reaches the server. */
  | { status: number; headers?: Record<string, string>; body?: unknown }
  /** Forwards only the first `bytes` of the body, runs `then`, and cuts both connections. */
  | { cutAfter: number; then?: () => void }
  /** Forwards the whole request; once the server answered, runs `then` and drops the client's connection. */
  | { loseAnswer: true; then?: () => void };

export type Rule = (req: Seen, body: Buffer) => Fault;

const realFetch = globalThis.fetch;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class FaultProxy {
  readonly log: Seen[] = [];
  base = '';
  private rules: Rule[] = [];
  private server: http.Server;

  constructor(private target: string) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  /** Rules run in order for each request; the first one that is not 'pass' applies. */
  rule(fn: Rule): void {
    this.rules.push(fn);
  }

  clearRules(): void {
    this.rules = [];
  }

  count(method: string, pattern: RegExp): number {
    return this.log.filter((r) => r.method === method && pattern.test(r.path)).length;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://proxy.invalid');
    const seen: Seen = { method, path: url.pathname, ...(method === 'PATCH' && url.pathname.includes('/uploads/') ? { bytes: body.length } : {}) };
    this.log.push(seen);
    let fault: Fault = 'pass';
    for (const rule of this.rules) {
      fault = rule(seen, body);
      if (fault !== 'pass') break;
    }
    if (fault === 'offline') {
      req.socket.destroy();
      return;
    }
    if (typeof fault === 'object' && 'status' in fault) {
      const text = fault.body === undefined ? '' : JSON.stringify(fault.body);
      res.writeHead(fault.status, { 'Content-Type': 'application/problem+json', ...fault.headers });
      res.end(text);
      return;
    }
    const headers = { ...req.headers };
    delete headers.host;
    const upstream = http.request(new URL(req.url ?? '/', this.target), { method, headers, agent: false });
    upstream.on('error', () => req.socket.destroy());
    if (typeof fault === 'object' && 'cutAfter' in fault) {
      upstream.write(body.subarray(0, fault.cutAfter));
      await sleep(200); // let the server take in what arrived
      upstream.destroy();
      fault.then?.();
      req.socket.destroy();
      return;
    }
    const lose = typeof fault === 'object' && 'loseAnswer' in fault ? fault : null;
    upstream.on('response', async (up) => {
      const parts: Buffer[] = [];
      for await (const c of up) parts.push(c as Buffer);
      if (lose) {
        lose.then?.();
        req.socket.destroy();
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.headers);
      res.end(Buffer.concat(parts));
    });
    upstream.end(body);
  }
}

/** Starts a proxy in front of the server and points the app's same-origin `fetch` at it. */
export async function connect(which: 'server' | 'mediaServer' | 'scoringServer' = 'server'): Promise<{ proxy: FaultProxy; server: string }> {
  const server = inject(which);
  const proxy = await new FaultProxy(server).start();
  vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) => realFetch(new URL(String(input), proxy.base), init));
  return { proxy, server };
}

export interface TestUser {
  token: string;
  sessionId: string;
  user: AccountUser;
}

let users = 0;

/** A new account on the real server. */
export async function registerUser(server: string): Promise<TestUser> {
  const email = `t${Date.now()}-${process.pid}-${users++}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const res = await realFetch(`${server}/api/v1/accounts`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password: 'correct horse battery staple', native_language: 'en' }),
  });
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { token: string; session: { id: string }; user: AccountUser };
  return { token: body.token, sessionId: body.session.id, user: body.user };
}

export function signIn(db: EcholoopDb, u: TestUser, token = u.token) {
  return auth.saveSession(db, { token, sessionId: u.sessionId, user: u.user });
}

/** Reads the real server's API as the user (not through the proxy). */
export function reader(server: string, u: TestUser) {
  const get = async (path: string): Promise<Response> => realFetch(`${server}/api/v1${path}`, { headers: { Authorization: `Bearer ${u.token}` } });
  const json = async <T = Record<string, unknown>>(path: string): Promise<T | null> => {
    const res = await get(path);
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  const bytes = async (path: string): Promise<Uint8Array | null> => {
    const res = await get(path);
    if (res.status === 404) return null;
    if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  return {
    json,
    material: (id: string) => json(`/materials/${id}`),
    materials: async () => ((await json<{ items: { id: string }[] }>('/materials?limit=200'))?.items ?? []),
    segments: async (id: string) => ((await json<{ segments: { id: string; start_time: number; end_time: number; text: string }[] }>(`/materials/${id}/segments`))?.segments ?? []),
    progress: (id: string) => json(`/materials/${id}/progress`),
    recording: (id: string) => json(`/recordings/${id}`),
    recordingAudio: (id: string) => bytes(`/recordings/${id}/audio`),
    media: (id: string) => bytes(`/materials/${id}/media`),
    /** Where the server says an upload (`/uploads/{id}`) stands, once no request is writing to it. */
    async uploadOffset(url: string): Promise<number> {
      for (let i = 0; ; i++) {
        const res = await realFetch(`${server}/api/v1${url}`, { method: 'HEAD', headers: { Authorization: `Bearer ${u.token}`, 'Tus-Resumable': '1.0.0' } });
        if (res.status === 200 && (res.headers.get('Upload-Offset') !== '0' || i > 50)) return Number(res.headers.get('Upload-Offset'));
        if (i > 50) throw new Error(`HEAD ${url}: ${res.status}`);
        await sleep(100);
      }
    },
  };
}
