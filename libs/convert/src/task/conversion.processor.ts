import { GatewayConfig } from '@accel/config';
import { ConversionQueuePayload, GatewayWorkerHost, QueueName } from '@accel/queue';
import { Processor } from '@nestjs/bullmq';
import { Job } from 'bullmq';
import { ConversionEngine } from './conversion.engine';

@Processor(QueueName.Convert, { lockDuration: 120_000 })
export class ConversionProcessor extends GatewayWorkerHost {
  protected get concurrency(): number {
    return this.config.converter.worker;
  }

  constructor(
    config: GatewayConfig,
    private readonly engine: ConversionEngine,
  ) {
    super(config);
  }

  async handle(job: Job<ConversionQueuePayload>, _token: string | undefined, handedBack: AbortSignal): Promise<void> {
    await this.engine.run(job.data.taskId, handedBack);
  }
}
