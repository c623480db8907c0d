import { AdminRead, AdminWrite } from '@accel/auth';
import { PeerSyncService } from '@accel/dragonfly';
import {
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { paged } from '../../http/pagination';
import { PeerQueryDto } from './peers.dto';
import { peerView } from './peers.view';

/** The peers each cluster's scheduler lists, as the last sync_peers saw them. */
@ApiTags('inventory')
@Controller('api/v1/peers')
export class PeersController {
  constructor(private readonly peers: PeerSyncService) {}

  @Get()
  @AdminRead()
  async list(@Query() q: PeerQueryDto, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const rows = await paged(req, res, q.page, q.per_page, 10, (page, perPage) =>
      this.peers.page({
        schedulerClusterId: q.scheduler_cluster_id,
        hostName: q.host_name,
        ip: q.ip,
        type: q.type,
        page,
        perPage,
      }),
    );
    return rows.map(peerView);
  }

  /** Syncs now (what the sync_peers job and the timer do). */
  @Post('sync')
  @HttpCode(200)
  @AdminWrite()
  async sync() {
    return this.peers.sync();
  }

  @Get(':id')
  @AdminRead()
  async get(@Param('id', ParseIntPipe) id: number) {
    const p = await this.peers.byId(id);
    if (!p) throw new NotFoundException('record not found');
    return peerView(p);
  }

  @Delete(':id')
  @HttpCode(200)
  @AdminWrite()
  async remove(@Param('id', ParseIntPipe) id: number) {
    if (!(await this.peers.remove(id))) throw new NotFoundException('record not found');
    return {};
  }
}
