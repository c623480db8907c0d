/**
 * The one-machine demo (scripts/demo.sh): a private registry with a sample image, reference
 * Dragonfly hosts speaking the real protos, and the gateway as its own process; then a Harbor
 * 2.15 preheat and a Harbor "Artifact pushed" webhook, end to end. `--once` stops when done;
 * otherwise everything stays up until Ctrl-C.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { request } from 'undici';
import { stringify } from 'yaml';
import { ReferenceScheduler, ReferenceSeedPeer } from '../support/dragonfly';
import { freePort, sleep } from '../support/env';
import { HarborSim } from '../support/harbor';
import { image, index, push } from '../support/images';
import { RegistryProcess } from '../support/registry';

const REPOSITORY = 'demo/hello';
const TAG = 'v1';

interface DemoServices {
  db: { host: string; port: number; username: string; password: string };
  redis: { host: string; port: number };
}

/** What demo.sh found or started; the defaults are the usual local ports. */
function servicesFromEnv(env: NodeJS.ProcessEnv): DemoServices {
  return {
    db: {
      host: env.ACCEL_DEMO_DB_HOST ?? '127.0.0.1',
      port: Number(env.ACCEL_DEMO_DB_PORT ?? 3306),
      username: env.ACCEL_DEMO_DB_USER ?? 'root',
      password: env.ACCEL_DEMO_DB_PASSWORD ?? '',
    },
    redis: { host: env.ACCEL_DEMO_REDIS_HOST ?? '127.0.0.1', port: Number(env.ACCEL_DEMO_REDIS_PORT ?? 6379) },
  };
}

const step = (n: number, text: string) => console.log(`\n==> ${n}. ${text}`);
const info = (text: string) => console.log(`    ${text}`);

/** The wanted port when nothing listens on it, else any free one. */
async function portOr(wanted: number): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => void freePort().then(resolve));
    s.listen(wanted, '127.0.0.1', () => s.close(() => resolve(wanted)));
  });
}

class Demo {
  private readonly dir = mkdtempSync(join(tmpdir(), 'accel-demo-'));
  private readonly registry = new RegistryProcess(join(this.dir, 'registry'), { kind: 'none' });
  private readonly seeds = [new ReferenceSeedPeer('seed-peer-1'), new ReferenceSeedPeer('seed-peer-2')];
  private readonly peers = [new ReferenceSeedPeer('peer-1', '127.0.0.2'), new ReferenceSeedPeer('peer-2', '127.0.0.3')];
  private readonly scheduler = new ReferenceScheduler();
  private readonly database = `accel_demo_${randomBytes(3).toString('hex')}`;
  private readonly redisPrefix = `accel-demo-${randomBytes(3).toString('hex')}`;
  private readonly rootPassword = randomBytes(12).toString('base64url');
  private readonly webhookAuth = `Bearer ${randomBytes(16).toString('hex')}`;
  private readonly logFile = join(this.dir, 'gateway.log');
  private gateway?: ChildProcess;
  private gatewayExit?: Promise<void>;
  private port = 0;
  private conversionPort = 0;

  constructor(private readonly services: DemoServices) {}

  private get api(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  private get rootAuth(): string {
    return `Basic ${Buffer.from(`root:${this.rootPassword}`).toString('base64')}`;
  }

  async run(): Promise<void> {
    step(1, 'private registry (Debian docker-registry) with a sample multi-platform image');
    await this.registry.start();
    const sample = index([
      await image({ arch: 'amd64', layers: 2, layerBytes: 256 * 1024 }),
      await image({ arch: 'arm64', layers: 2, layerBytes: 256 * 1024 }),
    ]);
    await push(this.registry.host, REPOSITORY, TAG, sample);
    info(`pushed ${this.registry.host}/${REPOSITORY}:${TAG} (${sample.digest})`);

    step(2, 'reference Dragonfly hosts (dfdaemon.v2 DownloadTask, scheduler.v2 ListHosts, gRPC health)');
    await Promise.all([...this.seeds, ...this.peers].map((p) => p.start()));
    await this.scheduler.start();
    this.scheduler.hosts = [
      ...this.seeds.map((s) => ({ hostname: s.hostname, ip: s.ip, port: s.port, type: 1 as const })),
      ...this.peers.map((s) => ({ hostname: s.hostname, ip: s.ip, port: s.port, type: 0 as const })),
    ];
    for (const h of [...this.seeds, ...this.peers]) info(`${h.hostname.padEnd(12)} ${h.ip}:${h.port}`);
    info(`${'scheduler-1'.padEnd(12)} 127.0.0.1:${this.scheduler.port}`);

    step(3, 'the gateway, configured for them (its own process)');
    await this.startGateway();
    info(`provider and admin API ${this.api}, conversion API http://127.0.0.1:${this.conversionPort}`);
    info(`log: ${this.logFile}`);

    step(4, 'Harbor 2.15 preheats the image to all peers (Dragonfly vendor, Basic auth); the scheduler lists them');
    await this.preheat();

    step(5, 'Harbor sends "Artifact pushed"; the gateway converts it to eStargz and pushes it back');
    await this.convert(sample.digest);

    step(6, 'metrics after the run');
    await this.showMetrics();

    console.log('\n==> Where to look');
    info(`Admin API and OpenAPI console ${this.api}/api/docs (user root, password ${this.rootPassword})`);
    info(`Prometheus metrics           ${this.api}/metrics (same credentials)`);
    info(`Queue dashboard              ${this.api}/admin/queues`);
    info(`Readiness                    ${this.api}/readyz`);
    info(`Conversion API               http://127.0.0.1:${this.conversionPort}/api/v1/conversions`);
    info(`accelctl                     ACCEL_SERVER=${this.api} ACCEL_USER=root ACCEL_PASSWORD=<above> \\`);
    info(`                               node dist/apps/accelctl/src/main.js job list`);
  }

  private async startGateway(): Promise<void> {
    this.port = await portOr(8080);
    this.conversionPort = await portOr(2077);
    const config = {
      logLevel: 'log',
      logFormat: 'json',
      server: { host: '127.0.0.1', port: this.port, conversionPort: this.conversionPort },
      database: { ...this.services.db, database: this.database },
      redis: { ...this.services.redis, prefix: this.redisPrefix },
      auth: { encryptionKey: randomBytes(32).toString('base64'), rootPassword: this.rootPassword },
      registry: { allowed: [this.registry.host] },
      preheat: {
        clusters: [
          {
            id: 1,
            name: 'demo-cluster',
            schedulers: [{ hostname: 'scheduler-1', ip: '127.0.0.1', port: this.scheduler.port }],
            seedPeers: this.seeds.map((s) => ({ hostname: s.hostname, ip: s.ip, port: s.port })),
          },
        ],
      },
      provider: {
        work_dir: join(this.dir, 'work'),
        source: { [this.registry.host]: { plain_http: true, webhook: { auth_header: this.webhookAuth } } },
      },
      converter: {
        worker: 2,
        driver: { type: 'estargz', config: { chunk_size: String(64 * 1024) } },
        rules: [{ tag_suffix: '-esgz' }],
        preheat: { enabled: true, scope: 'all_seed_peers', cluster_ids: [1] },
      },
      metrics: { enabled: true },
      queueDashboard: { enabled: true },
      retention: { intervalMinutes: 0 },
    };
    const file = join(this.dir, 'config.yaml');
    writeFileSync(file, stringify(config), { mode: 0o600 });
    const log = createWriteStream(this.logFile);
    const main = join(__dirname, '../../apps/manager/src/main.js');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('ACCEL__')));
    const child = spawn(process.execPath, [main, '--config', file], { stdio: ['ignore', 'pipe', 'pipe'], env });
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.gateway = child;
    this.gatewayExit = new Promise((r) => child.once('exit', () => r()));
    process.once('exit', () => child.kill('SIGKILL'));
    const deadline = Date.now() + 90_000;
    let last = '';
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`the gateway exited (${child.exitCode}):\n${this.logTail()}`);
      last = await request(`${this.api}/readyz`).then(
        async (r) => (r.statusCode === 200 ? '' : `${r.statusCode} ${await r.body.text()}`),
        (e: Error) => e.message,
      );
      if (!last) return;
      await sleep(300);
    }
    throw new Error(`not ready after 90 s: ${last}\n${this.logTail()}`);
  }

  private logTail(): string {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '';
    }
  }

  private async preheat(): Promise<void> {
    const harbor = new HarborSim('2.15', {
      endpoint: this.api,
      vendor: 'dragonfly',
      authMode: 'BASIC',
      authInfo: { root: this.rootPassword },
    });
    const out = await harbor.preheat(
      {
        externalUrl: `http://${this.registry.host}`,
        repository: REPOSITORY,
        tag: TAG,
        digest: '',
        jwt: 'harbor-pull-token',
      },
      { scope: 'all_peers', clusterIds: [1] },
    );
    info(
      `job ${out.taskId}: ${out.status === 'Success' ? 'SUCCESS' : `FAILURE ${out.error}`} after ${out.polls} polls`,
    );
    if (out.status !== 'Success') throw new Error(`preheat failed: ${out.error}`);
    info("Harbor's job log (blob, host, ip, cluster, state):");
    for (const row of out.log) info(`  ${row.replace(/^http:\/\/[^/]+/, '')}`);
    info('where the blobs landed (fetched from the registry, digest verified):');
    for (const h of [...this.seeds, ...this.peers]) {
      const blobs = h.fetches.filter((f) => f.digestOk && !f.cached);
      info(`  ${h.hostname.padEnd(12)} ${blobs.length} blobs, ${blobs.reduce((n, f) => n + f.bytes, 0)} bytes`);
    }
  }

  private async convert(digest: string): Promise<void> {
    const [namespace, name] = REPOSITORY.split('/');
    const payload = {
      type: 'PUSH_ARTIFACT',
      occur_at: Math.floor(Date.now() / 1000),
      operator: 'admin',
      event_data: {
        resources: [{ digest, tag: TAG, resource_url: `${this.registry.host}/${REPOSITORY}:${TAG}` }],
        repository: { date_created: 1735000000, name, namespace, repo_full_name: REPOSITORY, repo_type: 'private' },
      },
    };
    const conversionApi = `http://127.0.0.1:${this.conversionPort}/api/v1/conversions`;
    const r = await request(conversionApi, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: this.webhookAuth },
      body: JSON.stringify(payload),
    });
    info(`POST /api/v1/conversions → ${r.statusCode} ${await r.body.text()}`);
    if (r.statusCode !== 200) throw new Error('the webhook was refused');
    const deadline = Date.now() + 120_000;
    let task: Record<string, unknown> | undefined;
    while (Date.now() < deadline) {
      const l = await request(conversionApi, { headers: { authorization: this.rootAuth } });
      const tasks = (await l.body.json()) as Record<string, unknown>[];
      task = tasks[0];
      if (task && task.status !== 'PROCESSING') break;
      await sleep(300);
    }
    if (!task || task.status !== 'COMPLETED') throw new Error(`conversion did not succeed: ${JSON.stringify(task)}`);
    info(`task ${String(task.id)} ${String(task.status)}: ${String(task.source)} → ${String(task.target)}`);
    info(
      `  ${String(task.source_size)} bytes in, ${String(task.target_size)} bytes out, digest ${String(task.target_digest)}`,
    );
    await this.showConverted(String(task.target));
    const jobId = Number(task.preheat_job_id);
    if (jobId > 0) {
      const job = await this.waitJob(jobId);
      info(`chained preheat job ${jobId} (all_seed_peers): ${job.state}`);
      if (job.state !== 'SUCCESS') throw new Error(`chained preheat: ${JSON.stringify(job.result)}`);
    }
  }

  /** Reads the converted manifest back from the registry, as a lazy-pulling client would. */
  private async showConverted(target: string): Promise<void> {
    const tag = target.slice(target.lastIndexOf(':') + 1);
    const accept = ['application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json'];
    const get = async (ref: string) => {
      const r = await request(`http://${this.registry.host}/v2/${REPOSITORY}/manifests/${ref}`, {
        headers: { accept: accept.join(', ') },
      });
      return (await r.body.json()) as {
        manifests?: { digest: string; platform?: { architecture: string } }[];
        layers?: { digest: string; annotations?: Record<string, string> }[];
      };
    };
    const top = await get(tag);
    for (const m of top.manifests ?? [{ digest: tag }]) {
      const manifest = m.digest === tag ? top : await get(m.digest);
      const platform = 'platform' in m && m.platform ? m.platform.architecture : '';
      for (const l of manifest.layers ?? []) {
        const toc = l.annotations?.['containerd.io/snapshot/stargz/toc.digest'];
        info(`  ${platform.padEnd(6)} ${l.digest.slice(0, 19)}… TOC ${toc ? toc.slice(0, 19) + '…' : 'missing'}`);
      }
    }
  }

  private async waitJob(id: number): Promise<{ state: string; result: unknown }> {
    for (;;) {
      const r = await request(`${this.api}/oapi/v1/jobs/${id}`, { headers: { authorization: this.rootAuth } });
      const job = (await r.body.json()) as { state: string; result: unknown };
      if (job.state !== 'PENDING') return job;
      await sleep(300);
    }
  }

  private async showMetrics(): Promise<void> {
    const r = await request(`${this.api}/metrics`, { headers: { authorization: this.rootAuth } });
    const text = await r.body.text();
    const wanted =
      /^accel_(preheat_jobs_total|preheat_downloads_total|preheat_origin_reads_total|conversion_tasks_total)\{/;
    for (const line of text.split('\n').filter((l) => wanted.test(l))) info(line);
  }

  async stop(): Promise<void> {
    const child = this.gateway;
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      const killed = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await this.gatewayExit;
      clearTimeout(killed);
    }
    await Promise.all([...this.seeds, ...this.peers].map((p) => p.stop()));
    await this.scheduler.stop();
    await this.registry.stop();
    await this.forgetState();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** The demo's database and Redis keys go with it. */
  private async forgetState(): Promise<void> {
    const ds = new DataSource({ type: 'mysql', ...this.services.db });
    await ds
      .initialize()
      .then(() => ds.query(`DROP DATABASE IF EXISTS \`${this.database}\``))
      .finally(() => (ds.isInitialized ? ds.destroy() : undefined))
      .catch(() => undefined);
    const redis = new Redis({ ...this.services.redis, lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await redis.connect();
      const keys = await redis.keys(`${this.redisPrefix}:*`);
      if (keys.length) await redis.del(...keys);
    } catch {
      // Nothing to forget when Redis is away.
    } finally {
      redis.disconnect();
    }
  }
}

async function main(): Promise<number> {
  const once = process.argv.includes('--once');
  const demo = new Demo(servicesFromEnv(process.env));
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= demo.stop());
  const interrupted = new Promise<number>((resolve) => {
    const onSignal = () => {
      console.log('\n==> stopping everything the demo started');
      void stop().then(() => resolve(0));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  try {
    const ran = demo.run().then(() => 'done' as const);
    const first = await Promise.race([ran, interrupted]);
    if (first !== 'done') return first;
  } catch (e) {
    console.error(`\ndemo failed: ${(e as Error).message}`);
    await stop();
    return 1;
  }
  if (once) {
    await stop();
    console.log('\n==> demo complete; everything it started is stopped');
    return 0;
  }
  console.log('\n==> running; press Ctrl-C to stop everything the demo started');
  return interrupted;
}

void main().then((code) => process.exit(code));
