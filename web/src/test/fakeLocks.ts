/**
 * Web Locks as the browser has them (exclusive, queued in request order,
 * released when the callback settles, a waiting request cancelled by its
 * signal). Node has no `navigator.locks`.
 */
export class FakeLocks {
  private held = new Set<string>();
  private waiting: { name: string; start: () => void }[] = [];

  request(name: string, options: { signal?: AbortSignal }, callback: () => Promise<unknown>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const start = () => {
        this.held.add(name);
        void callback()
          .then(resolve, reject)
          .finally(() => {
            this.held.delete(name);
            const next = this.waiting.findIndex((w) => w.name === name);
            if (next >= 0) this.waiting.splice(next, 1)[0]?.start();
          });
      };
      if (!this.held.has(name)) return start();
      const entry = { name, start };
      this.waiting.push(entry);
      options.signal?.addEventListener('abort', () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) this.waiting.splice(i, 1);
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  }
}
