import { ConfiguredClusterConfig } from '@accel/config';
import { SchedulerClusterEntity, SchedulerEntity, SeedPeerEntity, updateWhere } from '@accel/db';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';

/** A seed peer or scheduler as an operator adds it. */
export interface NewNode {
  hostName: string;
  ip: string;
  port: number;
  downloadPort?: number;
  schedulerClusterId: number;
}

export class ClusterNotFound extends Error {}
export class ClusterInUse extends Error {}

/**
 * The `scheduler_cluster`, `scheduler` and `seed_peer` tables: the one place they are read and
 * written (by the admin API, by preheats, and from the configuration at boot).
 */
@Injectable()
export class ClusterRepository {
  private readonly listeners: (() => void)[] = [];

  constructor(
    @InjectRepository(SchedulerClusterEntity) private readonly clusterRows: Repository<SchedulerClusterEntity>,
    @InjectRepository(SchedulerEntity) private readonly schedulerRows: Repository<SchedulerEntity>,
    @InjectRepository(SeedPeerEntity) private readonly seedPeerRows: Repository<SeedPeerEntity>,
  ) {}

  /** Called after every write of clusters, seed peers or schedulers made through this process. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Right after a write, before anything that could fail reading it back. */
  private changed(): void {
    for (const l of this.listeners) l();
  }

  /** The clusters with these ids (all when empty), in id order. */
  clusters(ids: number[] = []): Promise<SchedulerClusterEntity[]> {
    return ids.length
      ? this.clusterRows.find({ where: { id: In(ids), isDel: 0 }, order: { id: 'ASC' } })
      : this.clusterRows.find({ where: { isDel: 0 }, order: { id: 'ASC' } });
  }

  /** Inserts, never updates: a taken id or name fails (the admin API answers 409). */
  async createCluster(c: {
    id?: number;
    name: string;
    bio?: string;
    jobRateLimit?: number;
  }): Promise<SchedulerClusterEntity> {
    const { identifiers } = await this.clusterRows.insert(
      this.clusterRows.create({ id: c.id, name: c.name, bio: c.bio ?? '', jobRateLimit: c.jobRateLimit ?? 10 }),
    );
    this.changed();
    return this.clusterRows.findOneByOrFail({ id: Number(identifiers[0].id) });
  }

  async updateCluster(id: number, c: { bio?: string; jobRateLimit?: number }): Promise<SchedulerClusterEntity> {
    await this.requireCluster(id);
    const fields = Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
    if (Object.keys(fields).length) {
      await this.clusterRows.update({ id }, fields);
      this.changed();
    }
    return this.clusterRows.findOneByOrFail({ id });
  }

  async requireCluster(id: number): Promise<void> {
    if (!(await this.clusterRows.existsBy({ id, isDel: 0 })))
      throw new ClusterNotFound(`scheduler cluster ${id} not found`);
  }

  /** Removes an empty cluster; one that still has seed peers or schedulers is refused. */
  async removeCluster(id: number): Promise<void> {
    await this.requireCluster(id);
    const inUse =
      (await this.seedPeerRows.countBy({ schedulerClusterId: id })) +
      (await this.schedulerRows.countBy({ schedulerClusterId: id }));
    if (inUse) throw new ClusterInUse(`scheduler cluster ${id} still has ${inUse} seed peer(s) or scheduler(s)`);
    await this.clusterRows.delete({ id });
    this.changed();
  }

  /** Seed peers of these clusters (all when empty), in id order. */
  seedPeers(clusterIds: number[] = []): Promise<SeedPeerEntity[]> {
    const where = clusterIds.length ? { schedulerClusterId: In(clusterIds), isDel: 0 } : { isDel: 0 };
    return this.seedPeerRows.find({ where, order: { id: 'ASC' } });
  }

  schedulers(clusterIds: number[] = []): Promise<SchedulerEntity[]> {
    const where = clusterIds.length ? { schedulerClusterId: In(clusterIds), isDel: 0 } : { isDel: 0 };
    return this.schedulerRows.find({ where, order: { id: 'ASC' } });
  }

  async createSeedPeer(n: NewNode): Promise<SeedPeerEntity> {
    await this.requireCluster(n.schedulerClusterId);
    const row = await this.seedPeerRows.save(
      this.seedPeerRows.create({ ...n, downloadPort: n.downloadPort ?? n.port, type: 'super' }),
    );
    this.changed();
    return row;
  }

  async createScheduler(n: NewNode): Promise<SchedulerEntity> {
    await this.requireCluster(n.schedulerClusterId);
    const row = await this.schedulerRows.save(
      this.schedulerRows.create({
        hostName: n.hostName,
        ip: n.ip,
        port: n.port,
        schedulerClusterId: n.schedulerClusterId,
      }),
    );
    this.changed();
    return row;
  }

  async removeSeedPeer(id: number): Promise<boolean> {
    const { affected } = await this.seedPeerRows.delete({ id });
    this.changed();
    return Boolean(affected);
  }

  async removeScheduler(id: number): Promise<boolean> {
    const { affected } = await this.schedulerRows.delete({ id });
    this.changed();
    return Boolean(affected);
  }

  /** Writes the clusters named in the config file (idempotent: a restart changes nothing). */
  async upsertConfigured(clusters: ConfiguredClusterConfig[]): Promise<void> {
    try {
      await this.upsertEach(clusters);
    } finally {
      this.changed();
    }
  }

  private async upsertEach(clusters: ConfiguredClusterConfig[]): Promise<void> {
    for (const c of clusters) {
      await this.clusterRows.upsert({ id: c.id, name: c.name, isDefault: c.id === 1, jobRateLimit: c.jobRateLimit }, [
        'id',
      ]);
      for (const s of c.seedPeers) {
        await this.seedPeerRows.upsert(
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
        await this.schedulerRows.upsert({ hostName: s.hostname, ip: s.ip, port: s.port, schedulerClusterId: c.id }, [
          'hostName',
          'ip',
          'schedulerClusterId',
        ]);
      }
    }
  }

  /** The last health answer of every seed peer and scheduler at this address. */
  async recordState(node: { ip: string; port: number }, state: 'active' | 'inactive'): Promise<void> {
    await Promise.all([
      updateWhere(this.seedPeerRows, { ip: node.ip, port: node.port }, { state }),
      updateWhere(this.schedulerRows, { ip: node.ip, port: node.port }, { state }),
    ]);
  }
}
