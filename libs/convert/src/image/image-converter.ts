import { UserFacingError } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import {
  Descriptor,
  FetchedManifest,
  ImageIndex,
  ImageManifest,
  ManifestLocation,
  MediaType,
  isIndexType,
} from '@accel/registry';
import { Injectable } from '@nestjs/common';
import { alreadyAccelerated } from '../drivers';
import { ImageDriver, SourceManifest } from '../drivers/driver';
import { ProgressSink } from './conversion-progress';
import { ImageStore } from './image-store';
import { OutputMediaTypes, outputMediaTypes } from './output-media-types';
import { TagPublisher } from './tag-publisher';

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

interface PushedManifest {
  descriptor: Descriptor;
  /** From the image config: used when the source was a single manifest. */
  platform: NonNullable<Descriptor['platform']>;
  body: Buffer;
  sourceSize: number;
  targetSize: number;
}

/**
 * Converts an image with the configured driver and pushes it under the target tag: the driver
 * turns each manifest's layers into its format (streamed from and to the registry); configs get
 * the new diff_ids; an index for multi-arch sources, or the driver's merged index. The tag is
 * written last, so a failure leaves it untouched.
 */
@Injectable()
export class ImageConverter {
  constructor(
    private readonly config: GatewayConfig,
    private readonly driver: ImageDriver,
    private readonly store: ImageStore,
    private readonly tags: TagPublisher,
  ) {}

  /**
   * `sourceTag`: the tag the pushed image came under. A conversion publishes only while that tag
   * still names what was converted.
   */
  async convert(
    source: ManifestLocation,
    targetTag: string,
    sourceReference = '',
    sourceTag?: string,
    progress?: ProgressSink,
  ): Promise<ConvertedImage> {
    progress?.phase('pull');
    const top = await this.store.getManifest(source, source.reference);
    const isIndex = isIndexType(top.mediaType) || (!top.json.config && Array.isArray(top.json.manifests));
    const sources = isIndex
      ? await this.platformManifests(source, top.digest, top.json as ImageIndex)
      : [this.singleManifest(source, top)];
    const skipped = sources.map(({ m }) => alreadyAccelerated(m)).find(Boolean);
    if (skipped) return { digest: top.digest, sourceDigest: top.digest, sourceSize: 0, targetSize: 0, skipped };
    const layers = sources.flatMap(({ m }) => m.layers ?? []);
    progress?.plan(layers.length, sum(layers.map((l) => l.size)));
    const merge = this.driver.merge;
    const toOci = this.driver.options.docker2oci;
    const pushed: PushedManifest[] = [];
    const converted: SourceManifest[] = [];
    for (const { d, m } of sources) {
      const types = outputMediaTypes(m.mediaType ?? d.mediaType, toOci);
      // The config first: each layer is checked against its diff_id while it is converted.
      const config = await this.store.readConfig(source, m.config);
      const one: SourceManifest = {
        location: source,
        manifest: m,
        descriptor: d,
        reference: sourceReference,
        diffIds: sourceDiffIds(config, m),
        gzipLayerType: types.layerGzip,
        progress,
      };
      progress?.phase('convert');
      converted.push(one);
      pushed.push(await this.convertManifest(one, config, types));
    }
    progress?.phase('push');
    const sourceSize = sum(pushed.map((p) => p.sourceSize));
    const targetSize = sum(pushed.map((p) => p.targetSize));
    const publish = (mediaType: string, body: Buffer) =>
      this.tags.publish(source, targetTag, mediaType, body, top.digest, sourceTag);
    if (!isIndex && !merge) {
      const out = await publish(pushed[0].descriptor.mediaType, pushed[0].body);
      return { ...out, sourceDigest: top.digest, sourceSize, targetSize };
    }
    const entries: Descriptor[] = [];
    for (const [i, p] of pushed.entries()) {
      const platform = sources[i].d.platform ?? p.platform;
      if (merge) entries.push({ ...(await merge.original(converted[i])), platform });
      entries.push({
        ...p.descriptor,
        platform,
        ...(merge ? { artifactType: merge.artifactType } : {}),
      } as Descriptor);
    }
    // A merged index is always OCI (it carries artifactType); otherwise a Docker list stays one unless docker2oci.
    const indexType = merge ? MediaType.OciIndex : outputMediaTypes(top.mediaType, toOci).index;
    const body = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: indexType, manifests: entries } satisfies ImageIndex),
    );
    const out = await publish(indexType, body);
    return { ...out, sourceDigest: top.digest, sourceSize, targetSize };
  }

  /** The index's manifests of the platforms `converter.platforms` names (attestations left out). */
  private async platformManifests(
    source: ManifestLocation,
    digest: string,
    index: ImageIndex,
  ): Promise<{ d: Descriptor; m: ImageManifest }[]> {
    const platforms = this.config.converter.platforms
      .split(',')
      .map((p) => p.trim().toLowerCase())
      .filter(Boolean);
    const children = (index.manifests ?? []).filter(
      (d) => d.platform?.os !== 'unknown' && (platforms.length === 0 || platforms.includes(platformOf(d))),
    );
    if (children.length === 0)
      throw new UserFacingError(
        `no platform of ${source.repository}@${digest} matches converter.platforms (${this.config.converter.platforms})`,
      );
    return Promise.all(
      children.map(async (d) => ({
        d,
        m: (await this.store.getManifest(source, d.digest)).json as ImageManifest,
      })),
    );
  }

  private singleManifest(source: ManifestLocation, top: FetchedManifest): { d: Descriptor; m: ImageManifest } {
    const m = top.json as ImageManifest;
    if (!m.config)
      throw new UserFacingError(
        `${source.repository}:${source.reference} is a ${top.mediaType || 'manifest of an unknown type'}, not an image`,
      );
    return { d: { mediaType: top.mediaType, digest: top.digest, size: top.body.length }, m };
  }

  private async convertManifest(
    source: SourceManifest,
    config: Record<string, unknown>,
    types: OutputMediaTypes,
  ): Promise<PushedManifest> {
    const { location: loc, manifest: m, descriptor: self } = source;
    const merge = this.driver.merge;
    const converted = await this.driver.convertLayers(source);
    const platform = {
      os: String(config.os ?? 'linux'),
      architecture: String(config.architecture ?? 'amd64'),
      ...(config.variant ? { variant: String(config.variant) } : {}),
    };
    config.rootfs = { type: 'layers', diff_ids: converted.diffIds };
    config.history = [...((config.history as unknown[]) ?? []), converted.history];
    const configBody = Buffer.from(JSON.stringify(config));
    const configDigest = await this.store.putBlob(loc, configBody);
    // In a merged index the format's config type keeps stock runtimes from picking this manifest.
    const out: ImageManifest & { mediaType: string; artifactType?: string } = {
      schemaVersion: 2,
      mediaType: types.manifest,
      ...(merge ? { artifactType: merge.artifactType } : {}),
      config: {
        mediaType: merge ? merge.configMediaType : types.config,
        digest: configDigest,
        size: configBody.length,
      },
      layers: converted.layers,
    };
    if (this.driver.options.withReferrer)
      out.subject = { mediaType: self.mediaType, digest: self.digest, size: self.size };
    if (converted.annotations) out.annotations = converted.annotations;
    const body = Buffer.from(JSON.stringify(out));
    return {
      descriptor: await this.store.putManifest(loc, types.manifest, body),
      body,
      platform,
      sourceSize: sizeOf(m),
      targetSize: configBody.length + sum(converted.layers.map((l) => l.size)),
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
const sizeOf = (m: ImageManifest) => (m.config?.size ?? 0) + (m.layers ?? []).reduce((n, l) => n + (l.size ?? 0), 0);
const platformOf = (d: Descriptor) =>
  [d.platform?.os, d.platform?.architecture, d.platform?.variant].filter(Boolean).join('/').toLowerCase();
