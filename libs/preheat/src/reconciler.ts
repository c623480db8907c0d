import { GatewayConfig } from '@accel/config';
import { JobEntity } from '@accel/db';
import { QueueName, preheatQueueJobId } from '@accel/queue';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { LessThan, Repository } from 'typeorm';
import { PreheatService } from './preheat.service';

/** Re-queues PENDING job rows that have no live queue entry (Redis lost, worker crashed between steps). */
@Injectable()
export class PreheatReconciler implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(PreheatReconciler.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: GatewayConfig,
    private readonly preheat: PreheatService,
    @InjectRepository(JobEntity) private readonly jobs: Repository<JobEntity>,
    @InjectQueue(QueueName.Preheat) private readonly queue: Queue,
  ) {}

  onApplicationBootstrap(): void {
    void this.reconcile();
    this.timer = setInterval(() => void this.reconcile(), this.config.preheat.reconcileIntervalSeconds * 1000);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async reconcile(): Promise<number> {
    let requeued = 0;
    try {
      const pending = await this.jobs.find({
        select: { id: true },
        where: { state: 'PENDING', type: 'preheat', isDel: 0, // Younger rows may still be on their way into the queue.
        createdAt: LessThan(new Date(Date.now() - this.config.preheat.reconcileGraceSeconds * 1000)) },
        take: 500,
      });
      for (const { id } of pending) {
        const queued = await this.queue.getJob(preheatQueueJobId(id));
        const state = queued ? await queued.getState() : 'missing';
        if (state === 'missing' || state === 'completed' || state === 'failed' || state === 'unknown') {
          if (queued) await queued.remove().catch(() => undefined);
          await this.preheat.enqueue(id);
          requeued++;
        }
      }
      if (requeued) this.log.warn(`re-queued ${requeued} pending job(s) that had no queue entry`);
    } catch (e) {
      this.log.warn(`reconcile failed: ${(e as Error).message}`);
    }
    return requeued;
  }
}
