import { ProgressSink } from '../image/conversion-progress';
import { Descriptor, ImageManifest, ManifestLocation } from '@accel/registry';
import { Readable, Writable } from 'node:stream';

/** Options every driver takes (acceld's `docker2oci`, `with_referrer`), resolved once at boot. */
export interface ImageOptions {
  /** Docker sources become OCI images. */
  docker2oci: boolean;
  /** Converted manifests name their source as `subject` (OCI referrers). */
  withReferrer: boolean;
}

/** One source image manifest, as a driver sees it. */
export interface SourceManifest {
  location: ManifestLocation;
  manifest: ImageManifest;
  /** The manifest's own descriptor (digest, size, media type). */
  descriptor: Descriptor;
  /** The image as the task named it (`host/repo:tag`). */
  reference: string;
  /** The config's diff_id of each layer: every layer is checked against it while it is read. */
  diffIds: string[];
  /** Told of source bytes read and layers done, when someone follows the conversion. */
  progress?: ProgressSink;
  /** The media type gzip tar layers of the output image carry (OCI or Docker). */
  gzipLayerType: string;
}

/** The converted layers of one manifest and what the image config and manifest gain with them. */
export interface ConvertedLayers {
  layers: Descriptor[];
  diffIds: string[];
  /** Appended to the config's history. */
  history: Record<string, unknown>;
  annotations?: Record<string, string>;
}

/**
 * A format that publishes an index of the originals next to its own manifests (Nydus'
 * `merge_manifest`): runtimes without the format pick the originals.
 */
export interface MergedIndex {
  /** `artifactType` of the converted manifests in the index. */
  artifactType: string;
  /** Config media type of the converted manifests, so stock runtimes never pick them. */
  configMediaType: string;
  /** Pushes the original for the index, changed as the format needs; returns its descriptor. */
  original(source: SourceManifest): Promise<Descriptor>;
}

/**
 * A lazy-pull format: turns the layers of one manifest into its own. The image converter walks
 * manifests, writes configs and publishes; it knows no format by name.
 */
export abstract class ImageDriver {
  /** The `converter.driver.type` this driver serves (recorded on each task). */
  abstract readonly type: string;
  abstract readonly options: ImageOptions;
  /** Set when the format publishes a merged index. */
  readonly merge?: MergedIndex;

  abstract convertLayers(source: SourceManifest, signal?: AbortSignal): Promise<ConvertedLayers>;
}

/** What a layer driver wrote for one layer. */
export interface LayerOutput {
  digest: string;
  size: number;
  diffId: string;
  /** Annotations of the layer's descriptor (e.g. eStargz' TOC digest). */
  annotations: Record<string, string>;
}

/**
 * A format whose layers convert one by one, each on its own (eStargz; zstd:chunked would be
 * another). The per-layer image driver runs them in parallel and reuses earlier output.
 */
export interface LayerDriver {
  readonly type: string;
  readonly options: ImageOptions;
  /** Identifies the output a layer gets with these settings: the key of converted-layer reuse. */
  readonly settingsKey: string;
  /** Appended to the config's history. */
  readonly history: Record<string, unknown>;
  /** Streams one source layer blob (gzip or plain tar) into `out`; `diffId` is checked on the way. */
  convert(source: Readable, out: Writable, diffId: string, workDir: string): Promise<LayerOutput>;
}

/** Parsed once at boot from `converter.driver`: a bad option stops the start with its name. */
export class DriverConfigError extends Error {}
