import { Semaphore, UserFacingError, describeError, mapLimit } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import { ConvertedLayerEntity } from '@accel/db';
import { Descriptor, ImageIndex, ImageManifest, ManifestLocation, MediaType, RegistryClient, RegistryStore, isIndexType } from '@accel/registry';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Repository } from 'typeorm';
import { EstargzDriverSettings, estargzSettings } from './estargz/estargz-settings';
import { LayerFormatError, convertLayerToEstargz } from './estargz/layer-converter';

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
}

interface ConvertedLayer {
  descriptor: Descriptor;
  diffId: string;
}

interface PushedManifest {
  descriptor: Descriptor;
  body: Buffer;
  sourceSize: number;
  targetSize: number;
}

const sizeOf = (m: ImageManifest) => (m.config?.size ?? 0) + (m.layers ?? []).reduce((n, l) => n + (l.size ?? 0), 0);
const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Why an image needs no conversion, if it is already in a lazy-pull format or is an accessory. */
export function alreadyAccelerated(m: ImageManifest): string | undefined {
  if (m.subject) return 'skipped: the manifest has a subject (it is an accessory of another artifact)';
  if ((m.layers ?? []).some((l) => l.annotations?.[TOC_DIGEST_ANNOTATION])) return 'skipped: the layers are already eStargz';
  if ((m.layers ?? []).some((l) => l.annotations?.[NYDUS_BOOTSTRAP_ANNOTATION])) return 'skipped: the image is already Nydus';
  return undefined;
}

/**
 * Converts an image in a registry to eStargz and pushes it under the target tag: every layer
 * streamed from the registry, rewritten and uploaded from a scratch file; configs get the new
 * diff_ids; an index for multi-arch sources. The tag is written last, so a failure leaves it
 * untouched.
 */
@Injectable()
export class ImageConverter {
  private readonly log = new Logger(ImageConverter.name);
  private readonly layerSlots: Semaphore;

  constructor(
    private readonly config: GatewayConfig,
    private readonly registry: RegistryClient,
    private readonly store: RegistryStore,
    @InjectRepository(ConvertedLayerEntity) private readonly converted: Repository<ConvertedLayerEntity>,
  ) {
    this.layerSlots = new Semaphore(config.converter.worker);
  }

  schemeFor(host: string): 'http' | 'https' {
    return this.store.get(host)?.plainHttp || this.config.provider.source[host.toLowerCase()]?.plain_http ? 'http' : 'https';
  }

  async convert(source: ManifestLocation, targetTag: string): Promise<ConvertedImage> {
    const settings = estargzSettings(this.config);
    const top = await this.registry.getManifest(source, source.reference);
    const platforms = this.config.converter.platforms.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
    if (isIndexType(top.mediaType) || (!top.json.config && Array.isArray(top.json.manifests))) {
      const index = top.json as unknown as ImageIndex;
      const children = (index.manifests ?? []).filter((d) => d.platform?.os !== 'unknown' && (platforms.length === 0 || platforms.includes(platformOf(d))));
      if (children.length === 0) throw new UserFacingError(`no platform of ${source.repository}@${top.digest} matches converter.platforms (${this.config.converter.platforms})`);
      const manifests = await Promise.all(children.map(async (d) => ({ d, m: (await this.registry.getManifest(source, d.digest)).json as unknown as ImageManifest })));
      const skipped = manifests.map(({ m }) => alreadyAccelerated(m)).find(Boolean);
      if (skipped) return { digest: top.digest, sourceDigest: top.digest, sourceSize: 0, targetSize: 0, skipped };
      const pushed: PushedManifest[] = [];
      for (const { d, m } of manifests) pushed.push(await this.convertManifest(source, m, d, settings));
      const out: ImageIndex = {
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: pushed.map((p, i) => ({ ...p.descriptor, platform: children[i].platform })),
      };
      const body = Buffer.from(JSON.stringify(out));
      const digest = await this.registry.putManifest(source, targetTag, MediaType.OciIndex, body);
      return { digest, sourceDigest: top.digest, sourceSize: sum(pushed.map((p) => p.sourceSize)), targetSize: sum(pushed.map((p) => p.targetSize)) };
    }
    const manifest = top.json as unknown as ImageManifest;
    if (!manifest.config) throw new UserFacingError(`${source.repository}:${source.reference} is a ${top.mediaType || 'manifest of an unknown type'}, not an image`);
    const skipped = alreadyAccelerated(manifest);
    if (skipped) return { digest: top.digest, sourceDigest: top.digest, sourceSize: 0, targetSize: 0, skipped };
    const pushed = await this.convertManifest(source, manifest, { mediaType: top.mediaType, digest: top.digest, size: top.body.length }, settings);
    const digest = await this.registry.putManifest(source, targetTag, MediaType.OciManifest, pushed.body);
    return { digest, sourceDigest: top.digest, sourceSize: pushed.sourceSize, targetSize: pushed.targetSize };
  }

  private async convertManifest(loc: ManifestLocation, m: ImageManifest, self: Descriptor, settings: EstargzDriverSettings): Promise<PushedManifest> {
    const layers = await mapLimit(m.layers ?? [], this.config.converter.worker, (l) => this.layerSlots.use(() => this.convertLayer(loc, l, settings)));
    const config = await this.readConfig(loc, m.config);
    config.rootfs = { type: 'layers', diff_ids: layers.map((l) => l.diffId) };
    config.history = [...((config.history as unknown[]) ?? []), { created_by: 'accel-gateway: layers converted to eStargz', comment: 'estargz', empty_layer: true }];
    const configBody = Buffer.from(JSON.stringify(config));
    const configDigest = digestOf(configBody);
    await this.registry.putBlob(loc, configDigest, configBody, configBody.length);
    const out: ImageManifest & { mediaType: string } = {
      schemaVersion: 2,
      mediaType: MediaType.OciManifest,
      config: { mediaType: MediaType.OciConfig, digest: configDigest, size: configBody.length },
      layers: layers.map((l) => l.descriptor),
    };
    if (settings.withReferrer) out.subject = { mediaType: self.mediaType, digest: self.digest, size: self.size };
    const body = Buffer.from(JSON.stringify(out));
    const digest = await this.registry.putManifest(loc, digestOf(body), MediaType.OciManifest, body);
    return {
      descriptor: { mediaType: MediaType.OciManifest, digest, size: body.length },
      body,
      sourceSize: sizeOf(m),
      targetSize: configBody.length + sum(layers.map((l) => l.descriptor.size)),
    };
  }

  private async readConfig(loc: ManifestLocation, d: Descriptor): Promise<Record<string, unknown>> {
    if (d.size > 32 * 1024 * 1024) throw new UserFacingError(`image config ${d.digest} is ${d.size} bytes; configs over 32 MiB are refused`);
    const chunks: Buffer[] = [];
    for await (const c of await this.registry.getBlob(loc, d.digest)) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (digestOf(body) !== d.digest) throw new UserFacingError(`image config ${d.digest} does not match its digest (corrupt blob)`);
    return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  }

  /** One layer: reused when converted before and still in the registry, else streamed through the writer. */
  private async convertLayer(loc: ManifestLocation, layer: Descriptor, settings: EstargzDriverSettings): Promise<ConvertedLayer> {
    const known = await this.converted.findOneBy({ sourceDigest: layer.digest, settingsKey: settings.key });
    if (known && (await this.reuse(loc, known))) {
      return { descriptor: this.layerDescriptor(known.targetDigest, known.targetSize, known.tocDigest, known.uncompressedSize), diffId: known.diffId };
    }
    const dir = this.config.provider.work_dir || join(tmpdir(), 'accel-gateway');
    await mkdir(dir, { recursive: true });
    const scratch = join(dir, `${randomUUID()}.esgz`);
    try {
      const blob = await this.registry.getBlob(loc, layer.digest);
      const hash = createHash('sha256');
      const tee = new PassThrough();
      blob.on('data', (c: Buffer) => hash.update(c));
      blob.on('error', (e) => tee.destroy(e));
      blob.pipe(tee);
      const out = createWriteStream(scratch);
      let result;
      try {
        result = await convertLayerToEstargz(tee, out, { ...settings, workDir: dir });
      } finally {
        out.end();
        await finished(out).catch(() => undefined);
      }
      const got = `sha256:${hash.digest('hex')}`;
      if (got !== layer.digest) throw new UserFacingError(`source layer ${layer.digest} does not match its digest (read ${got}): corrupt or truncated blob`);
      await this.registry.putBlob(loc, result.digest, createReadStream(scratch), result.size);
      await this.converted.upsert(
        { sourceDigest: layer.digest, settingsKey: settings.key, registry: loc.host, repository: loc.repository, targetDigest: result.digest, targetSize: result.size, diffId: result.diffId, tocDigest: result.tocDigest, uncompressedSize: result.uncompressedSize },
        ['sourceDigest', 'settingsKey'],
      );
      return { descriptor: this.layerDescriptor(result.digest, result.size, result.tocDigest, result.uncompressedSize), diffId: result.diffId };
    } catch (e) {
      if (e instanceof LayerFormatError) throw new UserFacingError(`layer ${layer.digest}: ${e.message}`);
      if (e instanceof UserFacingError) throw e;
      throw new UserFacingError(`layer ${layer.digest}: ${describeError(e)}`);
    } finally {
      await rm(scratch, { force: true });
    }
  }

  /** A layer converted before is skipped when the repository has it, or mounted from the one that does. */
  private async reuse(loc: ManifestLocation, known: ConvertedLayerEntity): Promise<boolean> {
    if (await this.registry.blobExists(loc, known.targetDigest, { access: 'pull,push' })) return true;
    if (known.registry !== loc.host || known.repository === loc.repository) return false;
    return this.registry.mountBlob(loc, known.targetDigest, known.repository).catch(() => false);
  }

  private layerDescriptor(digest: string, size: number, tocDigest: string, uncompressed: number): Descriptor {
    return {
      mediaType: MediaType.OciLayerGzip,
      digest,
      size,
      annotations: { [TOC_DIGEST_ANNOTATION]: tocDigest, [UNCOMPRESSED_SIZE_ANNOTATION]: String(uncompressed) },
    };
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const platformOf = (d: Descriptor) => [d.platform?.os, d.platform?.architecture, d.platform?.variant].filter(Boolean).join('/').toLowerCase();
