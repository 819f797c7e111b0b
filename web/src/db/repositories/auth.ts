import type { EcholoopDb } from '../database';
import type { AccountUser, StoredSession } from '../schema';

const KEY = 'current';

/** The signed-in session on this device, if any. */
export async function getSession(db: EcholoopDb): Promise<StoredSession | null> {
  return (await db.auth.get(KEY)) ?? null;
}

export async function getToken(db: EcholoopDb): Promise<string | null> {
  return (await getSession(db))?.token ?? null;
}

/** Stores a new session (sign-up / sign-in), replacing any previous one. */
export async function saveSession(db: EcholoopDb, session: { token: string; sessionId: string; user: AccountUser }): Promise<StoredSession> {
  if (!session.token) throw new Error('empty session token');
  const row: StoredSession = { key: KEY, token: session.token, sessionId: session.sessionId, user: session.user, signedInAt: Date.now() };
  await db.auth.put(row);
  return row;
}

/** Refreshes the cached account (after GET/PATCH /me); no-op when signed out. */
export async function updateUser(db: EcholoopDb, user: AccountUser): Promise<void> {
  await db.auth.update(KEY, { user });
}

/**
 * Forgets the session (sign-out, revoked, account deleted). Only the token
 * and cached account go: the library, takes and outbox stay on the device.
 * With `token`, only clears if that session is still the stored one.
 */
export async function clearSession(db: EcholoopDb, token?: string): Promise<void> {
  await db.transaction('rw', db.auth, async () => {
    if (token !== undefined && (await db.auth.get(KEY))?.token !== token) return;
    await db.auth.delete(KEY);
  });
}
