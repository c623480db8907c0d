import { AdminRead, AdminWrite } from '@accel/auth';
import { GatewayConfig } from '@accel/config';
import { ClusterInventory, DragonflyClients } from '@accel/dragonfly';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Patch,
  Post,
  ServiceUnavailableException,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { CreateClusterDto, CreateNodeDto, UpdateClusterDto } from './clusters.dto';
import { clusterView, schedulerView, seedPeerView } from './clusters.view';
import { InventoryAdminService } from './inventory.service';

/** Scheduler clusters, schedulers and seed peers, with live health; changes apply to the next preheat. */
@ApiTags('inventory')
@Controller('api/v1')
export class InventoryController {
  constructor(
    private readonly inventory: InventoryAdminService,
    private readonly live: ClusterInventory,
    private readonly clients: DragonflyClients,
    private readonly config: GatewayConfig,
  ) {}

  @Get('scheduler-clusters')
  @AdminRead()
  async listClusters() {
    return (await this.inventory.listClusters()).map(clusterView);
  }

  @Post('scheduler-clusters')
  @HttpCode(200)
  @AdminWrite()
  async createCluster(@Body() dto: CreateClusterDto) {
    return clusterView(await this.inventory.createCluster(dto));
  }

  @Patch('scheduler-clusters/:id')
  @AdminWrite()
  async updateCluster(@Param('id', ParseIntPipe) id: number, @Body() dto: UpdateClusterDto) {
    return clusterView(await this.inventory.updateCluster(id, dto));
  }

  /**
   * Dragonfly's seed-peer clusters, read-only: the gateway pairs each scheduler cluster with
   * one seed-peer cluster of the same id (Dragonfly's default 1:1 link).
   */
  @Get('seed-peer-clusters')
  @AdminRead()
  async listSeedPeerClusters() {
    const peers = await this.inventory.listSeedPeers();
    return (await this.inventory.listClusters()).map((c) => ({
      ...clusterView(c),
      config: { load_limit: 2000 },
      seed_peers: peers.filter((p) => p.schedulerClusterId === c.id).map((p) => p.id),
      scheduler_clusters: [{ id: c.id, name: c.name }],
    }));
  }

  @Delete('scheduler-clusters/:id')
  @HttpCode(200)
  @AdminWrite()
  async removeCluster(@Param('id', ParseIntPipe) id: number) {
    await this.inventory.removeCluster(id);
    return {};
  }

  /** Seed peers with their health now (grpc.health.v1), not just the last recorded state. */
  @Get('seed-peers')
  @AdminRead()
  async listSeedPeers() {
    const peers = await this.inventory.listSeedPeers();
    const health = await Promise.all(
      peers.map((p) => this.live.isHealthy({ hostname: p.hostName, ip: p.ip, port: p.port })),
    );
    return peers.map((p, i) => ({
      ...seedPeerView(p),
      state: health[i] ? 'active' : 'inactive',
      last_checked_at: new Date().toISOString(),
    }));
  }

  @Post('seed-peers')
  @HttpCode(200)
  @AdminWrite()
  async createSeedPeer(@Body() dto: CreateNodeDto) {
    return seedPeerView(await this.inventory.createSeedPeer(dto));
  }

  @Delete('seed-peers/:id')
  @HttpCode(200)
  @AdminWrite()
  async removeSeedPeer(@Param('id', ParseIntPipe) id: number) {
    await this.inventory.removeSeedPeer(id);
    return {};
  }

  @Get('schedulers')
  @AdminRead()
  async listSchedulers() {
    const schedulers = await this.inventory.listSchedulers();
    const health = await Promise.all(
      schedulers.map((s) => this.live.isHealthy({ hostname: s.hostName, ip: s.ip, port: s.port })),
    );
    return schedulers.map((s, i) => ({
      ...schedulerView(s),
      state: health[i] ? 'active' : 'inactive',
      last_checked_at: new Date().toISOString(),
    }));
  }

  /** The hosts a scheduler knows (scheduler.v2 ListHosts): what `all_peers` preheats reach. */
  @Get('schedulers/:id/hosts')
  @AdminRead()
  async hosts(@Param('id', ParseIntPipe) id: number) {
    const s = (await this.inventory.listSchedulers()).find((x) => x.id === id);
    if (!s) throw new NotFoundException('record not found');
    const hosts = await this.clients
      .listHosts({ hostname: s.hostName, ip: s.ip, port: s.port }, this.config.preheat.healthTimeoutMs * 5)
      .catch((e: Error) => {
        throw new ServiceUnavailableException(e.message);
      });
    return hosts.map((h) => ({
      id: h.id,
      type: h.type === 1 ? 'super' : 'normal',
      hostname: h.hostname,
      ip: h.ip,
      port: h.port,
      download_port: h.download_port,
      scheduler_cluster_id: h.scheduler_cluster_id,
    }));
  }

  @Post('schedulers')
  @HttpCode(200)
  @AdminWrite()
  async createScheduler(@Body() dto: CreateNodeDto) {
    return schedulerView(await this.inventory.createScheduler(dto));
  }

  @Delete('schedulers/:id')
  @HttpCode(200)
  @AdminWrite()
  async removeScheduler(@Param('id', ParseIntPipe) id: number) {
    await this.inventory.removeScheduler(id);
    return {};
  }
}
