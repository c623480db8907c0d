import { Semaphore, UserFacingError, describeError, mapLimitOrCancel } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import { ConvertedLayerEntity } from '@accel/db';
import {
  Descriptor,
  ImageIndex,
  ImageManifest,
  ManifestLocation,
  MediaType,
  RegistryClient,
  StreamedBlobUpload,
  isIndexType,
} from '@accel/registry';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { finished } from 'node:stream/promises';
import { Repository } from 'typeorm';
import { EstargzDriverSettings, estargzSettings } from './estargz/estargz-settings';
import { convertLayerToEstargz } from './estargz/layer-converter';
import { LayerFormatError, asLayerError, withLayerTar } from './tar/layer-stream';
import { writeLayerBlob } from './nydus/blob-writer';
import { NydusBlob } from './nydus/types';
import { bootstrapLayer } from './nydus/bootstrap-layer';
import { FsTree } from './nydus/fs-tree';
import { OutputMediaTypes, docker2oci, outputMediaTypes } from './output-media-types';
import { nydusSettings } from './nydus/nydus-settings';
import { writeRafsV6 } from './nydus/rafs-v6';

export const TOC_DIGEST_ANNOTATION = 'containerd.io/snapshot/stargz/toc.digest';
export const UNCOMPRESSED_SIZE_ANNOTATION = 'io.containers.estargz.uncompressed-size';
export const NYDUS_BOOTSTRAP_ANNOTATION = 'containerd.io/snapshot/nydus-bootstrap';

export interface ConvertedImage {
  /** Digest of what the target tag now names (a manifest, or an index for multi-arch sources). */
  digest: string;
  sourceDigest: string;
  sourceSize: number;
  targetSize: number;
  /** Set when the source needed no conversion. */
  skipped?: string;
  /** Set when the source tag moved on before this conversion could publish: the target was left alone. */
  superseded?: string;
}

interface ConvertedLayer {
  descriptor: Descriptor;
  diffId: string;
}

interface DriverOutput {
  layers: Descriptor[];
  diffIds: string[];
  history: Record<string, unknown>;
  annotations?: Record<string, string>;
}

export const NYDUS_BLOB_MEDIA_TYPE = 'application/vnd.oci.image.layer.nydus.blob.v1';
export const NYDUS_BLOB_ANNOTATION = 'containerd.io/snapshot/nydus-blob';
export const NYDUS_FS_VERSION_ANNOTATION = 'containerd.io/snapshot/nydus-fs-version';
export const NYDUS_ARTIFACT_TYPE = 'application/vnd.nydus.image.manifest.v1+json';
export const NYDUS_CONFIG_MEDIA_TYPE = 'application/vnd.nydus.image.config.v1+json';
/** diff_id of an empty tar (1024 zero bytes). */
export const EMPTY_TAR_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';
const BUILDER_VERSION = 'accel-gateway/0.1';

interface PushedManifest {
  descriptor: Descriptor;
  /** From the image config: used when the source was a single manifest. */
  platform: NonNullable<Descriptor['platform']>;
  body: Buffer;
  sourceSize: number;
  targetSize: number;
}

const sizeOf = (m: ImageManifest) => (m.config?.size ?? 0) + (m.layers ?? []).reduce((n, l) => n + (l.size ?? 0), 0);
const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Why an image needs no conversion, if it is already in a lazy-pull format or is an accessory. */
export function alreadyAccelerated(m: ImageManifest): string | undefined {
  if (m.subject) return 'skipped: the manifest has a subject (it is an accessory of another artifact)';
  if ((m.layers ?? []).some((l) => l.annotations?.[TOC_DIGEST_ANNOTATION]))
    return 'skipped: the layers are already eStargz';
  if ((m.layers ?? []).some((l) => l.annotations?.[NYDUS_BOOTSTRAP_ANNOTATION]))
    return 'skipped: the image is already Nydus';
  return undefined;
}

/**
 * Converts an image in a registry to eStargz or Nydus and pushes it under the target tag:
 * every layer streamed from the registry, rewritten and uploaded from a scratch file; configs
 * get the new diff_ids; an index for multi-arch sources. The tag is written last, so a failure
 * leaves it untouched.
 */
@Injectable()
export class ImageConverter {
  private readonly layerSlots: Semaphore;
  /** The last publish of each target tag, so check-then-write runs one at a time per tag. */
  private readonly publishing = new Map<string, Promise<void>>();

  constructor(
    private readonly config: GatewayConfig,
    private readonly registry: RegistryClient,
    @InjectRepository(ConvertedLayerEntity) private readonly converted: Repository<ConvertedLayerEntity>,
  ) {
    this.layerSlots = new Semaphore(config.converter.worker);
    // A bad driver option stops the start with its name, rather than failing every task later.
    if (config.converter.driver.type === 'nydus') nydusSettings(config);
    else estargzSettings(config);
    docker2oci(config);
  }

  /**
   * `sourceTag`: the tag the pushed image came under. A conversion publishes only while that tag
   * still names what was converted, so a slow conversion of an older push never overwrites the
   * conversion of a newer one.
   */
  async convert(
    source: ManifestLocation,
    targetTag: string,
    sourceReference = '',
    sourceTag?: string,
  ): Promise<ConvertedImage> {
    const top = await this.registry.getManifest(source, source.reference);
    const platforms = this.config.converter.platforms
      .split(',')
      .map((p) => p.trim().toLowerCase())
      .filter(Boolean);
    const isIndex = isIndexType(top.mediaType) || (!top.json.config && Array.isArray(top.json.manifests));
    let sources: { d: Descriptor; m: ImageManifest }[];
    if (isIndex) {
      const index = top.json as unknown as ImageIndex;
      const children = (index.manifests ?? []).filter(
        (d) => d.platform?.os !== 'unknown' && (platforms.length === 0 || platforms.includes(platformOf(d))),
      );
      if (children.length === 0)
        throw new UserFacingError(
          `no platform of ${source.repository}@${top.digest} matches converter.platforms (${this.config.converter.platforms})`,
        );
      sources = await Promise.all(
        children.map(async (d) => ({
          d,
          m: (await this.registry.getManifest(source, d.digest)).json as unknown as ImageManifest,
        })),
      );
    } else {
      const m = top.json as unknown as ImageManifest;
      if (!m.config)
        throw new UserFacingError(
          `${source.repository}:${source.reference} is a ${top.mediaType || 'manifest of an unknown type'}, not an image`,
        );
      sources = [{ d: { mediaType: top.mediaType, digest: top.digest, size: top.body.length }, m }];
    }
    const skipped = sources.map(({ m }) => alreadyAccelerated(m)).find(Boolean);
    if (skipped) return { digest: top.digest, sourceDigest: top.digest, sourceSize: 0, targetSize: 0, skipped };
    // acceld's merge_manifest: an index holding the (slightly changed) originals and the Nydus manifests.
    const merge =
      this.config.converter.driver.type === 'nydus' && truthy(this.config.converter.driver.config.merge_manifest);
    const toOci = docker2oci(this.config);
    const pushed: PushedManifest[] = [];
    for (const { d, m } of sources)
      pushed.push(
        await this.convertManifest(
          source,
          m,
          d,
          sourceReference,
          outputMediaTypes(m.mediaType ?? d.mediaType, toOci),
          merge,
        ),
      );
    const sourceSize = sum(pushed.map((p) => p.sourceSize));
    const targetSize = sum(pushed.map((p) => p.targetSize));
    const publish = (mediaType: string, body: Buffer) =>
      this.publish(source, targetTag, mediaType, body, top.digest, sourceTag);
    if (!isIndex && !merge) {
      const out = await publish(pushed[0].descriptor.mediaType, pushed[0].body);
      return { ...out, sourceDigest: top.digest, sourceSize, targetSize };
    }
    const entries: Descriptor[] = [];
    for (const [i, p] of pushed.entries()) {
      const platform = sources[i].d.platform ?? p.platform;
      if (merge) entries.push({ ...(await this.pushSeparatedOriginal(source, sources[i].m, sources[i].d)), platform });
      entries.push({
        ...p.descriptor,
        platform,
        ...(merge ? { artifactType: NYDUS_ARTIFACT_TYPE } : {}),
      } as Descriptor);
    }
    // acceld's merged index is always OCI (it carries artifactType); otherwise a Docker list stays one unless docker2oci.
    const indexType = merge ? MediaType.OciIndex : outputMediaTypes(top.mediaType, toOci).index;
    const body = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: indexType, manifests: entries } satisfies ImageIndex),
    );
    const out = await publish(indexType, body);
    return { ...out, sourceDigest: top.digest, sourceSize, targetSize };
  }

  /** Writes the target tag, unless the source tag has moved on; one writer per target tag at a time in this process. */
  private async publish(
    loc: ManifestLocation,
    targetTag: string,
    mediaType: string,
    body: Buffer,
    sourceDigest: string,
    sourceTag?: string,
  ): Promise<{ digest: string; superseded?: string }> {
    const key = `${loc.host}/${loc.repository}:${targetTag}`;
    const previous = this.publishing.get(key) ?? Promise.resolve();
    const mine = previous.then(async () => {
      if (sourceTag && sourceTag !== sourceDigest) {
        const now = await this.registry.getManifest(loc, sourceTag);
        if (now.digest !== sourceDigest) {
          return {
            digest: '',
            superseded: `superseded: ${loc.repository}:${sourceTag} now holds ${now.digest}, whose conversion publishes ${targetTag}; ${sourceDigest} was converted but not published`,
          };
        }
      }
      return { digest: await this.registry.putManifest(loc, targetTag, mediaType, body) };
    });
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.publishing.set(key, settled);
    void settled.then(() => this.publishing.get(key) === settled && this.publishing.delete(key));
    return mine;
  }

  private async convertManifest(
    loc: ManifestLocation,
    m: ImageManifest,
    self: Descriptor,
    sourceReference: string,
    types: OutputMediaTypes,
    merged: boolean,
  ): Promise<PushedManifest> {
    // The config first: each layer is checked against its diff_id while it is converted.
    const config = await this.readConfig(loc, m.config);
    const diffIds = sourceDiffIds(config, m);
    const converted =
      this.config.converter.driver.type === 'nydus'
        ? await this.nydusLayers(loc, m, self, sourceReference, types.layerGzip, diffIds)
        : await this.estargzLayers(loc, m, estargzSettings(this.config), types.layerGzip, diffIds);
    const platform = {
      os: String(config.os ?? 'linux'),
      architecture: String(config.architecture ?? 'amd64'),
      ...(config.variant ? { variant: String(config.variant) } : {}),
    };
    config.rootfs = { type: 'layers', diff_ids: converted.diffIds };
    config.history = [...((config.history as unknown[]) ?? []), converted.history];
    const configBody = Buffer.from(JSON.stringify(config));
    const configDigest = digestOf(configBody);
    await this.registry.putBlob(loc, configDigest, configBody, configBody.length);
    // In a merged index the Nydus config type keeps stock containerd from picking this manifest.
    const out: ImageManifest & { mediaType: string; artifactType?: string } = {
      schemaVersion: 2,
      mediaType: types.manifest,
      ...(merged ? { artifactType: NYDUS_ARTIFACT_TYPE } : {}),
      config: {
        mediaType: merged ? NYDUS_CONFIG_MEDIA_TYPE : types.config,
        digest: configDigest,
        size: configBody.length,
      },
      layers: converted.layers,
    };
    if (truthy(this.config.converter.driver.config.with_referrer))
      out.subject = { mediaType: self.mediaType, digest: self.digest, size: self.size };
    if (converted.annotations) out.annotations = converted.annotations;
    const body = Buffer.from(JSON.stringify(out));
    const digest = await this.registry.putManifest(loc, digestOf(body), types.manifest, body);
    return {
      descriptor: { mediaType: types.manifest, digest, size: body.length },
      body,
      platform,
      sourceSize: sizeOf(m),
      targetSize: configBody.length + sum(converted.layers.map((l) => l.size)),
    };
  }

  /**
   * The original image for a merged index, with an empty layer in front so that its layers are
   * never shared with Nydus images by a runtime (acceld's `merge_manifest`).
   */
  private async pushSeparatedOriginal(loc: ManifestLocation, m: ImageManifest, self: Descriptor): Promise<Descriptor> {
    const empty = gzipSync(Buffer.alloc(1024));
    const emptyDigest = digestOf(empty);
    await this.registry.putBlob(loc, emptyDigest, empty, empty.length);
    const config = await this.readConfig(loc, m.config);
    const rootfs = (config.rootfs ?? {}) as { diff_ids?: string[] };
    config.rootfs = { type: 'layers', diff_ids: [EMPTY_TAR_DIFF_ID, ...(rootfs.diff_ids ?? [])] };
    config.history = [
      { created_by: 'Nydus Converter', comment: 'Nydus Empty Layer' },
      ...((config.history as unknown[]) ?? []),
    ];
    const configBody = Buffer.from(JSON.stringify(config));
    const configDigest = digestOf(configBody);
    await this.registry.putBlob(loc, configDigest, configBody, configBody.length);
    const docker = (m.mediaType ?? self.mediaType) === MediaType.DockerManifest;
    const out = {
      schemaVersion: 2,
      mediaType: docker ? MediaType.DockerManifest : MediaType.OciManifest,
      config: { ...m.config, digest: configDigest, size: configBody.length },
      layers: [
        {
          mediaType: docker ? MediaType.DockerLayerGzip : MediaType.OciLayerGzip,
          digest: emptyDigest,
          size: empty.length,
          annotations: { 'containerd.io/snapshot/nydus-empty-layer': 'true' },
        },
        ...m.layers,
      ],
      annotations: { ...(m.annotations ?? {}), 'containerd.io/snapshot/nydus-source-digest': self.digest },
    };
    const body = Buffer.from(JSON.stringify(out));
    const digest = await this.registry.putManifest(loc, digestOf(body), out.mediaType, body);
    return { mediaType: out.mediaType, digest, size: body.length };
  }

  private async estargzLayers(
    loc: ManifestLocation,
    m: ImageManifest,
    settings: EstargzDriverSettings,
    layerType: string,
    diffIds: string[],
  ): Promise<DriverOutput> {
    // One failed layer fails the image: its siblings stop, and none commits after the failure is reported.
    const layers = await mapLimitOrCancel(m.layers ?? [], this.config.converter.worker, (l, signal, i) =>
      this.layerSlots.use(() => this.convertLayer(loc, l, settings, layerType, diffIds[i], signal)),
    );
    return {
      layers: layers.map((l) => l.descriptor),
      diffIds: layers.map((l) => l.diffId),
      history: { created_by: 'accel-gateway: layers converted to eStargz', comment: 'estargz', empty_layer: true },
    };
  }

  /**
   * Nydus: the layers, in order, become data blobs (a chunk stored once per layer) while the
   * merged filesystem tree grows; the RAFS v6 bootstrap of that tree is the last layer.
   */
  private async nydusLayers(
    loc: ManifestLocation,
    m: ImageManifest,
    self: Descriptor,
    sourceReference: string,
    bootstrapType: string,
    diffIds: string[],
  ): Promise<DriverOutput> {
    const settings = nydusSettings(this.config);
    const tree = new FsTree();
    const blobs: NydusBlob[] = [];
    const layers: Descriptor[] = [];
    for (const [index, layer] of (m.layers ?? []).entries()) {
      const blob = await this.layerSlots.use(() =>
        this.uploadConverted(
          loc,
          layer,
          (source, upload) =>
            withLayerTar(source, (tar) => writeLayerBlob(tar, tree, index, upload, settings), diffIds[index]),
          (b) => `sha256:${b.id}`,
        ),
      );
      blobs.push(blob);
      layers.push({
        mediaType: NYDUS_BLOB_MEDIA_TYPE,
        digest: `sha256:${blob.id}`,
        size: blob.size,
        annotations: { [NYDUS_BLOB_ANNOTATION]: 'true' },
      });
    }
    // The cache files are for the blobs the bootstrap maps (those holding chunks).
    const boot = bootstrapLayer(
      writeRafsV6(tree, blobs, settings),
      blobs.filter((b) => b.chunks.length > 0).map((b) => ({ id: b.id, meta: b.blobMeta })),
    );
    const bootDigest = digestOf(boot.data);
    await this.registry.putBlob(loc, bootDigest, boot.data, boot.data.length);
    layers.push({
      mediaType: bootstrapType,
      digest: bootDigest,
      size: boot.data.length,
      annotations: { [NYDUS_BOOTSTRAP_ANNOTATION]: 'true', [NYDUS_FS_VERSION_ANNOTATION]: settings.fsVersion },
    });
    return {
      layers,
      diffIds: [...blobs.map((b) => `sha256:${b.id}`), boot.diffId],
      history: { created_by: 'Nydus Converter', comment: 'Nydus Bootstrap Layer' },
      annotations: {
        'containerd.io/snapshot/nydus-source-digest': self.digest,
        'containerd.io/snapshot/nydus-source-reference': sourceReference,
        [NYDUS_FS_VERSION_ANNOTATION]: settings.fsVersion,
        'containerd.io/snapshot/nydus-builder-version': BUILDER_VERSION,
      },
    };
  }

  /** A source layer streamed from the registry, with its digest checked once it has been read. */
  private async openSourceLayer(
    loc: ManifestLocation,
    layer: Descriptor,
  ): Promise<{ stream: PassThrough; verify(): void }> {
    const blob = await this.registry.getBlob(loc, layer.digest);
    const hash = createHash('sha256');
    const stream = new PassThrough();
    blob.on('data', (c: Buffer) => hash.update(c));
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

  /** Scratch space the writers may need (eStargz prioritized files spill there). */
  private async workDir(): Promise<string> {
    const dir = this.config.provider.work_dir || join(tmpdir(), 'accel-gateway');
    await mkdir(dir, { recursive: true });
    return dir;
  }

  /**
   * One source layer converted straight into a registry upload: the source is checked against
   * its digest once read, the output is uploaded while it is written and committed under the
   * digest the writer computed on the way; on failure the upload is cancelled.
   */
  private async uploadConverted<T>(
    loc: ManifestLocation,
    layer: Descriptor,
    write: (source: Readable, upload: StreamedBlobUpload) => Promise<T>,
    digestOf: (result: T) => string,
    signal?: AbortSignal,
  ): Promise<T> {
    const source = await this.openSourceLayer(loc, layer);
    const upload = await this.registry.startBlobUpload(loc);
    // A sibling's failure stops this layer where it is: its read ends and its upload is given up.
    const cancel = () => source.stream.destroy(new Error('cancelled: another layer of the image failed'));
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      const result = await write(source.stream, upload).catch((e) => {
        signal?.throwIfAborted();
        throw this.layerError(layer, asLayerError(e));
      });
      source.verify();
      signal?.throwIfAborted();
      await upload.finish(digestOf(result));
      return result;
    } catch (e) {
      source.stream.destroy();
      await upload.abort();
      throw e;
    } finally {
      signal?.removeEventListener('abort', cancel);
    }
  }

  private layerError(layer: Descriptor, e: unknown): Error {
    if (e instanceof LayerFormatError) return new UserFacingError(`layer ${layer.digest}: ${e.message}`);
    if (e instanceof UserFacingError) return e;
    return new UserFacingError(`layer ${layer.digest}: ${describeError(e)}`);
  }

  private async readConfig(loc: ManifestLocation, d: Descriptor): Promise<Record<string, unknown>> {
    if (d.size > 32 * 1024 * 1024)
      throw new UserFacingError(`image config ${d.digest} is ${d.size} bytes; configs over 32 MiB are refused`);
    const chunks: Buffer[] = [];
    for await (const c of await this.registry.getBlob(loc, d.digest)) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (digestOf(body) !== d.digest)
      throw new UserFacingError(`image config ${d.digest} does not match its digest (corrupt blob)`);
    return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  }

  /** One layer: reused when converted before and still in the registry, else streamed through the writer. */
  private async convertLayer(
    loc: ManifestLocation,
    layer: Descriptor,
    settings: EstargzDriverSettings,
    mediaType: string,
    diffId: string,
    signal?: AbortSignal,
  ): Promise<ConvertedLayer> {
    signal?.throwIfAborted();
    const known = await this.converted.findOneBy({ sourceDigest: layer.digest, settingsKey: settings.key });
    if (known && (await this.reuse(loc, known))) {
      return {
        descriptor: this.layerDescriptor(
          mediaType,
          known.targetDigest,
          known.targetSize,
          known.tocDigest,
          known.uncompressedSize,
        ),
        diffId: known.diffId,
      };
    }
    const workDir = await this.workDir();
    const result = await this.uploadConverted(
      loc,
      layer,
      async (source, upload) => {
        const out = upload.asWritable();
        const r = await convertLayerToEstargz(source, out, { ...settings, workDir }, diffId);
        out.end();
        await finished(out);
        return r;
      },
      (r) => r.digest,
      signal,
    );
    await this.converted.upsert(
      {
        sourceDigest: layer.digest,
        settingsKey: settings.key,
        registry: loc.host,
        repository: loc.repository,
        targetDigest: result.digest,
        targetSize: result.size,
        diffId: result.diffId,
        tocDigest: result.tocDigest,
        uncompressedSize: result.uncompressedSize,
      },
      ['sourceDigest', 'settingsKey'],
    );
    return {
      descriptor: this.layerDescriptor(
        mediaType,
        result.digest,
        result.size,
        result.tocDigest,
        result.uncompressedSize,
      ),
      diffId: result.diffId,
    };
  }

  /** A layer converted before is skipped when the repository has it, or mounted from the one that does. */
  private async reuse(loc: ManifestLocation, known: ConvertedLayerEntity): Promise<boolean> {
    if (await this.registry.blobExists(loc, known.targetDigest, { access: 'pull,push' })) return true;
    if (known.registry !== loc.host || known.repository === loc.repository) return false;
    return this.registry.mountBlob(loc, known.targetDigest, known.repository).catch(() => false);
  }

  private layerDescriptor(
    mediaType: string,
    digest: string,
    size: number,
    tocDigest: string,
    uncompressed: number,
  ): Descriptor {
    return {
      mediaType,
      digest,
      size,
      annotations: { [TOC_DIGEST_ANNOTATION]: tocDigest, [UNCOMPRESSED_SIZE_ANNOTATION]: String(uncompressed) },
    };
  }
}

/** The config's diff_ids, one per layer; a config that lists another count cannot be checked and is refused. */
function sourceDiffIds(config: Record<string, unknown>, m: ImageManifest): string[] {
  const ids = (config.rootfs as { diff_ids?: unknown } | undefined)?.diff_ids;
  const count = (m.layers ?? []).length;
  if (
    !Array.isArray(ids) ||
    ids.length !== count ||
    !ids.every((d) => typeof d === 'string' && /^sha256:[a-f0-9]{64}$/.test(d))
  ) {
    throw new UserFacingError(
      `image config ${m.config.digest} lists ${Array.isArray(ids) ? ids.length : 'no'} valid diff_ids for ${count} layers`,
    );
  }
  return ids as string[];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const truthy = (v: string | undefined) => /^(1|t|true|yes)$/i.test(v ?? '');
const platformOf = (d: Descriptor) =>
  [d.platform?.os, d.platform?.architecture, d.platform?.variant].filter(Boolean).join('/').toLowerCase();
