import { redisConnection } from '@accel/queue';
import { Redis, RedisOptions } from 'ioredis';
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { eventually, testConfig } from '../support/env';

/** The socket writes a connected client makes from now on (one writev of many commands counts once). */
function countWrites(redis: Redis): { count: number } {
  const socket = redis.stream as Socket & { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const seen = { count: 0 };
  const write = socket._write.bind(socket);
  const writev = socket._writev.bind(socket);
  socket._write = (...a) => (seen.count++, write(...a));
  socket._writev = (...a) => (seen.count++, writev(...a));
  return seen;
}

describe('Redis connection of the queues (real Redis)', () => {
  const clients: Redis[] = [];
  const connect = async () => {
    const redis = new Redis({ ...(redisConnection(testConfig()) as RedisOptions), lazyConnect: true });
    clients.push(redis);
    await redis.connect();
    return redis;
  };
  after(() => clients.forEach((c) => c.disconnect()));

  it('commands issued in one turn leave in one socket write, and each gets its own reply', async () => {
    const redis = await connect();
    const writes = countWrites(redis);
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => redis.echo(`m${i}`)));
    assert.deepEqual(
      replies,
      Array.from({ length: 100 }, (_, i) => `m${i}`),
    );
    assert.equal(writes.count, 1, 'one write for 100 commands (ioredis alone makes 100)');
    // Issued from separate callbacks of one turn (as replies from many peers arrive): still one write.
    writes.count = 0;
    const later = await Promise.all(
      Array.from({ length: 20 }, (_, i) => Promise.resolve().then(() => redis.incrby(`k-${process.pid}`, i + 1))),
    );
    assert.equal(later[19], 210);
    assert.equal(writes.count, 1);
    await redis.del(`k-${process.pid}`);
  });

  it('a connection Redis drops is made again, and its commands still go out together', async () => {
    const redis = await connect();
    const id = await redis.client('ID');
    const admin = await connect();
    await admin.client('KILL', 'ID', String(id));
    await eventually(
      async () => ((await redis.ping().catch(() => '')) === 'PONG' ? true : undefined),
      10_000,
      'a reconnect',
    );
    assert.notEqual(await redis.client('ID'), id, 'a new connection');
    const writes = countWrites(redis);
    assert.deepEqual(await Promise.all([redis.ping(), redis.echo('x'), redis.ping()]), ['PONG', 'x', 'PONG']);
    assert.equal(writes.count, 1);
  });
});
