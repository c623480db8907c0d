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
