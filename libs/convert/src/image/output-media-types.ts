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

/** Docker's types when the source is Docker and `docker2oci` is off; OCI otherwise. */
export const outputMediaTypes = (sourceType: string | undefined, toOci: boolean): OutputMediaTypes =>
  !toOci && (sourceType === MediaType.DockerManifest || sourceType === MediaType.DockerManifestList) ? DOCKER : OCI;
