import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ConversionWorld, image } from '../support/conversion-world';
import { eventually, sleep } from '../support/env';
import { sha256, withCorruptFirstLayer } from '../support/images';

interface Task {
  source: string;
  created: string;
  status: string;
  reason: string;
  source_digest?: string;
  target_digest: string;
}

describe('conversions stay true when pushes race and layers fail', () => {
  let w: ConversionWorld;
  let token: string;

  before(async () => {
    w = await ConversionWorld.start();
    token = await w.gateway.token(['conversion']);
  });
  after(async () => w?.stop());

  const list = async () =>
    (
      await w.gateway.http<Task[]>('GET', '/api/v1/conversions', {
        headers: { authorization: `Bearer ${token}` },
        base: w.gateway.conversionUrl,
      })
    ).json;
  const tasksOf = (repo: string, count: number) =>
    eventually(
      async () => {
        const t = (await list()).filter((x) => x.source === `${w.registry.host}/${repo}:v1`);
        return t.length === count && t.every((x) => x.status !== 'PROCESSING') ? t : undefined;
      },
      120_000,
      `${count} conversion(s) of ${repo}`,
    );
  const targetDigest = async (repo: string) => {
    const res = await fetch(`http://${w.registry.host}/v2/${repo}/manifests/v1-esgz`, {
      method: 'HEAD',
      headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    return res.status === 200 ? res.headers.get('docker-content-digest') : `HTTP ${res.status}`;
  };
  /** Blob digests linked into a repository (what a push committed there). */
  const linkedBlobs = (repo: string): string[] => {
    const dir = join(w.registry.storage, 'docker/registry/v2/repositories', repo, '_layers/sha256');
    return existsSync(dir) ? readdirSync(dir).map((h) => `sha256:${h}`) : [];
  };

  it('11. a tag pushed twice quickly ends as the conversion of what it holds last, though the older push converts slower', async () => {
    const repo = 'library/race';
    // Still converting 300 ms on, at libdeflate's speed too.
    const big = await image({ layers: 3, layerBytes: 24 << 20 });
    const small = await image();
    await w.push(repo, 'v1', big);
    assert.equal((await w.webhook(w.defaultPayload(repo, 'v1', big.digest))).status, 200);
    await sleep(300);
    await w.push(repo, 'v1', small);
    assert.equal((await w.webhook(w.defaultPayload(repo, 'v1', small.digest))).status, 200);
    const tasks = await tasksOf(repo, 2);
    const [older, newer] = [...tasks].sort((a, b) => Date.parse(a.created) - Date.parse(b.created));
    assert.equal(newer.status, 'COMPLETED', newer.reason);
    assert.equal(older.status, 'COMPLETED', older.reason);
    assert.equal(await targetDigest(repo), newer.target_digest, 'v1-esgz is the conversion of the newer push');
    assert.match(older.reason, new RegExp(`superseded: ${repo}:v1 now holds ${small.digest}`));
    assert.equal(older.target_digest, '', 'the older push published nothing');
  });

  it('12. when one layer fails, its siblings stop and nothing is committed after the task has FAILED', async () => {
    const repo = 'library/half';
    const img = withCorruptFirstLayer(await image({ layers: 4, layerBytes: 12 << 20 }));
    await w.push(repo, 'v1', img);
    const pushed = new Set(linkedBlobs(repo));
    assert.equal((await w.webhook(w.defaultPayload(repo, 'v1', img.digest))).status, 200);
    const [task] = await tasksOf(repo, 1);
    assert.equal(task.status, 'FAILED');
    assert.match(task.reason, /source layer is corrupt/);
    const atFailure = linkedBlobs(repo).filter((d) => !pushed.has(d));
    // Siblings still converting would commit within the next seconds.
    await sleep(4_000);
    const later = linkedBlobs(repo).filter((d) => !pushed.has(d));
    assert.deepEqual(later, atFailure, 'no layer committed after the task failed');
    assert.deepEqual(later, [], 'the converting sibling was cancelled, the waiting ones never started');
    assert.deepEqual(w.openUploads(repo), [], 'every upload was given up');
  });

  it('a layer whose content is not its config diff_id fails with that reason (containerd would refuse the image)', async () => {
    const repo = 'library/lying';
    const img = await image();
    const config = JSON.parse(img.blobs[0].data.toString()) as { rootfs: { diff_ids: string[] } };
    const wrong = `sha256:${'0'.repeat(64)}`;
    config.rootfs.diff_ids[1] = wrong;
    const body = Buffer.from(JSON.stringify(config));
    img.blobs[0] = { ...img.blobs[0], data: body, size: body.length, digest: sha256(body) };
    const m = JSON.parse(img.manifest.toString()) as { config: { digest: string; size: number } };
    m.config = { ...m.config, digest: img.blobs[0].digest, size: body.length };
    img.manifest = Buffer.from(JSON.stringify(m));
    img.digest = sha256(img.manifest);
    await w.push(repo, 'v1', img);
    assert.equal((await w.webhook(w.defaultPayload(repo, 'v1', img.digest))).status, 200);
    const [task] = await tasksOf(repo, 1);
    assert.equal(task.status, 'FAILED');
    assert.match(task.reason, new RegExp(`source layer does not match its diff_id: the image config says ${wrong}`));
    assert.equal(await targetDigest(repo), 'HTTP 404');
  });
});
