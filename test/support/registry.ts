import bcrypt from 'bcryptjs';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, sleep } from './env';
import { TokenServer } from './token-server';

export type RegistryAuth =
  { kind: 'none' } | { kind: 'basic'; users: Record<string, string> } | { kind: 'token'; tokens: TokenServer };

/** One Debian docker-registry process; several can share one storage directory (one per auth mode). */
export class RegistryProcess {
  private proc?: ChildProcess;
  port = 0;
  readonly log: string[] = [];
  private partial = '';

  constructor(
    readonly storage: string,
    readonly auth: RegistryAuth,
  ) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /**
   * Starts docker-registry on a free port. The port is free when picked but another test file may
   * bind it first; then docker-registry exits and whatever holds the port answers instead, so only
   * a reply carrying the registry's API header counts, and a lost port is picked again.
   */
  async start(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const exit = await this.startOnce();
      if (exit === undefined) return;
      if (attempt === 5 || !this.log.some((l) => l.includes('address already in use'))) {
        throw new Error(`docker-registry did not start on ${this.host} (${exit}): ${this.log.slice(-5).join('\n')}`);
      }
    }
  }

  /** One try: undefined once this process answers, else why it did not. */
  private async startOnce(): Promise<string | undefined> {
    this.port = await freePort();
    const config = this.writeConfig();
    const proc = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const collect = (chunk: Buffer) => {
      const text = this.partial + chunk.toString('utf8');
      const lines = text.split('\n');
      this.partial = lines.pop() ?? '';
      this.log.push(...lines);
    };
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    for (let i = 0; i < 100; i++) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        await new Promise((r) => setImmediate(r));
        return `exited with ${proc.exitCode ?? proc.signalCode}`;
      }
      try {
        const res = await fetch(`http://${this.host}/v2/`);
        await res.arrayBuffer();
        if (res.headers.get('docker-distribution-api-version') === 'registry/2.0') return undefined;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    proc.kill('SIGKILL');
    return 'no answer in 10 s';
  }

  private writeConfig(): string {
    const dir = mkdtempSync(join(tmpdir(), 'accel-registry-'));
    let auth = '';
    if (this.auth.kind === 'basic') {
      const htpasswd = join(dir, 'htpasswd');
      writeFileSync(
        htpasswd,
        Object.entries(this.auth.users)
          .map(([u, p]) => `${u}:${bcrypt.hashSync(p, 4)}`)
          .join('\n') + '\n',
      );
      auth = `auth:\n  htpasswd:\n    realm: basic-realm\n    path: ${htpasswd}\n`;
    } else if (this.auth.kind === 'token') {
      const t = this.auth.tokens;
      auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.certPath}\n`;
    }
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      `version: 0.1\nlog:\n  level: warn\n  formatter: text\nstorage:\n  filesystem:\n    rootdirectory: ${this.storage}\n  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\nhttp:\n  addr: 127.0.0.1:${this.port}\n  secret: accel-test-secret\n${auth}`,
    );
    return config;
  }

  /** GETs of a blob this registry answered with 200 or 307 (access log lines). */
  blobGets(repository: string, digest: string): number {
    const needle = `"GET /v2/${repository}/blobs/${digest} `;
    return this.log.filter((l) => l.includes(needle) && / (200|307) /.test(l.slice(l.indexOf(needle) + needle.length)))
      .length;
  }

  /** The registry's process id while it runs (for CPU accounting in benchmarks). */
  get pid(): number | undefined {
    return this.proc?.exitCode === null ? this.proc.pid : undefined;
  }

  /** Manifest requests (any method, any answer) this registry logged for a repository. */
  manifestRequests(repository: string): number {
    return this.log.filter((l) => l.includes(` /v2/${repository}/manifests/`)).length;
  }

  async stop(): Promise<void> {
    if (!this.proc || this.proc.exitCode !== null) return;
    const exited = new Promise((r) => this.proc!.once('exit', r));
    this.proc.kill('SIGTERM');
    await exited;
  }
}

/** An open registry (for pushing), one behind basic auth and one behind token auth, all on one storage. */
export class RegistryFarm {
  readonly storage = mkdtempSync(join(tmpdir(), 'accel-registry-data-'));
  readonly tokens = new TokenServer({ robot: 'robot-secret' });
  readonly basicUsers = { puller: 'puller-secret' };
  readonly open = new RegistryProcess(this.storage, { kind: 'none' });
  readonly basic = new RegistryProcess(this.storage, { kind: 'basic', users: this.basicUsers });
  readonly token = new RegistryProcess(this.storage, { kind: 'token', tokens: this.tokens });

  async start(): Promise<void> {
    await this.tokens.start();
    await Promise.all([this.open.start(), this.basic.start(), this.token.start()]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.open.stop(), this.basic.stop(), this.token.stop(), this.tokens.stop()]);
  }
}
