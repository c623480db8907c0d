import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { services } from '../support/env';

/** scripts/demo.sh as a newcomer runs it (the suite has built already, so it skips the build). */
function demo(args: string[]) {
  const child = spawn('bash', ['scripts/demo.sh', ...args], {
    env: {
      ...process.env,
      ACCEL_DEMO_SKIP_BUILD: '1',
      DB_HOST: services.db.host,
      DB_PORT: String(services.db.port),
      DB_USER: services.db.username,
      DB_PASSWORD: services.db.password,
      REDIS_HOST: services.redis.host,
      REDIS_PORT: String(services.redis.port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // What the demo prints is stdout; the service checks' log lines go to stderr.
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exited, output: () => out, all: () => `${out}\n--- stderr ---\n${err}` };
}

const listening = ({ host, port }: Address) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

interface Address {
  host: string;
  port: number;
}

/** Every address the demo printed: the gateway's, the registry's and each reference host's. */
function printedAddresses(out: string): Address[] {
  const seen = new Set([...out.matchAll(/\b(127\.0\.0\.\d+):(\d+)\b/g)].map((m) => `${m[1]}:${m[2]}`));
  return [...seen].map((a) => ({ host: a.split(':')[0], port: Number(a.split(':')[1]) }));
}

describe('scripts/demo.sh', () => {
  it('--once: preheats and converts end to end, prints results and URLs, stops all it started, exits 0', async () => {
    const d = demo(['--once']);
    const code = await d.exited;
    const out = d.output();
    assert.equal(code, 0, d.all());
    assert.match(out, /job 1: SUCCESS/);
    // The scheduler's normal peers hold the default platform's config and two layers; seed peers nothing yet.
    for (const host of ['peer-1', 'peer-2']) assert.match(out, new RegExp(`${host}\\s+3 blobs`));
    assert.match(out, /seed-peer-1\s+0 blobs/);
    assert.match(out, /COMPLETED: 127\.0\.0\.1:\d+\/demo\/hello:v1 → 127\.0\.0\.1:\d+\/demo\/hello:v1-esgz/);
    assert.equal((out.match(/TOC sha256:/g) ?? []).length, 4, 'every converted layer has a TOC digest');
    assert.match(out, /chained preheat job 2 \(all_seed_peers\): SUCCESS/);
    assert.match(out, /accel_preheat_jobs_total\{dialect="dragonfly-v2",state="SUCCESS"\} 1/);
    for (const path of ['/api/docs', '/metrics', '/admin/queues', '/readyz']) assert.ok(out.includes(path), path);
    const addresses = printedAddresses(out);
    // Gateway (2 ports), registry, 2 seed peers, 2 peers, scheduler.
    assert.equal(addresses.length, 8, JSON.stringify(addresses));
    for (const a of addresses) assert.equal(await listening(a), false, `${a.host}:${a.port} is closed after the demo`);
  });

  it('Ctrl-C while it stays up stops everything it started and exits 0', async (t) => {
    const d = demo([]);
    t.after(() => void d.child.kill('SIGKILL'));
    const deadline = Date.now() + 120_000;
    while (!d.output().includes('press Ctrl-C') && Date.now() < deadline && d.child.exitCode === null)
      await new Promise((r) => setTimeout(r, 200));
    assert.match(d.output(), /press Ctrl-C/, d.all());
    const addresses = printedAddresses(d.output());
    assert.equal(addresses.length, 8, JSON.stringify(addresses));
    for (const a of addresses) assert.ok(await listening(a), `${a.host}:${a.port} answers while the demo runs`);
    d.child.kill('SIGINT');
    assert.equal(await d.exited, 0, d.all());
    assert.match(d.output(), /stopping everything the demo started/);
    for (const a of addresses) assert.equal(await listening(a), false, `${a.host}:${a.port} is closed after Ctrl-C`);
  });
});
