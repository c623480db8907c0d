import SwaggerParser from '@apidevtools/swagger-parser';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { services } from '../support/env';
import { ROOT_BASIC, TestGateway } from '../support/gateway';

type Who =
  'anonymous' | 'guest' | 'root' | 'adminToken' | 'jobToken' | 'guestAdminToken' | 'expiredToken' | 'revokedToken';

describe('admin console: sign-in, RBAC, secrets, audit, OpenAPI', () => {
  let g: TestGateway;
  const auth: Partial<Record<Who, Record<string, string>>> = {};
  const secrets: string[] = [];
  let counter = 0;

  const signin = async (name: string, password: string) => {
    const r = await g.http<{ token: string; expire: string }>('POST', '/api/v1/users/signin', {
      body: { name, password },
    });
    assert.equal(r.status, 200, r.text);
    return r;
  };

  before(async () => {
    g = await TestGateway.start({ auth: { signinPerMinute: 20 } });
    const rootJwt = (await signin('root', 'root-password-for-tests')).json.token;
    auth.anonymous = {};
    auth.root = { authorization: `Bearer ${rootJwt}` };
    assert.equal(
      (
        await g.http('POST', '/api/v1/users', {
          body: { name: 'viewer', password: 'viewer-password', role: 'guest' },
          headers: auth.root,
        })
      ).status,
      200,
    );
    auth.guest = { authorization: `Bearer ${(await signin('viewer', 'viewer-password')).json.token}` };
    const mint = async (who: Record<string, string>, scopes: string[], extra: Record<string, unknown> = {}) => {
      const r = await g.http<{ token: string; id: number }>('POST', '/api/v1/personal-access-tokens', {
        body: { name: `t${counter++}`, scopes, ...extra },
        headers: who,
      });
      assert.equal(r.status, 200, r.text);
      secrets.push(r.json.token);
      return r.json;
    };
    auth.adminToken = { authorization: `Bearer ${(await mint(auth.root, ['admin', 'job'])).token}` };
    auth.jobToken = { authorization: `Bearer ${(await mint(auth.root, ['job'])).token}` };
    auth.expiredToken = {
      authorization: `Bearer ${(await mint(auth.root, ['admin', 'job'], { expired_at: new Date(Date.now() - 60_000).toISOString() })).token}`,
    };
    const revoked = await mint(auth.root, ['admin', 'job']);
    assert.equal(
      (await g.http('DELETE', `/api/v1/personal-access-tokens/${revoked.id}`, { headers: auth.root })).status,
      200,
    );
    auth.revokedToken = { authorization: `Bearer ${revoked.token}` };
    // A token minted for the guest (by root, then reassigned is not possible): sign in as guest via Basic instead.
    auth.guestAdminToken = { authorization: `Basic ${Buffer.from('viewer:viewer-password').toString('base64')}` };
  });
  after(async () => g?.stop());

  // Expected status per identity: [anonymous, guest, root, adminToken, jobToken, guestBasic, expired, revoked]
  const WHO: Who[] = [
    'anonymous',
    'guest',
    'root',
    'adminToken',
    'jobToken',
    'guestAdminToken',
    'expiredToken',
    'revokedToken',
  ];
  const READ = [401, 200, 200, 200, 403, 200, 403, 401];
  const SENSITIVE_READ = [401, 403, 200, 200, 403, 403, 403, 401];
  const WRITE_OK = [401, 403, 200, 200, 403, 403, 403, 401];
  const WRITE_404 = [401, 403, 404, 404, 403, 403, 403, 401];
  const routes: [string, string, (() => unknown) | undefined, number[]][] = [
    ['GET', '/api/v1/scheduler-clusters', undefined, READ],
    ['POST', '/api/v1/scheduler-clusters', () => ({ name: `c${counter++}` }), WRITE_OK],
    ['GET', '/api/v1/seed-peers', undefined, READ],
    ['GET', '/api/v1/seed-peer-clusters', undefined, READ],
    [
      'POST',
      '/api/v1/seed-peers',
      () => ({ host_name: `s${counter++}`, ip: '10.9.9.9', port: 4000, scheduler_cluster_id: 999 }),
      WRITE_404,
    ],
    ['DELETE', '/api/v1/seed-peers/999999', undefined, WRITE_404],
    ['GET', '/api/v1/schedulers', undefined, READ],
    ['GET', '/api/v1/schedulers/999999/hosts', undefined, [401, 404, 404, 404, 403, 404, 403, 401]],
    ['GET', '/api/v1/personal-access-tokens', undefined, SENSITIVE_READ],
    ['POST', '/api/v1/personal-access-tokens', () => ({ name: `x${counter++}`, scopes: ['job'] }), WRITE_OK],
    ['PATCH', '/api/v1/personal-access-tokens/999999', () => ({ bio: 'x' }), WRITE_404],
    ['GET', '/api/v1/users', undefined, SENSITIVE_READ],
    ['GET', '/api/v1/users/me', undefined, [401, 200, 200, 200, 200, 200, 403, 401]],
    ['PATCH', '/api/v1/users/999999', () => ({ email: 'someone@example.com' }), WRITE_404],
    ['GET', '/api/v1/registries', undefined, READ],
    [
      'POST',
      '/api/v1/registries',
      () => ({ host: `r${counter++}.example.com`, username: 'u', password: 'S3cr3t-Registry-Pass' }),
      WRITE_OK,
    ],
    ['GET', '/api/v1/jobs', undefined, READ],
    ['GET', '/api/v1/jobs/999999', undefined, [401, 404, 404, 404, 403, 404, 403, 401]],
    ['POST', '/api/v1/jobs/999999/cancel', undefined, WRITE_404],
    ['POST', '/api/v1/jobs/999999/retry', undefined, WRITE_404],
    ['GET', '/api/v1/conversion-tasks', undefined, READ],
    ['POST', '/api/v1/conversion-tasks/00000000-0000-4000-8000-000000000000/cancel', undefined, WRITE_404],
    ['DELETE', '/api/v1/scheduler-clusters/999999', undefined, WRITE_404],
    ['GET', '/api/v1/audits', undefined, SENSITIVE_READ],
    ['GET', '/oapi/v1/jobs', undefined, [401, 200, 200, 200, 200, 200, 403, 401]],
    [
      'POST',
      '/oapi/v1/jobs',
      () => ({ type: 'preheat', args: { type: 'image', url: 'http://127.0.0.1:1/v2/a/manifests/b' } }),
      [401, 403, 200, 200, 200, 403, 403, 401],
    ],
  ];

  it('enforces the RBAC matrix on every route', async () => {
    const failures: string[] = [];
    for (const [method, path, body, expected] of routes) {
      for (const [i, who] of WHO.entries()) {
        const r = await g.http(method, path, { body: body?.(), headers: auth[who] });
        if (r.status !== expected[i])
          failures.push(`${method} ${path} as ${who}: ${r.status}, expected ${expected[i]} (${r.text.slice(0, 120)})`);
      }
    }
    assert.deepEqual(failures, []);
  });

  it('never returns a secret: tokens and registry passwords are absent from every response and stored hashed or sealed', async () => {
    const reg = await g.http<{ id: number; password_set: boolean }>('POST', '/api/v1/registries', {
      body: { host: 'harbor.secret.example', username: 'robot', password: 'S3cr3t-Registry-Pass' },
      headers: auth.root,
    });
    assert.equal(reg.json.password_set, true);
    assert.ok(!reg.text.includes('S3cr3t-Registry-Pass'));
    const paths = [
      '/api/v1/personal-access-tokens',
      '/api/v1/registries',
      '/api/v1/users',
      '/api/v1/users/me',
      '/api/v1/audits?per_page=1000',
      '/api/v1/jobs',
      '/api/v1/scheduler-clusters',
      '/api/v1/seed-peers',
      '/oapi/v1/jobs?per_page=100',
    ];
    for (const p of paths) {
      for (const who of ['root', 'guest'] as Who[]) {
        const r = await g.http('GET', p, { headers: auth[who] });
        for (const s of [...secrets, 'S3cr3t-Registry-Pass', 'root-password-for-tests', 'viewer-password'])
          assert.ok(!r.text.includes(s), `${p} as ${who} leaks a secret`);
        assert.ok(!/encrypted_password|token_hash|sealed/.test(r.text), `${p} as ${who} leaks a hash`);
      }
    }
    const ds = new DataSource({ type: 'mysql', ...services.db, database: g.config.database.database });
    await ds.initialize();
    const dump = JSON.stringify([
      await ds.query('SELECT * FROM personal_access_token'),
      await ds.query('SELECT * FROM registry'),
      await ds.query('SELECT * FROM user'),
      await ds.query('SELECT * FROM audit'),
    ]);
    await ds.destroy();
    for (const s of [...secrets, 'S3cr3t-Registry-Pass', 'root-password-for-tests'])
      assert.ok(!dump.includes(s), 'no secret in the database in clear');
  });

  it('records who did what in the audit trail, refusals included', async () => {
    await g.http('POST', '/api/v1/scheduler-clusters', { body: { name: 'audited' }, headers: auth.root });
    await g.http('POST', '/api/v1/scheduler-clusters', { body: { name: 'refused' }, headers: auth.guest });
    type Row = {
      actor_type: string;
      actor_name: string;
      operation: string;
      path: string;
      state: string;
      status_code: number;
      target: string;
    };
    const { eventually } = await import('../support/env');
    const rows = await eventually(
      async () => {
        const r = (
          await g.http<Row[]>('GET', '/api/v1/audits?path=/api/v1/scheduler-clusters&per_page=200', {
            headers: auth.root,
          })
        ).json;
        return r.some((a) => a.actor_name === 'viewer' && a.status_code === 403) ? r : undefined;
      },
      5000,
      'audit rows',
    );
    assert.ok(
      rows.some(
        (a) =>
          a.actor_type === 'USER' &&
          a.actor_name === 'root' &&
          a.operation === 'POST' &&
          a.state === 'SUCCESS' &&
          a.target !== '',
      ),
    );
    assert.ok(
      rows.some(
        (a) => a.actor_type === 'USER' && a.actor_name === 'viewer' && a.status_code === 403 && a.state === 'FAILURE',
      ),
    );
  });

  it('sign-in: wrong credentials are 401, too many attempts are 429, sign-out clears the cookie', async () => {
    const bad = await g.http('POST', '/api/v1/users/signin', { body: { name: 'root', password: 'nope' } });
    assert.equal(bad.status, 401);
    const ok = await g.http('POST', '/api/v1/users/signin', {
      body: { name: 'root', password: 'root-password-for-tests' },
    });
    assert.match(String(ok.headers['set-cookie']), /jwt=.*HttpOnly.*SameSite=Strict/i);
    const cookie = String(ok.headers['set-cookie']).split(';')[0];
    assert.equal((await g.http('GET', '/api/v1/users/me', { headers: { cookie } })).status, 200);
    const out = await g.http('POST', '/api/v1/users/signout', { headers: { cookie } });
    assert.match(String(out.headers['set-cookie']), /jwt=;/);
    let limited = 0;
    for (let i = 0; i < 25; i++)
      if ((await g.http('POST', '/api/v1/users/signin', { body: { name: 'root', password: 'guess' } })).status === 429)
        limited++;
    assert.ok(limited > 0, 'brute force is rate limited');
  });

  it('serves an OpenAPI document that validates and lists every route', async () => {
    const doc = (await g.http<Record<string, unknown>>('GET', '/api/docs-json')).json;
    await SwaggerParser.validate(structuredClone(doc) as never);
    const paths = doc.paths as Record<string, Record<string, unknown>>;
    const express = g.manager.app.getHttpAdapter().getInstance() as {
      router?: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
      _router?: { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
    };
    const stack = (express.router ?? express._router)!.stack.filter((l) => l.route);
    const missing: string[] = [];
    for (const layer of stack) {
      const path = layer.route!.path.replace(/:(\w+)/g, '{$1}');
      if (path.startsWith('/api/docs')) continue;
      for (const m of Object.keys(layer.route!.methods))
        if (!paths[path]?.[m]) missing.push(`${m.toUpperCase()} ${path}`);
    }
    assert.deepEqual(missing, []);
    assert.ok(stack.length > 30);
  });

  it('a basic-auth root user can still reach the admin API (accelctl)', async () => {
    assert.equal((await g.http('GET', '/api/v1/users', { headers: { authorization: ROOT_BASIC } })).status, 200);
  });
});
