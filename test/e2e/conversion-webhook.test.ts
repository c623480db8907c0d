import { bufferRangeReader, openEstargz } from '@accel/convert';
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { ConversionWorld, image, index, richImage } from '../support/conversion-world';
import { withCorruptFirstLayer } from '../support/images';
import { eventually } from '../support/env';
import { sha256 } from '../support/layers';

interface Task {
  id: string;
  created: string;
  finished: string;
  source: string;
  source_size: number;
  target_size: number;
  status: string;
  reason: string;
  target: string;
  target_digest: string;
  preheat_job_id: number;
}

describe('conversion webhook (acceld-compatible, :2077)', () => {
  let w: ConversionWorld;
  let token: string;

  before(async () => {
    w = await ConversionWorld.start({ converter: { preheat: { enabled: true, scope: 'all_seed_peers' } } });
    token = await w.gateway.token(['conversion', 'job']);
  });
  after(async () => w?.stop());

  const list = async () =>
    (
      await w.gateway.http<Task[]>('GET', '/api/v1/conversions', {
        headers: { authorization: `Bearer ${token}` },
        base: w.gateway.conversionUrl,
      })
    ).json;
  const waitTask = (source: string, since = 0) =>
    eventually(
      async () => {
        const t = (await list()).filter((x) => x.source === source && Date.parse(x.created) >= since);
        return t.length && t.every((x) => x.status !== 'PROCESSING') ? t : undefined;
      },
      60_000,
      `conversion of ${source}`,
    );
  const manifest = async (repo: string, ref: string) => {
    const res = await fetch(`http://${w.registry.host}/v2/${repo}/manifests/${ref}`, {
      headers: {
        accept:
          'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json',
      },
    });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests are read field by field in the assertions
    return { status: res.status, json: res.status === 200 ? ((await res.json()) as Record<string, any>) : undefined };
  };
  const blob = async (repo: string, digest: string) =>
    Buffer.from(await (await fetch(`http://${w.registry.host}/v2/${repo}/blobs/${digest}`)).arrayBuffer());

  it('converts a pushed image to <tag>-esgz with OCI types, TOC annotations and new diff_ids, then preheats it', async () => {
    const img = await richImage(64 * 1024);
    await w.push('library/rich', 'v1', img);
    const started = Date.now();
    const r = await w.webhook(w.defaultPayload('library/rich', 'v1', img.digest));
    assert.equal(r.status, 200);
    assert.equal(r.json, 'Ok');
    assert.ok(Date.now() - started < 1000, 'answered fast');
    const [task] = await waitTask(`${w.registry.host}/library/rich:v1`);
    assert.equal(task.status, 'COMPLETED', task.reason);
    assert.equal(task.target, `${w.registry.host}/library/rich:v1-esgz`);
    assert.equal(
      task.source_size,
      img.blobs.reduce((n, b) => n + b.size, 0),
    );
    assert.ok(task.target_size > 0);
    assert.match(task.id, /^[0-9a-f-]{36}$/);
    assert.notEqual(task.finished, '0001-01-01T00:00:00Z');

    const m = (await manifest('library/rich', 'v1-esgz')).json!;
    assert.equal(m.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(m.config.mediaType, 'application/vnd.oci.image.config.v1+json');
    const config = JSON.parse((await blob('library/rich', m.config.digest)).toString());
    assert.equal(config.rootfs.diff_ids.length, 2);
    assert.equal(config.history.at(-1).empty_layer, true);
    for (const [i, layer] of (
      m.layers as { mediaType: string; digest: string; annotations: Record<string, string> }[]
    ).entries()) {
      assert.equal(layer.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
      const data = await blob('library/rich', layer.digest);
      assert.equal(sha256(data), layer.digest);
      const tar = gunzipSync(data);
      assert.equal(config.rootfs.diff_ids[i], sha256(tar), 'diff_id is the digest of the decompressed eStargz blob');
      assert.equal(layer.annotations['io.containers.estargz.uncompressed-size'], String(tar.length));
      const opened = await openEstargz(bufferRangeReader(data), data.length);
      assert.equal(layer.annotations['containerd.io/snapshot/stargz/toc.digest'], opened.tocDigest);
    }
    // Chained preheat: the converted blobs are in every seed peer.
    await w.expectPreheated(
      task.preheat_job_id,
      token,
      (m.layers as { digest: string }[]).map((l) => l.digest),
    );
  });

  it('converts a multi-arch Docker list from a CloudEvents payload into an OCI index (docker2oci on for eStargz), reusing layers converted before', async () => {
    const idx = index(
      [await image({ arch: 'amd64', docker: true }), await image({ arch: 'arm64', docker: true })],
      true,
    );
    await w.push('library/multi', 'v2', idx);
    const r = await w.webhook(w.cloudEventsPayload('library/multi', 'v2', idx.digest), { cloudEvents: true });
    assert.equal(r.status, 200);
    const [task] = await waitTask(`${w.registry.host}/library/multi:v2`);
    assert.equal(task.status, 'COMPLETED', task.reason);
    const out = (await manifest('library/multi', 'v2-esgz')).json!;
    assert.equal(out.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(
      out.manifests.map((d: { platform: { architecture: string } }) => d.platform.architecture),
      ['amd64', 'arm64'],
    );
    for (const d of out.manifests as { mediaType: string; digest: string }[]) {
      assert.equal(d.mediaType, 'application/vnd.oci.image.manifest.v1+json');
      const child = (await manifest('library/multi', d.digest)).json!;
      assert.equal(child.config.mediaType, 'application/vnd.oci.image.config.v1+json');
      assert.ok(
        (child.layers as { mediaType: string }[]).every(
          (l) => l.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip',
        ),
      );
    }
    // The same source under another tag: layers are reused, the output is identical.
    await w.push('library/multi', 'v3', idx);
    await w.webhook(w.defaultPayload('library/multi', 'v3', idx.digest));
    const [again] = await waitTask(`${w.registry.host}/library/multi:v3`);
    assert.equal(again.status, 'COMPLETED', again.reason);
    assert.equal(again.target_digest, task.target_digest, 'deterministic output');
    // In another repository the converted layers are mounted, not converted again.
    await w.push('team/multi-copy', 'v1', idx);
    const gets = (d: string) => w.registry.blobGets('team/multi-copy', d);
    await w.webhook(w.defaultPayload('team/multi-copy', 'v1', idx.digest));
    const [copy] = await waitTask(`${w.registry.host}/team/multi-copy:v1`);
    assert.equal(copy.status, 'COMPLETED', copy.reason);
    assert.equal(copy.target_digest, task.target_digest);
    for (const i of idx.images)
      for (const l of i.blobs.slice(1)) assert.equal(gets(l.digest), 0, `source layer ${l.digest} not read again`);
  });

  it('answers duplicate and retried deliveries with one conversion', async () => {
    const img = await image();
    await w.push('library/dup', 'v1', img);
    const payload = w.defaultPayload('library/dup', 'v1', img.digest);
    const answers = await Promise.all([1, 2, 3, 4].map(() => w.webhook(payload)));
    assert.ok(answers.every((a) => a.status === 200));
    const tasks = await waitTask(`${w.registry.host}/library/dup:v1`);
    assert.equal(tasks.length, 1, 'one task for four deliveries');
    assert.equal(tasks[0].status, 'COMPLETED');
  });

  it('skips digest pushes, converted tags and images already in a lazy-pull format', async () => {
    const img = await image();
    await w.push('library/guard', 'v1', img);
    const byDigest = w.defaultPayload('library/guard', img.digest, img.digest);
    byDigest.event_data.resources[0].resource_url = `${w.registry.host}/library/guard@${img.digest}`;
    await w.webhook(byDigest);
    const [d] = await waitTask(`${w.registry.host}/library/guard@${img.digest}`);
    assert.equal(d.status, 'COMPLETED');
    assert.match(d.reason, /pushed by digest/);
    assert.equal((await manifest('library/guard', 'latest-esgz')).status, 404, 'never latest<suffix>');

    await w.webhook(w.defaultPayload('library/guard', 'v1-esgz', img.digest));
    const [suffixed] = await waitTask(`${w.registry.host}/library/guard:v1-esgz`);
    assert.match(suffixed.reason, /already ends with -esgz/);

    // An eStargz image pushed under a plain tag (copied from an earlier conversion).
    const esgz = (await manifest('library/rich', 'v1-esgz')).json!;
    const put = await fetch(`http://${w.registry.host}/v2/library/rich/manifests/copied`, {
      method: 'PUT',
      body: JSON.stringify(esgz),
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    });
    assert.equal(put.status, 201);
    await w.webhook(w.defaultPayload('library/rich', 'copied', ''));
    const [copied] = await waitTask(`${w.registry.host}/library/rich:copied`);
    assert.equal(copied.status, 'COMPLETED');
    assert.match(copied.reason, /already eStargz/);
    assert.equal((await manifest('library/rich', 'copied-esgz')).status, 404);
  });

  it("fails closed: no header, a wrong header or an unknown registry is 401 in acceld's shape", async () => {
    const payload = w.defaultPayload('library/app', 'v1', '');
    for (const auth of [null, 'Bearer wrong', 'bearer webhook-secret-for-tests', 'webhook-secret-for-tests']) {
      const r = await w.webhook(payload, { auth });
      assert.equal(r.status, 401, String(auth));
      assert.deepEqual(r.json, { code: 'ERR_UNAUTHORIZED', message: 'invalid auth config' });
    }
    const foreign = w.defaultPayload('library/app', 'v1', '');
    foreign.event_data.resources[0].resource_url = 'evil.example.com/library/app:v1';
    assert.equal((await w.webhook(foreign)).status, 401);
    const list = await w.gateway.http('GET', '/api/v1/conversions', { base: w.gateway.conversionUrl });
    assert.equal(list.status, 401);
    // A gateway token with the conversion scope may submit, as accelctl does.
    const viaToken = await w.webhook(
      { type: 'PUSH_ARTIFACT', event_data: { resources: [{ resource_url: `${w.registry.host}/library/rich:v1` }] } },
      { auth: `Bearer ${token}` },
    );
    assert.equal(viaToken.status, 200);
  });

  it('rejects malformed payloads with 400 and ignores other event types', async () => {
    const bad = await w.gateway.http('POST', '/api/v1/conversions', {
      raw: '{"type":',
      headers: { authorization: 'Bearer webhook-secret-for-tests', 'content-type': 'application/json' },
      base: w.gateway.conversionUrl,
    });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json, { code: 'ERR_ILLEGAL_PARAMETER', message: 'invalid webhook payload' });
    const noResources = await w.webhook({ type: 'PUSH_ARTIFACT', event_data: {} });
    assert.equal(noResources.status, 400);
    const badUrl = await w.webhook({
      type: 'PUSH_ARTIFACT',
      event_data: { resources: [{ resource_url: 'no-slash' }] },
    });
    assert.deepEqual(badUrl.json, { code: 'ERR_ILLEGAL_PARAMETER', message: 'failed to parse resource url' });
    const other = await w.webhook({ type: 'DELETE_ARTIFACT', event_data: { resources: [] } });
    assert.equal(other.status, 200);
    assert.equal(other.json, 'Ok');
    const unknown = await w.gateway.http('GET', '/api/v2/nothing', { base: w.gateway.conversionUrl });
    assert.deepEqual(unknown.json, { code: 'ERR_INVALID_ENDPOINT', message: 'Endpoint not found' });
  });

  it('fails a corrupt source layer with a readable reason and leaves the target tag untouched', async () => {
    const img = withCorruptFirstLayer(await image());
    await w.push('library/broken', 'v1', img);
    await w.webhook(w.defaultPayload('library/broken', 'v1', img.digest));
    const [task] = await waitTask(`${w.registry.host}/library/broken:v1`);
    assert.equal(task.status, 'FAILED');
    assert.match(task.reason, /source layer is corrupt/);
    assert.equal((await manifest('library/broken', 'v1-esgz')).status, 404);
    assert.deepEqual(w.openUploads('library/broken'), [], 'the streamed upload was cancelled');
    // The next delivery of the same push tries again (the failed task freed its key).
    await w.webhook(w.defaultPayload('library/broken', 'v1', img.digest));
    const tasks = await waitTask(`${w.registry.host}/library/broken:v1`);
    assert.equal(tasks.length, 2);
  });

  it('accelctl task create --sync and task list speak to the conversion API', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { join } = await import('node:path');
    const cli = join(__dirname, '..', '..', 'apps', 'accelctl', 'src', 'main.js');
    const img = await image();
    await w.push('library/cli', 'v1', img);
    const env = { ...process.env, ACCEL_TOKEN: token };
    const addr = `127.0.0.1:${w.gateway.manager.conversionPort}`;
    const created = await promisify(execFile)(
      process.execPath,
      [cli, 'task', '--addr', addr, 'create', '--sync', `${w.registry.host}/library/cli:v1`],
      { env },
    );
    assert.match(created.stderr, /Task has been completed\./);
    const listed = await promisify(execFile)(process.execPath, [cli, 'task', '--addr', addr, 'ls'], { env });
    assert.match(listed.stdout, /^ID\s+CREATED\s+STATUS\s+SOURCE\s+REASON/m);
    assert.match(
      listed.stdout,
      new RegExp(
        `[0-9a-f-]{36}\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\s+COMPLETED\\s+${w.registry.host.replace(/\./g, '\\.')}/library/cli:v1`,
      ),
    );
    await assert.rejects(
      promisify(execFile)(process.execPath, [cli, 'task', '--addr', addr, 'ls'], {
        env: { ...process.env, ACCEL_TOKEN: 'acc_wrong' },
      }),
      (e: { code: number; stderr: string }) => e.code === 1 && /401: invalid auth config/.test(e.stderr),
    );
  });

  it('sync mode waits for the result and reports a failure as 500 ERR_CONVERT_FAILED', async () => {
    const img = await image();
    await w.push('library/sync', 'v1', img);
    const ok = await w.webhook(
      { type: 'PUSH_ARTIFACT', event_data: { resources: [{ resource_url: `${w.registry.host}/library/sync:v1` }] } },
      { auth: `Bearer ${token}`, query: '?sync=true' },
    );
    assert.equal(ok.status, 200);
    assert.equal((await manifest('library/sync', 'v1-esgz')).status, 200, 'converted before the answer');
    const missing = await w.webhook(
      { type: 'PUSH_ARTIFACT', event_data: { resources: [{ resource_url: `${w.registry.host}/library/sync:nope` }] } },
      { auth: `Bearer ${token}`, query: '?sync=true' },
    );
    assert.equal(missing.status, 500);
    assert.equal((missing.json as { code: string }).code, 'ERR_CONVERT_FAILED');
    assert.match((missing.json as { message: string }).message, /not found/);
  });
});
