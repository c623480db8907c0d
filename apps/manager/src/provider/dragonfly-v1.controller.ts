import { Actor, CurrentActor, RequireAuth } from '@accel/auth';
import { PreheatRequest, PreheatService, v1StatusView } from '@accel/preheat';
import { Body, Controller, Get, HttpCode, NotFoundException, Param, Post, Res } from '@nestjs/common';
import { IsIn, IsOptional, IsString, MaxLength } from 'class-validator';
import { IsHeaderMap } from '../http/validators';
import { Response } from 'express';

/** Harbor 2.1–2.11 PreheatImage body (Dragonfly 1.x supernode / Dragonfly2 compatibility API). */
export class V1PreheatDto {
  @IsIn(['image', 'file']) type: 'image' | 'file';
  @IsString() @MaxLength(4096) url: string;
  @IsOptional() @IsHeaderMap() headers?: Record<string, string>;
  @IsOptional() @IsString() @MaxLength(1024) image?: string;
  @IsOptional() @IsString() @MaxLength(1024) tag?: string;
  @IsOptional() @IsString() @MaxLength(1024) digest?: string;
  @IsOptional() @IsString() @MaxLength(4096) filteredQueryParams?: string;
  @IsOptional() @IsString() @MaxLength(4096) filter?: string;
  /** Sent by Harbor 2.12's leftover v1 model; ignored here. */
  @IsOptional() @IsString() @MaxLength(256) scope?: string;
}

/** Dragonfly v1 preheat API: `POST /preheats`, `GET /preheats/:id` (IDs are JSON strings). */
@Controller('preheats')
@RequireAuth('job', { anonymous: 'legacy' })
export class DragonflyV1Controller {
  constructor(private readonly preheat: PreheatService) {}

  @Post()
  @HttpCode(200)
  async create(@Body() body: V1PreheatDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) res: Response) {
    const req: PreheatRequest = {
      type: body.type,
      url: body.url,
      headers: body.headers,
      filteredQueryParams: body.filteredQueryParams ?? body.filter,
      digest: body.digest,
    };
    const args = this.preheat.validate(req);
    // Already preheated (the same digest, when Harbor names it): 208 with the earlier job, which every Harbor version reads as done (2.3+) or polls to SUCCESS (2.1–2.2).
    const earlier = await this.preheat.recentSuccess(this.preheat.imageKey(args, [], req.digest));
    if (earlier) {
      res.status(208);
      return { ID: String(earlier.id) };
    }
    const job = await this.preheat.create(req, 'dragonfly-v1', actor.userId);
    return { ID: String(job.id) };
  }

  @Get(':id')
  async get(@Param('id') id: string) {
    const job = /^\d{1,15}$/.test(id) ? await this.preheat.get(Number(id)) : null;
    if (!job) throw new NotFoundException(`preheat task ${id} not found`);
    return v1StatusView(job);
  }
}
