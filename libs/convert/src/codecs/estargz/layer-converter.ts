import { Readable, Writable } from 'node:stream';
import { GunzipBuffering, withLayerTar } from '../tar/layer-stream';
import { readTar } from '../tar/tar-reader';
import { tmpdir } from 'node:os';
import { EstargzOptions, EstargzResult, EstargzWriter, isReservedName } from './estargz-writer';
import { writePrioritized } from './prioritized';

/**
 * eStargz waits on compression, not on gunzip: a short read-ahead and lean chunks serve as well
 * (the page faults cost ≈ 3 % of a conversion) and hold less.
 */
const SHORT_READ_AHEAD: GunzipBuffering = { chunkSize: 256 << 10, readAhead: 1 << 20, lean: true };

/**
 * Converts one layer (gzip or plain tar) to eStargz, streaming: decompress → parse → rewrite.
 * The landmark comes first; the input's own TOC and landmarks are dropped.
 */
/** `diffId`: what the source config says the layer uncompresses to (checked when given). */
export async function convertLayerToEstargz(
  source: Readable,
  out: Writable,
  opts: EstargzOptions,
  diffId?: string,
): Promise<EstargzResult> {
  const writer = new EstargzWriter(out, opts);
  await withLayerTar(
    source,
    async (tar) => {
      if (opts.prioritizedFiles?.length)
        return writePrioritized(tar, writer, opts.prioritizedFiles, opts.workDir ?? tmpdir());
      await writer.writeNoPrefetchLandmark();
      for await (const { header, body } of readTar(tar)) {
        if (isReservedName(header.name)) continue;
        await writer.writeEntry(header, body.stream());
      }
    },
    diffId,
    { ...SHORT_READ_AHEAD, engine: opts.gunzip },
  );
  return writer.finish();
}
