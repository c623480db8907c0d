import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const BUILT = join('libs', 'convert', 'native', 'build', 'Release');

/**
 * An addon `scripts/build-native.sh` builds at install (`accel_deflate`, `accel_gunzip`), found
 * from source or from dist/, or why it cannot be used.
 */
export function loadAddon<T>(name: string, needs: string): { addon?: T; reason?: string } {
  const file = join(BUILT, `${name}.node`);
  for (let dir = __dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, file))) {
      try {
        return { addon: require(join(dir, file)) as T };
      } catch (e) {
        return { reason: `the ${name} addon does not load: ${(e as Error).message}` };
      }
    }
    if (dirname(dir) === dir)
      return { reason: `the ${name} addon is not built (install ${needs}, then npm run build:native)` };
  }
}

export interface NativeLoad<E> {
  engine?: E;
  reason?: string;
}

/** An engine built on an addon, loaded once per process on first use, or why it is not available. */
export function nativeEngine<A, E>(name: string, needs: string, make: (addon: A) => E): () => NativeLoad<E> {
  let loaded: NativeLoad<E> | undefined;
  return () => {
    if (!loaded) {
      const { addon, reason } = loadAddon<A>(name, needs);
      loaded = addon ? { engine: make(addon) } : { reason };
    }
    return loaded;
  };
}

/**
 * A converter setting's engine: `auto` takes the native one when its addon loads and the
 * fallback otherwise (saying why); the native choice insists; the fallback's own name forces it.
 */
export function pickEngine<E>(
  setting: string,
  choice: string,
  native: { choice: string; load: () => NativeLoad<E> },
  fallback: { choice: string; engine: E },
): { engine: E; fallbackReason?: string } {
  if (choice === fallback.choice) return { engine: fallback.engine };
  const { engine, reason } = native.load();
  if (engine) return { engine };
  if (choice === native.choice) throw new Error(`${setting} is ${native.choice}, but ${reason}`);
  return { engine: fallback.engine, fallbackReason: reason };
}
