import { statSync } from 'node:fs';
import { join } from 'node:path';
import { bufferRangeReader, openEstargz, TocEntry } from '@accel/convert';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PrivateContainerd } from '../support/containerd';
import { ConversionWorld, richImage } from '../support/conversion-world';
import { eventually } from '../support/env';
import { MT } from '../support/images';

/** Third-party checks of the eStargz output: containerd unpacks it, ctr-remote writes the same TOC. */
describe('eStargz conformance with containerd and ctr-remote', () => {
  let w: ConversionWorld;
  let ctd: PrivateContainerd;
  let token: string;

  before(async () => {
    // docker2oci off: a Docker source keeps Docker types, and containerd must still take its eStargz layers.
    w = await ConversionWorld.start({
      converter: { driver: { config: { chunk_size: String(4 << 20), docker2oci: 'false' } } },
    });
    ctd = new PrivateContainerd();
    await ctd.start();
    token = await w.gateway.token(['conversion']);
  });
  after(async () => {
    await ctd?.stop();
    await w?.stop();
  });

  async function convert(repo: string, docker: boolean) {
    const img = await richImage(4 << 20, docker);
    await w.push(repo, 'v1', img);
    await w.webhook(w.defaultPayload(repo, 'v1', img.digest));
    const task = await eventually(
      async () => {
        const t = (
          await w.gateway.http<{ source: string; status: string; reason: string }[]>('GET', '/api/v1/conversions', {
            headers: { authorization: `Bearer ${token}` },
            base: w.gateway.conversionUrl,
          })
        ).json.find((x) => x.source.endsWith(`${repo}:v1`));
        return t && t.status !== 'PROCESSING' ? t : undefined;
      },
      120_000,
      'conversion',
    );
    assert.equal(task.status, 'COMPLETED', task.reason);
    return img;
  }

  /** The manifest digest containerd holds for an image reference. */
  const digestOf = async (ref: string) =>
    (await ctd.ctr('image', 'ls')).stdout
      .split('\n')
      .find((l) => l.startsWith(`${ref} `))!
      .split(/\s+/)[2];

  const comparable = ({ offset: _o, innerOffset: _i, ...e }: TocEntry) => e;

  async function tocsOf(manifestDigest: string): Promise<TocEntry[][]> {
    const m = JSON.parse((await ctd.ctr('content', 'get', manifestDigest)).stdout) as { layers: { digest: string }[] };
    const tocs: TocEntry[][] = [];
    for (const l of m.layers) {
      const blob = await ctd.content(l.digest);
      tocs.push((await openEstargz(bufferRangeReader(blob), blob.length)).toc.entries);
    }
    return tocs;
  }

  it('prioritized files: the same order as ctr-remote with a record of the same files', async () => {
    const { writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    // A second gateway configured with a prefetch list converts the same image.
    const { TestGateway } = await import('../support/gateway');
    const prefetch = ['/usr/bin/tool-link', '/etc/app.conf'];
    const g = await TestGateway.start({
      registry: { allowed: [] },
      provider: { source: { [w.registry.host]: { plain_http: true, webhook: { auth_header: 'Bearer x' } } } },
      converter: { rules: [{ tag_suffix: '-prio' }], driver: { config: { prefetch_patterns: prefetch.join('\n') } } },
    });
    try {
      const img = await richImage(4 << 20);
      await w.push('library/prio', 'v1', img);
      const payload = w.defaultPayload('library/prio', 'v1', img.digest);
      assert.equal(
        (
          await g.http('POST', '/api/v1/conversions', {
            body: payload,
            headers: { authorization: 'Bearer x' },
            base: g.conversionUrl,
          })
        ).status,
        200,
      );
      const t = await g.token(['conversion']);
      await eventually(
        async () => {
          const task = (
            await g.http<{ status: string }[]>('GET', '/api/v1/conversions', {
              headers: { authorization: `Bearer ${t}` },
              base: g.conversionUrl,
            })
          ).json[0];
          return task?.status === 'COMPLETED' ? task : undefined;
        },
        120_000,
        'prioritized conversion',
      );
      const src = `${w.registry.host}/library/prio:v1`;
      const ours = `${src}-prio`;
      await ctd.ctr('image', 'pull', '--plain-http', '--snapshotter', 'native', src);
      await ctd.ctr('image', 'pull', '--plain-http', '--snapshotter', 'native', ours);
      const record = join(ctd.dir, 'record.json');
      writeFileSync(
        record,
        prefetch.map((path) => JSON.stringify({ path, manifestDigest: img.digest, layerIndex: 0 })).join('\n') + '\n',
      );
      const theirs = `${src}-ctr-remote-prio`;
      await ctd.ctrRemote('image', 'convert', '--estargz', '--oci', '--estargz-record-in', record, src, theirs);
      // Every unpacked copy of etc/subsecond (source and ours) keeps its sub-second mtime.
      const { execFileSync } = await import('node:child_process');
      const copies = execFileSync('find', [join(ctd.dir, 'root'), '-path', '*/snapshots/*/etc/subsecond'])
        .toString()
        .trim()
        .split('\n')
        .filter(Boolean);
      assert.ok(copies.length >= 2, `unpacked copies: ${copies.length}`);
      for (const c of copies) assert.equal(statSync(c, { bigint: true }).mtimeNs, 1_700_000_000_750_000_000n, c);
      const [ourTocs, theirTocs] = [await tocsOf(await digestOf(ours)), await tocsOf(await digestOf(theirs))];
      assert.equal(
        ourTocs[0].filter((e) => e.type !== 'chunk').findIndex((e) => e.name === '.prefetch.landmark'),
        6,
      );
      assert.deepEqual(ourTocs[0].map(comparable), theirTocs[0].map(comparable));
    } finally {
      await g.stop();
    }
  });

  for (const docker of [false, true]) {
    const repo = docker ? 'library/rich-docker' : 'library/rich-oci';
    it(`${docker ? 'Docker' : 'OCI'} source: containerd pulls and unpacks the converted image, and ctr-remote writes the same TOC entries`, async () => {
      await convert(repo, docker);
      const src = `${w.registry.host}/${repo}:v1`;
      const ours = `${w.registry.host}/${repo}:v1-esgz`;
      // Pull with unpacking: containerd checks every layer against the config's diff_ids.
      const pulled = await ctd.ctr('image', 'pull', '--plain-http', '--snapshotter', 'native', ours);
      assert.match(pulled.stdout, /unpacking linux\/amd64 sha256:/);
      const converted = JSON.parse((await ctd.ctr('content', 'get', await digestOf(ours))).stdout) as {
        mediaType: string;
        layers: { mediaType: string }[];
      };
      assert.equal(converted.mediaType, docker ? MT.dockerManifest : MT.ociManifest);
      assert.ok(converted.layers.every((l) => l.mediaType === (docker ? MT.dockerLayer : MT.ociLayer)));
      await ctd.ctr('image', 'pull', '--plain-http', '--snapshotter', 'native', src);
      const theirs = `${w.registry.host}/${repo}:ctr-remote`;
      await ctd.ctrRemote('image', 'convert', '--estargz', '--oci', src, theirs);
      // Every unpacked copy of etc/subsecond (source and ours) keeps its sub-second mtime.
      const { execFileSync } = await import('node:child_process');
      const copies = execFileSync('find', [join(ctd.dir, 'root'), '-path', '*/snapshots/*/etc/subsecond'])
        .toString()
        .trim()
        .split('\n')
        .filter(Boolean);
      assert.ok(copies.length >= 2, `unpacked copies: ${copies.length}`);
      for (const c of copies) assert.equal(statSync(c, { bigint: true }).mtimeNs, 1_700_000_000_750_000_000n, c);
      const [ourTocs, theirTocs] = [await tocsOf(await digestOf(ours)), await tocsOf(await digestOf(theirs))];
      assert.equal(ourTocs.length, 2);
      for (let i = 0; i < ourTocs.length; i++) {
        assert.deepEqual(
          ourTocs[i].map(comparable),
          theirTocs[i].map(comparable),
          `layer ${i}: same names, types, sizes, modes, owners, xattrs and digests`,
        );
      }
    });
  }
});
