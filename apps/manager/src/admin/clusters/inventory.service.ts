import { ClusterInUse, ClusterNotFound, ClusterRepository } from '@accel/dragonfly';
import { ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { CreateClusterDto, CreateNodeDto, UpdateClusterDto } from './clusters.dto';

const node = (dto: CreateNodeDto) => ({
  hostName: dto.host_name,
  ip: dto.ip,
  port: dto.port,
  downloadPort: dto.download_port,
  schedulerClusterId: dto.scheduler_cluster_id,
});

/** Scheduler clusters, schedulers and seed peers as the admin API changes them; every preheat reads them (no restart needed). */
@Injectable()
export class InventoryAdminService {
  constructor(private readonly clusters: ClusterRepository) {}

  listClusters() {
    return this.clusters.clusters();
  }

  createCluster(dto: CreateClusterDto) {
    return this.clusters.createCluster({ ...dto, jobRateLimit: dto.config?.job_rate_limit });
  }

  updateCluster(id: number, dto: UpdateClusterDto) {
    return this.clusters.updateCluster(id, { bio: dto.bio, jobRateLimit: dto.config?.job_rate_limit }).catch(httpError);
  }

  removeCluster(id: number): Promise<void> {
    return this.clusters.removeCluster(id).catch(httpError);
  }

  listSeedPeers() {
    return this.clusters.seedPeers();
  }

  createSeedPeer(dto: CreateNodeDto) {
    return this.clusters.createSeedPeer(node(dto)).catch(httpError);
  }

  async removeSeedPeer(id: number): Promise<void> {
    if (!(await this.clusters.removeSeedPeer(id))) throw new NotFoundException('record not found');
  }

  listSchedulers() {
    return this.clusters.schedulers();
  }

  createScheduler(dto: CreateNodeDto) {
    return this.clusters.createScheduler(node(dto)).catch(httpError);
  }

  async removeScheduler(id: number): Promise<void> {
    if (!(await this.clusters.removeScheduler(id))) throw new NotFoundException('record not found');
  }
}

function httpError(e: unknown): never {
  if (e instanceof ClusterNotFound) throw new NotFoundException(e.message);
  if (e instanceof ClusterInUse) throw new ConflictException(e.message);
  throw e;
}
