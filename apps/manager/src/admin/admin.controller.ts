import { Actor, CurrentActor, RequireAuth, TokensService } from '@accel/auth';
import { TOKEN_SCOPES } from '@accel/db';
import { Body, Controller, Delete, Get, HttpCode, NotFoundException, Param, ParseIntPipe, Post } from '@nestjs/common';
import { CreateClusterDto, CreateNodeDto, CreateTokenDto } from './admin.dto';
import { InventoryAdminService } from './admin.service';
import { clusterView, schedulerView, seedPeerView, tokenView } from './views';

const YEAR_MS = 365 * 24 * 3600 * 1000;

/** Minimal admin API: personal access tokens and the P2P inventory. Root users or admin-scoped tokens only. */
@Controller('api/v1')
@RequireAuth('admin')
export class AdminController {
  constructor(
    private readonly tokens: TokensService,
    private readonly inventory: InventoryAdminService,
  ) {}

  /** The token is in this response only; it is stored as a hash. */
  @Post('personal-access-tokens')
  @HttpCode(200)
  async createToken(@Body() dto: CreateTokenDto, @CurrentActor() actor: Actor) {
    const { entity, token } = await this.tokens.create({
      name: dto.name,
      bio: dto.bio,
      scopes: dto.scopes?.length ? dto.scopes : TOKEN_SCOPES.filter((s) => s !== 'admin'),
      expiredAt: dto.expired_at ? new Date(dto.expired_at) : new Date(Date.now() + YEAR_MS),
      userId: actor.userId,
    });
    return { ...tokenView(entity), token };
  }

  @Get('personal-access-tokens')
  async listTokens() {
    return (await this.tokens.list()).map(tokenView);
  }

  @Delete('personal-access-tokens/:id')
  @HttpCode(200)
  async revokeToken(@Param('id', ParseIntPipe) id: number) {
    if (!(await this.tokens.revoke(id))) throw new NotFoundException('record not found');
    return {};
  }

  @Get('scheduler-clusters')
  async listClusters() {
    return (await this.inventory.listClusters()).map(clusterView);
  }

  @Post('scheduler-clusters')
  @HttpCode(200)
  async createCluster(@Body() dto: CreateClusterDto) {
    return clusterView(await this.inventory.createCluster(dto));
  }

  @Get('seed-peers')
  async listSeedPeers() {
    return (await this.inventory.listSeedPeers()).map(seedPeerView);
  }

  @Post('seed-peers')
  @HttpCode(200)
  async createSeedPeer(@Body() dto: CreateNodeDto) {
    return seedPeerView(await this.inventory.createSeedPeer(dto));
  }

  @Delete('seed-peers/:id')
  @HttpCode(200)
  async removeSeedPeer(@Param('id', ParseIntPipe) id: number) {
    await this.inventory.removeSeedPeer(id);
    return {};
  }

  @Get('schedulers')
  async listSchedulers() {
    return (await this.inventory.listSchedulers()).map(schedulerView);
  }

  @Post('schedulers')
  @HttpCode(200)
  async createScheduler(@Body() dto: CreateNodeDto) {
    return schedulerView(await this.inventory.createScheduler(dto));
  }

  @Delete('schedulers/:id')
  @HttpCode(200)
  async removeScheduler(@Param('id', ParseIntPipe) id: number) {
    await this.inventory.removeScheduler(id);
    return {};
  }
}
