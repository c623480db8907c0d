import { Actor, CurrentActor, RequireAuth } from '@accel/auth';
import { PreheatService, jobView, requestFromDragonflyArgs } from '@accel/preheat';
import {
  Body,
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
  UnprocessableEntityException,
} from '@nestjs/common';
import { Request, Response } from 'express';
import { validateAs } from '../http/validation';
import { CreateJobDto, JOB_TYPES, JobListQueryDto, PreheatArgsDto } from './dragonfly-v2.dto';
import { paged } from '../http/pagination';

const idPipe = new ParseIntPipe({
  exceptionFactory: () => new UnprocessableEntityException({ errors: 'id must be a positive integer' }),
});

/** Dragonfly manager job API (Harbor 2.12+ "Dragonfly" provider): `/oapi/v1/jobs`. */
@Controller('oapi/v1/jobs')
@RequireAuth('job')
export class DragonflyV2Controller {
  constructor(private readonly preheat: PreheatService) {}

  /** Harbor 2.12+ creates and polls; with auth mode NONE (`auth.allowAnonymousJobApi`) these two calls need no token. */
  @Post()
  @HttpCode(200)
  @RequireAuth('job', { anonymous: 'job-api' })
  async create(@Body() body: CreateJobDto, @CurrentActor() actor: Actor) {
    if (!JOB_TYPES.includes(body.type)) throw new UnprocessableEntityException({ errors: 'Unknow type' });
    if (body.type !== 'preheat')
      throw new UnprocessableEntityException({
        errors: `job type ${body.type} is not supported by this gateway; only preheat is`,
      });
    const a = validateAs(PreheatArgsDto, body.args ?? {}, 'args');
    const req = requestFromDragonflyArgs(a, { schedulerClusterIds: body.scheduler_cluster_ids, bio: body.bio });
    return jobView(await this.preheat.create(req, 'dragonfly-v2', actor.userId));
  }

  @Get()
  async list(@Query() q: JobListQueryDto, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const rows = await paged(req, res, q.page, q.per_page, 10, (page, perPage) =>
      this.preheat.list({ type: q.type, state: q.state, userId: q.user_id, page, perPage }),
    );
    return rows.map((j) => ({ ...jobView(j), scheduler_clusters: null }));
  }

  @Get(':id')
  @RequireAuth('job', { anonymous: 'job-api' })
  async get(@Param('id', idPipe) id: number) {
    const job = await this.preheat.get(id);
    if (!job) throw new NotFoundException('record not found');
    return jobView(job);
  }

  @Delete(':id')
  @HttpCode(200)
  async remove(@Param('id', idPipe) id: number, @Res() res: Response) {
    if (!(await this.preheat.remove(id))) throw new NotFoundException('record not found');
    res.status(200).end();
  }
}
