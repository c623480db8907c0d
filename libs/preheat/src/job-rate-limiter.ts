import { GatewayConfig } from '@accel/config';
import { ClusterInventory } from '@accel/dragonfly';
import { Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

/** Refused by a cluster's job rate limit, as Dragonfly's middleware refuses it. */
export class JobRateLimited extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('rate limit exceeded');
  }
}

/**
 * Dragonfly's per-cluster job rate limit: each creation that names scheduler clusters takes
 * one from each cluster's `job_rate_limit` per second, shared by every manager through Redis
 * (key `<id>-job`). A job naming no cluster is never limited; one naming an unknown cluster is
 * answered 404 by its handler. With Redis away, each process
 * keeps the limit on its own rather than refusing all work.
 */
@Injectable()
export class JobRateLimiter implements OnModuleDestroy {
  private readonly log = new Logger(JobRateLimiter.name);
  private readonly redis: Redis;
  private readonly limiters = new Map<number, RateLimiterRedis>();

  constructor(
    private readonly config: GatewayConfig,
    private readonly inventory: ClusterInventory,
  ) {
    this.redis = new Redis({
      host: config.redis.host,
      port: config.redis.port,
      password: config.redis.password || undefined,
      db: config.redis.db,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    this.redis.on('error', () => undefined);
    void this.redis.connect().catch(() => undefined);
  }

  /** Takes one from every named cluster's limit, in order; the first that refuses stops the creation. */
  async take(clusterIds: readonly number[] | null | undefined): Promise<void> {
    const ids = [...new Set(clusterIds ?? [])];
    if (ids.length === 0) return;
    const rows = await this.inventory.clusters([]);
    for (const id of ids) {
      const row = rows.find((r) => r.id === id);
      // Dragonfly answers 429 here; a 404 naming the cluster (from the handler) says what is wrong.
      if (!row) continue;
      try {
        await this.limiterFor(row.jobRateLimit).consume(`${id}-job`);
      } catch (e) {
        if (e instanceof RateLimiterRes) throw new JobRateLimited(Math.max(1, Math.ceil(e.msBeforeNext / 1000)));
        this.log.warn(`job rate limit of cluster ${id} not checked: ${(e as Error).message}`);
      }
    }
  }

  private limiterFor(points: number): RateLimiterRedis {
    let l = this.limiters.get(points);
    if (!l) {
      l = new RateLimiterRedis({
        storeClient: this.redis,
        keyPrefix: `${this.config.redis.prefix}:job-rate:${points}`,
        points,
        duration: 1,
        useRedisPackage: false,
        insuranceLimiter: new RateLimiterMemory({ points, duration: 1 }),
      });
      this.limiters.set(points, l);
    }
    return l;
  }

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
