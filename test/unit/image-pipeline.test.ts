import { buildConfig } from '@accel/config';
import {
  ConvertedLayers,
  ImageConverter,
  ImageDriver,
  ImageOptions,
  ImageStore,
  MergedIndex,
  SourceManifest,
  TagPublisher,
} from '@accel/convert';
import { Descriptor, FetchedManifest, ManifestLocation, MediaType } from '@accel/registry';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

const digest = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const loc: ManifestLocation = { scheme: 'https', host: 'r.example', repository: 'lib/app', reference: 'v1' };

/** A registry in memory: manifests by reference, blobs by digest, and every tag write. */
function registry() {
  const manifests = new Map<string, FetchedManifest>();
  const blobs = new Map<string, Buffer>();
  const tags: { tag: string; mediaType: string; body: Buffer }[] = [];
  const putManifest = (ref: string, mediaType: string, body: Buffer) => {
    const m = { mediaType, digest: digest(body), body, json: JSON.parse(body.toString()) as FetchedManifest['json'] };
    manifests.set(ref, m);
    manifests.set(m.digest, m);
    return m;
  };
  const store = {
    layerSlots: { use: <T>(f: () => Promise<T>) => f() },
    getManifest: async (_: ManifestLocation, ref: string) => {
      const m = manifests.get(ref);
      if (!m) throw new Error(`no manifest ${ref}`);
      return m;
    },
    readConfig: async (_: ManifestLocation, d: Descriptor) => JSON.parse(blobs.get(d.digest)!.toString()) as object,
    putBlob: async (_: ManifestLocation, body: Buffer) => {
      blobs.set(digest(body), body);
      return digest(body);
    },
    putManifest: async (_: ManifestLocation, mediaType: string, body: Buffer) => {
      const m = putManifest(digest(body), mediaType, body);
      return { mediaType, digest: m.digest, size: body.length };
    },
    putTag: async (_: ManifestLocation, tag: string, mediaType: string, body: Buffer) => {
      tags.push({ tag, mediaType, body });
      return putManifest(tag, mediaType, body).digest;
    },
  } as unknown as ImageStore;
  /** Pushes an image with `layers` layers for `arch`; returns its descriptor. */
  const image = (arch: string, layers: number, docker = false): Descriptor => {
    const diffIds = Array.from({ length: layers }, (_, i) => `sha256:${String(i).repeat(64).slice(0, 64)}`);
    const config = Buffer.from(JSON.stringify({ architecture: arch, os: 'linux', rootfs: { diff_ids: diffIds } }));
    blobs.set(digest(config), config);
    const mediaType = docker ? MediaType.DockerManifest : MediaType.OciManifest;
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType,
        config: { mediaType: MediaType.OciConfig, digest: digest(config), size: config.length },
        layers: diffIds.map((_, i) => ({
          mediaType: MediaType.OciLayerGzip,
          digest: `sha256:${'f'.repeat(63)}${i}`,
          size: 10,
        })),
      }),
    );
    const m = putManifest(digest(body), mediaType, body);
    return { mediaType, digest: m.digest, size: body.length, platform: { os: 'linux', architecture: arch } };
  };
  return { store, manifests, blobs, tags, putManifest, image };
}

/** A format that renames every layer: what the pipeline does with any driver's output. */
class FakeDriver extends ImageDriver {
  readonly type = 'fake';
  readonly seen: SourceManifest[] = [];
  override readonly merge?: MergedIndex;

  constructor(
    readonly options: ImageOptions,
    merge?: MergedIndex,
  ) {
    super();
    this.merge = merge;
  }

  convertLayers(source: SourceManifest): Promise<ConvertedLayers> {
    this.seen.push(source);
    return Promise.resolve({
      layers: source.manifest.layers.map((l) => ({ mediaType: source.gzipLayerType, digest: l.digest, size: 20 })),
      diffIds: source.diffIds.map((d) => d.replace('sha256:', 'sha256:e').slice(0, 71)),
      history: { created_by: 'fake' },
      annotations: { 'fake/format': '1' },
    });
  }
}

function converter(driver: ImageDriver, store: ImageStore, platforms = '') {
  const config = buildConfig({ auth: { encryptionKey: 'k'.repeat(44) }, converter: { platforms } });
  return new ImageConverter(config, driver, store, new TagPublisher(store));
}

describe('image pipeline (ImageConverter with a mocked driver and registry)', () => {
  it('gives the driver each manifest with its diff_ids, then writes the config and manifest around its layers', async () => {
    const r = registry();
    r.putManifest('v1', MediaType.OciManifest, r.manifests.get(r.image('amd64', 2).digest)!.body);
    const driver = new FakeDriver({ docker2oci: true, withReferrer: true });
    const out = await converter(driver, r.store).convert(loc, 'v1-fake', 'r.example/lib/app:v1', 'v1');
    assert.equal(driver.seen.length, 1);
    assert.equal(driver.seen[0].diffIds.length, 2);
    assert.equal(driver.seen[0].gzipLayerType, MediaType.OciLayerGzip);
    const pushed = JSON.parse(r.tags[0].body.toString()) as {
      config: Descriptor;
      layers: Descriptor[];
      subject?: Descriptor;
      annotations?: Record<string, string>;
    };
    assert.equal(r.tags[0].tag, 'v1-fake');
    assert.equal(out.digest, digest(r.tags[0].body));
    assert.equal(pushed.subject?.digest, out.sourceDigest, 'with_referrer names the source');
    assert.deepEqual(pushed.annotations, { 'fake/format': '1' });
    const config = JSON.parse(r.blobs.get(pushed.config.digest)!.toString()) as {
      rootfs: { diff_ids: string[] };
      history: { created_by: string }[];
    };
    assert.deepEqual(
      config.rootfs.diff_ids,
      driver.seen[0].diffIds.map((d) => d.replace('sha256:', 'sha256:e').slice(0, 71)),
    );
    assert.equal(config.history.at(-1)?.created_by, 'fake');
    assert.equal(out.targetSize, pushed.config.size + 40);
  });

  it('an index becomes an index of the platforms converter.platforms names, Docker types kept without docker2oci', async () => {
    const r = registry();
    const amd = r.image('amd64', 1, true);
    const arm = r.image('arm64', 1, true);
    const attestation = { ...r.image('unknown', 0), platform: { os: 'unknown', architecture: 'unknown' } };
    const index = Buffer.from(
      JSON.stringify({ schemaVersion: 2, mediaType: MediaType.DockerManifestList, manifests: [amd, arm, attestation] }),
    );
    r.putManifest('v1', MediaType.DockerManifestList, index);
    const driver = new FakeDriver({ docker2oci: false, withReferrer: false });
    await converter(driver, r.store, 'linux/arm64').convert(loc, 'v1-fake', '', 'v1');
    assert.equal(driver.seen.length, 1, 'only linux/arm64, never the attestation');
    assert.equal(driver.seen[0].gzipLayerType, MediaType.DockerLayerGzip);
    const out = JSON.parse(r.tags[0].body.toString()) as { mediaType: string; manifests: Descriptor[] };
    assert.equal(r.tags[0].mediaType, MediaType.DockerManifestList);
    assert.deepEqual(
      out.manifests.map((m) => [m.mediaType, m.platform?.architecture]),
      [[MediaType.DockerManifest, 'arm64']],
    );
  });

  it("a driver's merged index holds the original (as the driver pushes it) next to each converted manifest", async () => {
    const r = registry();
    r.putManifest('v1', MediaType.OciManifest, r.manifests.get(r.image('amd64', 1).digest)!.body);
    const originals: string[] = [];
    const merge: MergedIndex = {
      artifactType: 'application/x.fake',
      configMediaType: 'application/x.fake.config',
      original: async (s) => {
        originals.push(s.descriptor.digest);
        return s.descriptor;
      },
    };
    await converter(new FakeDriver({ docker2oci: true, withReferrer: false }, merge), r.store).convert(loc, 'v1-fake');
    const index = JSON.parse(r.tags[0].body.toString()) as { mediaType: string; manifests: Descriptor[] };
    assert.equal(index.mediaType, MediaType.OciIndex);
    assert.equal(index.manifests.length, 2);
    assert.equal(index.manifests[0].digest, originals[0]);
    const converted = index.manifests[1] as Descriptor & { artifactType?: string };
    assert.equal(converted.artifactType, 'application/x.fake');
    const manifest = JSON.parse(r.manifests.get(converted.digest)!.body.toString()) as { config: Descriptor };
    assert.equal(manifest.config.mediaType, 'application/x.fake.config');
  });

  it('leaves images already in a lazy-pull format and accessories alone, and refuses a config that miscounts layers', async () => {
    const r = registry();
    const body = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciManifest,
        config: { mediaType: MediaType.OciConfig, digest: 'sha256:c', size: 1 },
        layers: [
          {
            mediaType: 'x',
            digest: 'sha256:l',
            size: 1,
            annotations: { 'containerd.io/snapshot/nydus-bootstrap': 'true' },
          },
        ],
      }),
    );
    r.putManifest('nydus', MediaType.OciManifest, body);
    const driver = new FakeDriver({ docker2oci: true, withReferrer: false });
    const out = await converter(driver, r.store).convert({ ...loc, reference: 'nydus' }, 'nydus-fake');
    assert.match(out.skipped ?? '', /already Nydus/);
    assert.equal(r.tags.length, 0);
    const img = r.manifests.get(r.image('amd64', 2).digest)!;
    const m = JSON.parse(img.body.toString()) as { config: Descriptor };
    r.blobs.set(m.config.digest, Buffer.from(JSON.stringify({ rootfs: { diff_ids: ['sha256:' + 'a'.repeat(64)] } })));
    r.putManifest('bad', MediaType.OciManifest, img.body);
    await assert.rejects(
      converter(driver, r.store).convert({ ...loc, reference: 'bad' }, 'bad-fake'),
      /lists 1 valid diff_ids for 2 layers/,
    );
  });
});
