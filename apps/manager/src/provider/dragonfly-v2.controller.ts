import { Actor, CurrentActor, RequireAuth, isAdmin } from '@accel/auth';
import { PeerSyncService } from '@accel/dragonfly';
import {
  ImageDistributionService,
  JobRateLimiter,
  PreheatService,
  TaskCacheService,
  jobView,
  requestFromDragonflyArgs,
} from '@accel/preheat';
import {
  Body,
  Controller,
  Delete,
  ForbiddenException,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Post,
  Query,
  Req,
  Res,
  UnauthorizedException,
  UnprocessableEntityException,
} from '@nestjs/common';
import { Request, Response } from 'express';
import { validateAs } from '../http/validation';
import { GcJobService } from '../retention/gc-job.service';
import {
  CreateJobDto,
  GcArgsDto,
  ImageDistributionArgsDto,
  JOB_TYPES,
  JobListQueryDto,
  PreheatArgsDto,
  TaskCacheArgsDto,
} from './dragonfly-v2.dto';
import { paged } from '../http/pagination';

const idPipe = new ParseIntPipe({
  exceptionFactory: () => new UnprocessableEntityException({ errors: 'id must be a positive integer' }),
});

/** Dragonfly manager job API (Harbor 2.12+ "Dragonfly" provider): `/oapi/v1/jobs`. */
@Controller('oapi/v1/jobs')
@RequireAuth('job')
export class DragonflyV2Controller {
  constructor(
    private readonly preheat: PreheatService,
    private readonly gc: GcJobService,
    private readonly taskCache: TaskCacheService,
    private readonly rateLimit: JobRateLimiter,
    private readonly peers: PeerSyncService,
    private readonly distribution: ImageDistributionService,
  ) {}

  /** Harbor 2.12+ creates and polls; with auth mode NONE (`auth.allowAnonymousJobApi`) these two calls need no token. */
  @Post()
  @HttpCode(200)
  @RequireAuth('job', { anonymous: 'job-api' })
  async create(@Body() body: CreateJobDto, @CurrentActor() actor: Actor, @Res({ passthrough: true }) res: Response) {
    // Dragonfly's limiter runs before the type is looked at: every creation naming a cluster counts.
    await this.rateLimit.take(body.scheduler_cluster_ids);
    if (!JOB_TYPES.includes(body.type)) throw new UnprocessableEntityException({ errors: 'Unknow type' });
    // Auth mode NONE opens preheats (what Harbor sends) to anonymous callers, nothing else.
    if (body.type !== 'preheat' && actor.kind === 'anonymous') throw new UnauthorizedException('Unauthorized');
    if (body.type === 'gc') return this.createGc(body, actor);
    if (body.type === 'get_image_distribution') {
      const a = validateAs(ImageDistributionArgsDto, body.args ?? {}, 'args');
      return this.distribution.distribution({ ...a, schedulerClusterIds: body.scheduler_cluster_ids });
    }
    if (body.type === 'sync_peers') {
      // Synchronous and recorded nowhere but in the peers table, as Dragonfly's; answers the JSON string "OK".
      await this.peers.sync(body.scheduler_cluster_ids ?? []);
      res.type('application/json');
      return JSON.stringify('OK');
    }
    if (body.type === 'get_task' || body.type === 'delete_task') {
      const a = validateAs(TaskCacheArgsDto, body.args ?? {}, 'args');
      // Dragonfly's handler: one of the three names the task, else 422.
      if (!a.task_id && !a.url && a.content_for_calculating_task_id == null)
        throw new UnprocessableEntityException({
          errors: 'invalid params: task_id, url or content_for_calculating_task_id is required',
        });
      const job = await this.taskCache.create(body.type, a, {
        schedulerClusterIds: body.scheduler_cluster_ids,
        bio: body.bio,
        dialect: 'dragonfly-v2',
        userId: actor.userId,
      });
      return jobView(job);
    }
    // What is left is a preheat: every other type of JOB_TYPES was answered above.
    const a = validateAs(PreheatArgsDto, body.args ?? {}, 'args');
    const req = requestFromDragonflyArgs(a, { schedulerClusterIds: body.scheduler_cluster_ids, bio: body.bio });
    return jobView(await this.preheat.create(req, 'dragonfly-v2', actor.userId));
  }

  /** Removing history is an administrator's act: a Harbor token with the `job` scope may not. */
  private async createGc(body: CreateJobDto, actor: Actor) {
    if (!isAdmin(actor))
      throw new ForbiddenException("Token doesn't have permission to access this resource. Required permission: admin");
    const a = validateAs(GcArgsDto, body.args ?? {}, 'args');
    return jobView(await this.gc.run(a.type, actor.userId, body.bio));
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
