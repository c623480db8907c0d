import { DriverDefinition } from '../driver-definition';
import { PerLayerImageDriver } from '../per-layer/per-layer.driver';
import { EstargzDriver, isEstargz } from './estargz.driver';
import { estargzSettings } from './estargz.settings';

export * from './estargz.driver';
export * from './estargz.settings';

export const estargzDriver: DriverDefinition = {
  type: 'estargz',
  // Docker manifests cannot carry verifiable eStargz layers well.
  docker2ociByDefault: true,
  recognizes: isEstargz,
  alreadyConverted: 'the layers are already eStargz',
  parse(options, image) {
    const settings = estargzSettings(options);
    return {
      type: 'estargz',
      options: image,
      settings,
      create: (deps) =>
        new PerLayerImageDriver(
          new EstargzDriver({ ...settings, deflate: deps.deflate, gunzip: deps.gunzip }, image),
          deps.store,
          deps.convertedLayers,
          deps.parallelLayers,
        ),
    };
  },
};
