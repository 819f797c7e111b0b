/**
 * An in-memory stand-in for the Echoloop server's content API (the parts the
 * backup uses: docs/api/content.md), for unit tests in Node where no server
 * runs. It keeps the server's rules that matter to the client: idempotent
 * material creation, segment validation with field names, progress range,
 * tus uploads with offsets, plan media rule, 401 for a wrong token.
 * Faults are injected per request with `intercept`.
 */

export interface FakeMaterial {
  id: string;
  type: string;
  source_type: string;
  title: string;
  duration: number | null;
  metadata: Record<string, unknown>;
  media?: Uint8Array;
  deleted: boolean;
}

export interface FakeSegment {
  id: string;
  material_id: string;
  start_time: number;
  end_time: number;
  text: string;
  translation?: string;
}

interface FakeUpload {
  id: string;
  length: number;
  bytes: Uint8Array;
  offset: number;
  target: 'material' | 'recording';
  targetId: string;
  segmentId?: string;
}

export interface LoggedRequest {
  method: string;
  path: string;
  /** Bytes in a PATCH body. */
  bytes?: number;
}

type Interceptor = (req: LoggedRequest, ctx: { signal?: AbortSignal | null; body: Uint8Array }) => Response | 'offline' | 'pass' | Promise<Response | 'offline' | 'pass'>;

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

export const problem = (status: number, code: string, detail: string, field?: string, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify({ type: 'about:blank', title: code, status, code, detail, ...(field ? { field } : {}) }), {
    status,
    headers: { 'Content-Type': 'application/problem+json', ...headers },
  });

const notFound = () => problem(404, 'not_found', 'not found');
const tus = (status: number, headers: Record<string, string> = {}) => new Response(null, { status, headers: { 'Tus-Resumable': '1.0.0', ...headers } });

export class FakeServer {
  token = 'test-token';
  largeMediaBackup = false;
  readonly materials = new Map<string, FakeMaterial>();
  readonly segments = new Map<string, FakeSegment>();
  readonly progress = new Map<string, { last_segment_index: number; status: string }>();
  readonly recordings = new Map<string, { id: string; segment_id: string; audio: Uint8Array; deleted: boolean }>();
  readonly uploads = new Map<string, FakeUpload>();
  readonly log: LoggedRequest[] = [];
  private interceptors: Interceptor[] = [];
  private answered: ((req: LoggedRequest) => void)[] = [];
  private nextUpload = 1;

  /** Runs before the normal handling; return 'pass' to let the request through. */
  intercept(fn: Interceptor): void {
    this.interceptors.push(fn);
  }

  /** Runs after the server handled a request, before the client gets the answer (to lose it). */
  onAnswered(fn: (req: LoggedRequest) => void): void {
    this.answered.push(fn);
  }

  clearInterceptors(): void {
    this.interceptors = [];
    this.answered = [];
  }

  count(method: string, pattern: RegExp): number {
    return this.log.filter((r) => r.method === method && pattern.test(r.path)).length;
  }

  liveSegments(materialId: string): FakeSegment[] {
    return [...this.segments.values()].filter((s) => s.material_id === materialId).sort((a, b) => a.start_time - b.start_time);
  }

  /** The `fetch` to stub in. */
  fetch = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const signal = init.signal;
    if (signal?.aborted) throw signal.reason;
    const url = new URL(String(input), 'http://fake.invalid');
    const method = (init.method ?? 'GET').toUpperCase();
    const body = init.body ? new Uint8Array(await new Response(init.body).arrayBuffer()) : new Uint8Array();
    const req: LoggedRequest = { method, path: url.pathname, ...(method === 'PATCH' && url.pathname.includes('/uploads/') ? { bytes: body.length } : {}) };
    this.log.push(req);
    for (const fn of this.interceptors) {
      const out = await fn(req, { signal, body });
      if (signal?.aborted) throw signal.reason;
      if (out === 'offline') throw new TypeError('Failed to fetch');
      if (out !== 'pass') return out;
    }
    const headers = new Headers(init.headers);
    if (headers.get('Authorization') !== `Bearer ${this.token}`) return problem(401, 'unauthorized', 'authentication required');
    const res = this.route(method, url.pathname.replace(/^\/api\/v1/, ''), headers, body);
    for (const fn of this.answered) fn(req);
    if (signal?.aborted) throw signal.reason;
    return res;
  };

  private route(method: string, path: string, headers: Headers, body: Uint8Array): Response {
    const parts = path.split('/').filter(Boolean);
    const text = () => JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
    const [a, id, sub] = parts;
    if (a === 'me' && id === 'entitlements' && method === 'GET') {
      return json(200, { plan: this.largeMediaBackup ? 'pro' : 'free', status: 'active', limits: { large_media_backup: this.largeMediaBackup }, usage: {} });
    }
    if (a === 'materials' && !id && method === 'POST') return this.createMaterial(text());
    if (a === 'materials' && id && !sub) {
      const m = this.materials.get(id);
      if (!m || m.deleted) return notFound();
      if (method === 'GET') return json(200, this.materialJson(m));
      if (method === 'PATCH') {
        const b = text();
        if (typeof b.title === 'string') m.title = b.title;
        return json(200, this.materialJson(m));
      }
      if (method === 'DELETE') {
        m.deleted = true;
        for (const s of this.liveSegments(id)) this.segments.delete(s.id);
        this.progress.delete(id);
        return new Response(null, { status: 204 });
      }
    }
    if (a === 'materials' && id && sub === 'segments' && method === 'PUT') return this.putSegments(id, text());
    if (a === 'materials' && id && sub === 'progress' && method === 'PUT') return this.putProgress(id, text());
    if (a === 'recordings' && id) {
      const r = this.recordings.get(id);
      if (!r || r.deleted) return notFound();
      if (method === 'GET') return json(200, { id: r.id, segment_id: r.segment_id, audio_size: r.audio.length });
      if (method === 'DELETE') {
        r.deleted = true;
        return new Response(null, { status: 204 });
      }
    }
    if (a === 'uploads') return this.tus(method, id, headers, body);
    return notFound();
  }

  private materialJson(m: FakeMaterial) {
    return { id: m.id, type: m.type, source_type: m.source_type, title: m.title, duration: m.duration, metadata: m.metadata, media_size: m.media?.length ?? null };
  }

  private createMaterial(b: Record<string, unknown>): Response {
    const id = String(b.id ?? '');
    if (!/^[0-9a-f-]{36}$/.test(id)) return problem(422, 'validation_failed', 'is required for local uploads (a client-chosen UUID)', 'id');
    const title = String(b.title ?? '').trim();
    if (!title || title.length > 500) return problem(422, 'validation_failed', 'must be 1 to 500 characters', 'title');
    const existing = this.materials.get(id);
    if (existing && !existing.deleted) return json(200, this.materialJson(existing));
    const m: FakeMaterial = {
      id,
      type: String(b.type),
      source_type: String(b.source_type),
      title,
      duration: typeof b.duration === 'number' ? b.duration : null,
      metadata: (b.metadata ?? {}) as Record<string, unknown>,
      deleted: false,
    };
    this.materials.set(id, m);
    return json(201, this.materialJson(m));
  }

  private putSegments(materialId: string, b: Record<string, unknown>): Response {
    const m = this.materials.get(materialId);
    if (!m || m.deleted) return notFound();
    const list = (b.segments ?? []) as FakeSegment[];
    for (const [i, s] of list.entries()) {
      if (!(s.start_time >= 0 && s.start_time < s.end_time)) return problem(422, 'validation_failed', 'must be after start_time', `segments[${i}].end_time`);
      if (m.duration !== null && s.end_time > m.duration) {
        return problem(422, 'validation_failed', `must be within the material's duration (${m.duration} ms)`, `segments[${i}].end_time`);
      }
      if (!s.text.trim()) return problem(422, 'validation_failed', 'must not be blank', `segments[${i}].text`);
    }
    for (const s of this.liveSegments(materialId)) this.segments.delete(s.id);
    for (const s of list) this.segments.set(s.id, { ...s, material_id: materialId });
    return json(200, { material_id: materialId, segments: this.liveSegments(materialId) });
  }

  private putProgress(materialId: string, b: Record<string, unknown>): Response {
    const m = this.materials.get(materialId);
    if (!m || m.deleted) return notFound();
    const last = Math.max(0, this.liveSegments(materialId).length - 1);
    const index = Number(b.last_segment_index);
    if (!(index >= 0 && index <= last)) return problem(422, 'validation_failed', `must be from 0 to ${last}`, 'last_segment_index');
    const previous = this.progress.get(materialId);
    this.progress.set(materialId, { last_segment_index: index, status: previous?.status === 'completed' ? 'completed' : String(b.status) });
    return json(200, this.progress.get(materialId));
  }

  private tus(method: string, id: string | undefined, headers: Headers, body: Uint8Array): Response {
    if (headers.get('Tus-Resumable') !== '1.0.0') return problem(412, 'tus_version_unsupported', 'Tus-Resumable');
    if (method === 'POST' && !id) {
      const length = Number(headers.get('Upload-Length'));
      const meta = Object.fromEntries(
        (headers.get('Upload-Metadata') ?? '').split(',').map((pair) => {
          const [k, v] = pair.trim().split(' ');
          return [k, v ? atob(v) : ''];
        }),
      ) as Record<string, string>;
      let upload: FakeUpload;
      const uploadId = `u${this.nextUpload++}`;
      if (meta.target === 'material') {
        const m = this.materials.get(meta.material_id ?? '');
        if (!m || m.deleted) return problem(404, 'not_found', 'Upload-Metadata.material_id: not found among your data');
        if (!this.largeMediaBackup) return problem(403, 'plan_media_not_included', 'the free plan keeps imported media on your device; upgrade to back it up');
        upload = { id: uploadId, length, bytes: new Uint8Array(length), offset: 0, target: 'material', targetId: m.id };
      } else {
        const segmentId = meta.segment_id ?? '';
        if (!this.segments.has(segmentId)) return problem(404, 'not_found', 'Upload-Metadata.segment_id: not found among your data');
        if (this.recordings.has(meta.recording_id ?? '')) return problem(409, 'id_in_use', 'Upload-Metadata.recording_id: a recording with this id exists');
        upload = { id: uploadId, length, bytes: new Uint8Array(length), offset: 0, target: 'recording', targetId: meta.recording_id ?? '', segmentId };
      }
      this.uploads.set(uploadId, upload);
      return tus(201, { Location: `/api/v1/uploads/${uploadId}` });
    }
    const upload = this.uploads.get(id ?? '');
    if (!upload) return notFound();
    if (method === 'HEAD') return tus(200, { 'Upload-Offset': String(upload.offset), 'Upload-Length': String(upload.length) });
    if (method === 'DELETE') {
      this.uploads.delete(upload.id);
      return tus(204);
    }
    if (method === 'PATCH') {
      const offset = Number(headers.get('Upload-Offset'));
      if (offset !== upload.offset) return problem(409, 'offset_mismatch', `Upload-Offset: the upload is at ${upload.offset} bytes, not ${offset}`);
      this.receive(upload, body);
      return tus(204, { 'Upload-Offset': String(upload.offset) });
    }
    return notFound();
  }

  /** Stores bytes of an upload (also what a dropped connection delivered); completes it when whole. */
  receive(upload: FakeUpload, bytes: Uint8Array): void {
    upload.bytes.set(bytes.subarray(0, upload.length - upload.offset), upload.offset);
    upload.offset = Math.min(upload.length, upload.offset + bytes.length);
    if (upload.offset < upload.length) return;
    this.uploads.delete(upload.id);
    if (upload.target === 'material') {
      const m = this.materials.get(upload.targetId);
      if (m) m.media = upload.bytes;
    } else {
      this.recordings.set(upload.targetId, { id: upload.targetId, segment_id: upload.segmentId ?? '', audio: upload.bytes, deleted: false });
    }
  }

  uploadOf(path: string): FakeUpload | undefined {
    return this.uploads.get(path.split('/').pop() ?? '');
  }
}
