import { buildConfig } from '@accel/config';
import { RegistryAccess, RegistryClient } from '@accel/registry';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DataSource } from 'typeorm';
import { eventually, freePort, services, sleep } from '../support/env';
import { ROOT_BASIC, TestGateway } from '../support/gateway';
import { LoopbackServer } from '../support/hostile';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const GUEST_BASIC = basic('viewer', 'viewer-password');
const pushEvent = (resourceUrl: string) => ({
  type: 'PUSH_ARTIFACT',
  occur_at: 1,
  operator: 'admin',
  event_data: {
    resources: [{ digest: `sha256:${'a'.repeat(64)}`, tag: 'v1', resource_url: resourceUrl }],
    repository: { name: 'app', namespace: 'library', repo_full_name: 'library/app', repo_type: 'private' },
  },
});

describe('security: hostile requests, tokens, sessions, allow-list', () => {
  let g: TestGateway;
  let db: DataSource;
  const root = { authorization: ROOT_BASIC };
  const secretsSeen: string[] = [];

  before(async () => {
    g = await TestGateway.start({ auth: { allowAnonymous: true, signinPerMinute: 1000 } });
    assert.equal(
      (
        await g.http('POST', '/api/v1/users', {
          body: { name: 'viewer', password: 'viewer-password', role: 'guest' },
          headers: root,
        })
      ).status,
      200,
    );
    db = new DataSource({ type: 'mysql', ...services.db, database: g.config.database.database });
    await db.initialize();
  });
  after(async () => {
    await db?.destroy();
    await g?.stop();
  });

  const signin = async (name: string, password: string, headers: Record<string, string> = {}) =>
    g.http<{ token: string }>('POST', '/api/v1/users/signin', { body: { name, password }, headers });

  it('1. a sign-in body with an object for a name is a 422 and the process keeps serving', async () => {
    for (let i = 0; i < 7; i++) {
      const r = await g.http('POST', '/api/v1/users/signin', { body: { name: { toString: 1 }, password: 'x' } });
      assert.equal(r.status, 422, r.text);
      // Any path ending in /signin, and other poisoned primitives.
      await g.http('POST', '/oapi/v1/signin', { body: { name: { valueOf: 1, toString: 1 } } });
    }
    await sleep(300); // the audit record is written after the answer
    assert.equal((await g.http('GET', '/healthy')).status, 200);
    const rows = await eventually(
      async () => {
        const r = await db.query(
          "SELECT actor_name, status_code FROM audit WHERE path = '/api/v1/users/signin' AND status_code = 422",
        );
        return r.length >= 7 ? r : undefined;
      },
      5000,
      'audit rows of refused sign-ins',
    );
    assert.ok(rows.every((r: { actor_name: string }) => r.actor_name === ''));
  });

  it("2. no token without the admin scope can set a password; one's own change needs the old one", async () => {
    for (const scopes of [['job'], ['cluster'], ['conversion'], undefined]) {
      const token = await g.token(scopes);
      const r = await g.http('POST', '/api/v1/users/1/reset_password', {
        body: { new_password: 'taken-over-123' },
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(r.status, 403, `scopes ${JSON.stringify(scopes)}: ${r.text}`);
    }
    assert.equal((await signin('root', 'taken-over-123')).status, 401);
    assert.equal((await signin('root', 'root-password-for-tests')).status, 200);
    // A guest cannot set root's; root's own change proves the old password, even for root.
    assert.equal(
      (
        await g.http('POST', '/api/v1/users/1/reset_password', {
          body: { new_password: 'taken-over-123' },
          headers: { authorization: GUEST_BASIC },
        })
      ).status,
      403,
    );
    assert.equal(
      (
        await g.http('POST', '/api/v1/users/1/reset_password', {
          body: { new_password: 'new-root-pass' },
          headers: root,
        })
      ).status,
      403,
    );
    assert.equal(
      (
        await g.http('POST', '/api/v1/users/1/reset_password', {
          body: { old_password: 'wrong', new_password: 'new-root-pass' },
          headers: root,
        })
      ).status,
      403,
    );
    // An administrator sets another user's password.
    const admin = await g.token(['admin']);
    const viewer = (await g.http<{ id: number; name: string }[]>('GET', '/api/v1/users', { headers: root })).json.find(
      (u) => u.name === 'viewer',
    )!;
    assert.equal(
      (
        await g.http('POST', `/api/v1/users/${viewer.id}/reset_password`, {
          body: { new_password: 'viewer-password' },
          headers: { authorization: `Bearer ${admin}` },
        })
      ).status,
      200,
    );
  });

  it('3. a token created with an empty scope list may do nothing', async () => {
    const none = { authorization: `Bearer ${await g.token([])}` };
    const t = (await g.http<{ scopes: string[] }[]>('GET', '/api/v1/personal-access-tokens', { headers: root })).json;
    assert.ok(
      t.some((x) => x.scopes.length === 0),
      'stored as an empty list',
    );
    // Emptied later: the same.
    const emptied = await g.token(['admin', 'job'], { name: 'emptied' });
    const id = (
      await g.http<{ id: number; name: string }[]>('GET', '/api/v1/personal-access-tokens', { headers: root })
    ).json.find((x) => x.name === 'emptied')!.id;
    assert.equal(
      (await g.http('PATCH', `/api/v1/personal-access-tokens/${id}`, { body: { scopes: [] }, headers: root })).status,
      200,
    );
    for (const who of [none, { authorization: `Bearer ${emptied}` }]) {
      for (const [method, path, base] of [
        ['GET', '/oapi/v1/jobs'],
        ['POST', '/oapi/v1/jobs'],
        ['GET', '/api/v1/users'],
        ['POST', '/api/v1/scheduler-clusters'],
        ['GET', '/api/v1/conversions', g.conversionUrl],
      ] as [string, string, string?][]) {
        const r = await g.http(method, path, { body: {}, headers: who, base });
        assert.equal(r.status, 403, `${method} ${path}: ${r.text}`);
      }
    }
  });

  it('4. guests read conversion tasks on :2077 but never create them', async () => {
    const create = await g.http('POST', '/api/v1/conversions', {
      body: pushEvent('127.0.0.1:1/library/app:v1'),
      headers: { authorization: GUEST_BASIC },
      base: g.conversionUrl,
    });
    assert.equal(create.status, 403, create.text);
    assert.equal((create.json as { code: string }).code, 'ERR_UNAUTHORIZED');
    assert.equal(
      (await g.http('GET', '/api/v1/conversions', { headers: { authorization: GUEST_BASIC }, base: g.conversionUrl }))
        .status,
      200,
    );
    assert.equal(Number((await db.query('SELECT COUNT(*) AS n FROM conversion_task'))[0].n), 0);
  });

  it('5. auth mode NONE reaches only what Harbor 2.1–2.11 calls', async () => {
    const refused = [
      ['GET', '/oapi/v1/jobs'],
      ['DELETE', '/oapi/v1/jobs/1'],
      ['POST', '/oapi/v1/jobs'],
      ['GET', '/oapi/v1/jobs/1'],
      ['GET', '/api/v1/jobs'],
      ['GET', '/api/v1/users/me'],
    ];
    for (const [method, path] of refused)
      assert.equal((await g.http(method, path, { body: {} })).status, 401, `${method} ${path}`);
    assert.equal((await g.http('POST', '/preheats', { body: {} })).status, 422, 'v1 create passes auth');
    assert.equal((await g.http('GET', '/preheats/999')).status, 404, 'v1 poll passes auth');
    assert.equal((await g.http('POST', '/registry/notifications', { body: {} })).status, 422, 'Kraken passes auth');
    assert.equal((await g.http('GET', '/_ping')).status, 200);
  });

  it('8. every forwarded header value is sealed: names only, to guests and in the database', async () => {
    const values = ['xrt-SECRET-1', 'pt-SECRET-2', 'key-SECRET-3', 'Bearer auth-SECRET-4'];
    const headers = {
      'X-Registry-Token': values[0],
      'Private-Token': values[1],
      'X-Api-Key': values[2],
      Authorization: values[3],
    };
    const created = await g.http<{ id: number }>('POST', '/oapi/v1/jobs', {
      body: {
        type: 'preheat',
        args: { type: 'image', url: 'http://127.0.0.1:1/v2/library/app/manifests/v1', headers },
      },
      headers: root,
    });
    assert.equal(created.status, 200, created.text);
    secretsSeen.push(...values);
    for (const [path, who] of [
      [`/api/v1/jobs/${created.json.id}`, GUEST_BASIC],
      [`/oapi/v1/jobs/${created.json.id}`, ROOT_BASIC],
      ['/api/v1/jobs', GUEST_BASIC],
    ]) {
      const r = await g.http('GET', path, { headers: { authorization: who } });
      assert.equal(r.status, 200);
      assert.match(r.text, /X-Registry-Token/);
      for (const v of values) assert.ok(!r.text.includes(v.replace('Bearer ', '')), `${path} shows ${v}`);
    }
    const dump = JSON.stringify(await db.query('SELECT * FROM job'));
    for (const v of values) assert.ok(!dump.includes(v.replace('Bearer ', '')), `job table holds ${v} in clear`);
  });

  it('10. console sessions end at sign-out and when the password changes; Secure cookie over TLS', async () => {
    const first = (await signin('viewer', 'viewer-password')).json.token;
    const me = (t: string) => g.http('GET', '/api/v1/users/me', { headers: { authorization: `Bearer ${t}` } });
    assert.equal((await me(first)).status, 200);
    assert.equal(
      (await g.http('POST', '/api/v1/users/signout', { headers: { authorization: `Bearer ${first}` } })).status,
      200,
    );
    assert.equal((await me(first)).status, 401, 'signed-out session refused');
    const second = (await signin('viewer', 'viewer-password')).json.token;
    const viewer = (await g.http<{ id: number; name: string }[]>('GET', '/api/v1/users', { headers: root })).json.find(
      (u) => u.name === 'viewer',
    )!;
    assert.equal(
      (
        await g.http('POST', `/api/v1/users/${viewer.id}/reset_password`, {
          body: { new_password: 'viewer-password-2' },
          headers: root,
        })
      ).status,
      200,
    );
    assert.equal((await me(second)).status, 401, 'session from before the password change refused');
    const third = await signin('viewer', 'viewer-password-2', { 'x-forwarded-proto': 'https' });
    assert.equal((await me(third.json.token)).status, 200);
    assert.match(String(third.headers['set-cookie']), /;\s*Secure/i);
    assert.doesNotMatch(String((await signin('viewer', 'viewer-password-2')).headers['set-cookie']), /;\s*Secure/i);
    assert.equal(
      (
        await g.http('POST', `/api/v1/users/${viewer.id}/reset_password`, {
          body: { new_password: 'viewer-password' },
          headers: root,
        })
      ).status,
      200,
    );
  });

  it('11. a job belongs to whoever created it, whatever user_id the body names', async () => {
    const viewer = (await g.http<{ id: number; name: string }[]>('GET', '/api/v1/users', { headers: root })).json.find(
      (u) => u.name === 'viewer',
    )!;
    const token = await g.token(['job']);
    const r = await g.http<{ user_id: number }>('POST', '/oapi/v1/jobs', {
      body: {
        type: 'preheat',
        user_id: viewer.id,
        args: { type: 'image', url: 'http://127.0.0.1:1/v2/a/manifests/b' },
      },
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.user_id, 1, 'root owns its token');
  });

  it('12. inventory addresses are validated; a bad stored row never breaks the lists', async () => {
    await g.addCluster(7, 'inventory');
    for (const path of ['/api/v1/seed-peers', '/api/v1/schedulers']) {
      for (const bad of [
        { ip: '\r\nX-Injected: 1' },
        { ip: 'example.com' },
        { host_name: 'a\r\nb' },
        { port: 70000 },
      ]) {
        const r = await g.http('POST', path, {
          body: { host_name: 'node-1', ip: '127.0.0.1', port: 4000, scheduler_cluster_id: 7, ...bad },
          headers: root,
        });
        assert.equal(r.status, 422, `${path} ${JSON.stringify(bad)}: ${r.text}`);
      }
    }
    await g.addSeedPeer(7, 'seed-bad', 4000);
    await g.addScheduler(7, 'sched-bad', 4001);
    await db.query("UPDATE seed_peer SET ip = '\\r\\nX-Injected: 1' WHERE host_name = 'seed-bad'");
    await db.query("UPDATE scheduler SET ip = '\\r\\nX-Injected: 1' WHERE host_name = 'sched-bad'");
    for (const path of ['/api/v1/seed-peers', '/api/v1/schedulers']) {
      const r = await g.http<{ host_name: string; state: string }[]>('GET', path, { headers: root });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      assert.equal(r.json.find((n) => n.host_name.endsWith('-bad'))?.state, 'inactive');
    }
    await db.query("DELETE FROM seed_peer WHERE host_name = 'seed-bad'");
    await db.query("DELETE FROM scheduler WHERE host_name = 'sched-bad'");
  });

  it('13. no page is larger than 1,000 rows, whatever per_page asks', async () => {
    await g.http('POST', '/oapi/v1/jobs', {
      body: { type: 'preheat', args: { type: 'image', url: 'http://127.0.0.1:1/v2/a/manifests/b' } },
      headers: root,
    });
    const cols = (
      await db.query(
        "SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'job' AND COLUMN_NAME <> 'id'",
      )
    )
      .map((r: { c: string }) => `\`${r.c}\``)
      .join(', ');
    const [{ id }] = await db.query('SELECT MIN(id) AS id FROM job');
    const digits =
      '(SELECT 0 UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4 UNION ALL SELECT 5 UNION ALL SELECT 6 UNION ALL SELECT 7 UNION ALL SELECT 8 UNION ALL SELECT 9)';
    await db.query(
      `INSERT INTO job (${cols}) SELECT ${cols
        .split(', ')
        .map((c: string) => `job.${c}`)
        .join(', ')} FROM job, ${digits} a, ${digits} b, ${digits} c, (SELECT 0 UNION ALL SELECT 1) d WHERE job.id = ?`,
      [id],
    );
    // Dragonfly's dialect takes per_page up to 10,000,000: it gets 1,000 and a Link that says so.
    const r = await g.http<unknown[]>('GET', '/oapi/v1/jobs?per_page=10000000', { headers: root });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.length, 1000);
    assert.match(String(r.headers.link), /per_page=1000&page=2>;rel=next/);
    // The admin API refuses what it never serves.
    assert.equal(
      (await g.http('GET', '/api/v1/jobs?per_page=10000000', { headers: { authorization: GUEST_BASIC } })).status,
      422,
    );
    assert.equal(
      (await g.http<unknown[]>('GET', '/api/v1/jobs?per_page=1000', { headers: { authorization: GUEST_BASIC } })).json
        .length,
      1000,
    );
  });

  it("14. bad input answers a 4xx in the caller's dialect, never a 500", async () => {
    const deep = (n: number) => '{"type":"preheat","args":' + '{"a":'.repeat(n) + '1' + '}'.repeat(n) + '}';
    const job = (extra: Record<string, unknown>, args: Record<string, unknown> = {}) => ({
      type: 'preheat',
      args: { type: 'image', url: 'http://127.0.0.1:1/v2/a/manifests/b', ...args },
      ...extra,
    });
    const freeSchedulerPort = await freePort();
    await g.addCluster(8, 'faults');
    await g.addScheduler(8, 'sched-down', freeSchedulerPort);
    const scheduler = (
      await g.http<{ id: number; host_name: string }[]>('GET', '/api/v1/schedulers', { headers: root })
    ).json.find((s) => s.host_name === 'sched-down')!;
    type Case = [string, string, string, { body?: unknown; raw?: string; base?: string }, number];
    const cases: Case[] = [
      ['deep JSON, provider', 'POST', '/oapi/v1/jobs', { raw: deep(2000) }, 422],
      ['deep JSON, admin', 'POST', '/api/v1/scheduler-clusters', { raw: '['.repeat(5000) + ']'.repeat(5000) }, 422],
      ['deep JSON, webhook', 'POST', '/api/v1/conversions', { raw: deep(2000), base: g.conversionUrl }, 400],
      ['duplicate token name', 'POST', '/api/v1/personal-access-tokens', { body: { name: 'dup-token' } }, 409],
      [
        'duplicate user name',
        'POST',
        '/api/v1/users',
        { body: { name: 'viewer', password: 'whatever-123', role: 'guest' } },
        409,
      ],
      ['duplicate cluster name', 'POST', '/api/v1/scheduler-clusters', { body: { name: 'faults' } }, 409],
      ['duplicate cluster id', 'POST', '/api/v1/scheduler-clusters', { body: { id: 8, name: 'faults-2' } }, 409],
      ['duplicate registry host', 'POST', '/api/v1/registries', { body: { host: 'dup.example.com' } }, 409],
      [
        'duplicate scheduler',
        'POST',
        '/api/v1/schedulers',
        { body: { host_name: 'sched-down', ip: '127.0.0.1', port: freeSchedulerPort, scheduler_cluster_id: 8 } },
        409,
      ],
      ['job bio over 1024', 'POST', '/oapi/v1/jobs', { body: job({ bio: 'b'.repeat(1025) }) }, 422],
      [
        'registry host over 256',
        'POST',
        '/api/v1/registries',
        { body: { host: `${'h'.repeat(300)}.example.com` } },
        422,
      ],
      [
        'conversion target over 1024',
        'POST',
        '/api/v1/conversions',
        { body: pushEvent(`127.0.0.1:1/library/${'r'.repeat(1020)}:v1`), base: g.conversionUrl },
        400,
      ],
      [
        'headers over 48 KB',
        'POST',
        '/oapi/v1/jobs',
        { body: job({}, { headers: { A: 'a'.repeat(16000), B: 'b'.repeat(16000), C: 'c'.repeat(16000) } }) },
        422,
      ],
      [
        'user_id 1e20',
        'POST',
        '/oapi/v1/jobs',
        { raw: JSON.stringify(job({})).replace('{"type":"preheat"', '{"type":"preheat","user_id":1e20') },
        422,
      ],
      ['user_id 1e20 filter', 'GET', '/oapi/v1/jobs?user_id=1e20', {}, 422],
      [
        'user email null',
        'POST',
        '/api/v1/users',
        { body: { name: 'nullmail', password: 'password-123', role: 'guest', email: null } },
        200,
      ],
      [
        'user email lone surrogate',
        'POST',
        '/api/v1/users',
        { raw: '{"name":"surrogate","password":"password-123","role":"guest","email":"a\\ud800@example.com"}' },
        422,
      ],
      ['user name lone surrogate', 'POST', '/api/v1/scheduler-clusters', { raw: '{"name":"x\\udc00"}' }, 422],
      ['token bio null', 'POST', '/api/v1/personal-access-tokens', { body: { name: 'null-bio', bio: null } }, 200],
      [
        'Kraken event without Target',
        'POST',
        '/registry/notifications',
        { body: { Events: [{ Action: 'push' }] } },
        422,
      ],
      ['hosts of an unreachable scheduler', 'GET', `/api/v1/schedulers/${scheduler.id}/hosts`, {}, 503],
      ['timeout of 2^31 ms', 'POST', '/oapi/v1/jobs', { body: job({}, { timeout: 2 ** 31 * 1e6 }) }, 422],
      [
        'v1 timeout-free body with huge url',
        'POST',
        '/preheats',
        { body: { type: 'image', url: `http://127.0.0.1:1/v2/a/manifests/${'t'.repeat(5000)}` } },
        422,
      ],
      ...['/oapi/v1/jobs', '/api/v1/jobs', '/api/v1/audits', '/api/v1/conversion-tasks'].map((p): Case => [
        `page 1e20 on ${p}`,
        'GET',
        `${p}?page=1e20`,
        {},
        422,
      ]),
      ['page 1e20 on :2077', 'GET', '/api/v1/conversions?page=1e20', { base: g.conversionUrl }, 422],
    ];
    assert.equal(
      (await g.http('POST', '/api/v1/personal-access-tokens', { body: { name: 'dup-token' }, headers: root })).status,
      200,
    );
    assert.equal(
      (await g.http('POST', '/api/v1/registries', { body: { host: 'dup.example.com' }, headers: root })).status,
      200,
    );
    const wrong: string[] = [];
    for (const [name, method, path, opts, status] of cases) {
      const r = await g.http(method, path, {
        ...opts,
        headers: { authorization: ROOT_BASIC, 'content-type': 'application/json' },
      });
      const shaped = opts.base
        ? typeof (r.json as { code?: unknown })?.code === 'string'
        : r.json !== undefined && ('errors' in (r.json as object) || 'message' in (r.json as object) || status === 200);
      if (r.status !== status || !shaped) wrong.push(`${name}: ${r.status} ${r.text.slice(0, 160)}`);
    }
    assert.deepEqual(wrong, []);
    assert.equal((await g.http('GET', '/healthy')).status, 200);
  });

  it('15. refused tokens are audited by name; accelctl --help never prints the saved token', async () => {
    const expired = await g.token(['job'], {
      expired_at: new Date(Date.now() - 60_000).toISOString(),
      name: 'expired-for-audit',
    });
    assert.equal(
      (await g.http('POST', '/oapi/v1/jobs', { body: {}, headers: { authorization: `Bearer ${expired}` } })).status,
      403,
    );
    const row = await eventually(
      async () =>
        (await db.query("SELECT actor_type, actor_name FROM audit WHERE actor_name = 'expired-for-audit'"))[0],
      5000,
      'audit row',
    );
    assert.equal(row.actor_type, 'PAT');
    const home = mkdtempSync(join(tmpdir(), 'accelctl-home-'));
    mkdirSync(join(home, 'accelctl'), { recursive: true });
    writeFileSync(join(home, 'accelctl', 'config.yaml'), 'server: http://127.0.0.1:1\ntoken: acc_SAVED-TOKEN-VALUE\n', {
      mode: 0o600,
    });
    const help = execFileSync(process.execPath, ['dist/apps/accelctl/src/main.js', '--help'], {
      env: { ...process.env, XDG_CONFIG_HOME: home, ACCEL_TOKEN: '' },
      encoding: 'utf8',
    });
    assert.match(help, /--token/);
    assert.ok(!help.includes('SAVED-TOKEN-VALUE'), help);
  });

  it('never shows a secret it was given, to anyone', async () => {
    for (const path of ['/api/v1/jobs?per_page=1000', '/api/v1/audits?per_page=1000', '/oapi/v1/jobs?per_page=1000']) {
      const r = await g.http('GET', path, { headers: root });
      for (const s of secretsSeen) assert.ok(!r.text.includes(s.replace('Bearer ', '')), `${path} leaks ${s}`);
    }
  });
});

describe('security: failed logins are limited per user and per source', () => {
  let g: TestGateway;

  before(async () => {
    g = await TestGateway.start({
      auth: { signinPerMinute: 1000, failedLogins: { perUser: 4, perSource: 8, windowSeconds: 60 } },
    });
    assert.equal(
      (
        await g.http('POST', '/api/v1/users', {
          body: { name: 'viewer', password: 'viewer-password', role: 'guest' },
          headers: { authorization: ROOT_BASIC },
        })
      ).status,
      200,
    );
  });
  after(async () => g?.stop());

  it('9. guesses stop at the limit with 429 and Retry-After, answered fast; a known caller keeps working until its source is over', async () => {
    const rootCall = () => g.http('GET', '/api/v1/users/me', { headers: { authorization: ROOT_BASIC } });
    assert.equal((await rootCall()).status, 200); // root has signed in from here before
    const guess = (i: number) =>
      g.http('GET', '/oapi/v1/jobs', { headers: { authorization: basic('viewer', `guess-${i}`) } });
    const statuses: number[] = [];
    const guessMs: number[] = [];
    for (let i = 0; i < 4; i++) {
      const s = performance.now();
      statuses.push((await guess(i)).status);
      guessMs.push(performance.now() - s);
    }
    assert.deepEqual(statuses, [401, 401, 401, 401]);
    const kdfMs = Math.min(...guessMs);
    const t0 = performance.now();
    const limited = await guess(99);
    const limitedMs = performance.now() - t0;
    assert.equal(limited.status, 429, limited.text);
    assert.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After');
    assert.ok(
      limitedMs < kdfMs / 2,
      `a refused guess costs no KDF (${limitedMs.toFixed(1)} ms vs ${kdfMs.toFixed(1)} ms for a checked one)`,
    );
    // The right password is refused too while the user is locked, on the console as well.
    assert.equal(
      (await g.http('POST', '/api/v1/users/signin', { body: { name: 'viewer', password: 'viewer-password' } })).status,
      429,
    );
    // Root, known from this source, is not locked out by guesses at another user, and stays fast.
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      assert.equal((await rootCall()).status, 200);
      times.push(performance.now() - s);
    }
    assert.ok(Math.min(...times) < kdfMs / 2, `root stays fast (${times.map((t) => t.toFixed(1)).join(', ')} ms)`);
    // The source's own limit: 8 failures in all from here, whatever the names.
    for (let i = 0; i < 4; i++)
      assert.equal(
        (await g.http('GET', '/oapi/v1/jobs', { headers: { authorization: basic(`nobody-${i}`, 'x') } })).status,
        401,
      );
    assert.equal(
      (await g.http('GET', '/oapi/v1/jobs', { headers: { authorization: basic('nobody-9', 'x') } })).status,
      429,
    );
    assert.equal((await rootCall()).status, 429);
  });
});

describe('security: registry hops stay inside the allow-list', () => {
  const servers: LoopbackServer[] = [];
  const start = async (s: LoopbackServer) => {
    servers.push(s);
    return s.start();
  };
  after(async () => Promise.all(servers.map((s) => s.stop())));

  const client = (allowed: string[], credentials: Record<string, unknown>[] = []) => {
    const config = buildConfig({
      auth: { encryptionKey: 'k'.repeat(44) },
      registry: { allowed, credentials, timeoutMs: 2000 },
    });
    return new RegistryClient(config, new RegistryAccess(config));
  };
  const loc = (s: LoopbackServer) => ({
    scheme: 'http' as const,
    host: s.host,
    repository: 'library/app',
    reference: 'v1',
  });
  const digest = `sha256:${'b'.repeat(64)}`;

  it('6. a blob redirect to a host outside the allow-list is refused before any request reaches it; allowed hops get no registry credentials', async () => {
    const canary = await start(new LoopbackServer((_, res) => res.writeHead(200).end('blob-bytes')));
    const registry = await start(
      new LoopbackServer((req, res) => {
        if (!req.headers.authorization)
          return res.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' }).end();
        res.writeHead(307, { location: `http://${canary.host}/storage/blob?signature=abc` }).end();
      }),
    );
    const creds = [{ host: registry.host, username: 'robot', password: 'robot-secret' }];
    await assert.rejects(
      client([registry.host], creds).getBlob(loc(registry), digest),
      /redirected a blob to 127\.0\.0\.1:\d+, which is not in the gateway's allowed registries/,
    );
    assert.equal(canary.seen.length, 0, 'the canary saw nothing');
    const body = await client([registry.host, canary.host], creds).getBlob(loc(registry), digest);
    assert.equal(Buffer.concat(await body.toArray()).toString(), 'blob-bytes');
    assert.equal(canary.seen.length, 1);
    assert.equal(canary.seen[0].authorization, undefined, 'registry credentials stay with the registry');
  });

  it('7. stored credentials go only to the token realm configured for them', async () => {
    const realm = await start(
      new LoopbackServer((_, res) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'issued' })),
      ),
    );
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {},
      layers: [],
    });
    const registry = await start(
      new LoopbackServer((req, res) => {
        if (req.headers.authorization !== 'Bearer issued')
          return res
            .writeHead(401, { 'www-authenticate': `Bearer realm="http://${realm.host}/token",service="registry"` })
            .end();
        res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' }).end(manifest);
      }),
    );
    const robot = basic('robot', 'robot-secret');
    // Named by the challenge only: the token is asked for anonymously.
    await client(['127.0.0.1:*'], [{ host: registry.host, username: 'robot', password: 'robot-secret' }]).getManifest(
      loc(registry),
      'v1',
    );
    assert.equal(realm.seen.length, 1);
    assert.equal(realm.seen[0].authorization, undefined, 'credentials withheld from an unconfigured realm');
    // Configured for them: sent, and trusted for this registry without being in the allow-list.
    await client(
      [registry.host],
      [{ host: registry.host, username: 'robot', password: 'robot-secret', tokenRealm: realm.host }],
    ).getManifest(loc(registry), 'v1');
    assert.equal(realm.seen[1].authorization, robot);
    // Neither configured nor allowed: refused, naming the token service.
    await assert.rejects(
      client([registry.host], [{ host: registry.host, username: 'robot', password: 'robot-secret' }]).getManifest(
        loc(registry),
        'v1',
      ),
      /token service 127\.0\.0\.1:\d+ of registry .* is not in the gateway's allowed registries/,
    );
    assert.equal(realm.seen.length, 2);
  });
});
