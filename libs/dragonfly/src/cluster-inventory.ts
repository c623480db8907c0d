import { GatewayConfig } from '@accel/config';
import { SchedulerClusterEntity, SchedulerEntity, SeedPeerEntity } from '@accel/db';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { DragonflyClients, NodeAddress } from './grpc-clients';

export interface ClusterView {
  id: number;
  name: string;
  seedPeers: NodeAddress[];
  schedulers: NodeAddress[];
}

export class UnknownClusterError extends Error {}

/** Scheduler clusters with their seed peers and schedulers (MySQL is the source; config entries are upserted at boot). */
@Injectable()
export class ClusterInventory {
  private readonly log = new Logger(ClusterInventory.name);
  private readonly health = new Map<string, { ok: boolean; at: number; pending?: Promise<boolean> }>();

  constructor(
    private readonly config: GatewayConfig,
    private readonly clients: DragonflyClients,
    @InjectRepository(SchedulerClusterEntity) private readonly clustersRepo: Repository<SchedulerClusterEntity>,
    @InjectRepository(SchedulerEntity) private readonly schedulersRepo: Repository<SchedulerEntity>,
    @InjectRepository(SeedPeerEntity) private readonly seedPeersRepo: Repository<SeedPeerEntity>,
  ) {}

  /** Writes the clusters named in the config file into the database (idempotent). */
  async syncConfigured(): Promise<void> {
    for (const c of this.config.preheat.clusters) {
      await this.clustersRepo.upsert({ id: c.id, name: c.name, isDefault: c.id === 1 }, ['id']);
      for (const s of c.seedPeers) {
        await this.seedPeersRepo.upsert(
          {
            hostName: s.hostname,
            ip: s.ip,
            port: s.port,
            downloadPort: s.port,
            type: 'super',
            schedulerClusterId: c.id,
          },
          ['hostName', 'ip', 'schedulerClusterId'],
        );
      }
      for (const s of c.schedulers) {
        await this.schedulersRepo.upsert({ hostName: s.hostname, ip: s.ip, port: s.port, schedulerClusterId: c.id }, [
          'hostName',
          'ip',
          'schedulerClusterId',
        ]);
      }
    }
  }

  /** The requested clusters (all when `ids` is empty), with their nodes. */
  async clusters(ids: number[]): Promise<ClusterView[]> {
    const rows = ids.length
      ? await this.clustersRepo.findBy({ id: In(ids), isDel: 0 })
      : await this.clustersRepo.find({ where: { isDel: 0 }, order: { id: 'ASC' } });
    const missing = ids.filter((id) => !rows.some((r) => r.id === id));
    if (missing.length) throw new UnknownClusterError(`scheduler cluster ${missing.join(', ')} not found`);
    const clusterIds = rows.map((r) => r.id);
    const [seeds, schedulers] = clusterIds.length
      ? await Promise.all([
          this.seedPeersRepo.find({ where: { schedulerClusterId: In(clusterIds), isDel: 0 }, order: { id: 'ASC' } }),
          this.schedulersRepo.find({ where: { schedulerClusterId: In(clusterIds), isDel: 0 }, order: { id: 'ASC' } }),
        ])
      : [[], []];
    const node = (n: SeedPeerEntity | SchedulerEntity): NodeAddress => ({
      hostname: n.hostName,
      ip: n.ip,
      port: n.port,
    });
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      seedPeers: seeds.filter((s) => s.schedulerClusterId === r.id).map(node),
      schedulers: schedulers.filter((s) => s.schedulerClusterId === r.id).map(node),
    }));
  }

  /** grpc.health.v1 answer for a node, trusted for preheat.healthCacheSeconds; concurrent asks share one check. */
  async isHealthy(node: NodeAddress): Promise<boolean> {
    const key = `${node.ip}:${node.port}`;
    const now = Date.now();
    const entry = this.health.get(key);
    if (entry?.pending) return entry.pending;
    if (entry && now - entry.at < this.config.preheat.healthCacheSeconds * 1000) return entry.ok;
    const pending = this.clients.checkHealth(node, this.config.preheat.healthTimeoutMs).then((ok) => {
      if (entry?.ok !== ok) this.log.log(`${node.hostname} (${key}) is ${ok ? 'healthy' : 'unhealthy'}`);
      this.health.set(key, { ok, at: Date.now() });
      void this.recordState(node, ok);
      return ok;
    });
    this.health.set(key, { ok: entry?.ok ?? false, at: entry?.at ?? 0, pending });
    return pending;
  }

  private async recordState(node: NodeAddress, ok: boolean): Promise<void> {
    const state = ok ? 'active' : 'inactive';
    await Promise.all([
      this.seedPeersRepo.update({ ip: node.ip, port: node.port }, { state }),
      this.schedulersRepo.update({ ip: node.ip, port: node.port }, { state }),
    ]).catch((e: Error) => this.log.warn(`could not record state of ${node.hostname}: ${e.message}`));
  }
}
