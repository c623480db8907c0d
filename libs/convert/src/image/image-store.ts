import { ProgressSink } from './conversion-progress';
import { Semaphore, UserFacingError, describeError } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import { Descriptor, ManifestLocation, RegistryClient, StreamedBlobUpload } from '@accel/registry';
import { Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { LayerFormatError, asLayerError } from '../codecs/tar/layer-stream';

export const digestOf = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Image configs larger than this are refused rather than held in memory. */
const MAX_CONFIG_BYTES = 32 * 1024 * 1024;

/**
 * The registry as conversions use it: source layers streamed and checked against their digest,
 * converted output uploaded while it is written, small blobs and manifests pushed by digest.
 * `layerSlots` bounds the layers converted at once in this process.
 */
@Injectable()
export class ImageStore {
  readonly layerSlots: Semaphore;

  constructor(
    private readonly config: GatewayConfig,
    private readonly registry: RegistryClient,
  ) {
    this.layerSlots = new Semaphore(config.converter.worker);
  }

  getManifest(loc: ManifestLocation, reference: string) {
    return this.registry.getManifest(loc, reference);
  }

  /** Pushes a blob the converter holds (configs, bootstrap layers); returns its digest. */
  async putBlob(loc: ManifestLocation, body: Buffer): Promise<string> {
    const digest = digestOf(body);
    await this.registry.putBlob(loc, digest, body, body.length);
    return digest;
  }

  /** Pushes a manifest by digest; returns its descriptor. */
  async putManifest(loc: ManifestLocation, mediaType: string, body: Buffer): Promise<Descriptor> {
    const digest = await this.registry.putManifest(loc, digestOf(body), mediaType, body);
    return { mediaType, digest, size: body.length };
  }

  putTag(loc: ManifestLocation, tag: string, mediaType: string, body: Buffer): Promise<string> {
    return this.registry.putManifest(loc, tag, mediaType, body);
  }

  async readConfig(loc: ManifestLocation, d: Descriptor): Promise<Record<string, unknown>> {
    if (d.size > MAX_CONFIG_BYTES)
      throw new UserFacingError(`image config ${d.digest} is ${d.size} bytes; configs over 32 MiB are refused`);
    const chunks: Buffer[] = [];
    for await (const c of await this.registry.getBlob(loc, d.digest)) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (digestOf(body) !== d.digest)
      throw new UserFacingError(`image config ${d.digest} does not match its digest (corrupt blob)`);
    return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  }

  /** Scratch space the writers may need (eStargz prioritized files spill there). */
  async workDir(): Promise<string> {
    const dir = this.config.provider.work_dir || join(tmpdir(), 'accel-gateway');
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /** A blob converted before is skipped when the repository has it, or mounted from the one that does. */
  async reuse(loc: ManifestLocation, digest: string, from: { registry: string; repository: string }): Promise<boolean> {
    if (await this.registry.blobExists(loc, digest, { access: 'pull,push' })) return true;
    if (from.registry !== loc.host || from.repository === loc.repository) return false;
    return this.registry.mountBlob(loc, digest, from.repository).catch(() => false);
  }

  /**
   * One source layer converted straight into a registry upload: the source is checked against
   * its digest once read, the output is uploaded while it is written and committed under the
   * digest the writer computed on the way; on failure the upload is cancelled.
   */
  async convertLayer<T>(
    loc: ManifestLocation,
    layer: Descriptor,
    write: (source: Readable, upload: StreamedBlobUpload) => Promise<T>,
    digestOfResult: (result: T) => string,
    signal?: AbortSignal,
    progress?: ProgressSink,
  ): Promise<T> {
    const source = await this.openSourceLayer(loc, layer, progress);
    const upload = await this.registry.startBlobUpload(loc);
    // A sibling's failure stops this layer where it is: its read ends and its upload is given up.
    const cancel = () => source.stream.destroy(new Error('cancelled: another layer of the image failed'));
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      const result = await write(source.stream, upload).catch((e) => {
        signal?.throwIfAborted();
        throw layerError(layer, asLayerError(e));
      });
      source.verify();
      signal?.throwIfAborted();
      await upload.finish(digestOfResult(result));
      progress?.layerDone();
      return result;
    } catch (e) {
      source.stream.destroy();
      await upload.abort();
      throw e;
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  /** A source layer streamed from the registry, with its digest checked once it has been read. */
  private async openSourceLayer(
    loc: ManifestLocation,
    layer: Descriptor,
    progress?: ProgressSink,
  ): Promise<{ stream: PassThrough; verify(): void }> {
    const blob = await this.registry.getBlob(loc, layer.digest);
    const hash = createHash('sha256');
    const stream = new PassThrough();
    blob.on('data', (c: Buffer) => {
      hash.update(c);
      progress?.read(c.length);
    });
    blob.on('error', (e) => stream.destroy(e));
    blob.pipe(stream);
    return {
      stream,
      verify: () => {
        const got = `sha256:${hash.digest('hex')}`;
        if (got !== layer.digest)
          throw new UserFacingError(
            `source layer ${layer.digest} does not match its digest (read ${got}): corrupt or truncated blob`,
          );
      },
    };
  }
}

function layerError(layer: Descriptor, e: unknown): Error {
  if (e instanceof LayerFormatError) return new UserFacingError(`layer ${layer.digest}: ${e.message}`);
  if (e instanceof UserFacingError) return e;
  return new UserFacingError(`layer ${layer.digest}: ${describeError(e)}`);
}
