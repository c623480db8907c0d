import { INestApplicationContext } from '@nestjs/common';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../support/env';
import { PreheatWorld } from '../support/fixture';
import { ROOT_BASIC } from '../support/gateway';
import { BuiltImage, MT, image, push, sha256 } from '../support/images';
import { startWorker } from '../support/worker';

interface Job {
  id: number;
  state: string;
  manifest_digest: string;
  result: {
    manifest_digest?: string;
    tag_moved_to?: string;
    job_states: { error: string; results: { success_tasks: { url: string }[] }[] }[];
  } | null;
}

/** An artifact whose config is not an image config (Harbor 2.14+ sends these with `type: image`). */
function artifact(configType: string, artifactType: string | undefined, layerTypes: string[]): BuiltImage {
  const config = configType === 'application/vnd.oci.empty.v1+json' ? Buffer.from('{}') : Buffer.from('{"model":1}');
  const layers = layerTypes.map((mediaType) => {
    const data = randomBytes(4096);
    return { digest: sha256(data), size: data.length, mediaType, data };
  });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MT.ociManifest,
      ...(artifactType ? { artifactType } : {}),
      config: { mediaType: configType, digest: sha256(config), size: config.length },
      layers: layers.map(({ digest, size, mediaType }) => ({ digest, size, mediaType })),
    }),
  );
  return {
    manifest,
    mediaType: MT.ociManifest,
    digest: sha256(manifest),
    blobs: [{ digest: sha256(config), size: config.length, mediaType: configType, data: config }, ...layers],
    pulled: [sha256(config), ...layers.map((l) => l.digest)],
    platform: { os: 'linux', architecture: 'amd64' },
  };
}

describe('preheat: what Harbor sends as `type: image`, and tags that move', () => {
  let w: PreheatWorld;
  let worker: INestApplicationContext | undefined;

  before(async () => {
    // Jobs wait until a worker starts: a tag can move between creation and run.
    w = await PreheatWorld.start({ server: { runWorkers: false }, preheat: { reconcileGraceSeconds: 0 } });
  });
  after(async () => {
    await worker?.close();
    await w?.stop();
  });

  const create = async (url: string) => {
    const r = await w.gateway.http<Job>('POST', '/oapi/v1/jobs', {
      body: { type: 'preheat', args: { type: 'image', url, scope: 'all_seed_peers' } },
      headers: { authorization: ROOT_BASIC },
    });
    assert.equal(r.status, 200, r.text);
    return r.json;
  };
  const finished = (id: number) =>
    eventually(async () => {
      const j = (await w.gateway.http<Job>('GET', `/oapi/v1/jobs/${id}`, { headers: { authorization: ROOT_BASIC } }))
        .json;
      return j.state === 'PENDING' ? undefined : j;
    }, 30_000);
  const ensureWorker = async () => {
    worker ??= await startWorker(w.gateway.config);
  };

  it('a job pins the digest its tag named at creation; when the tag moves first, it preheats that one and says so', async () => {
    const first = await image();
    const second = await image();
    await push(w.registries.open.host, 'library/moving', 'v1', first);
    await push(w.registries.open.host, 'library/steady', 'v1', first);
    const readBefore = w.registries.open.manifestRequests('library/steady');
    const moving = await create(w.url('open', 'library/moving'));
    const steady = await create(w.url('open', 'library/steady'));
    assert.equal(moving.manifest_digest, first.digest, 'recorded at creation');
    await push(w.registries.open.host, 'library/moving', 'v1', second);
    await ensureWorker();
    const done = await finished(moving.id);
    assert.equal(done.state, 'SUCCESS', JSON.stringify(done.result));
    assert.equal(done.result!.manifest_digest, first.digest);
    assert.equal(done.result!.tag_moved_to, second.digest);
    const urls = done.result!.job_states[0].results[0].success_tasks.map((t) =>
      t.url.slice(t.url.lastIndexOf('/') + 1),
    );
    assert.deepEqual(new Set(urls), new Set(first.pulled), 'the blobs of the digest it was created for');
    for (const d of second.blobs.slice(1))
      assert.ok(!w.fetchedDigests(w.seeds[0]).includes(d.digest), 'nothing of the newer push');
    const unmoved = await finished(steady.id);
    assert.equal(unmoved.result!.manifest_digest, first.digest);
    assert.equal(unmoved.result!.tag_moved_to, undefined, 'a tag that stayed says nothing');
    // One HEAD pins it at creation, one GET of the tag both reads it and shows the tag stayed.
    await eventually(async () =>
      w.registries.open.manifestRequests('library/steady') - readBefore >= 2 ? true : undefined,
    );
    assert.equal(w.registries.open.manifestRequests('library/steady') - readBefore, 2, 'two manifest requests a job');
  });

  it('CNAI model artifacts and OCI 1.1 artifacts preheat every blob, as Dragonfly does', async () => {
    await ensureWorker();
    const model = artifact('application/vnd.cnai.model.config.v1+json', 'application/vnd.cnai.model.manifest.v1+json', [
      'application/vnd.cnai.model.weight.v1.tar',
      'application/vnd.cnai.model.doc.v1.tar',
    ]);
    const chart = artifact('application/vnd.oci.empty.v1+json', 'application/vnd.cncf.helm.chart.v1', [
      'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
    ]);
    await push(w.registries.open.host, 'ai/model', 'v1', model);
    await push(w.registries.open.host, 'charts/app', '1.0.0', chart);
    for (const [repo, tag, art] of [
      ['ai/model', 'v1', model],
      ['charts/app', '1.0.0', chart],
    ] as const) {
      const job = await finished((await create(w.url('open', repo, tag))).id);
      assert.equal(job.state, 'SUCCESS', JSON.stringify(job.result));
      for (const s of w.seeds)
        for (const d of art.pulled) assert.ok(w.fetchedDigests(s).includes(d), `${s.hostname} holds ${repo} ${d}`);
    }
  });

  it('a non-distributable layer the registry holds is fetched; a manifest that is not there fails naming it', async () => {
    await ensureWorker();
    const foreign = artifact(MT.ociConfig, undefined, ['application/vnd.oci.image.layer.nondistributable.v1.tar+gzip']);
    await push(w.registries.open.host, 'library/foreign', 'v1', foreign);
    const job = await finished((await create(w.url('open', 'library/foreign'))).id);
    assert.equal(job.state, 'SUCCESS', 'a non-distributable layer the registry holds is fetched like any other');
    const missing = await finished((await create(w.url('open', 'library/absent'))).id);
    assert.equal(missing.state, 'FAILURE');
    assert.match(missing.result!.job_states[0].error, /library\/absent/);
  });
});
