/** Every BullMQ queue the gateway uses, and the payload each carries. */
export const QueueName = {
  /** One entry per preheat job row: resolve the image, fan out downloads, aggregate. */
  Preheat: 'preheat',
  /** One entry per (Dragonfly task, target host): a DownloadTask call on a seed peer or peer. */
  SeedDownload: 'seed-download',
  /** One entry per conversion task: pull, convert, push, and optionally preheat. */
  Convert: 'convert',
} as const;

export interface PreheatQueuePayload {
  /** Primary key of the `job` row; everything else is read from MySQL. */
  jobId: number;
}

export interface SeedDownloadPayload {
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

export const preheatQueueJobId = (jobId: number): string => `job-${jobId}`;
export * from './queue.module';
export * from './row-reconciler';
export * from './gateway-worker-host';
export * from './bounded-add';
