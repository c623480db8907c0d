import { mapLimitOrCancel } from '@accel/common';
import { Descriptor } from '@accel/registry';
import { finished } from 'node:stream/promises';
import { ImageStore } from '../../image/image-store';
import { ConvertedLayers, ImageDriver, ImageOptions, LayerDriver, LayerOutput, SourceManifest } from '../driver';
import { ConvertedLayerRepository } from './converted-layer.repository';

/**
 * Runs a layer driver over an image: layers convert in parallel (bounded per process), a layer
 * converted before with the same settings is reused when the registry still has it, and one
 * failed layer stops its siblings before the failure is reported.
 */
export class PerLayerImageDriver extends ImageDriver {
  readonly type: string;
  readonly options: ImageOptions;

  constructor(
    private readonly layerDriver: LayerDriver,
    private readonly store: ImageStore,
    private readonly known: ConvertedLayerRepository,
    private readonly parallel: number,
  ) {
    super();
    this.type = layerDriver.type;
    this.options = layerDriver.options;
  }

  async convertLayers(source: SourceManifest): Promise<ConvertedLayers> {
    const layers = await mapLimitOrCancel(source.manifest.layers ?? [], this.parallel, (layer, signal, i) =>
      this.store.layerSlots.use(() => this.convertLayer(source, layer, source.diffIds[i], signal)),
    );
    return {
      layers: layers.map((l) => ({
        mediaType: source.gzipLayerType,
        digest: l.digest,
        size: l.size,
        annotations: l.annotations,
      })),
      diffIds: layers.map((l) => l.diffId),
      history: this.layerDriver.history,
    };
  }

  private async convertLayer(
    source: SourceManifest,
    layer: Descriptor,
    diffId: string,
    signal: AbortSignal,
  ): Promise<LayerOutput> {
    signal.throwIfAborted();
    const loc = source.location;
    const key = this.layerDriver.settingsKey;
    const known = await this.known.find(layer.digest, key);
    if (known && (await this.store.reuse(loc, known.digest, known))) {
      source.progress?.layerDone(layer.size);
      return { digest: known.digest, size: known.size, diffId: known.diffId, annotations: known.annotations };
    }
    const workDir = await this.store.workDir();
    const result = await this.store.convertLayer(
      loc,
      layer,
      async (blob, upload) => {
        const out = upload.asWritable();
        const r = await this.layerDriver.convert(blob, out, diffId, workDir);
        out.end();
        await finished(out);
        return r;
      },
      (r) => r.digest,
      signal,
      source.progress,
    );
    await this.known.remember(layer.digest, key, { ...result, registry: loc.host, repository: loc.repository });
    return result;
  }
}
