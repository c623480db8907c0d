import { GatewayConfig } from '@accel/config';
import { HttpException, HttpStatus, Injectable } from '@nestjs/common';

/** Entries kept per map: a flood of names or addresses evicts the oldest, never grows memory. */
const MAX_ENTRIES = 10_000;
/** A source that signed in as a user stays exempt from that user's lockout this long. */
const TRUSTED_PAIR_MS = 24 * 3600 * 1000;

interface Window {
  failures: number;
  since: number;
}

/** 429 in every dialect's shape (`{"message"}`), with when to try again. */
export class TooManyFailedLogins extends HttpException {
  constructor(readonly retryAfterSeconds: number) {
    super({ message: 'too many failed sign-in attempts; try again later' }, HttpStatus.TOO_MANY_REQUESTS);
  }
}

/**
 * Counts failed password checks per user and per client address, in memory, and refuses
 * further checks (before paying for the KDF) once either passes its limit. A source that
 * has signed in as a user before keeps working while someone else guesses that user's
 * password, so Harbor's Basic-auth polling is not locked out by an attacker.
 */
@Injectable()
export class LoginLimiter {
  private readonly byUser = new Map<string, Window>();
  private readonly bySource = new Map<string, Window>();
  private readonly trusted = new Map<string, number>();

  constructor(private readonly config: GatewayConfig) {}

  /** Throws TooManyFailedLogins when `name` from `source` may not be checked now. */
  check(name: string, source: string): void {
    const { perUser, perSource } = this.config.auth.failedLogins;
    const now = Date.now();
    const src = this.current(this.bySource, source, now);
    if (src && src.failures >= perSource) throw new TooManyFailedLogins(this.retryAfter(src, now));
    if (this.isTrusted(name, source, now)) return;
    const user = this.current(this.byUser, name, now);
    if (user && user.failures >= perUser) throw new TooManyFailedLogins(this.retryAfter(user, now));
  }

  failed(name: string, source: string): void {
    const now = Date.now();
    this.bump(this.bySource, source, now);
    if (!this.isTrusted(name, source, now)) this.bump(this.byUser, name, now);
  }

  succeeded(name: string, source: string): void {
    const key = `${name}\0${source}`;
    this.trusted.delete(key);
    this.trusted.set(key, Date.now());
    evict(this.trusted);
  }

  private isTrusted(name: string, source: string, now: number): boolean {
    const at = this.trusted.get(`${name}\0${source}`);
    return at !== undefined && now - at < TRUSTED_PAIR_MS;
  }

  private current(map: Map<string, Window>, key: string, now: number): Window | undefined {
    const w = map.get(key);
    if (w && now - w.since >= this.config.auth.failedLogins.windowSeconds * 1000) {
      map.delete(key);
      return undefined;
    }
    return w;
  }

  private bump(map: Map<string, Window>, key: string, now: number): void {
    const w = this.current(map, key, now) ?? { failures: 0, since: now };
    w.failures++;
    map.delete(key);
    map.set(key, w);
    evict(map);
  }

  private retryAfter(w: Window, now: number): number {
    return Math.max(1, Math.ceil((w.since + this.config.auth.failedLogins.windowSeconds * 1000 - now) / 1000));
  }
}

function evict<K, V>(map: Map<K, V>): void {
  while (map.size > MAX_ENTRIES) map.delete(map.keys().next().value as K);
}
