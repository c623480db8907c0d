import { GatewayConfig } from '@accel/config';
import { ClusterInventory } from '@accel/dragonfly';
import { redisConnection } from '@accel/queue';
import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Redis, RedisOptions } from 'ioredis';
import { DataSource } from 'typeorm';

export type DependencyState = 'up' | 'down';

export interface Readiness {
  /** `ready` when requests can be served: the database and Redis answer. */
  status: 'ready' | 'not-ready';
  checks: {
    database: DependencyState;
    redis: DependencyState;
    /** Reported, not required: jobs are accepted while seed peers are away, and fail naming them. */
    seedPeers: { healthy: number; total: number };
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
      status: database === 'up' && redis === 'up' ? 'ready' : 'not-ready',
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

  private seedPeers(): Promise<{ healthy: number; total: number }> {
    const count = async () => {
      const peers = (await this.inventory.clusters([])).flatMap((c) => c.seedPeers);
      const healthy = await Promise.all(peers.map((p) => this.inventory.isHealthy(p)));
      return { healthy: healthy.filter(Boolean).length, total: peers.length };
    };
    return within(count(), PROBE_MS, { healthy: 0, total: 0 });
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
