import { Actor, AdminRead, AdminWrite, CurrentActor } from '@accel/auth';
import { ConversionService, conversionTaskView } from '@accel/convert';
import { PreheatService, jobView } from '@accel/preheat';
import {
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsDateString, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { Request, Response } from 'express';
import { MAX_PAGE } from '../http/validators';
import { paged } from '../provider/pagination';

export class AdminJobQueryDto {
  @IsOptional() @IsString() @MaxLength(1024) type?: string;
  @IsOptional() @IsIn(['PENDING', 'SUCCESS', 'FAILURE']) state?: string;
  /** Substring of the preheated URL. */
  @IsOptional() @IsString() @MaxLength(1024) image?: string;
  @IsOptional() @IsDateString() created_after?: string;
  @IsOptional() @IsDateString() created_before?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE) page?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) per_page?: number;
}

export class AdminConversionQueryDto {
  @IsOptional() @IsIn(['PROCESSING', 'COMPLETED', 'FAILED']) status?: 'PROCESSING' | 'COMPLETED' | 'FAILED';
  @IsOptional() @IsString() @MaxLength(1024) source?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE) page?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) per_page?: number;
}

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
