import { Queue } from 'bullmq';

export type EnqueueOutcome = 'queued' | 'deferred';

/**
 * Queue.add that gives up waiting after `timeoutMs`: BullMQ's connection retries for ever while
 * Redis is down. The add may still land when Redis returns; the queue job id is derived from
 * the row, so that and the reconciler's re-queue are one entry.
 */
export async function addWithin<T>(
  queue: Queue<T>,
  timeoutMs: number,
  ...args: Parameters<Queue<T>['add']>
): Promise<EnqueueOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<EnqueueOutcome>((resolve) => {
    timer = setTimeout(() => resolve('deferred'), timeoutMs);
    timer.unref();
  });
  const added = queue.add(...args).then(() => 'queued' as const);
  // A late rejection (Redis gone for good) has nobody left to hear it.
  added.catch(() => undefined);
  try {
    // Known to be down (reconnecting): answer now rather than after the whole timeout.
    const client = await Promise.race([queue.client, late]);
    if (client === 'deferred' || (client as { status?: string }).status !== 'ready') return 'deferred';
    return await Promise.race([added, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Queues the work of a row already saved in MySQL. A Redis that is down or slow is logged, not
 * thrown: the row is durable and the reconciler queues it later under the same job id.
 */
export async function enqueueSavedRow<T>(
  queue: Queue<T>,
  timeoutMs: number,
  log: { warn(message: string): void },
  what: string,
  ...args: Parameters<Queue<T>['add']>
): Promise<void> {
  try {
    if ((await addWithin(queue, timeoutMs, ...args)) === 'deferred')
      log.warn(`${what} saved; Redis did not answer within ${timeoutMs} ms, the reconciler will queue it`);
  } catch (e) {
    log.warn(`${what} saved but not queued yet (${(e as Error).message}); the reconciler will queue it`);
  }
}
