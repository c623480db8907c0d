import { GatewayConfig } from '@accel/config';
import { PendingRow, QueueName, RowQueueReconciler, conversionQueueJobId } from '@accel/queue';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Queue } from 'bullmq';
import { ConversionTaskRepository } from './conversion-task.repository';
import { ConversionService } from './conversion.service';

/** PROCESSING conversions survive restarts: one without a live queue entry is queued again (acceld deleted them). */
@Injectable()
export class ConversionReconciler extends RowQueueReconciler {
  constructor(
    config: GatewayConfig,
    private readonly conversions: ConversionService,
    private readonly tasks: ConversionTaskRepository,
    @InjectQueue(QueueName.Convert) protected readonly queue: Queue,
  ) {
    super(config);
  }

  protected async pending(olderThan: Date): Promise<PendingRow[]> {
    const rows = await this.tasks.processingBefore(olderThan);
    return rows.filter((t) => t.activeKey).map((t) => ({ id: t.id, queueJobId: conversionQueueJobId(t.activeKey!) }));
  }

  protected async enqueue(id: number): Promise<void> {
    const task = await this.tasks.byId(id);
    if (task?.activeKey) await this.conversions.enqueue(task);
  }
}
