import { deepMerge } from '@accel/config';
import assert from 'node:assert/strict';
import { eventually } from './env';
import { ReferenceSeedPeer } from './dragonfly';
import { TestGateway } from './gateway';
import { BuiltImage, MT, image, index, push, sha256 as digestOf } from './images';
import { gzipLayerOf, richLayerFiles } from './layers';
import { RegistryProcess } from './registry';
import { TokenServer } from './token-server';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const WEBHOOK_SECRET = 'Bearer webhook-secret-for-tests';

/** An image whose first layer has every tar entry type, chunk-boundary files and xattrs. */
export async function richImage(chunkSize: number, docker = false): Promise<BuiltImage> {
  const rich = await gzipLayerOf(richLayerFiles(chunkSize));
  const upper = await gzipLayerOf([
    { name: 'etc/', type: 'directory', mode: 0o755 },
    { name: 'etc/.wh.hostname', type: 'file', content: Buffer.alloc(0) },
    { name: 'etc/hostname2', type: 'file', content: Buffer.from('second layer\n') },
    { name: 'usr/bin/tool-copy', type: 'file', content: Buffer.from('overwritten in layer 2\n'), mode: 0o755 },
  ]);
  const layers = [rich, upper];
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/bin'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => digestOf(l.tar)) },
      history: [{ created_by: 'layer 1' }, { created_by: 'layer 2' }],
    }),
  );
  const layerType = docker ? MT.dockerLayer : MT.ociLayer;
  const mediaType = docker ? MT.dockerManifest : MT.ociManifest;
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType,
      config: { mediaType: docker ? MT.dockerConfig : MT.ociConfig, digest: digestOf(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: layerType, digest: digestOf(l.data), size: l.data.length })),
    }),
  );
  return {
    manifest,
    mediaType,
    digest: digestOf(manifest),
    blobs: [
      { digest: digestOf(config), size: config.length, mediaType: MT.ociConfig, data: config },
      ...layers.map((l) => ({ digest: digestOf(l.data), size: l.data.length, mediaType: layerType, data: l.data })),
    ],
    pulled: [digestOf(config), ...layers.map((l) => digestOf(l.data))],
    platform: { os: 'linux', architecture: 'amd64' },
  };
}

/** A registry playing Harbor, a gateway converting its pushes, and seed peers for chained preheats. */
export class ConversionWorld {
  /** Where tests push (open); with `tokenAuth`, the gateway reads and writes the same storage through `source`. */
  readonly registry = new RegistryProcess(mkdtempSync(join(tmpdir(), 'accel-conv-')), { kind: 'none' });
  readonly seeds = [new ReferenceSeedPeer('seed-1'), new ReferenceSeedPeer('seed-2')];
  /** Harbor-style token service in front of `source` (robot:robot-secret), when asked for. */
  readonly tokens?: TokenServer;
  private readonly guarded?: RegistryProcess;
  gateway!: TestGateway;

  private constructor(tokenAuth: boolean) {
    if (tokenAuth) {
      this.tokens = new TokenServer({ robot: 'robot-secret' });
      this.guarded = new RegistryProcess(this.registry.storage, { kind: 'token', tokens: this.tokens });
    }
  }

  /** The registry named in webhooks: Harbor's, behind token auth when the world has one. */
  get source(): RegistryProcess {
    return this.guarded ?? this.registry;
  }

  static async start(
    overrides: Record<string, unknown> = {},
    opts: { tokenAuth?: boolean } = {},
  ): Promise<ConversionWorld> {
    const w = new ConversionWorld(opts.tokenAuth ?? false);
    try {
      await w.init(overrides);
    } catch (e) {
      await w.stop().catch(() => undefined);
      throw e;
    }
    return w;
  }

  private async init(overrides: Record<string, unknown>): Promise<void> {
    await this.tokens?.start();
    await this.registry.start();
    await this.guarded?.start();
    await Promise.all(this.seeds.map((s) => s.start()));
    // The robot's credentials, and the token service they may go to (trusted for this registry only).
    const auth =
      this.guarded && this.tokens
        ? { auth: Buffer.from('robot:robot-secret').toString('base64'), token_realm: new URL(this.tokens.realm).host }
        : {};
    this.gateway = await TestGateway.start(
      deepMerge(
        {
          // Only the webhook's source registry and the token service configured for it (no other fetches).
          registry: { allowed: [] },
          provider: {
            source: { [this.source.host]: { plain_http: true, ...auth, webhook: { auth_header: WEBHOOK_SECRET } } },
          },
          converter: {
            worker: 2,
            driver: { type: 'estargz', config: { chunk_size: String(64 * 1024) } },
            rules: [{ tag_suffix: '-esgz' }],
          },
          preheat: {
            clusters: [
              {
                id: 1,
                name: 'cluster-1',
                seedPeers: this.seeds.map((s) => ({ hostname: s.hostname, ip: s.ip, port: s.port })),
                schedulers: [],
              },
            ],
          },
        },
        overrides,
      ),
    );
  }

  async push(repository: string, tag: string, img: BuiltImage | ReturnType<typeof index>): Promise<void> {
    await push(this.registry.host, repository, tag, img);
  }

  /** Harbor's Default PUSH_ARTIFACT payload for a tag push. */
  defaultPayload(repository: string, tag: string, digest: string) {
    const [namespace, ...name] = repository.split('/');
    return {
      type: 'PUSH_ARTIFACT',
      occur_at: Math.floor(Date.now() / 1000),
      operator: 'admin',
      event_data: {
        resources: [{ digest, tag, resource_url: `${this.source.host}/${repository}:${tag}` }],
        repository: {
          date_created: 1735000000,
          name: name.join('/'),
          namespace,
          repo_full_name: repository,
          repo_type: 'private',
        },
      },
    };
  }

  /** Harbor 2.8+'s CloudEvents payload. */
  cloudEventsPayload(repository: string, tag: string, digest: string) {
    const d = this.defaultPayload(repository, tag, digest);
    return {
      specversion: '1.0',
      id: '3f1c2b8e-0d7a-4a57-9d0c-5e9c7d2f1a11',
      source: '/projects/1/webhook/policies/1',
      type: 'harbor.artifact.pushed',
      time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      datacontenttype: 'application/json',
      data: d.event_data,
      operator: 'admin',
      requestid: 'req-1',
    };
  }

  /** POSTs a webhook with the headers Harbor's jobservice sends. */
  webhook(payload: unknown, opts: { auth?: string | null; cloudEvents?: boolean; query?: string } = {}) {
    const headers: Record<string, string> = {
      'content-type': opts.cloudEvents ? 'application/cloudevents+json' : 'application/json',
      'user-agent': 'Go-http-client/1.1',
      'accept-encoding': 'gzip',
    };
    if (opts.auth !== null) headers.authorization = opts.auth ?? WEBHOOK_SECRET;
    return this.gateway.http('POST', `/api/v1/conversions${opts.query ?? ''}`, {
      body: payload,
      headers,
      base: this.gateway.conversionUrl,
    });
  }

  /** Waits for a chained preheat job to end; it must be SUCCESS with every digest at every seed peer. */
  async expectPreheated(jobId: number, token: string, digests: string[]): Promise<void> {
    assert.ok(jobId > 0, 'the conversion recorded its preheat job');
    const job = await eventually(
      async () => {
        const j = (
          await this.gateway.http<{ state: string; result: unknown }>('GET', `/oapi/v1/jobs/${jobId}`, {
            headers: { authorization: `Bearer ${token}` },
          })
        ).json;
        return j.state === 'PENDING' ? undefined : j;
      },
      30_000,
      'chained preheat',
    );
    assert.equal(job.state, 'SUCCESS', JSON.stringify(job.result));
    for (const s of this.seeds) {
      const fetched = new Set(s.fetches.filter((f) => f.digestOk).map((f) => f.url.slice(f.url.lastIndexOf('/') + 1)));
      for (const d of digests) assert.ok(fetched.has(d), `${s.hostname} has ${d}`);
    }
  }

  /** Uploads whose data the registry still holds for a repository (a cancelled one keeps only its hash state). */
  openUploads(repository: string): string[] {
    const dir = join(this.registry.storage, 'docker/registry/v2/repositories', repository, '_uploads');
    return existsSync(dir) ? readdirSync(dir).filter((id) => existsSync(join(dir, id, 'data'))) : [];
  }

  async stop(): Promise<void> {
    await this.gateway?.stop();
    await Promise.all(this.seeds.map((s) => s.stop()));
    await this.guarded?.stop();
    await this.registry.stop();
    await this.tokens?.stop();
  }
}

export { image, index };
