import { FsTree, LayerFormatError, convertLayerToEstargz, withLayerTar, writeLayerBlob } from '@accel/convert';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';

/** A layer made by GNU tar --sparse (in both of its formats) holding a file with a hole. */
function sparseLayer(format: 'gnu' | 'pax'): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'accel-sparse-'));
  try {
    writeFileSync(join(dir, 'data'), 'head');
    execFileSync('truncate', ['-s', '8M', join(dir, 'data')]);
    execFileSync('bash', ['-c', `printf tail >> ${join(dir, 'data')}`]);
    return execFileSync('tar', ['-C', dir, `--format=${format}`, '--sparse', '-cf', '-', 'data'], {
      maxBuffer: 64 << 20,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('sparse files (GNU tar --sparse)', () => {
  for (const format of ['gnu', 'pax'] as const) {
    it(`${format} format: both drivers fail naming the file, instead of writing the sparse map as content under a wrong path`, async () => {
      const layer = sparseLayer(format);
      const sink = new PassThrough();
      sink.resume();
      const runs: [string, () => Promise<unknown>][] = [
        ['estargz', () => convertLayerToEstargz(Readable.from([layer]), sink, { chunkSize: 1 << 16, level: 1 })],
        [
          'nydus',
          () =>
            withLayerTar(Readable.from([layer]), (tar) =>
              writeLayerBlob(
                tar,
                new FsTree(),
                0,
                { write: async () => undefined },
                { chunkSize: 1 << 20, compressor: 'zstd', digester: 'blake3' },
              ),
            ),
        ],
      ];
      for (const [name, run] of runs) {
        await assert.rejects(run(), (e: Error) => {
          assert.ok(e instanceof LayerFormatError, `${name}: ${e.message}`);
          assert.match(
            e.message,
            /"(\.\/)?data" (is a sparse file|has a tar entry type the converter does not know)/,
            name,
          );
          assert.doesNotMatch(e.message, /GNUSparseFile/, name);
          return true;
        });
      }
    });
  }
});
