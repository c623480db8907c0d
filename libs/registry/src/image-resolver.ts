import { UserFacingError } from '@accel/common';
import { Injectable } from '@nestjs/common';
import { FetchedManifest, RegistryClient, RegistryRequestOptions, RegistryStatusError } from './registry-client';
import { Descriptor, ImageIndex, ImageManifest, MediaType, isIndexType, isManifestType } from './media-types';
import { ManifestLocation, Platform, blobUrl, formatPlatform, parsePlatform } from './reference';

export interface ResolvedBlob {
  digest: string;
  size: number;
  mediaType: string;
  url: string;
}

export interface ResolvedImage {
  /** Digest of what the URL names: the index for multi-arch images. */
  digest: string;
  mediaType: string;
  /** Platform manifests selected (one entry for a single-platform image). */
  manifests: { digest: string; platform?: string }[];
  /** Config and layer blobs of every selected manifest, each digest once, in manifest order. */
  blobs: ResolvedBlob[];
  /** Header that reads the blobs (caller's or the one the gateway obtained), for seed peers. */
  authorization?: string;
  /** What the tag names now, when it no longer names the digest pinned at creation. */
  tagMovedTo?: string;
}

/** `all` selects every platform of an index. */
export type PlatformSelection = Platform[] | 'all';

export function platformSelection(values: string[]): PlatformSelection {
  return values.some((v) => v.trim().toLowerCase() === 'all') ? 'all' : values.map(parsePlatform);
}

function matches(want: Platform, have: Descriptor['platform']): boolean {
  if (!have) return false;
  if (want.os !== have.os.toLowerCase() || want.architecture !== have.architecture.toLowerCase()) return false;
  // A request without a variant takes the first variant listed (as `docker pull` does for arm).
  return !want.variant || want.variant === (have.variant ?? '').toLowerCase();
}

/** Turns a manifest URL into the blob URLs a node pulls: index → platform manifests → config + layers. */
@Injectable()
export class ImageResolver {
  constructor(private readonly registry: RegistryClient) {}

  async resolve(
    loc: ManifestLocation,
    selection: PlatformSelection,
    opts: RegistryRequestOptions = {},
  ): Promise<ResolvedImage> {
    return this.resolveFrom(loc, await this.registry.getManifest(loc, loc.reference, opts), selection, opts);
  }

  /**
   * What `pinned` (the digest the tag named at creation) names. Read through the tag while the
   * tag still names it: one GET, where a GET of the digest and a HEAD of the tag would be two.
   */
  async resolvePinned(
    loc: ManifestLocation,
    pinned: string,
    selection: PlatformSelection,
    opts: RegistryRequestOptions = {},
  ): Promise<ResolvedImage> {
    if (pinned === loc.reference) return this.resolve(loc, selection, opts);
    let now: FetchedManifest | undefined;
    try {
      now = await this.registry.getManifest(loc, loc.reference, opts);
    } catch (e) {
      // A tag gone or refused still leaves the digest to read; a registry not answering does not.
      if (!(e instanceof RegistryStatusError)) throw e;
    }
    if (now?.digest === pinned) return this.resolveFrom({ ...loc, reference: pinned }, now, selection, opts);
    const image = await this.resolve({ ...loc, reference: pinned }, selection, opts);
    return now ? { ...image, tagMovedTo: now.digest } : image;
  }

  private async resolveFrom(
    loc: ManifestLocation,
    top: FetchedManifest,
    selection: PlatformSelection,
    opts: RegistryRequestOptions,
  ): Promise<ResolvedImage> {
    let manifests: { digest: string; platform?: string; manifest: ImageManifest }[];
    if (isIndexType(top.mediaType) || (!top.json.config && Array.isArray(top.json.manifests))) {
      const index = top.json as ImageIndex;
      const picked = this.pick(index.manifests ?? [], selection, loc);
      manifests = [];
      for (const d of picked) {
        const m = await this.registry.getManifest(loc, d.digest, opts);
        if (!isManifestType(m.mediaType) && !m.json.config) {
          throw new UserFacingError(`${loc.repository}@${d.digest} is a ${m.mediaType}, not an image manifest`);
        }
        manifests.push({
          digest: m.digest,
          platform: d.platform ? formatPlatform(d.platform) : undefined,
          manifest: m.json as ImageManifest,
        });
      }
    } else if (isManifestType(top.mediaType) || top.json.config) {
      manifests = [{ digest: top.digest, manifest: top.json as ImageManifest }];
    } else if (
      top.mediaType === MediaType.DockerSchema1Signed ||
      top.mediaType === MediaType.DockerSchema1 ||
      top.json.schemaVersion === 1
    ) {
      throw new UserFacingError(
        `${loc.repository}:${loc.reference} is a Docker schema 1 manifest, which cannot be preheated; push it again with a current client`,
      );
    } else {
      throw new UserFacingError(
        `${loc.repository}:${loc.reference} has unsupported media type ${top.mediaType || 'unknown'}`,
      );
    }
    const seen = new Set<string>();
    const blobs: ResolvedBlob[] = [];
    for (const { manifest } of manifests) {
      for (const d of [manifest.config, ...(manifest.layers ?? [])]) {
        if (!d?.digest || seen.has(d.digest)) continue;
        seen.add(d.digest);
        blobs.push({ digest: d.digest, size: d.size, mediaType: d.mediaType, url: blobUrl(loc, d.digest) });
      }
    }
    return {
      digest: top.digest,
      mediaType: top.mediaType,
      manifests: manifests.map(({ digest, platform }) => ({ digest, platform })),
      blobs,
      authorization: await this.registry.authorizationFor(loc, opts),
    };
  }

  /** The digest a tag names now (undefined when the registry does not say). */
  currentDigest(loc: ManifestLocation, opts: RegistryRequestOptions = {}): Promise<string | undefined> {
    return this.registry.manifestDigest(loc, loc.reference, opts);
  }

  private pick(entries: Descriptor[], selection: PlatformSelection, loc: ManifestLocation): Descriptor[] {
    // Attestation manifests (unknown/unknown) are never pulled by nodes.
    const images = entries.filter((d) => d.platform?.os !== 'unknown');
    if (selection === 'all') return images;
    const picked: Descriptor[] = [];
    for (const want of selection) {
      const hit = images.find((d) => matches(want, d.platform));
      if (!hit) {
        const offered = images.map((d) => (d.platform ? formatPlatform(d.platform) : '?')).join(', ') || 'none';
        throw new UserFacingError(
          `no matching manifest for platform ${formatPlatform(want)} in ${loc.repository}:${loc.reference} (it offers ${offered})`,
        );
      }
      if (!picked.includes(hit)) picked.push(hit);
    }
    return picked;
  }
}
