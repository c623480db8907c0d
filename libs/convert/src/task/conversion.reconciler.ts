import { GatewayConfig } from '@accel/config';
import { ConversionTaskEntity } from '@accel/db';
import { PendingRow, QueueName, RowQueueReconciler, conversionQueueJobId } from '@accel/queue';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Queue } from 'bullmq';
import { LessThan, Repository } from 'typeorm';
import { ConversionService } from './conversion.service';

/** PROCESSING conversions survive restarts: one without a live queue entry is queued again (acceld deleted them). */
@Injectable()
export class ConversionReconciler extends RowQueueReconciler {
  constructor(
    config: GatewayConfig,
    private readonly conversions: ConversionService,
    @InjectRepository(ConversionTaskEntity) private readonly tasks: Repository<ConversionTaskEntity>,
    @InjectQueue(QueueName.Convert) protected readonly queue: Queue,
  ) {
    super(config);
  }

  protected async pending(olderThan: Date): Promise<PendingRow[]> {
    const rows = await this.tasks.find({
      where: { status: 'PROCESSING', isDel: 0, createdAt: LessThan(olderThan) },
      take: 500,
    });
    return rows.filter((t) => t.activeKey).map((t) => ({ id: t.id, queueJobId: conversionQueueJobId(t.activeKey!) }));
  }

  protected async enqueue(id: number): Promise<void> {
    const task = await this.tasks.findOneBy({ id });
    if (task?.activeKey) await this.conversions.enqueue(task);
  }
}
