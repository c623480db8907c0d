import { crc32, deflateRaw } from 'node:zlib';
import { nativeEngine, pickEngine } from './native-addon';

/** Whole-buffer gzip compression: one member per call, off the event loop. */
export interface DeflateEngine {
  /** What ran, for logs and benchmarks: `libdeflate 1.14` or `zlib 1.3`. */
  readonly name: string;
  /**
   * One gzip member of the parts' bytes, in order, at `level` (0-9), with Go's header: no
   * name, no mtime, OS 255. The parts may be dropped or reused once this returns.
   */
  gzipMember(parts: Buffer[], level: number): Promise<Buffer>;
}

export type DeflateChoice = 'auto' | 'libdeflate' | 'zlib';

/** XFL as Go's compress/gzip sets it: 2 at BestCompression, 4 at BestSpeed. */
const xflFor = (level: number): number => (level === 9 ? 2 : level === 1 ? 4 : 0);

const GZIP_HEADER = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0];
const GZIP_OS_UNKNOWN = 0xff;

/** Node's zlib on libuv's thread pool: always there, the fallback. */
export const zlibDeflate: DeflateEngine = {
  name: `zlib ${process.versions.zlib}`,
  gzipMember(parts, level) {
    const data = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    return new Promise((resolve, reject) => {
      deflateRaw(data, { level }, (err, body) => {
        if (err) return reject(err);
        const header = Buffer.from([...GZIP_HEADER, xflFor(level), GZIP_OS_UNKNOWN]);
        const trailer = Buffer.alloc(8);
        trailer.writeUInt32LE(crc32(data) >>> 0, 0);
        trailer.writeUInt32LE(data.length % 2 ** 32, 4);
        resolve(Buffer.concat([header, body, trailer]));
      });
    });
  },
};

interface LibdeflateAddon {
  gzipMember(parts: Buffer[], level: number, xfl: number): Promise<Buffer>;
  libdeflateVersion: string;
}

/** libdeflate through the native addon, or why it is not available. */
export const loadLibdeflate = nativeEngine<LibdeflateAddon, DeflateEngine>(
  'accel_deflate',
  'libdeflate-dev',
  (addon) => ({
    name: `libdeflate ${addon.libdeflateVersion}`,
    gzipMember: (parts, level) => addon.gzipMember(parts, level, xflFor(level)),
  }),
);

/**
 * The engine a process compresses with. `auto` takes libdeflate (about twice zlib's speed at
 * level 9, a smaller output) when its addon loads and zlib otherwise; `libdeflate` insists.
 */
export const pickDeflate = (choice: DeflateChoice) =>
  pickEngine(
    'converter.deflate',
    choice,
    { choice: 'libdeflate', load: loadLibdeflate },
    { choice: 'zlib', engine: zlibDeflate },
  );
