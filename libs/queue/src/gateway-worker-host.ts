import { WorkerHost } from '@nestjs/bullmq';
import { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';

/**
 * A queue processor with its concurrency from the configuration, stopped at shutdown without
 * waiting for its active jobs: a job waiting on children could otherwise hold shutdown for its
 * whole timeout. Its row stays unfinished in MySQL and the stalled job runs again on the next
 * worker.
 */
export abstract class GatewayWorkerHost extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  protected abstract readonly concurrency: number;

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.concurrency;
  }

  async onModuleDestroy(): Promise<void> {
    try {
      await this.worker.close(true);
    } catch {
      /* never started */
    }
  }
}
