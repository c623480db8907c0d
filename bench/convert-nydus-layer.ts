/**
 * Converts one gzip layer file to a Nydus blob plus its RAFS v6 bootstrap with the gateway's
 * converter and prints what it cost as JSON (its own process: its own CPU time and peak RSS).
 *   node dist/bench/convert-nydus-layer.js <layer.tar.gz> <out.blob> [chunkSize]
 */
// Imported module by module: the figures are the converter's, not the whole gateway's.
import { tarStreamOf } from '../libs/convert/src/estargz/layer-converter';
import { fileSink, writeLayerBlob } from '../libs/convert/src/nydus/blob-writer';
import { FsTree } from '../libs/convert/src/nydus/fs-tree';
import { writeRafsV6 } from '../libs/convert/src/nydus/rafs-v6';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { printOwnUsage } from './support';

async function main(): Promise<void> {
  const [input, output, chunk = String(1 << 20)] = process.argv.slice(2);
  const opts = { chunkSize: Number(chunk), compressor: 'zstd' as const, digester: 'blake3' as const };
  const started = process.hrtime.bigint();
  const out = await open(output, 'w');
  const tree = new FsTree();
  const blob = await writeLayerBlob(await tarStreamOf(createReadStream(input, { highWaterMark: 1 << 20 })), tree, 0, new Map(), fileSink(out), opts);
  await out.close();
  const boot = writeRafsV6(tree, [blob], opts);
  printOwnUsage(started, { size: blob.size, chunks: blob.chunks.length, bootstrapBytes: boot.length });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
