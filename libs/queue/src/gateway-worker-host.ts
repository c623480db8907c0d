import { WorkerHost } from '@nestjs/bullmq';
import { Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';

/**
 * A queue processor with its concurrency from the configuration, stopped at shutdown without
 * waiting for its active jobs: a job waiting on children could otherwise hold shutdown for its
 * whole timeout. Its row stays unfinished in MySQL and the stalled job runs again on the next
 * worker.
 */
export abstract class GatewayWorkerHost extends WorkerHost implements OnApplicationBootstrap, OnModuleDestroy {
  protected abstract readonly concurrency: number;

  private readonly workerLog = new Logger(this.constructor.name);

  onApplicationBootstrap(): void {
    this.worker.concurrency = this.concurrency;
    // Without a listener BullMQ prints whole stacks; a lost lock after a Redis restart is expected
    // (the row is still PENDING and the job runs again), so one line is enough.
    this.worker.on('error', (e) => this.workerLog.warn(`queue worker: ${e.message}`));
  }

  async onModuleDestroy(): Promise<void> {
    try {
      await this.worker.close(true);
    } catch {
      /* never started */
    }
  }
}
