import { isPreheatJob, isTaskCacheJob } from '@accel/db';
import { Injectable } from '@nestjs/common';
import { JobRepository } from './job.repository';
import { PreheatEngine } from './preheat.engine';
import { TaskCacheEngine } from './task-cache/task-cache.engine';

/** What the job queue runs: a PENDING row, by the engine of its type. */
@Injectable()
export class JobRunner {
  constructor(
    private readonly jobs: JobRepository,
    private readonly preheat: PreheatEngine,
    private readonly taskCache: TaskCacheEngine,
  ) {}

  async run(jobId: number, handedBack?: AbortSignal): Promise<'done' | 'registry-busy'> {
    const job = await this.jobs.byId(jobId);
    if (!job || job.state !== 'PENDING') return 'done';
    if (isPreheatJob(job)) return this.preheat.run(job, handedBack);
    if (isTaskCacheJob(job)) await this.taskCache.run(job);
    return 'done';
  }
}
