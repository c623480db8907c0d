import { deepMerge } from '@accel/config';
import { ReferenceScheduler, ReferenceSeedPeer } from './dragonfly';
import { TestGateway } from './gateway';
import { BuiltImage, BuiltIndex, image, index, push } from './images';
import { RegistryFarm } from './registry';

export interface Images {
  /** OCI single-platform image at library/app:v1. */
  single: BuiltImage;
  /** Docker schema2 image at library/legacy:v1. */
  docker: BuiltImage;
  /** OCI index (linux/amd64, linux/arm64) at library/multi:v1. */
  multi: BuiltIndex;
  /** Docker manifest list (linux/amd64, linux/arm/v7) at library/list:v1. */
  list: BuiltIndex;
}

/**
 * A P2P world for end-to-end tests: registries (open, basic, token) on one storage with test
 * images, two reference seed peers and a reference scheduler in cluster 1, and a gateway.
 */
export class PreheatWorld {
  readonly registries = new RegistryFarm();
  readonly seeds = [new ReferenceSeedPeer('seed-1'), new ReferenceSeedPeer('seed-2')];
  readonly scheduler = new ReferenceScheduler();
  /** Normal peers on their own loopback addresses, so `ips` filters can tell them apart. */
  readonly peers = [
    new ReferenceSeedPeer('peer-1', '127.0.0.2'),
    new ReferenceSeedPeer('peer-2', '127.0.0.3'),
    new ReferenceSeedPeer('peer-3', '127.0.0.4'),
  ];
  gateway!: TestGateway;
  images!: Images;

  static async start(gatewayOverrides: Record<string, unknown> = {}): Promise<PreheatWorld> {
    const w = new PreheatWorld();
    try {
      await w.init(gatewayOverrides);
    } catch (e) {
      // Whatever did start must stop, or the test file never exits.
      await w.stop().catch(() => undefined);
      throw e;
    }
    return w;
  }

  private async init(gatewayOverrides: Record<string, unknown>): Promise<void> {
    await this.registries.start();
    await Promise.all([...this.seeds, ...this.peers].map((s) => s.start()));
    await this.scheduler.start();
    this.scheduler.hosts = [
      ...this.seeds.map((s) => ({ hostname: s.hostname, ip: s.ip, port: s.port, type: 1 as const })),
      ...this.peers.map((s) => ({ hostname: s.hostname, ip: s.ip, port: s.port, type: 0 as const })),
    ];
    this.images = {
      single: await image(),
      docker: await image({ docker: true }),
      multi: index([await image({ arch: 'amd64' }), await image({ arch: 'arm64' })]),
      list: index(
        [await image({ docker: true, arch: 'amd64' }), await image({ docker: true, arch: 'arm', variant: 'v7' })],
        true,
      ),
    };
    const host = this.registries.open.host;
    await push(host, 'library/app', 'v1', this.images.single);
    await push(host, 'library/legacy', 'v1', this.images.docker);
    await push(host, 'library/multi', 'v1', this.images.multi);
    await push(host, 'library/list', 'v1', this.images.list);
    this.gateway = await TestGateway.start(
      deepMerge(
        {
          registry: {
            allowed: ['127.0.0.1:*'],
            credentials: [{ host: this.registries.basic.host, username: 'puller', password: 'puller-secret' }],
          },
          preheat: {
            clusters: [
              {
                id: 1,
                name: 'cluster-1',
                seedPeers: this.seeds.map((s) => ({ hostname: s.hostname, ip: s.ip, port: s.port })),
                schedulers: [{ hostname: 'scheduler-1', ip: '127.0.0.1', port: this.scheduler.port }],
              },
            ],
          },
        },
        gatewayOverrides,
      ),
    );
  }

  /** Manifest URL on one of the registries. */
  url(registry: 'open' | 'basic' | 'token', repository: string, reference = 'v1'): string {
    return `http://${this.registries[registry].host}/v2/${repository}/manifests/${reference}`;
  }

  /** Blob digests fetched by a seed peer from the registry (not from its cache). */
  fetchedDigests(peer: ReferenceSeedPeer): string[] {
    return peer.fetches.filter((f) => !f.cached && f.digestOk).map((f) => /blobs\/(sha256:[a-f0-9]+)/.exec(f.url)![1]);
  }

  async stop(): Promise<void> {
    await this.gateway?.stop();
    await Promise.all([...this.seeds, ...this.peers].map((s) => s.stop()));
    await this.scheduler.stop();
    await this.registries.stop();
  }
}
