import { GatewayConfig } from '@accel/config';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { RunningManager, startManager } from '../../apps/manager/src/bootstrap';
import { dropDatabase, testConfig } from './env';

export interface HttpResult<T = unknown> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: T;
}

export const ROOT_BASIC = `Basic ${Buffer.from('root:root-password-for-tests').toString('base64')}`;

/** A manager (with in-process workers) on free ports, its own database and Redis prefix. */
export class TestGateway {
  manager!: RunningManager;

  constructor(readonly config: GatewayConfig) {}

  static async start(overrides: Record<string, unknown> = {}): Promise<TestGateway> {
    const g = new TestGateway(testConfig(overrides));
    g.manager = await startManager(g.config);
    return g;
  }

  get url(): string {
    return `http://127.0.0.1:${this.manager.port}`;
  }

  get conversionUrl(): string {
    return `http://127.0.0.1:${this.manager.conversionPort}`;
  }

  async http<T = unknown>(
    method: string,
    path: string,
    opts: { body?: unknown; raw?: string | Buffer; headers?: Record<string, string>; base?: string } = {},
  ): Promise<HttpResult<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    let body: string | Buffer | undefined = opts.raw;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await request((opts.base ?? this.url) + path, { method: method as 'GET', headers, body });
    const text = await res.body.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, text, json: json as T };
  }

  /** Mints a personal access token through the admin API as root. */
  async token(scopes?: string[], extra: Record<string, unknown> = {}): Promise<string> {
    const r = await this.http<{ token: string }>('POST', '/api/v1/personal-access-tokens', {
      body: { name: `t-${Math.random().toString(36).slice(2)}`, scopes, ...extra },
      headers: { authorization: ROOT_BASIC },
    });
    if (r.status !== 200) throw new Error(`token create: ${r.status} ${r.text}`);
    return r.json.token;
  }

  async addCluster(id: number, name: string): Promise<void> {
    const r = await this.http('POST', '/api/v1/scheduler-clusters', {
      body: { id, name },
      headers: { authorization: ROOT_BASIC },
    });
    if (r.status !== 200) throw new Error(`cluster create: ${r.status} ${r.text}`);
  }

  async addSeedPeer(clusterId: number, hostname: string, port: number, ip = '127.0.0.1'): Promise<void> {
    const r = await this.http('POST', '/api/v1/seed-peers', {
      body: { host_name: hostname, ip, port, scheduler_cluster_id: clusterId },
      headers: { authorization: ROOT_BASIC },
    });
    if (r.status !== 200) throw new Error(`seed peer create: ${r.status} ${r.text}`);
  }

  async addScheduler(clusterId: number, hostname: string, port: number): Promise<void> {
    const r = await this.http('POST', '/api/v1/schedulers', {
      body: { host_name: hostname, ip: '127.0.0.1', port, scheduler_cluster_id: clusterId },
      headers: { authorization: ROOT_BASIC },
    });
    if (r.status !== 200) throw new Error(`scheduler create: ${r.status} ${r.text}`);
  }

  async stop(): Promise<void> {
    await this.manager?.close();
    await dropDatabase(this.config);
    const redis = new Redis({ host: this.config.redis.host, port: this.config.redis.port, lazyConnect: true });
    await redis.connect();
    const keys = await redis.keys(`${this.config.redis.prefix}:*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  }
}
