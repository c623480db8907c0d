import { ConverterDriverConfig } from '@accel/config';
import { ImageManifest } from '@accel/registry';
import { DriverConfigError } from './driver';
import { DriverDefinition, ParsedDriver } from './driver-definition';
import { DriverOptionReader } from './driver-options';
import { estargzDriver } from './estargz';
import { nydusDriver } from './nydus';

export * from './driver';
export * from './driver-definition';
export * from './driver-options';
export * from './estargz';
export * from './nydus';
export * from './per-layer/converted-layer.repository';
export * from './per-layer/per-layer.driver';

/** Every format the gateway writes, and recognises as already converted. */
export const DRIVERS: readonly DriverDefinition[] = [estargzDriver, nydusDriver];

/** `converter.driver` read and checked: the options every driver takes, then the format's own. */
export function parseDriver(config: ConverterDriverConfig): ParsedDriver & { unread: string[] } {
  const definition = DRIVERS.find((d) => d.type === config.type);
  if (!definition) throw new DriverConfigError(`converter.driver.type ${config.type} is not a known driver`);
  const options = new DriverOptionReader(config.config ?? {});
  const image = {
    docker2oci: options.flag('docker2oci', definition.docker2ociByDefault),
    withReferrer: options.flag('with_referrer', false),
  };
  return { ...definition.parse(options, image), unread: options.unread() };
}

/** Why an image needs no conversion: it is an accessory, or already in a lazy-pull format. */
export function alreadyAccelerated(m: ImageManifest): string | undefined {
  if (m.subject) return 'skipped: the manifest has a subject (it is an accessory of another artifact)';
  const format = DRIVERS.find((d) => d.recognizes(m));
  return format ? `skipped: ${format.alreadyConverted}` : undefined;
}
