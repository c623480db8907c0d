import { ImageManifest } from '@accel/registry';
import { Readable, Writable } from 'node:stream';
import { convertLayerToEstargz } from '../../codecs/estargz/layer-converter';
import { ImageOptions, LayerDriver, LayerOutput } from '../driver';
import { EstargzSettings } from './estargz.settings';

export const TOC_DIGEST_ANNOTATION = 'containerd.io/snapshot/stargz/toc.digest';
export const UNCOMPRESSED_SIZE_ANNOTATION = 'io.containers.estargz.uncompressed-size';

/** Whether a manifest is eStargz already (its layers name a TOC). */
export const isEstargz = (m: ImageManifest): boolean =>
  (m.layers ?? []).some((l) => l.annotations?.[TOC_DIGEST_ANNOTATION]);

/** eStargz: every layer rewritten on its own into gzip members with a TOC and a footer. */
export class EstargzDriver implements LayerDriver {
  readonly type = 'estargz';
  readonly settingsKey: string;
  readonly history = {
    created_by: 'accel-gateway: layers converted to eStargz',
    comment: 'estargz',
    empty_layer: true,
  };

  constructor(
    private readonly settings: EstargzSettings,
    readonly options: ImageOptions,
  ) {
    this.settingsKey = settings.key;
  }

  async convert(source: Readable, out: Writable, diffId: string, workDir: string): Promise<LayerOutput> {
    const r = await convertLayerToEstargz(source, out, { ...this.settings, workDir }, diffId);
    return {
      digest: r.digest,
      size: r.size,
      diffId: r.diffId,
      annotations: { [TOC_DIGEST_ANNOTATION]: r.tocDigest, [UNCOMPRESSED_SIZE_ANNOTATION]: String(r.uncompressedSize) },
    };
  }
}
