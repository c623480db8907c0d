import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('timed out')), ms);
    timer.unref();
    p.then(resolve, reject).finally(() => clearTimeout(timer));
  });

/** Seconds, from sub-millisecond API answers to preheats of many minutes. */
const DURATION_BUCKETS = [0.005, 0.025, 0.1, 0.25, 1, 2.5, 10, 30, 60, 300, 900, 3600];

/**
 * The gateway's Prometheus metrics, one registry per process (names in the README). Label
 * values are bounded: routes are route patterns, peers are configured hosts.
 */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: 'accel_http_requests_total',
    help: 'HTTP requests answered, by route pattern, caller dialect, method and status',
    labelNames: ['route', 'dialect', 'method', 'status'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: 'accel_http_request_duration_seconds',
    help: 'Time to answer an HTTP request',
    labelNames: ['route', 'dialect', 'method'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly authRefusals = new Counter({
    name: 'accel_auth_refusals_total',
    help: 'Requests refused for their credentials, by auth mode (bearer, basic, session, webhook, none)',
    labelNames: ['mode'] as const,
    registers: [this.registry],
  });

  readonly preheatJobs = new Counter({
    name: 'accel_preheat_jobs_total',
    help: 'Preheat jobs finished, by caller dialect and final state',
    labelNames: ['dialect', 'state'] as const,
    registers: [this.registry],
  });

  readonly preheatDuration = new Histogram({
    name: 'accel_preheat_job_duration_seconds',
    help: 'Time from a preheat job being created to its final state',
    labelNames: ['state'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly downloads = new Counter({
    name: 'accel_preheat_downloads_total',
    help: '(blob, peer) downloads a preheat asked for, by peer and result (success, failure)',
    labelNames: ['peer', 'result'] as const,
    registers: [this.registry],
  });

  readonly downloadBytes = new Counter({
    name: 'accel_preheat_download_bytes_total',
    help: 'Bytes peers reported for the downloads they finished',
    labelNames: ['peer'] as const,
    registers: [this.registry],
  });

  readonly downloadDuration = new Histogram({
    name: 'accel_preheat_download_duration_seconds',
    help: 'Time for one (blob, peer) download, as the preheat waited for it',
    labelNames: ['result'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly originReads = new Counter({
    name: 'accel_preheat_origin_reads_total',
    help: 'Downloads handed to peers: made (a new download) or shared (joined an identical one in flight or just done)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });

  readonly nodeHealthy = new Gauge({
    name: 'accel_dragonfly_node_healthy',
    help: 'Last gRPC health answer of a seed peer or scheduler (1 serving, 0 not)',
    labelNames: ['node'] as const,
    registers: [this.registry],
  });

  readonly conversions = new Counter({
    name: 'accel_conversion_tasks_total',
    help: 'Conversion tasks finished, by driver and final state',
    labelNames: ['driver', 'state'] as const,
    registers: [this.registry],
  });

  readonly conversionDuration = new Histogram({
    name: 'accel_conversion_duration_seconds',
    help: 'Time a conversion spent per phase: convert (pull, rewrite and push, streamed together) and preheat (queueing the chained preheat)',
    labelNames: ['driver', 'phase'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });

  readonly conversionBytes = new Counter({
    name: 'accel_conversion_bytes_total',
    help: 'Image bytes read (in) and written (out) by conversions',
    labelNames: ['driver', 'direction'] as const,
    registers: [this.registry],
  });

  private readonly queues = new Map<string, () => Promise<Record<string, number>>>();

  readonly queueJobs = new Gauge({
    name: 'accel_queue_jobs',
    help: 'Queue entries by queue and state (waiting, active, delayed, failed), read at scrape time',
    labelNames: ['queue', 'state'] as const,
    registers: [this.registry],
    collect: async () => {
      // Redis down: the gauges keep their last values rather than failing the scrape.
      await Promise.all(
        [...this.queues].map(([queue, counts]) =>
          withTimeout(counts(), 1000).then(
            (c) => Object.entries(c).forEach(([state, n]) => this.queueJobs.set({ queue, state }, n)),
            () => undefined,
          ),
        ),
      );
    },
  });

  /** Reports a queue's entry counts at every scrape. */
  watchQueue(name: string, counts: () => Promise<Record<string, number>>): void {
    this.queues.set(name, counts);
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'accel_' });
  }

  /** Seconds since `startedMs` (Date.now() at the start). */
  static since(startedMs: number): number {
    return (Date.now() - startedMs) / 1000;
  }
}
