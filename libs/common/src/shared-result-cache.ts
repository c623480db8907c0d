interface Entry<V> {
  value?: V;
  has: boolean;
  at: number;
  pending?: Promise<V>;
}

export interface SharedResultCacheOptions {
  /** How long a result is fresh (read at each lookup, so configuration may change it). */
  ttlMs: () => number;
  /** Serve an expired result while its replacement loads: no caller but the first ever waits. */
  serveStale?: boolean;
  /** Keys kept before the cache starts over (bounds memory whatever the callers ask for). */
  maxKeys?: number;
}

/**
 * Results kept for a while per key, each loaded once however many callers ask at the same time.
 * A failed load is not kept: the next caller loads again (an expired result stays, when served).
 */
export class SharedResultCache<V> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(private readonly opts: SharedResultCacheOptions) {}

  /** Forgets every result: the next lookup loads again (a load under way is not kept). */
  clear(): void {
    this.entries.clear();
  }

  /** The last result kept for `key`, fresh or not. */
  peek(key: string): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** `key`'s result; `keep` says whether a loaded result is worth keeping (else only its load is shared). */
  get(key: string, load: () => Promise<V>, keep: (value: V) => boolean = () => true): Promise<V> {
    const e = this.entries.get(key);
    if (e?.has && Date.now() - e.at < this.opts.ttlMs()) return Promise.resolve(e.value as V);
    if (e?.has && this.opts.serveStale) {
      if (!e.pending) this.start(key, e, load, keep).catch(() => undefined);
      return Promise.resolve(e.value as V);
    }
    return e?.pending ?? this.start(key, e, load, keep);
  }

  private start(key: string, e: Entry<V> | undefined, load: () => Promise<V>, keep: (value: V) => boolean): Promise<V> {
    if (!e && this.entries.size >= (this.opts.maxKeys ?? 1000)) this.entries.clear();
    const pending = load();
    const entry: Entry<V> = { value: e?.value, has: e?.has ?? false, at: e?.at ?? 0, pending };
    this.entries.set(key, entry);
    const settle = (next: Entry<V> | undefined) => {
      if (this.entries.get(key) !== entry) return; // cleared meanwhile
      if (next) this.entries.set(key, next);
      else this.entries.delete(key);
    };
    pending.then(
      (value) => settle(keep(value) ? { value, has: true, at: Date.now() } : undefined),
      () => settle(entry.has && this.opts.serveStale ? { value: entry.value, has: true, at: entry.at } : undefined),
    );
    return pending;
  }
}
