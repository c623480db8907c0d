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

  readonly httpRequests = this.counter(
    'accel_http_requests_total',
    'HTTP requests answered, by route pattern, caller dialect, method and status',
    ['route', 'dialect', 'method', 'status'] as const,
  );

  readonly httpDuration = this.histogram('accel_http_request_duration_seconds', 'Time to answer an HTTP request', [
    'route',
    'dialect',
    'method',
  ] as const);

  readonly authRefusals = this.counter(
    'accel_auth_refusals_total',
    'Requests refused for their credentials, by auth mode (bearer, basic, session, webhook, none)',
    ['mode'] as const,
  );

  readonly preheatJobs = this.counter(
    'accel_preheat_jobs_total',
    'Preheat jobs finished, by caller dialect and final state',
    ['dialect', 'state'] as const,
  );

  readonly preheatDuration = this.histogram(
    'accel_preheat_job_duration_seconds',
    'Time from a preheat job being created to its final state',
    ['state'] as const,
  );

  readonly downloads = this.counter(
    'accel_preheat_downloads_total',
    '(blob, peer) downloads a preheat asked for, by peer and result (success, failure)',
    ['peer', 'result'] as const,
  );

  readonly downloadBytes = this.counter(
    'accel_preheat_download_bytes_total',
    'Bytes peers reported for the downloads they finished',
    ['peer'] as const,
  );

  readonly downloadDuration = this.histogram(
    'accel_preheat_download_duration_seconds',
    'Time for one (blob, peer) download, as the preheat waited for it',
    ['result'] as const,
  );

  readonly originReads = this.counter(
    'accel_preheat_origin_reads_total',
    'Downloads handed to peers: made (a new download) or shared (joined an identical one in flight or just done)',
    ['kind'] as const,
  );

  readonly nodeHealthy = this.gauge(
    'accel_dragonfly_node_healthy',
    'Last gRPC health answer of a seed peer or scheduler (1 serving, 0 not)',
    ['node'] as const,
  );

  readonly conversions = this.counter(
    'accel_conversion_tasks_total',
    'Conversion tasks finished, by driver and final state',
    ['driver', 'state'] as const,
  );

  readonly conversionDuration = this.histogram(
    'accel_conversion_duration_seconds',
    'Time a conversion spent per phase: convert (pull, rewrite and push, streamed together) and preheat (queueing the chained preheat)',
    ['driver', 'phase'] as const,
  );

  readonly conversionBytes = this.counter(
    'accel_conversion_bytes_total',
    'Image bytes read (in) and written (out) by conversions',
    ['driver', 'direction'] as const,
  );

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

  private counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.registry] });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
    return new Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  private histogram<L extends string>(name: string, help: string, labelNames: readonly L[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets: DURATION_BUCKETS, registers: [this.registry] });
  }

  /** Seconds since `startedMs` (Date.now() at the start). */
  static since(startedMs: number): number {
    return (Date.now() - startedMs) / 1000;
  }
}
