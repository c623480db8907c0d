import { buildConfig } from '@accel/config';
import { parseDriver, outputMediaTypes } from '@accel/convert';
import { MediaType } from '@accel/registry';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

const configWith = (type: 'estargz' | 'nydus', options: Record<string, string>) =>
  buildConfig({ auth: { encryptionKey: 'k'.repeat(44) }, converter: { driver: { type, config: options } } });
const docker2oci = (config: ReturnType<typeof configWith>) => parseDriver(config.converter.driver).options.docker2oci;

describe('docker2oci (media types of converted images)', () => {
  it('defaults as acceld templates do: eStargz output is OCI, Nydus keeps Docker types', () => {
    assert.equal(docker2oci(configWith('estargz', {})), true);
    assert.equal(docker2oci(configWith('nydus', {})), false);
    assert.equal(docker2oci(configWith('nydus', { docker2oci: 'true' })), true);
    assert.equal(docker2oci(configWith('estargz', { docker2oci: 'false' })), false);
  });

  it('refuses a value that is not a boolean, naming the key', () => {
    assert.throws(
      () => docker2oci(configWith('nydus', { docker2oci: 'sometimes' })),
      /converter\.driver\.config\.docker2oci/,
    );
  });

  it('keeps Docker types only for Docker sources with docker2oci off', () => {
    assert.equal(outputMediaTypes(MediaType.DockerManifest, false).manifest, MediaType.DockerManifest);
    assert.equal(outputMediaTypes(MediaType.DockerManifestList, false).index, MediaType.DockerManifestList);
    assert.equal(outputMediaTypes(MediaType.DockerManifest, false).layerGzip, MediaType.DockerLayerGzip);
    assert.equal(outputMediaTypes(MediaType.DockerManifest, true).manifest, MediaType.OciManifest);
    assert.equal(outputMediaTypes(MediaType.OciManifest, false).config, MediaType.OciConfig);
  });
});
