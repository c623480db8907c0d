import { GatewayConfig } from '@accel/config';
import { MediaType } from '@accel/registry';

/** Media types of a converted image. */
export interface OutputMediaTypes {
  manifest: string;
  config: string;
  /** Gzip tar layers (eStargz layers, the Nydus bootstrap layer); Nydus blobs keep their own type. */
  layerGzip: string;
  index: string;
}

const OCI: OutputMediaTypes = {
  manifest: MediaType.OciManifest,
  config: MediaType.OciConfig,
  layerGzip: MediaType.OciLayerGzip,
  index: MediaType.OciIndex,
};
const DOCKER: OutputMediaTypes = {
  manifest: MediaType.DockerManifest,
  config: MediaType.DockerConfig,
  layerGzip: MediaType.DockerLayerGzip,
  index: MediaType.DockerManifestList,
};

/**
 * acceld's `docker2oci`: whether Docker sources become OCI images. Unset, it follows acceld's
 * templates: on for eStargz (Docker manifests cannot carry verifiable eStargz layers well),
 * off for Nydus (nydus-snapshotter keeps the source's types).
 */
export function docker2oci(config: GatewayConfig): boolean {
  const v = config.converter.driver.config.docker2oci;
  if (v === undefined || v === '') return config.converter.driver.type === 'estargz';
  if (/^(1|t|true|yes)$/i.test(v)) return true;
  if (/^(0|f|false|no)$/i.test(v)) return false;
  throw new Error(`converter.driver.config.docker2oci must be true or false, not ${JSON.stringify(v)}`);
}

/** Docker's types when the source is Docker and `docker2oci` is off; OCI otherwise. */
export const outputMediaTypes = (sourceType: string | undefined, toOci: boolean): OutputMediaTypes =>
  !toOci && (sourceType === MediaType.DockerManifest || sourceType === MediaType.DockerManifestList) ? DOCKER : OCI;
