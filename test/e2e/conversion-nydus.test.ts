import { expandBlob, parseBlob } from '@accel/convert';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { checkBlob, checkBootstrap } from '../support/nydus-upstream-rules';
import { readTar } from '@accel/convert';
import { ConversionWorld, image, index } from '../support/conversion-world';
import { eventually } from '../support/env';
import { MT, push, sha256, withCorruptFirstLayer } from '../support/images';
import { SourceFile, gzipLayerOf, richLayerFiles } from '../support/layers';
import { Expected, overlay, scan } from '../support/rootfs';
import { PrivateContainerd } from '../support/containerd';

const CHUNK = 64 * 1024;

describe('Nydus driver through the webhook (driver.type: nydus)', () => {
  let w: ConversionWorld;
  let token: string;

  before(async () => {
    w = await ConversionWorld.start({
      converter: {
        rules: [{ tag_suffix: '-nydus' }],
        driver: { type: 'nydus', config: { fs_chunk_size: `0x${CHUNK.toString(16)}`, chunk_size: '' } },
        preheat: { enabled: true, scope: 'all_seed_peers' },
      },
    });
    token = await w.gateway.token(['conversion', 'job']);
  });
  after(async () => w?.stop());

  const waitTask = (source: string) =>
    eventually(
      async () => {
        const t = (
          await w.gateway.http<
            { source: string; status: string; reason: string; target_digest: string; preheat_job_id: number }[]
          >('GET', '/api/v1/conversions', {
            headers: { authorization: `Bearer ${token}` },
            base: w.gateway.conversionUrl,
          })
        ).json.find((x) => x.source === source);
        return t && t.status !== 'PROCESSING' ? t : undefined;
      },
      60_000,
      `conversion of ${source}`,
    );
  const get = async (repo: string, ref: string, kind: 'manifests' | 'blobs') => {
    const res = await fetch(`http://${w.registry.host}/v2/${repo}/${kind}/${ref}`, {
      headers: { accept: [MT.ociIndex, MT.ociManifest, MT.dockerList, MT.dockerManifest].join(', ') },
    });
    assert.equal(res.status, 200, `${kind} ${ref}`);
    return Buffer.from(await res.arrayBuffer());
  };

  /** The source image's rootfs as containerd unpacks it (native snapshotter), read through a snapshot view. */
  async function containerdRootfs(ref: string): Promise<Map<string, Expected>> {
    const ctd = new PrivateContainerd();
    await ctd.start();
    try {
      const pulled = await ctd.ctr('image', 'pull', '--plain-http', '--snapshotter', 'native', '--print-chainid', ref);
      const chainId = /image chain ID: (sha256:[a-f0-9]{64})/.exec(pulled.stdout)![1];
      // A view of the top layer's snapshot; with the native snapshotter its mount source is the unpacked tree.
      const mounts = JSON.parse(
        (await ctd.ctr('snapshots', '--snapshotter', 'native', 'view', '--mounts', 'rootfs-view', chainId)).stdout,
      ) as { Source: string }[];
      return scan(mounts[0].Source);
    } finally {
      await ctd.stop();
    }
  }

  /** fsck.erofs extracts the converted image; the result must equal the source layers' rootfs. */
  async function verifyRootfs(repo: string, manifestRef: string, layers: SourceFile[][]) {
    const m = JSON.parse((await get(repo, manifestRef, 'manifests')).toString()) as {
      layers: { mediaType: string; digest: string; annotations: Record<string, string> }[];
      annotations: Record<string, string>;
      config: { digest: string };
    };
    const blobs = m.layers.slice(0, -1);
    const boot = m.layers.at(-1)!;
    assert.ok(
      blobs.every(
        (l) =>
          l.mediaType === 'application/vnd.oci.image.layer.nydus.blob.v1' &&
          l.annotations['containerd.io/snapshot/nydus-blob'] === 'true',
      ),
    );
    assert.equal(boot.annotations['containerd.io/snapshot/nydus-bootstrap'], 'true');
    assert.equal(boot.annotations['containerd.io/snapshot/nydus-fs-version'], '6');
    assert.equal(m.annotations['containerd.io/snapshot/nydus-fs-version'], '6');
    assert.match(m.annotations['containerd.io/snapshot/nydus-source-digest'], /^sha256:/);
    const config = JSON.parse((await get(repo, m.config.digest, 'blobs')).toString()) as {
      rootfs: { diff_ids: string[] };
      history: { comment?: string }[];
    };
    const dir = mkdtempSync(join(tmpdir(), 'accel-nydus-e2e-'));
    const devices: string[] = [];
    const blobData = new Map<string, Buffer>();
    for (const [i, l] of blobs.entries()) {
      const data = await get(repo, l.digest, 'blobs');
      blobData.set(l.digest.slice(7), data);
      assert.equal(sha256(data), l.digest);
      assert.equal(config.rootfs.diff_ids[i], l.digest, 'a blob is its own diff_id');
      assert.ok(parseBlob(data).chunks.length >= 0);
      const dev = join(dir, `blob${i}`);
      writeFileSync(dev, expandBlob(data));
      devices.push(`--device=${dev}`);
    }
    const bootTar = gunzipSync(await get(repo, boot.digest, 'blobs'));
    assert.equal(config.rootfs.diff_ids.at(-1), sha256(bootTar));
    assert.equal(config.history.at(-1)!.comment, 'Nydus Bootstrap Layer');
    let bootstrap: Buffer | undefined;
    const names: string[] = [];
    for await (const { header, body } of readTar(Readable.from([bootTar]))) {
      const parts: Buffer[] = [];
      for await (const c of body) parts.push(c as Buffer);
      names.push(header.name);
      if (header.name === 'image/image.boot') bootstrap = Buffer.concat(parts);
    }
    assert.ok(bootstrap, 'image/image.boot in the bootstrap layer');
    assert.deepEqual(names, [
      'image/',
      'image/image.boot',
      ...blobs.map((l) => `image/${l.digest.slice(7)}.blob.meta`),
    ]);
    // Upstream's load-time rules on what the registry now holds: the merged bootstrap, each blob
    // against its blob-table entry, and each blob's own layer bootstrap.
    const merged = checkBootstrap(bootstrap!, { merged: true });
    assert.deepEqual(merged.violations, [], 'merged bootstrap');
    for (const entry of merged.blobs) {
      const u = checkBlob(blobData.get(entry.id)!, entry);
      assert.deepEqual(u.violations, [], `blob ${entry.id}`);
      assert.deepEqual(
        checkBootstrap(u.layerBootstrap!, { layer: true }).violations,
        [],
        `layer bootstrap in ${entry.id}`,
      );
    }
    writeFileSync(join(dir, 'image.boot'), bootstrap);
    const out = join(dir, 'rootfs');
    await promisify(execFile)('fsck.erofs', [...devices, `--extract=${out}`, join(dir, 'image.boot')]);
    const got = scan(out);
    const want = overlay(layers);
    for (const [p, e] of want) {
      const g = got.get(p);
      assert.ok(g, `${p} extracted`);
      assert.deepEqual({ ...g, mode: g.mode & 0o777 }, { ...e, mode: e.mode & 0o777 }, p);
    }
    assert.deepEqual(
      [...got.keys()].filter((p) => !want.has(p)),
      [],
    );
    return { m, got };
  }

  it('converts a pushed image to <tag>-nydus that fsck.erofs expands to the source rootfs, then preheats the blobs', async () => {
    const lower = richLayerFiles(CHUNK);
    const upper: SourceFile[] = [
      { name: 'etc/', type: 'directory', mode: 0o755 },
      { name: 'etc/.wh.hostname', type: 'file', content: Buffer.alloc(0) },
      { name: 'var/cache/', type: 'directory', mode: 0o755 },
      { name: 'var/cache/.wh..wh..opq', type: 'file', content: Buffer.alloc(0) },
      { name: 'var/cache/new', type: 'file', content: Buffer.from('upper\n') },
    ];
    const layers = [await gzipLayerOf(lower), await gzipLayerOf(upper)];
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l.tar)) },
        history: [],
      }),
    );
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MT.ociManifest,
        config: { mediaType: MT.ociConfig, digest: sha256(config), size: config.length },
        layers: layers.map((l) => ({ mediaType: MT.ociLayer, digest: sha256(l.data), size: l.data.length })),
      }),
    );
    await push(w.registry.host, 'library/nyd', 'v1', {
      manifest,
      mediaType: MT.ociManifest,
      digest: sha256(manifest),
      pulled: [],
      platform: { os: 'linux', architecture: 'amd64' },
      blobs: [
        { digest: sha256(config), size: config.length, mediaType: MT.ociConfig, data: config },
        ...layers.map((l) => ({ digest: sha256(l.data), size: l.data.length, mediaType: MT.ociLayer, data: l.data })),
      ],
    });
    assert.equal((await w.webhook(w.defaultPayload('library/nyd', 'v1', sha256(manifest)))).status, 200);
    const task = await waitTask(`${w.registry.host}/library/nyd:v1`);
    assert.equal(task.status, 'COMPLETED', task.reason);
    const { m, got } = await verifyRootfs('library/nyd', 'v1-nydus', [lower, upper]);
    // The same tree as containerd's own unpacking of the source image.
    const unpacked = await containerdRootfs(`${w.registry.host}/library/nyd:v1`);
    const strip = (x: Map<string, Expected>) => new Map([...x].map(([k, v]) => [k, { ...v, mode: v.mode & 0o777 }]));
    assert.deepEqual(strip(got), strip(unpacked));
    await w.expectPreheated(
      task.preheat_job_id,
      token,
      (m.layers as { digest: string }[]).map((l) => l.digest),
    );
    // Deterministic: the same source converts to the same bytes.
    await w.push('library/nyd', 'v1-again', {
      manifest,
      mediaType: MT.ociManifest,
      digest: sha256(manifest),
      pulled: [],
      platform: { os: 'linux', architecture: 'amd64' },
      blobs: [],
    });
    await w.webhook(w.defaultPayload('library/nyd', 'v1-again', sha256(manifest)));
    const again = await waitTask(`${w.registry.host}/library/nyd:v1-again`);
    assert.equal(again.status, 'COMPLETED', again.reason);
    const layersOf = async (ref: string) =>
      (
        JSON.parse((await get('library/nyd', ref, 'manifests')).toString()) as { layers: { digest: string }[] }
      ).layers.map((l) => l.digest);
    assert.deepEqual(
      await layersOf('v1-again-nydus'),
      await layersOf('v1-nydus'),
      'the same blobs and bootstrap, byte for byte',
    );
  });

  it('converts a multi-arch Docker source from a CloudEvents payload into a list of Nydus manifests that keep Docker types (docker2oci off)', async () => {
    const idx = index(
      [await image({ arch: 'amd64', docker: true }), await image({ arch: 'arm64', docker: true })],
      true,
    );
    await w.push('library/nyd-multi', 'v1', idx);
    await w.webhook(w.cloudEventsPayload('library/nyd-multi', 'v1', idx.digest), { cloudEvents: true });
    const task = await waitTask(`${w.registry.host}/library/nyd-multi:v1`);
    assert.equal(task.status, 'COMPLETED', task.reason);
    const out = JSON.parse((await get('library/nyd-multi', 'v1-nydus', 'manifests')).toString()) as {
      mediaType: string;
      manifests: { mediaType: string; digest: string; platform: { architecture: string } }[];
    };
    assert.equal(out.mediaType, MT.dockerList);
    assert.deepEqual(
      out.manifests.map((d) => d.platform.architecture),
      ['amd64', 'arm64'],
    );
    for (const d of out.manifests) {
      assert.equal(d.mediaType, MT.dockerManifest);
      const m = JSON.parse((await get('library/nyd-multi', d.digest, 'manifests')).toString()) as {
        mediaType: string;
        config: { mediaType: string };
        layers: { mediaType: string; annotations: Record<string, string> }[];
      };
      assert.equal(m.mediaType, MT.dockerManifest);
      assert.equal(m.config.mediaType, MT.dockerConfig);
      assert.equal(m.layers.at(-1)!.annotations['containerd.io/snapshot/nydus-bootstrap'], 'true');
      assert.equal(m.layers.at(-1)!.mediaType, MT.dockerLayer, 'the bootstrap layer takes the Docker gzip type');
      assert.ok(
        m.layers.slice(0, -1).every((l) => l.mediaType === 'application/vnd.oci.image.layer.nydus.blob.v1'),
        'blobs keep the Nydus blob type',
      );
    }
    // Loop guard: the converted image is not converted again.
    await w.webhook(w.defaultPayload('library/nyd-multi', 'v1-nydus', ''));
    const again = await waitTask(`${w.registry.host}/library/nyd-multi:v1-nydus`);
    assert.match(again.reason, /already ends with -nydus/);
  });
});

describe('Nydus merge_manifest: one index with the original and the Nydus image', () => {
  let w: ConversionWorld;
  let token: string;
  before(async () => {
    w = await ConversionWorld.start({
      converter: {
        rules: [{ tag_suffix: '-nydus' }],
        driver: { type: 'nydus', config: { merge_manifest: 'true', chunk_size: '' } },
      },
    });
    token = await w.gateway.token(['conversion']);
  });
  after(async () => w?.stop());

  it('pushes an index that stock containerd pulls (the original, behind an empty layer) next to the Nydus manifest', async () => {
    const img = await image();
    await w.push('library/merged', 'v1', img);
    await w.webhook(w.defaultPayload('library/merged', 'v1', img.digest));
    const task = await eventually(
      async () => {
        const t = (
          await w.gateway.http<{ source: string; status: string; reason: string }[]>('GET', '/api/v1/conversions', {
            headers: { authorization: `Bearer ${token}` },
            base: w.gateway.conversionUrl,
          })
        ).json[0];
        return t && t.status !== 'PROCESSING' ? t : undefined;
      },
      60_000,
      'merged conversion',
    );
    assert.equal(task.status, 'COMPLETED', task.reason);
    const res = await fetch(`http://${w.registry.host}/v2/library/merged/manifests/v1-nydus`, {
      headers: { accept: 'application/vnd.oci.image.index.v1+json' },
    });
    const idx = (await res.json()) as {
      manifests: { digest: string; artifactType?: string; platform: { architecture: string } }[];
    };
    assert.equal(idx.manifests.length, 2);
    const [original, nydus] = idx.manifests;
    assert.equal(original.artifactType, undefined);
    assert.equal(nydus.artifactType, 'application/vnd.nydus.image.manifest.v1+json');
    assert.ok(idx.manifests.every((d) => d.platform.architecture === 'amd64'));
    const get = async (d: string) =>
      (await (
        await fetch(`http://${w.registry.host}/v2/library/merged/manifests/${d}`, {
          headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
        })
      ).json()) as {
        config: { mediaType: string };
        layers: { digest: string; annotations?: Record<string, string> }[];
      };
    const o = await get(original.digest);
    assert.equal(o.layers[0].annotations?.['containerd.io/snapshot/nydus-empty-layer'], 'true');
    assert.deepEqual(
      o.layers.slice(1).map((l) => l.digest),
      img.pulled.slice(1),
    );
    assert.equal((await get(nydus.digest)).config.mediaType, 'application/vnd.nydus.image.config.v1+json');
    const ctd = new PrivateContainerd();
    await ctd.start();
    try {
      const pulled = await ctd.ctr(
        'image',
        'pull',
        '--plain-http',
        '--snapshotter',
        'native',
        `${w.registry.host}/library/merged:v1-nydus`,
      );
      assert.match(pulled.stdout, /unpacking linux\/amd64/);
    } finally {
      await ctd.stop();
    }
  });
});

describe('Nydus conversion against a registry behind Harbor-style token auth', () => {
  let w: ConversionWorld;
  let token: string;
  before(async () => {
    w = await ConversionWorld.start(
      { converter: { rules: [{ tag_suffix: '-nydus' }], driver: { type: 'nydus', config: { chunk_size: '' } } } },
      { tokenAuth: true },
    );
    token = await w.gateway.token(['conversion']);
  });
  after(async () => w?.stop());

  const waitTask = (source: string) =>
    eventually(
      async () => {
        const t = (
          await w.gateway.http<{ source: string; status: string; reason: string }[]>('GET', '/api/v1/conversions', {
            headers: { authorization: `Bearer ${token}` },
            base: w.gateway.conversionUrl,
          })
        ).json.find((x) => x.source === source);
        return t && t.status !== 'PROCESSING' ? t : undefined;
      },
      60_000,
      `conversion of ${source}`,
    );

  it("streams each blob up while it is written, with the robot account's push-scoped token", async () => {
    const img = await image({ layers: 3, layerBytes: 300_000 });
    await w.push('team/app', 'v1', img);
    await w.webhook(w.defaultPayload('team/app', 'v1', img.digest));
    const task = await waitTask(`${w.source.host}/team/app:v1`);
    assert.equal(task.status, 'COMPLETED', task.reason);
    assert.ok(
      w.tokens!.requests.some((r) => r.user === 'robot' && r.scope === 'repository:team/app:pull,push'),
      'a push-scoped token for the robot',
    );
    const res = await fetch(`http://${w.registry.host}/v2/team/app/manifests/v1-nydus`, {
      headers: { accept: MT.ociManifest },
    });
    const m = (await res.json()) as { layers: { digest: string; size: number }[] };
    assert.equal(m.layers.length, 4, 'three blobs and the bootstrap');
    for (const l of m.layers) {
      const data = Buffer.from(
        await (await fetch(`http://${w.registry.host}/v2/team/app/blobs/${l.digest}`)).arrayBuffer(),
      );
      assert.equal(sha256(data), l.digest);
      assert.equal(data.length, l.size);
    }
    assert.deepEqual(w.openUploads('team/app'), []);
  });

  it('fails a corrupt layer with a readable reason, gives its upload up and leaves the target tag untouched', async () => {
    const img = withCorruptFirstLayer(await image());
    await w.push('team/broken', 'v1', img);
    await w.webhook(w.defaultPayload('team/broken', 'v1', img.digest));
    const task = await waitTask(`${w.source.host}/team/broken:v1`);
    assert.equal(task.status, 'FAILED');
    assert.match(task.reason, /source layer is corrupt/);
    assert.equal(
      (
        await fetch(`http://${w.registry.host}/v2/team/broken/manifests/v1-nydus`, {
          method: 'HEAD',
          headers: { accept: MT.ociManifest },
        })
      ).status,
      404,
    );
    assert.deepEqual(w.openUploads('team/broken'), [], 'the streamed upload was cancelled');
  });
});
