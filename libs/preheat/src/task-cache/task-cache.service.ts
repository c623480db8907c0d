import { JobDialect, JobEntity } from '@accel/db';
import { ClusterInventory } from '@accel/dragonfly';
import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { JobRepository } from '../job.repository';
import { PreheatService } from '../preheat.service';
import { TaskCacheJobType, TaskCacheRequest, taskCacheArgs } from './task-cache-args';

/** Creates Dragonfly's get_task and delete_task jobs: durable rows, run by the job workers. */
@Injectable()
export class TaskCacheService {
  constructor(
    private readonly jobs: JobRepository,
    private readonly inventory: ClusterInventory,
    private readonly preheat: PreheatService,
  ) {}

  async create(
    type: TaskCacheJobType,
    req: TaskCacheRequest,
    opts: { schedulerClusterIds?: number[] | null; bio?: string; dialect: JobDialect; userId: number },
  ): Promise<JobEntity> {
    const args = taskCacheArgs(type, req);
    const clusterIds = [...new Set(opts.schedulerClusterIds ?? [])];
    if (clusterIds.length) await this.inventory.clusters(clusterIds);
    const job = await this.jobs.insert({
      taskId: `group_${randomUUID()}`,
      bio: opts.bio ?? '',
      type,
      state: 'PENDING',
      args,
      result: null,
      userId: opts.userId,
      dialect: opts.dialect,
      imageKey: '',
      activeKey: null,
      sealedHeaders: null,
      schedulerClusterIds: clusterIds,
      finishedAt: null,
    });
    await this.preheat.enqueue(job.id);
    return job;
  }
}
