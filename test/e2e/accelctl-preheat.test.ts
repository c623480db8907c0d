import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { PreheatWorld } from '../support/fixture';

const CLI = join(__dirname, '..', '..', 'apps', 'accelctl', 'src', 'main.js');

describe('accelctl: login, preheat --watch, jobs (non-TTY)', () => {
  let w: PreheatWorld;
  const config = join(mkdtempSync(join(tmpdir(), 'accelctl-')), 'config.yaml');
  const run = (...args: string[]) =>
    promisify(execFile)(process.execPath, [CLI, ...args], {
      env: { ...process.env, ACCELCTL_CONFIG: config, ACCEL_TOKEN: '', ACCEL_USER: '', ACCEL_SERVER: '' },
    });

  before(async () => {
    w = await PreheatWorld.start();
  });
  after(async () => w?.stop());

  it('login saves a token (mode 0600) that later commands use', async () => {
    const out = await run('--server', w.gateway.url, '-u', 'root', '-p', 'root-password-for-tests', 'login');
    assert.match(out.stdout, /logged in to http:\/\/127\.0\.0\.1:\d+ as root/);
    const saved = parse(readFileSync(config, 'utf8')) as { server: string; token: string };
    assert.match(saved.token, /^acc_/);
    assert.equal(statSync(config).mode & 0o777, 0o600);
    const list = await run('cluster', 'list');
    assert.match(list.stdout, /1\s+cluster-1/);
  });

  it('preheat create --watch follows the job to SUCCESS with plain progress lines', async () => {
    const ref = `${w.registries.open.host}/library/multi:v1`;
    const out = await run('preheat', 'create', ref, '--plain-http', '--scope', 'all_seed_peers', '--watch');
    const total = w.images.multi.images[0].pulled.length * 2;
    assert.match(out.stderr, new RegExp(`job \\d+ SUCCESS: ${total}/${total} downloads, 0 failed`));
    assert.match(out.stdout, /^ID\s+STATE\s+SCOPE\s+URL\s+DONE\s+FAILED/m);
    assert.match(
      out.stdout,
      new RegExp(
        `SUCCESS\\s+all_seed_peers\\s+http://${w.registries.open.host.replace(/\./g, '\\.')}/v2/library/multi/manifests/v1\\s+${total}\\s+0`,
      ),
    );
    const id = /^(\d+)\s+SUCCESS/m.exec(out.stdout)![1];
    const detail = await run('job', 'get', id);
    assert.match(detail.stdout, new RegExp(`^${id}\\s+SUCCESS\\s`, 'm'), 'the job row');
    assert.equal((detail.stdout.match(/\sSUCCESS\s*$/gm) ?? []).length, total, 'a row per (blob, host)');
    const yaml = parse((await run('-o', 'yaml', 'job', 'list', '--state', 'SUCCESS')).stdout) as { id: number }[];
    assert.ok(yaml.some((j) => j.id === Number(id)));
  });

  it('exits non-zero and names the host when a seed peer is down', async () => {
    const down = w.seeds[1];
    const port = down.port;
    await down.stop();
    try {
      await assert.rejects(
        run(
          'preheat',
          'create',
          `${w.registries.open.host}/library/app:v1`,
          '--plain-http',
          '--scope',
          'all_seed_peers',
          '--watch',
        ),
        (e: { code: number; stderr: string; stdout: string }) => {
          assert.equal(e.code, 1);
          assert.match(e.stderr, /failed: seed-2 \(127\.0\.0\.1\) .* is unreachable/);
          assert.match(e.stdout, /FAILURE/);
          return true;
        },
      );
    } finally {
      await down.start(port);
    }
  });

  it('prints a bash completion script and help for every command', async () => {
    const c = (await run('completion')).stdout;
    assert.match(c, /complete -F _accelctl accelctl/);
    assert.match(c, /preheat\) COMPREPLY=\( \$\(compgen -W "create"/);
    for (const cmd of [[], ['preheat', 'create'], ['job', 'list'], ['task', 'create'], ['token', 'create']]) {
      const help = await run(...cmd, '--help');
      assert.match(help.stdout, /^Usage: accelctl/m);
    }
  });

  it("cache get / image distribution / cache delete / peers: Dragonfly's task jobs from the command line", async () => {
    const ref = `${w.registries.open.host}/library/app:v1`;
    const done = await run('preheat', 'create', ref, '--plain-http', '--scope', 'all_seed_peers', '--watch');
    assert.match(done.stdout, /SUCCESS/);
    const layer = w.images.single.blobs[1].digest;
    const blobUrl = `http://${w.registries.open.host}/v2/library/app/blobs/${layer}`;
    const held = await run('cache', 'get', blobUrl);
    assert.match(held.stdout, /^HOSTNAME\s+IP\s+HOST_TYPE\s+FINISHED\s+CLUSTER/m);
    assert.match(held.stdout, /^seed-1\s+127\.0\.0\.1\s+super\s+true\s+1\s/m);
    assert.match(held.stdout, /^seed-2\s+127\.0\.0\.1\s+super\s+true\s+1\s/m);
    const json = JSON.parse((await run('-o', 'json', 'cache', 'get', blobUrl)).stdout) as { type: string };
    assert.equal(json.type, 'get_task');
    // Seed peers are not in a distribution (Dragonfly lists normal peers only).
    const dist = JSON.parse((await run('-o', 'json', 'image', 'distribution', ref, '--plain-http')).stdout) as {
      image: { layers: unknown[] };
      peers: unknown[];
    };
    assert.equal(dist.image.layers.length, w.images.single.pulled.length);
    assert.deepEqual(dist.peers, []);
    const evicted = await run('cache', 'delete', ref, '--plain-http');
    assert.match(evicted.stdout, /^HOSTNAME\s+IP\s+HOST_TYPE\s+RESULT\s+URL/m);
    assert.equal((evicted.stdout.match(/\sdeleted\s/g) ?? []).length, 2 * w.images.single.pulled.length);
    assert.doesNotMatch((await run('cache', 'get', blobUrl)).stdout, /seed-1/);
    await run('peers', 'sync');
    const peers = await run('peers', 'list', '--type', 'normal');
    assert.deepEqual([...peers.stdout.matchAll(/^\d+\s+(peer-\d)\s/gm)].map((m) => m[1]).sort(), [
      'peer-1',
      'peer-2',
      'peer-3',
    ]);
    await assert.rejects(run('cache', 'get', 'not a url at all'), (e: { code: number; stderr: string }) => {
      assert.equal(e.code, 1);
      assert.match(e.stderr, /accelctl: /);
      return true;
    });
  });
});
