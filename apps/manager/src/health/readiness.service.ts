import { GatewayConfig } from '@accel/config';
import { ClusterInventory } from '@accel/dragonfly';
import { redisConnection } from '@accel/queue';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Redis, RedisOptions } from 'ioredis';
import { DataSource } from 'typeorm';

export type DependencyState = 'up' | 'down';

export interface Readiness {
  /** `ready` when preheats can be served: the database and Redis answer, and every cluster has a seed peer that does. */
  status: 'ready' | 'not-ready';
  checks: {
    database: DependencyState;
    redis: DependencyState;
    /** Ids of clusters with no healthy seed peer (counts and ids only: no addresses). */
    seedPeers: { checked: boolean; healthy: number; total: number; clustersWithoutHealthySeedPeer: number[] };
  };
}

/** Each probe answers within this, whatever the dependency does. */
const PROBE_MS = 1500;

const within = <T>(p: Promise<T>, ms: number, fallback: T): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.catch(() => fallback),
    new Promise<T>((r) => (timer = setTimeout(() => r(fallback), ms))),
  ]).finally(() => clearTimeout(timer));
};

/** What `/readyz` reports: every dependency probed at once, each bounded; states only, no addresses or errors. */
@Injectable()
export class ReadinessService implements OnModuleDestroy {
  private readonly redis: Redis;

  constructor(
    config: GatewayConfig,
    private readonly inventory: ClusterInventory,
    @InjectDataSource() private readonly db: DataSource,
  ) {
    // Its own client that fails fast: a probe must not queue behind a reconnect.
    this.redis = new Redis({
      ...(redisConnection(config) as RedisOptions),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: PROBE_MS,
    });
    this.redis.on('error', () => undefined);
  }

  async check(): Promise<Readiness> {
    const [database, redis, seedPeers] = await Promise.all([this.database(), this.ping(), this.seedPeers()]);
    return {
      status:
        database === 'up' &&
        redis === 'up' &&
        seedPeers.checked &&
        seedPeers.clustersWithoutHealthySeedPeer.length === 0
          ? 'ready'
          : 'not-ready',
      checks: { database, redis, seedPeers },
    };
  }

  private database(): Promise<DependencyState> {
    return within(
      this.db.query('SELECT 1').then(() => 'up' as const),
      PROBE_MS,
      'down',
    );
  }

  private async ping(): Promise<DependencyState> {
    // Down while reconnecting (the client retries on its own); only the first connect is waited for.
    const starting = this.redis.status === 'connecting' || this.redis.status === 'connect';
    if (this.redis.status !== 'ready' && !starting) return 'down';
    const ready = starting ? new Promise<void>((r) => this.redis.once('ready', r)) : Promise.resolve();
    return within(
      ready.then(() => this.redis.ping()).then((r) => (r === 'PONG' ? 'up' : 'down')),
      PROBE_MS,
      'down',
    );
  }

  private seedPeers(): Promise<Readiness['checks']['seedPeers']> {
    const count = async () => {
      const clusters = await this.inventory.clusters([]);
      const health = await Promise.all(
        clusters.map(async (c) => ({
          id: c.id,
          up: await Promise.all(c.seedPeers.map((p) => this.inventory.isHealthy(p))),
        })),
      );
      return {
        checked: true,
        healthy: health.reduce((n, c) => n + c.up.filter(Boolean).length, 0),
        total: health.reduce((n, c) => n + c.up.length, 0),
        clustersWithoutHealthySeedPeer: health.filter((c) => !c.up.some(Boolean)).map((c) => c.id),
      };
    };
    // Not known in time (the inventory itself is in the database): not ready.
    return within(count(), PROBE_MS, { checked: false, healthy: 0, total: 0, clustersWithoutHealthySeedPeer: [] });
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
