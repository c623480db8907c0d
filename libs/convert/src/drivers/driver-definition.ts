import { ImageManifest } from '@accel/registry';
import { DeflateEngine } from '../codecs/deflate/deflate-engine';
import { GunzipEngine } from '../codecs/deflate/gunzip-engine';
import { ImageStore } from '../image/image-store';
import { ImageDriver, ImageOptions } from './driver';
import { DriverOptionReader } from './driver-options';
import { ConvertedLayerRepository } from './per-layer/converted-layer.repository';

/** What a driver may use once it runs. */
export interface DriverDeps {
  store: ImageStore;
  convertedLayers: ConvertedLayerRepository;
  /** Layers converted at once per image. */
  parallelLayers: number;
  /** What compresses gzip members. */
  deflate: DeflateEngine;
  /** What decompresses source layers. */
  gunzip: GunzipEngine;
}

/** A driver's settings, parsed and checked; `create` builds the driver on them. */
export interface ParsedDriver<S = unknown> {
  type: string;
  options: ImageOptions;
  settings: S;
  create(deps: DriverDeps): ImageDriver;
}

/** One format: how its options are read, and how its images are recognised. */
export interface DriverDefinition {
  type: string;
  /** acceld's templates: whether `docker2oci` is on when unset. */
  docker2ociByDefault: boolean;
  /** Whether a manifest is in this format already... */
  recognizes(m: ImageManifest): boolean;
  /** ...and what the task's reason says then. */
  alreadyConverted: string;
  parse(options: DriverOptionReader, image: ImageOptions): ParsedDriver;
}
