import { DbModule } from '@accel/db';
import { DragonflyModule } from '@accel/dragonfly';
import { QueueName } from '@accel/queue';
import { RegistryModule } from '@accel/registry';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { JobRateLimiter } from './job-rate-limiter';
import { JobRepository } from './job.repository';
import { JobRunner } from './job-runner';
import { TaskCacheEngine } from './task-cache/task-cache.engine';
import { TaskCacheService } from './task-cache/task-cache.service';
import { ImageDistributionService } from './task-cache/image-distribution.service';
import { PreheatEngine } from './preheat.engine';
import { PreheatService } from './preheat.service';
import { PreheatProcessor, SeedDownloadProcessor } from './processors';
import { PreheatReconciler } from './reconciler';
import { RegistrySlots } from './registry-slots';
import { SeedDownloadDispatcher } from './seed-download.dispatcher';
import { TargetPlanner } from './target-planner';

const queues = BullModule.registerQueue({ name: QueueName.Preheat }, { name: QueueName.SeedDownload });

/** Creating and reading preheat jobs (what the API needs). */
@Module({
  imports: [DbModule, RegistryModule, DragonflyModule, queues],
  providers: [JobRepository, PreheatService, TaskCacheService, JobRateLimiter, ImageDistributionService],
  exports: [
    JobRepository,
    PreheatService,
    TaskCacheService,
    JobRateLimiter,
    ImageDistributionService,
    DragonflyModule,
    RegistryModule,
  ],
})
export class PreheatModule {}

/** The queue processors: imported by the worker app, and by the manager in single-node mode. */
@Module({
  imports: [PreheatModule, DbModule, RegistryModule, DragonflyModule, queues],
  providers: [
    PreheatEngine,
    TaskCacheEngine,
    JobRunner,
    RegistrySlots,
    TargetPlanner,
    SeedDownloadDispatcher,
    PreheatProcessor,
    SeedDownloadProcessor,
    PreheatReconciler,
  ],
})
export class PreheatWorkerModule {}
