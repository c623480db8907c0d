import { GatewayConfig } from '@accel/config';
import { QueueName, stopWorkerNow } from '@accel/queue';
import { Processor, WorkerHost } from '@nestjs/bullmq';
import { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { Job } from 'bullmq';
import { ConversionEngine } from './conversion.engine';
import { ConversionQueuePayload } from './conversion.service';

@Processor(QueueName.Convert, { lockDuration: 120_000 })
export class ConversionProcessor extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  constructor(
    private readonly config: GatewayConfig,
    private readonly engine: ConversionEngine,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.config.converter.worker;
  }

  onModuleDestroy(): Promise<void> {
    return stopWorkerNow(this);
  }

  async process(job: Job<ConversionQueuePayload>): Promise<void> {
    await this.engine.run(job.data.taskId);
  }
}
