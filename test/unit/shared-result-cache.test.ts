import { SharedResultCache } from '@accel/common';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the job counts, list bookmarks and seed-peer health checks rely on. */
describe('shared result cache', () => {
  it('loads once for callers at the same time, and serves the result while fresh', async () => {
    let loads = 0;
    const c = new SharedResultCache<number>({ ttlMs: () => 50 });
    const load = async () => (await sleep(10), ++loads);
    assert.deepEqual(await Promise.all([c.get('k', load), c.get('k', load), c.get('k', load)]), [1, 1, 1]);
    assert.equal(await c.get('k', load), 1);
    await sleep(60);
    assert.equal(await c.get('k', load), 2, 'an expired result is loaded again');
  });

  it('shares the load of a result it does not keep, then loads again', async () => {
    let loads = 0;
    const c = new SharedResultCache<number>({ ttlMs: () => 60_000 });
    const load = async () => (await sleep(5), ++loads);
    const small = (n: number) => n >= 10;
    assert.deepEqual(await Promise.all([c.get('k', load, small), c.get('k', load, small)]), [1, 1]);
    assert.equal(await c.get('k', load, small), 2);
  });

  it('with serveStale, an expired result answers at once while its replacement loads', async () => {
    let loads = 0;
    const c = new SharedResultCache<number>({ ttlMs: () => 20, serveStale: true });
    const load = async () => (await sleep(30), ++loads);
    assert.equal(await c.get('k', load), 1);
    await sleep(25);
    const t = Date.now();
    assert.equal(await c.get('k', load), 1, 'stale, without waiting');
    assert.ok(Date.now() - t < 15);
    assert.equal(await c.get('k', load), 1, 'one refresh at a time');
    await sleep(40);
    assert.equal(await c.get('k', load), 2);
    assert.equal(loads, 2);
  });

  it('keeps no failure: the next caller loads again; a stale result survives a failed refresh', async () => {
    const c = new SharedResultCache<number>({ ttlMs: () => 10, serveStale: true });
    await assert.rejects(
      c.get('a', () => Promise.reject(new Error('down'))),
      /down/,
    );
    assert.equal(await c.get('a', async () => 7), 7);
    await sleep(15);
    assert.equal(await c.get('a', () => Promise.reject(new Error('down'))), 7);
    await sleep(5);
    assert.equal(c.peek('a'), 7);
    assert.equal(await c.get('a', async () => 8), 7, 'still stale: the failed refresh did not count as fresh');
  });
});
