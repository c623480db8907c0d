import { GatewayMetrics } from '@accel/common';
import { SeedDownloadDispatcher } from '@accel/preheat';
import { QueueName, SeedDownloadPayload, SeedDownloadResult, redisConnection, seedDownloadJobId } from '@accel/queue';
import { Queue } from 'bullmq';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { eventually, testConfig } from '../support/env';

describe('SeedDownloadDispatcher (real Redis, no worker)', () => {
  const config = testConfig();
  const queue = new Queue<SeedDownloadPayload, SeedDownloadResult>(QueueName.SeedDownload, {
    connection: redisConnection(config),
    prefix: config.redis.prefix,
  });
  const dispatcher = new SeedDownloadDispatcher(config, queue, new GatewayMetrics());
  after(async () => {
    await dispatcher.onApplicationShutdown();
    await queue.obliterate({ force: true });
    await queue.close();
  });

  it('a download this process ran answers its waiters at once, before the queue has recorded it', async () => {
    const target = { hostname: 'seed-1', ip: '10.0.0.1', port: 65001 };
    const payload: SeedDownloadPayload = {
      taskId: 'task-1',
      target,
      download: {
        url: 'http://r.example/v2/a/blobs/sha256:1',
        priority: 0,
        filteredQueryParams: [],
        sealedHeaders: '',
        timeoutMs: 60_000,
      },
    };
    const id = seedDownloadJobId('task-1', target);
    const started = Date.now();
    const outcome = dispatcher.run(payload, 10_000);
    await eventually(async () => ((await queue.getJob(id)) ? true : undefined), 5000, 'the queue entry');
    const result = { taskId: 'task-1', hostId: 'h1', contentLength: 4, pieces: 1, cached: false };
    dispatcher.completed(id, result);
    assert.deepEqual(await outcome, result);
    assert.ok(Date.now() - started < 5000, 'answered long before the 10 s wait ran out');
    // Nothing ran it through the queue: the entry still waits there, and a later caller joins it.
    assert.equal(await queue.getJobState(id), 'waiting');
  });
});
