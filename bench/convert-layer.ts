/**
 * Converts one gzip layer file to eStargz with the gateway's converter and prints what it cost
 * as JSON (run as its own process so its CPU time and peak RSS are its own).
 *   node dist/bench/convert-layer.js <layer.tar.gz> <out.esgz> [level] [chunkSize] [auto|libdeflate|zlib]
 * `zlib` is the build without addons: zlib compresses the members and decompresses the layer.
 */
// Imported module by module: the figures are the converter's, not the whole gateway's.
import { pickDeflate } from '../libs/convert/src/codecs/deflate/deflate-engine';
import { pickGunzip } from '../libs/convert/src/codecs/deflate/gunzip-engine';
import { convertLayerToEstargz } from '../libs/convert/src/codecs/estargz/layer-converter';
import { createReadStream, createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { printOwnUsage } from './own-usage';

async function main(): Promise<void> {
  const [input, output, level = '9', chunk = String(4 << 20), deflate = 'auto'] = process.argv.slice(2);
  const started = process.hrtime.bigint();
  const gunzip = pickGunzip(deflate === 'zlib' ? 'zlib' : 'auto').engine;
  const out = createWriteStream(output);
  const result = await convertLayerToEstargz(createReadStream(input, { highWaterMark: 1 << 20 }), out, {
    chunkSize: Number(chunk),
    level: Number(level),
    deflate: pickDeflate(deflate as 'auto' | 'libdeflate' | 'zlib').engine,
    gunzip,
  });
  out.end();
  await finished(out);
  printOwnUsage(started, {
    uncompressedBytes: result.uncompressedSize,
    size: result.size,
    entries: result.entries,
    deflate: result.deflate,
    gunzip: gunzip.name,
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
