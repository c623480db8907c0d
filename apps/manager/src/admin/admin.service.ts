import { SchedulerClusterEntity, SchedulerEntity, SeedPeerEntity } from '@accel/db';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { CreateClusterDto, CreateNodeDto } from './admin.dto';

/** Scheduler clusters, schedulers and seed peers: written here, read by every preheat (no restart needed). */
@Injectable()
export class InventoryAdminService {
  constructor(
    @InjectRepository(SchedulerClusterEntity) private readonly clusters: Repository<SchedulerClusterEntity>,
    @InjectRepository(SchedulerEntity) private readonly schedulers: Repository<SchedulerEntity>,
    @InjectRepository(SeedPeerEntity) private readonly seedPeers: Repository<SeedPeerEntity>,
  ) {}

  listClusters() {
    return this.clusters.find({ where: { isDel: 0 }, order: { id: 'ASC' } });
  }

  /** Inserts, never updates: a taken id or name is a 409, not an overwrite of that cluster. */
  async createCluster(dto: CreateClusterDto) {
    const { identifiers } = await this.clusters.insert(
      this.clusters.create({ id: dto.id, name: dto.name, bio: dto.bio ?? '' }),
    );
    return this.clusters.findOneByOrFail({ id: Number(identifiers[0].id) });
  }

  /** Removes an empty cluster; one that still has seed peers or schedulers is refused. */
  async removeCluster(id: number): Promise<void> {
    await this.requireCluster(id);
    const inUse =
      (await this.seedPeers.countBy({ schedulerClusterId: id })) +
      (await this.schedulers.countBy({ schedulerClusterId: id }));
    if (inUse) throw new ConflictException(`scheduler cluster ${id} still has ${inUse} seed peer(s) or scheduler(s)`);
    await this.clusters.delete({ id });
  }

  private async requireCluster(id: number): Promise<void> {
    if (!(await this.clusters.existsBy({ id, isDel: 0 })))
      throw new NotFoundException(`scheduler cluster ${id} not found`);
  }

  listSeedPeers() {
    return this.seedPeers.find({ where: { isDel: 0 }, order: { id: 'ASC' } });
  }

  async createSeedPeer(dto: CreateNodeDto) {
    await this.requireCluster(dto.scheduler_cluster_id);
    return this.seedPeers.save(
      this.seedPeers.create({
        hostName: dto.host_name,
        ip: dto.ip,
        port: dto.port,
        downloadPort: dto.download_port ?? dto.port,
        type: 'super',
        schedulerClusterId: dto.scheduler_cluster_id,
      }),
    );
  }

  async removeSeedPeer(id: number): Promise<void> {
    if (!(await this.seedPeers.delete({ id })).affected) throw new NotFoundException('record not found');
  }

  listSchedulers() {
    return this.schedulers.find({ where: { isDel: 0 }, order: { id: 'ASC' } });
  }

  async createScheduler(dto: CreateNodeDto) {
    await this.requireCluster(dto.scheduler_cluster_id);
    return this.schedulers.save(
      this.schedulers.create({
        hostName: dto.host_name,
        ip: dto.ip,
        port: dto.port,
        schedulerClusterId: dto.scheduler_cluster_id,
      }),
    );
  }

  async removeScheduler(id: number): Promise<void> {
    if (!(await this.schedulers.delete({ id })).affected) throw new NotFoundException('record not found');
  }
}
