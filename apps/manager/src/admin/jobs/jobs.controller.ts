import { Actor, AdminRead, AdminWrite, CurrentActor } from '@accel/auth';
import { PreheatService, jobView } from '@accel/preheat';
import {
  Controller,
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

import { AdminJobQueryDto } from './jobs.dto';

/** Preheat jobs for operators: filters, per-blob/per-host detail, cancel and retry. */
@ApiTags('jobs')
@Controller('api/v1/jobs')
export class JobsAdminController {
  constructor(private readonly preheat: PreheatService) {}

  @Get()
  @AdminRead()
  async list(@Query() q: AdminJobQueryDto, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const rows = await paged(req, res, q.page, q.per_page, 10, (page, perPage) =>
      this.preheat.list({
        type: q.type,
        state: q.state,
        image: q.image,
        createdAfter: q.created_after ? new Date(q.created_after) : undefined,
        createdBefore: q.created_before ? new Date(q.created_before) : undefined,
        page,
        perPage,
      }),
    );
    return rows.map(jobView);
  }

  @Get(':id')
  @AdminRead()
  async get(@Param('id', ParseIntPipe) id: number) {
    const job = await this.preheat.get(id);
    if (!job) throw new NotFoundException('record not found');
    return jobView(job);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @AdminWrite()
  async cancel(@Param('id', ParseIntPipe) id: number, @CurrentActor() actor: Actor) {
    const job = await this.preheat.cancel(id, actor.name);
    if (!job) throw new NotFoundException('record not found');
    return jobView(job);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @AdminWrite()
  async retry(@Param('id', ParseIntPipe) id: number, @CurrentActor() actor: Actor) {
    const job = await this.preheat.retry(id, actor.userId);
    if (!job) throw new NotFoundException('record not found');
    return jobView(job);
  }
}
