import { GatewayConfig } from '@accel/config';
import { JobEntity } from '@accel/db';
import { PendingRow, QueueName, RowQueueReconciler, preheatQueueJobId } from '@accel/queue';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { LessThan, Repository } from 'typeorm';
import { PreheatService } from './preheat.service';

/** PENDING preheat jobs without a live queue entry are queued again. */
@Injectable()
export class PreheatReconciler extends RowQueueReconciler {
  constructor(
    config: GatewayConfig,
    private readonly preheat: PreheatService,
    @InjectRepository(JobEntity) private readonly jobs: Repository<JobEntity>,
    @InjectQueue(QueueName.Preheat) protected readonly queue: Queue,
  ) {
    super(config);
  }

  protected async pending(olderThan: Date): Promise<PendingRow[]> {
    const rows = await this.jobs.find({
      select: { id: true },
      where: { state: 'PENDING', type: 'preheat', isDel: 0, createdAt: LessThan(olderThan) },
      take: 500,
    });
    return rows.map(({ id }) => ({ id, queueJobId: preheatQueueJobId(id) }));
  }

  protected enqueue(id: number): Promise<void> {
    return this.preheat.enqueue(id);
  }
}
