import { auth, getDb, type AccountUser } from '../../../db';
import { ApiError, apiDownload, apiRequest, type RequestOptions } from '../../../lib/api';

export interface ServerSession {
  id: string;
  user_agent: string | null;
  created_at: string;
  last_used_at: string;
  expires_at: string;
  current: boolean;
}

interface SessionAnswer {
  token: string;
  token_type: string;
  session: ServerSession;
  user: AccountUser;
}

export interface Entitlements {
  plan: string;
  status: string;
  limits: { large_media_backup: boolean; storage_bytes: number; asr_minutes_per_month: number; assessments_per_day: number };
  usage: { storage_bytes: number; asr_minutes_this_month: number; assessments_today: number };
}

export interface Subscription {
  id: string;
  plan: string;
  status: string;
  /** Set once Checkout created a Stripe customer: the Billing Portal has something to manage. */
  stripe_customer_id: string | null;
  current_period_end: string | null;
  updated_at: string;
}

export class SignedOutError extends Error {
  constructor() {
    super('not signed in');
    this.name = 'SignedOutError';
  }
}

/**
 * A request with the stored token. A 401 means the session is gone (revoked,
 * expired, account closed): the local session is forgotten, data stays.
 */
async function authed<T>(path: string, options: Omit<RequestOptions, 'token'> = {}): Promise<T> {
  const token = await auth.getToken(getDb());
  if (!token) throw new SignedOutError();
  try {
    return await apiRequest<T>(path, { ...options, token });
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) await auth.clearSession(getDb(), token);
    throw e;
  }
}

/** Stores the new session; a previous one on this device is ended on the server (best effort). */
async function start(answer: SessionAnswer): Promise<AccountUser> {
  const previous = await auth.getToken(getDb());
  await auth.saveSession(getDb(), { token: answer.token, sessionId: answer.session.id, user: answer.user });
  if (previous && previous !== answer.token) {
    await apiRequest('/sessions/current', { method: 'DELETE', token: previous }).catch(() => undefined);
  }
  return answer.user;
}

export async function signUp(input: { email: string; password: string; native_language: string; learning_language?: string }): Promise<AccountUser> {
  const body = { ...input, learning_language: input.learning_language || undefined };
  return start(await apiRequest<SessionAnswer>('/accounts', { method: 'POST', body }));
}

export async function signIn(input: { email: string; password: string }): Promise<AccountUser> {
  return start(await apiRequest<SessionAnswer>('/sessions', { method: 'POST', body: input }));
}

/** Ends the session on the server when reachable; always signs out locally. */
export async function signOut(): Promise<void> {
  const token = await auth.getToken(getDb());
  if (!token) return;
  try {
    await apiRequest('/sessions/current', { method: 'DELETE', token });
  } catch {
    /* offline or already revoked: the local sign-out still happens */
  }
  await auth.clearSession(getDb(), token);
}

export async function fetchMe(): Promise<AccountUser> {
  const user = await authed<AccountUser>('/me');
  await auth.updateUser(getDb(), user);
  return user;
}

export async function updateLanguages(input: { native_language: string; learning_language: string | null }): Promise<AccountUser> {
  const user = await authed<AccountUser>('/me', { method: 'PATCH', body: input });
  await auth.updateUser(getDb(), user);
  return user;
}

/** Changes the sign-in email; the server checks the current password. */
export async function changeEmail(input: { email: string; current_password: string }): Promise<AccountUser> {
  const user = await authed<AccountUser>('/me', { method: 'PATCH', body: input });
  await auth.updateUser(getDb(), user);
  return user;
}

/** Changes the password; the server revokes every other session, this one stays. */
export async function changePassword(input: { current_password: string; new_password: string }): Promise<void> {
  await authed<undefined>('/me/password', { method: 'POST', body: input });
}

/** Revokes every session of the account on the server, this one too, then signs out here. */
export async function signOutEverywhere(): Promise<void> {
  const token = await auth.getToken(getDb());
  await authed<undefined>('/sessions', { method: 'DELETE' });
  await auth.clearSession(getDb(), token ?? undefined);
}

export const listSessions = () => authed<ServerSession[]>('/sessions');
export const revokeSession = (id: string) => authed<undefined>(`/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' });
export const fetchEntitlements = () => authed<Entitlements>('/me/entitlements');
export const fetchSubscription = () => authed<Subscription>('/billing/subscription');

/** A Stripe Checkout URL (throws `billing_disabled` when the server has no billing). */
export async function startCheckout(): Promise<string> {
  return (await authed<{ url: string }>('/billing/checkout', { method: 'POST' })).url;
}

/** A Stripe Billing Portal URL (`billing_disabled`, or `no_billing_account` before the first Checkout). */
export async function startBillingPortal(): Promise<string> {
  return (await authed<{ url: string }>('/billing/portal', { method: 'POST' })).url;
}

/** The account export as a JSON file. */
export async function downloadExport(): Promise<{ blob: Blob; fileName: string }> {
  const token = await auth.getToken(getDb());
  if (!token) throw new SignedOutError();
  const { blob, fileName } = await apiDownload('/me/export', { token });
  return { blob, fileName: fileName ?? 'echoloop-export.json' };
}

/** Closes the account on the server, then signs out here; local data stays. */
export async function deleteAccount(password: string): Promise<void> {
  const token = await auth.getToken(getDb());
  await authed<unknown>('/me', { method: 'DELETE', body: { password } });
  await auth.clearSession(getDb(), token ?? undefined);
}
