import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ROOT_BASIC, TestGateway } from '../support/gateway';

describe('queue dashboard (bull-board)', () => {
  let on: TestGateway;

  before(async () => {
    on = await TestGateway.start({ queueDashboard: { enabled: true } });
  });
  after(async () => on?.stop());

  it('shows the queues to console users only; its actions are root-only', async () => {
    assert.equal((await on.http('GET', '/admin/queues')).status, 401);
    const page = await on.http('GET', '/admin/queues', { headers: { authorization: ROOT_BASIC } });
    assert.equal(page.status, 200, page.text);
    assert.match(page.text, /<html/i);
    const queues = await on.http<{ queues: { name: string }[] }>('GET', '/admin/queues/api/queues', {
      headers: { authorization: ROOT_BASIC },
    });
    assert.equal(queues.status, 200, queues.text);
    assert.deepEqual(queues.json.queues.map((q) => q.name).sort(), ['convert', 'preheat', 'seed-download']);
    // A guest may look, not act.
    await on.http('POST', '/api/v1/users', {
      body: { name: 'viewer', password: 'viewer-password-1', role: 'guest' },
      headers: { authorization: ROOT_BASIC },
    });
    const guest = `Basic ${Buffer.from('viewer:viewer-password-1').toString('base64')}`;
    assert.equal((await on.http('GET', '/admin/queues/api/queues', { headers: { authorization: guest } })).status, 200);
    assert.equal(
      (await on.http('PUT', '/admin/queues/api/queues/preheat/retry/failed', { headers: { authorization: guest } }))
        .status,
      403,
    );
  });

  it('is off by default', async () => {
    const off = await TestGateway.start();
    try {
      assert.equal((await off.http('GET', '/admin/queues', { headers: { authorization: ROOT_BASIC } })).status, 404);
    } finally {
      await off.stop();
    }
  });
});
