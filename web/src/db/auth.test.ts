import Dexie from 'dexie';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EcholoopDb } from './database';
import * as auth from './repositories/auth';
import * as materials from './repositories/materials';
import * as outbox from './repositories/outbox';
import type { AccountUser } from './schema';

let db: EcholoopDb;
let n = 0;

beforeEach(async () => {
  db = new EcholoopDb(`auth-test-${Date.now()}-${n++}`);
  await db.open();
});

afterEach(async () => {
  db.close();
  await Dexie.delete(db.name);
});

const user = (over: Partial<AccountUser> = {}): AccountUser => ({
  id: 'u1',
  email: 'ana@example.com',
  native_language: 'pt-BR',
  learning_language: null,
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  ...over,
});

describe('auth repository', () => {
  it('is signed out on a fresh database', async () => {
    expect(await auth.getSession(db)).toBeNull();
    expect(await auth.getToken(db)).toBeNull();
  });

  it('stores one session; a new sign-in replaces it', async () => {
    await auth.saveSession(db, { token: 'tok-1', sessionId: 's1', user: user() });
    const first = await auth.getSession(db);
    expect(first).toMatchObject({ key: 'current', token: 'tok-1', sessionId: 's1', user: { email: 'ana@example.com' } });
    expect(typeof first?.signedInAt).toBe('number');
    await auth.saveSession(db, { token: 'tok-2', sessionId: 's2', user: user({ email: 'bo@example.com' }) });
    expect(await db.auth.count()).toBe(1);
    expect(await auth.getToken(db)).toBe('tok-2');
  });

  it('refuses an empty token', async () => {
    await expect(auth.saveSession(db, { token: '', sessionId: 's', user: user() })).rejects.toThrow(/empty/);
    expect(await auth.getSession(db)).toBeNull();
  });

  it('updates the cached user, and does nothing when signed out', async () => {
    await auth.updateUser(db, user({ native_language: 'fr' }));
    expect(await auth.getSession(db)).toBeNull();
    await auth.saveSession(db, { token: 'tok', sessionId: 's', user: user() });
    await auth.updateUser(db, user({ native_language: 'fr', learning_language: 'ja' }));
    const s = await auth.getSession(db);
    expect(s?.user).toMatchObject({ native_language: 'fr', learning_language: 'ja' });
    expect(s?.token).toBe('tok');
  });

  it('clears only the session: the library and the outbox stay', async () => {
    await materials.createYoutubeMaterial(db, { videoId: 'dQw4w9WgXcQ' });
    const pending = await outbox.countPending(db);
    expect(pending).toBeGreaterThan(0);
    await auth.saveSession(db, { token: 'tok', sessionId: 's', user: user() });
    await auth.clearSession(db);
    expect(await auth.getSession(db)).toBeNull();
    expect(await db.materials.count()).toBe(1);
    expect(await outbox.countPending(db)).toBe(pending);
  });

  it('clearSession(token) leaves a newer session alone', async () => {
    await auth.saveSession(db, { token: 'new', sessionId: 's2', user: user() });
    await auth.clearSession(db, 'old');
    expect(await auth.getToken(db)).toBe('new');
    await auth.clearSession(db, 'new');
    expect(await auth.getToken(db)).toBeNull();
  });
});
