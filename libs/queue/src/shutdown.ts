import { WorkerHost } from '@nestjs/bullmq';

/**
 * Stops a processor's worker without waiting for its active jobs. A preheat or conversion
 * waiting on children could otherwise hold shutdown for up to its timeout; its row stays
 * unfinished in MySQL and the job, stalled, runs again on the next worker.
 */
export async function stopWorkerNow(host: WorkerHost): Promise<void> {
  try {
    await host.worker.close(true);
  } catch {
    /* never started */
  }
}
