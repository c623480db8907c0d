import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { TestGateway } from '../support/gateway';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'apps', 'accelctl', 'src', 'main.js');

describe('accelctl against a running gateway', () => {
  let g: TestGateway;
  before(async () => {
    g = await TestGateway.start();
  });
  after(async () => g?.stop());

  const accelctl = (...args: string[]) =>
    run(process.execPath, [CLI, '--server', g.url, ...args], {
      env: { ...process.env, ACCEL_USER: 'root', ACCEL_PASSWORD: 'root-password-for-tests' },
    });

  it('creates a token that works, lists it without its value, and revokes it', async () => {
    const created = await accelctl('-o', 'json', 'token', 'create', '--name', 'harbor', '--scopes', 'job');
    const t = JSON.parse(created.stdout) as { id: number; token: string; scopes: string[] };
    assert.match(t.token, /^acc_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(t.scopes, ['job']);
    const health = await g.http('GET', '/oapi/v1/jobs', { headers: { authorization: `Bearer ${t.token}` } });
    assert.equal(health.status, 200);

    const listed = await accelctl('token', 'list');
    assert.match(listed.stdout, /^ID\s+NAME\s+SCOPES\s+STATE\s+EXPIRED_AT/m);
    assert.match(listed.stdout, /harbor\s+job\s+active/);
    assert.ok(!listed.stdout.includes(t.token));

    await accelctl('token', 'revoke', String(t.id));
    assert.equal(
      (await g.http('GET', '/oapi/v1/jobs', { headers: { authorization: `Bearer ${t.token}` } })).status,
      401,
    );
  });

  it('registers a cluster and a seed peer', async () => {
    await accelctl('cluster', 'add', 'edge', '--id', '7');
    const added = await accelctl('-o', 'json', 'seedpeer', 'add', 'seed-a', '127.0.0.9', '4000', '--cluster', '7');
    assert.equal(JSON.parse(added.stdout).scheduler_cluster_id, 7);
    assert.match((await accelctl('seedpeer', 'list')).stdout, /seed-a\s+127\.0\.0\.9\s+4000\s+inactive\s+7/);
  });

  it("exits non-zero with the server's reason", async () => {
    await assert.rejects(
      run(process.execPath, [CLI, '--server', g.url, '-u', 'root', '-p', 'wrong', 'token', 'list']),
      (e: { code: number; stderr: string }) => e.code === 1 && /accelctl: 401: Unauthorized/.test(e.stderr),
    );
    await assert.rejects(
      accelctl('seedpeer', 'add', 'x', '10.0.0.1', '4000', '--cluster', '99'),
      (e: { stderr: string }) => /404: scheduler cluster 99 not found/.test(e.stderr),
    );
  });
});
