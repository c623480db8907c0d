import { DriverDefinition } from '../driver-definition';
import { NydusDriver, isNydus } from './nydus.driver';
import { nydusSettings } from './nydus.settings';

export * from './nydus.driver';
export * from './nydus.settings';

export const nydusDriver: DriverDefinition = {
  type: 'nydus',
  // nydus-snapshotter keeps the source's types.
  docker2ociByDefault: false,
  recognizes: isNydus,
  alreadyConverted: 'the image is already Nydus',
  parse(options, image) {
    const settings = nydusSettings(options);
    return {
      type: 'nydus',
      options: image,
      settings,
      create: (deps) => new NydusDriver(settings, image, deps.store, deps.gunzip),
    };
  },
};
