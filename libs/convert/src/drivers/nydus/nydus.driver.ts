import { Descriptor, ImageManifest, MediaType } from '@accel/registry';
import { gzipSync } from 'node:zlib';
import { writeLayerBlob } from '../../codecs/nydus/blob-writer';
import { mergedBootstrapLayer } from '../../codecs/nydus/bootstrap-layer';
import { FsTree } from '../../codecs/nydus/fs-tree';
import { NydusBlob } from '../../codecs/nydus/types';
import { GunzipEngine } from '../../codecs/deflate/gunzip-engine';
import { NYDUS_READ_AHEAD, withLayerTar } from '../../codecs/tar/layer-stream';
import { ImageStore } from '../../image/image-store';
import { ConvertedLayers, ImageDriver, ImageOptions, MergedIndex, SourceManifest } from '../driver';
import { NydusSettings } from './nydus.settings';

export const NYDUS_BOOTSTRAP_ANNOTATION = 'containerd.io/snapshot/nydus-bootstrap';
export const NYDUS_BLOB_MEDIA_TYPE = 'application/vnd.oci.image.layer.nydus.blob.v1';
export const NYDUS_BLOB_ANNOTATION = 'containerd.io/snapshot/nydus-blob';
export const NYDUS_FS_VERSION_ANNOTATION = 'containerd.io/snapshot/nydus-fs-version';
const NYDUS_SOURCE_DIGEST_ANNOTATION = 'containerd.io/snapshot/nydus-source-digest';
const NYDUS_ARTIFACT_TYPE = 'application/vnd.nydus.image.manifest.v1+json';
const NYDUS_CONFIG_MEDIA_TYPE = 'application/vnd.nydus.image.config.v1+json';
/** diff_id of an empty tar (1024 zero bytes). */
const EMPTY_TAR_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';
const BUILDER_VERSION = 'accel-gateway/0.1';

/** Whether a manifest is a Nydus image already (it has a bootstrap layer). */
export const isNydus = (m: ImageManifest): boolean =>
  (m.layers ?? []).some((l) => l.annotations?.[NYDUS_BOOTSTRAP_ANNOTATION]);

/**
 * Nydus (RAFS v6): the layers, in order, become data blobs (a chunk stored once per layer)
 * while the merged filesystem tree grows; the bootstrap of that tree is the last layer.
 */
export class NydusDriver extends ImageDriver {
  readonly type = 'nydus';
  override readonly merge?: MergedIndex;

  constructor(
    private readonly settings: NydusSettings,
    readonly options: ImageOptions,
    private readonly store: ImageStore,
    private readonly gunzip?: GunzipEngine,
  ) {
    super();
    if (settings.mergeManifest)
      this.merge = {
        artifactType: NYDUS_ARTIFACT_TYPE,
        configMediaType: NYDUS_CONFIG_MEDIA_TYPE,
        original: (source) => this.separatedOriginal(source),
      };
  }

  async convertLayers(source: SourceManifest): Promise<ConvertedLayers> {
    const { location: loc, diffIds } = source;
    const tree = new FsTree();
    const blobs: NydusBlob[] = [];
    const layers: Descriptor[] = [];
    // In order: each layer's blob dedupes against, and its files overlay, the tree so far.
    for (const [index, layer] of (source.manifest.layers ?? []).entries()) {
      const blob = await this.store.layerSlots.use(() =>
        this.store.convertLayer(
          loc,
          layer,
          (blobSource, upload) =>
            withLayerTar(blobSource, (tar) => writeLayerBlob(tar, tree, index, upload, this.settings), diffIds[index], {
              ...NYDUS_READ_AHEAD,
              engine: this.gunzip,
            }),
          (b) => `sha256:${b.id}`,
          undefined,
          source.progress,
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
    const boot = await mergedBootstrapLayer(tree, blobs, this.settings);
    const bootDigest = await this.store.putBlob(loc, boot.data);
    const fsVersion = this.settings.fsVersion;
    layers.push({
      mediaType: source.gzipLayerType,
      digest: bootDigest,
      size: boot.data.length,
      annotations: { [NYDUS_BOOTSTRAP_ANNOTATION]: 'true', [NYDUS_FS_VERSION_ANNOTATION]: fsVersion },
    });
    return {
      layers,
      diffIds: [...blobs.map((b) => `sha256:${b.id}`), boot.diffId],
      history: { created_by: 'Nydus Converter', comment: 'Nydus Bootstrap Layer' },
      annotations: {
        [NYDUS_SOURCE_DIGEST_ANNOTATION]: source.descriptor.digest,
        'containerd.io/snapshot/nydus-source-reference': source.reference,
        [NYDUS_FS_VERSION_ANNOTATION]: fsVersion,
        'containerd.io/snapshot/nydus-builder-version': BUILDER_VERSION,
      },
    };
  }

  /**
   * The original image for a merged index, with an empty layer in front so that its layers are
   * never shared with Nydus images by a runtime (acceld's `merge_manifest`).
   */
  private async separatedOriginal(source: SourceManifest): Promise<Descriptor> {
    const { location: loc, manifest: m, descriptor: self } = source;
    const empty = gzipSync(Buffer.alloc(1024));
    const emptyDigest = await this.store.putBlob(loc, empty);
    const config = await this.store.readConfig(loc, m.config);
    const rootfs = (config.rootfs ?? {}) as { diff_ids?: string[] };
    config.rootfs = { type: 'layers', diff_ids: [EMPTY_TAR_DIFF_ID, ...(rootfs.diff_ids ?? [])] };
    config.history = [
      { created_by: 'Nydus Converter', comment: 'Nydus Empty Layer' },
      ...((config.history as unknown[]) ?? []),
    ];
    const configBody = Buffer.from(JSON.stringify(config));
    const configDigest = await this.store.putBlob(loc, configBody);
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
      annotations: { ...(m.annotations ?? {}), [NYDUS_SOURCE_DIGEST_ANNOTATION]: self.digest },
    };
    return this.store.putManifest(loc, out.mediaType, Buffer.from(JSON.stringify(out)));
  }
}
