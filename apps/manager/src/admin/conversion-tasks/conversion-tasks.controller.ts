import { Actor, AdminRead, AdminWrite, CurrentActor } from '@accel/auth';
import { ConversionService, conversionTaskView } from '@accel/convert';
import {
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Request, Response } from 'express';
import { paged } from '../../http/pagination';

import { AdminConversionQueryDto } from './conversion-tasks.dto';

/** Conversion tasks for operators (the acceld list lives on :2077). */
@ApiTags('conversions')
@Controller('api/v1/conversion-tasks')
export class ConversionTasksController {
  constructor(private readonly conversions: ConversionService) {}

  @Get()
  @AdminRead()
  async list(@Query() q: AdminConversionQueryDto, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const rows = await paged(req, res, q.page, q.per_page, 10, (page, perPage) =>
      this.conversions.list({ status: q.status, source: q.source, page, perPage }),
    );
    return rows.map(conversionTaskView);
  }

  @Get(':id')
  @AdminRead()
  async get(@Param('id', ParseUUIDPipe) id: string) {
    const t = await this.conversions.findByUuid(id);
    if (!t) throw new NotFoundException('record not found');
    return conversionTaskView(t);
  }

  @Post(':id/cancel')
  @HttpCode(200)
  @AdminWrite()
  async cancel(@Param('id', ParseUUIDPipe) id: string, @CurrentActor() actor: Actor) {
    const t = await this.conversions.cancel(id, actor.name);
    if (!t) throw new NotFoundException('record not found');
    return conversionTaskView(t);
  }

  @Post(':id/retry')
  @HttpCode(200)
  @AdminWrite()
  async retry(@Param('id', ParseUUIDPipe) id: string) {
    const t = await this.conversions.retry(id);
    if (!t) throw new NotFoundException('record not found');
    return conversionTaskView(t);
  }
}
