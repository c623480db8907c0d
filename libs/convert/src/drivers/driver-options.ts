import { DriverConfigError } from './driver';

const TRUE = /^(1|t|true|yes)$/i;
const FALSE = /^(0|f|false|no)$/i;

/**
 * Reads acceld's `converter.driver.config` string map: each option by name (and its older
 * aliases), checked, with the name in every error. Remembers what it read so options nobody
 * reads can be reported.
 */
export class DriverOptionReader {
  private readonly read = new Set<string>();

  constructor(private readonly raw: Record<string, string>) {}

  /** The value under the first of `names` that is set and not empty. */
  private value(names: string | string[]): { name: string; value: string } | undefined {
    const list = typeof names === 'string' ? [names] : names;
    for (const name of list) this.read.add(name);
    for (const name of list) {
      const value = this.raw[name];
      if (value !== undefined && value !== null && String(value) !== '') return { name, value: String(value) };
    }
    return undefined;
  }

  private fail(name: string, message: string): never {
    throw new DriverConfigError(`converter.driver.config.${name} ${message}`);
  }

  flag(name: string, fallback: boolean): boolean {
    const v = this.value(name);
    if (!v) return fallback;
    if (TRUE.test(v.value)) return true;
    if (FALSE.test(v.value)) return false;
    return this.fail(name, `must be true or false, not ${JSON.stringify(v.value)}`);
  }

  /** A decimal or 0x-hex integer within bounds. */
  integer(name: string, fallback: number, bounds: { min: number; max?: number; powerOfTwo?: boolean }): number {
    const v = this.value(name);
    if (!v) return fallback;
    const n = /^0x[0-9a-f]+$/i.test(v.value) ? parseInt(v.value, 16) : Number(v.value);
    const max = bounds.max ?? Number.MAX_SAFE_INTEGER;
    const ok = Number.isInteger(n) && n >= bounds.min && n <= max && (!bounds.powerOfTwo || (n & (n - 1)) === 0);
    if (ok) return n;
    const range = bounds.max === undefined ? `of at least ${bounds.min}` : `from ${hex(bounds.min)} to ${hex(max)}`;
    return this.fail(name, `must be ${bounds.powerOfTwo ? 'a power of two' : 'an integer'} ${range}, not ${v.value}`);
  }

  /** One of `allowed` (under `names`, the first set wins: an option and its older aliases). */
  oneOf<T extends string>(names: string | string[], allowed: readonly T[], fallback: T, hint?: string): T {
    const v = this.value(names);
    if (!v) return fallback;
    if ((allowed as readonly string[]).includes(v.value)) return v.value as T;
    return this.fail(v.name, `${v.value} is not supported; ${hint ?? `use ${allowed.join(', ')}`}`);
  }

  /** A separated list; an option set to "" is an empty list, an unset one the fallback's. */
  list(name: string, fallback: string, separator: RegExp): string[] {
    this.read.add(name);
    const raw = this.raw[name] ?? fallback;
    return String(raw)
      .split(separator)
      .map((p) => p.trim())
      .filter(Boolean);
  }

  /** Options in the map that no reader asked for (typos, or acceld options the gateway has no use for). */
  unread(): string[] {
    return Object.keys(this.raw).filter((k) => !this.read.has(k));
  }
}

const hex = (n: number) => (n >= 0x1000 ? `0x${n.toString(16)}` : String(n));
