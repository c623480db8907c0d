import { GatewayMetrics, SharedResultCache } from '@accel/common';
import { GatewayConfig } from '@accel/config';
import { SchedulerEntity, SeedPeerEntity } from '@accel/db';
import { Injectable, Logger } from '@nestjs/common';
import { ClusterRepository } from './cluster.repository';
import { DragonflyClients, NodeAddress } from './grpc-clients';

export interface ClusterView {
  id: number;
  name: string;
  /** Dragonfly's `job_rate_limit`: job creations per second naming this cluster. */
  jobRateLimit: number;
  seedPeers: NodeAddress[];
  schedulers: NodeAddress[];
}

export class UnknownClusterError extends Error {}

/** Scheduler clusters with their seed peers and schedulers (MySQL is the source; config entries are upserted at boot). */
@Injectable()
export class ClusterInventory {
  private readonly log = new Logger(ClusterInventory.name);
  private readonly health = new SharedResultCache<boolean>({
    ttlMs: () => this.config.preheat.healthCacheSeconds * 1000,
  });
  /** Every cluster with its nodes: each job reads them, they change rarely. */
  private readonly all = new SharedResultCache<ClusterView[]>({
    ttlMs: () => this.config.preheat.inventoryCacheSeconds * 1000,
    maxKeys: 1,
  });

  constructor(
    private readonly config: GatewayConfig,
    private readonly clients: DragonflyClients,
    private readonly rows: ClusterRepository,
    private readonly metrics: GatewayMetrics,
  ) {
    rows.onChange(() => this.all.clear());
  }

  /** Writes the clusters named in the config file into the database (idempotent). */
  syncConfigured(): Promise<void> {
    return this.rows.upsertConfigured(this.config.preheat.clusters);
  }

  /** The requested clusters (all when `ids` is empty), with their nodes; an unknown id fails naming it. */
  async clusters(ids: number[]): Promise<ClusterView[]> {
    const all = await this.all.get('all', () => this.load());
    if (ids.length === 0) return all;
    const missing = ids.filter((id) => !all.some((c) => c.id === id));
    if (missing.length) throw new UnknownClusterError(`scheduler cluster ${missing.join(', ')} not found`);
    return all.filter((c) => ids.includes(c.id));
  }

  private async load(): Promise<ClusterView[]> {
    const [rows, seeds, schedulers] = await Promise.all([
      this.rows.clusters(),
      this.rows.seedPeers(),
      this.rows.schedulers(),
    ]);
    const node = (n: SeedPeerEntity | SchedulerEntity): NodeAddress =>
      Object.freeze({ hostname: n.hostName, ip: n.ip, port: n.port });
    // Shared by every job until the next load: frozen, so a caller that changed one would fail loudly.
    return rows.map((r) =>
      Object.freeze({
        id: r.id,
        name: r.name,
        jobRateLimit: r.jobRateLimit,
        seedPeers: Object.freeze(seeds.filter((s) => s.schedulerClusterId === r.id).map(node)) as NodeAddress[],
        schedulers: Object.freeze(schedulers.filter((s) => s.schedulerClusterId === r.id).map(node)) as NodeAddress[],
      }),
    );
  }

  /** grpc.health.v1 answer for a node, trusted for preheat.healthCacheSeconds; concurrent asks share one check. */
  isHealthy(node: NodeAddress): Promise<boolean> {
    const key = `${node.ip}:${node.port}`;
    return this.health.get(key, async () => {
      const before = this.health.peek(key);
      const ok = await this.clients.checkHealth(node, this.config.preheat.healthTimeoutMs);
      if (before !== ok) this.log.log(`${node.hostname} (${key}) is ${ok ? 'healthy' : 'unhealthy'}`);
      this.metrics.nodeHealthy.set({ node: `${node.hostname} (${key})` }, ok ? 1 : 0);
      void this.recordState(node, ok);
      return ok;
    });
  }

  private async recordState(node: NodeAddress, ok: boolean): Promise<void> {
    await this.rows
      .recordState(node, ok ? 'active' : 'inactive')
      .catch((e: Error) => this.log.warn(`could not record state of ${node.hostname}: ${e.message}`));
  }
}
