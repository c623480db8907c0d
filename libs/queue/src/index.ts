import { JobsOptions } from 'bullmq';
import { createHash } from 'node:crypto';

/** Every BullMQ queue the gateway uses, and the payload each carries. */
export const QueueName = {
  /** One entry per preheat job row: resolve the image, fan out downloads, aggregate. */
  Preheat: 'preheat',
  /** One entry per (Dragonfly task, target host): a DownloadTask call on a seed peer or peer. */
  SeedDownload: 'seed-download',
  /** One entry per conversion task: pull, convert, push, and optionally preheat. */
  Convert: 'convert',
} as const;

/** Every payload may name the request that queued it: the worker's log lines carry that id. */
export interface Traced {
  requestId?: string;
}

export interface PreheatQueuePayload extends Traced {
  /** Primary key of the `job` row; everything else is read from MySQL. */
  jobId: number;
}

export interface SeedDownloadPayload extends Traced {
  taskId: string;
  target: { hostname: string; ip: string; port: number };
  download: {
    url: string;
    tag?: string;
    application?: string;
    priority: number;
    filteredQueryParams: string[];
    /** Encrypted request headers (they carry registry credentials). */
    sealedHeaders: string;
    pieceLength?: number;
    timeoutMs: number;
  };
}

export interface SeedDownloadResult {
  taskId: string;
  hostId: string;
  contentLength: number;
  pieces: number;
  /** The peer already had the whole task cached. */
  cached: boolean;
}

export interface ConversionQueuePayload extends Traced {
  /** Primary key of the `conversion_task` row. */
  taskId: number;
}

export const preheatQueueJobId = (jobId: number): string => `job-${jobId}`;

/** One live conversion per active key: a redelivered webhook finds the entry already there. */
export const conversionQueueJobId = (activeKey: string): string => `cv-${activeKey}`;

/** Queue id of one (Dragonfly task, host) download: identical requests from any job share it. */
export const seedDownloadJobId = (taskId: string, target: { ip: string; port: number }): string =>
  `dl-${createHash('sha256').update(`${taskId}|${target.ip}:${target.port}`).digest('hex').slice(0, 48)}`;

/** How each queue's entries are added: ids derived from their rows (so re-adding is a no-op), retries, retention. */
export const queueEntryOptions = {
  preheat: (jobId: number): JobsOptions => ({
    jobId: preheatQueueJobId(jobId),
    attempts: 3,
    backoff: { type: 'exponential', delay: 2000 },
    removeOnComplete: { age: 3600 },
    removeOnFail: { age: 24 * 3600 },
  }),
  convert: (activeKey: string): JobsOptions => ({
    jobId: conversionQueueJobId(activeKey),
    attempts: 3,
    backoff: { type: 'exponential', delay: 5000 },
    // The row holds the outcome; a finished queue entry must not block the next delivery's id.
    removeOnComplete: true,
    removeOnFail: true,
  }),
  seedDownload: (taskId: string, target: { ip: string; port: number }, shareSeconds: number): JobsOptions => ({
    jobId: seedDownloadJobId(taskId, target),
    attempts: 1,
    removeOnComplete: { age: Math.max(1, shareSeconds) },
    // A failure is shared with whoever waits now; the next request tries again.
    removeOnFail: true,
  }),
};
export * from './queue.module';
export * from './row-reconciler';
export * from './gateway-worker-host';
export * from './bounded-add';
