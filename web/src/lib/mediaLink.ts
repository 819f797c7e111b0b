/**
 * Short-lived links a `<video>`/`<audio>` element streams from (docs/api/
 * content.md, "Links for players"): the element sends its own Range
 * requests and cannot send the account's token, so the client asks the
 * server for a link to one material's media or one take's audio. Links are
 * kept in memory only (whoever holds one can read that object until it
 * expires), one per object, and a new one is asked for once it is about to
 * expire or a player says it failed.
 */
import { ApiError, OfflineError, apiRequest } from './api';

export interface MediaLink {
  /** Same-origin path: `/api/v1/media/<token>`. */
  url: string;
  /** ms since the epoch. */
  expiresAt: number;
}

/** A link is not handed to a player in its last minutes: a film's next Range request would meet a `410`. */
export const LINK_MARGIN_MS = 5 * 60 * 1000;

export function isFresh(link: MediaLink, now: number): boolean {
  return now < link.expiresAt - LINK_MARGIN_MS;
}

interface LinkBody {
  url: string;
  expires_at: string;
}

/** `POST {path}` (e.g. `/materials/{id}/media/link`) as the account. */
export async function mintMediaLink(path: string, token: string | null): Promise<MediaLink> {
  const body = await apiRequest<LinkBody>(path, { method: 'POST', token });
  const expiresAt = Date.parse(body.expires_at);
  if (!body.url?.startsWith('/') || !Number.isFinite(expiresAt)) throw new Error('The server answered an unusable media link');
  return { url: body.url, expiresAt };
}

/** Links in memory, by what they stream (`material:<id>`, `recording:<id>`). */
export class LinkCache {
  private links = new Map<string, MediaLink>();
  private minting = new Map<string, Promise<MediaLink>>();

  /**
   * The fresh link for `key`, minted when there is none or `fresh` (a player
   * failed with the one it had); concurrent callers share one request.
   */
  async get(key: string, mint: () => Promise<MediaLink>, { fresh = false, now = Date.now } = {}): Promise<MediaLink> {
    const known = this.links.get(key);
    if (!fresh && known && isFresh(known, now())) return known;
    const pending = this.minting.get(key);
    if (pending) return pending;
    const request = mint().then(
      (link) => {
        this.links.set(key, link);
        return link;
      },
      (e: unknown) => {
        this.links.delete(key);
        throw e;
      },
    );
    this.minting.set(key, request);
    try {
      return await request;
    } finally {
      this.minting.delete(key);
    }
  }

  forget(key: string): void {
    this.links.delete(key);
  }

  clear(): void {
    this.links.clear();
  }
}

/** Why no link could be had, in the terms a player tells the learner. */
export type LinkFailure = 'offline' | 'gone' | 'signedOut' | 'error';

export function linkFailure(e: unknown): LinkFailure {
  if (e instanceof OfflineError) return 'offline';
  if (e instanceof ApiError && e.status === 404) return 'gone';
  if (e instanceof ApiError && e.status === 401) return 'signedOut';
  return 'error';
}
