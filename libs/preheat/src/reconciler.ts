import { GatewayConfig } from '@accel/config';
import { PendingRow, QueueName, RowQueueReconciler, preheatQueueJobId } from '@accel/queue';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { JobRepository } from './job.repository';
import { PreheatService } from './preheat.service';

/** PENDING preheat jobs without a live queue entry are queued again. */
@Injectable()
export class PreheatReconciler extends RowQueueReconciler {
  constructor(
    config: GatewayConfig,
    private readonly preheat: PreheatService,
    private readonly jobs: JobRepository,
    @InjectQueue(QueueName.Preheat) protected readonly queue: Queue,
  ) {
    super(config);
  }

  protected async pending(olderThan: Date): Promise<PendingRow[]> {
    const ids = await this.jobs.pendingBefore(olderThan);
    return ids.map((id) => ({ id, queueJobId: preheatQueueJobId(id) }));
  }

  protected enqueue(id: number): Promise<void> {
    return this.preheat.enqueue(id);
  }
}
