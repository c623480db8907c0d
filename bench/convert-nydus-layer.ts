/**
 * Converts one gzip layer file to a Nydus blob plus its RAFS v6 bootstrap with the gateway's
 * converter and prints what it cost as JSON (its own process: its own CPU time and peak RSS).
 * The blob goes to a file, or, with a registry host, up to that registry as the gateway
 * uploads it (streamed while written).
 * With a diff_id the uncompressed stream is checked against it, as the gateway does.
 * `seconds` runs from the first byte read to the blob written (or committed) and the bootstrap
 * layer built; the process's
 * start and module loading, which a running worker has behind it, are `startupSeconds`.
 *   node dist/bench/convert-nydus-layer.js <layer.tar.gz> <out.blob | registry-host> [chunkSize] [diffId] [auto|isal|zlib]
 */
// Imported module by module: the figures are the converter's, not the whole gateway's.
import { NYDUS_READ_AHEAD, withLayerTar } from '../libs/convert/src/codecs/tar/layer-stream';
import { pickGunzip } from '../libs/convert/src/codecs/deflate/gunzip-engine';
import { BlobSink, fileSink, writeLayerBlob } from '../libs/convert/src/codecs/nydus/blob-writer';
import { FsTree } from '../libs/convert/src/codecs/nydus/fs-tree';
import { mergedBootstrapLayer } from '../libs/convert/src/codecs/nydus/bootstrap-layer';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { printOwnUsage } from './own-usage';

/** Where the blob goes, and how to close it once its id is known. */
async function sinkFor(target: string): Promise<{ sink: BlobSink; close(id: string): Promise<void> }> {
  if (!isRegistry(target)) {
    const file = await open(target, 'w');
    return { sink: fileSink(file), close: () => file.close() };
  }
  const { buildConfig, RegistryAccess, RegistryClient } = await registryModules();
  const config = buildConfig({ auth: { encryptionKey: 'k'.repeat(44) }, registry: { allowed: [target] } });
  const client = new RegistryClient(config, new RegistryAccess(config));
  const upload = await client.startBlobUpload({
    scheme: 'http',
    host: target,
    repository: 'bench/nydus',
    reference: 'latest',
  });
  return { sink: upload, close: async (id) => void (await upload.finish(`sha256:${id}`)) };
}

const isRegistry = (target: string) => /^[\w.-]+:\d+$/.test(target);

/** The registry client and its configuration: loaded only for a registry target. */
async function registryModules() {
  const [{ buildConfig }, { RegistryAccess }, { RegistryClient }] = await Promise.all([
    import('../libs/config/src/loader'),
    import('../libs/registry/src/registry-access'),
    import('../libs/registry/src/registry-client'),
  ]);
  return { buildConfig, RegistryAccess, RegistryClient };
}

async function main(): Promise<void> {
  const [input, target, chunk = String(1 << 20), diffId, gunzip = 'auto'] = process.argv.slice(2);
  const engine = pickGunzip(gunzip as 'auto' | 'isal' | 'zlib').engine;
  const opts = { chunkSize: Number(chunk), compressor: 'zstd' as const, digester: 'blake3' as const };
  // The worker has its modules loaded before any conversion: their loading is start-up, not conversion.
  if (isRegistry(target)) await registryModules();
  const startupSeconds = process.uptime();
  const started = process.hrtime.bigint();
  const out = await sinkFor(target);
  const tree = new FsTree();
  const blob = await withLayerTar(
    // In 64 KiB chunks, as a registry's blob body arrives (undici hands over a socket read at a time).
    createReadStream(input, { highWaterMark: 64 << 10 }),
    (tar) => writeLayerBlob(tar, tree, 0, out.sink, opts),
    diffId || undefined,
    { ...NYDUS_READ_AHEAD, engine },
  );
  await out.close(blob.id);
  // The merged bootstrap in its layer, as the worker builds it (its upload is not timed).
  const bootLayer = await mergedBootstrapLayer(tree, [blob], opts);
  printOwnUsage(started, {
    size: blob.size,
    chunks: blob.chunks.length,
    bootstrapBytes: bootLayer.bootstrapSize,
    bootstrapLayerBytes: bootLayer.data.length,
    gunzip: engine.name,
    startupSeconds,
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
