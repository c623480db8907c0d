import { LoginLimiter, TooManyFailedLogins } from '@accel/auth';
import { buildConfig } from '@accel/config';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

const limiter = (perUser: number, perSource: number, windowSeconds = 60) =>
  new LoginLimiter(
    buildConfig({ auth: { encryptionKey: 'k'.repeat(44), failedLogins: { perUser, perSource, windowSeconds } } }),
  );

const refused = (l: LoginLimiter, name: string, source: string) => {
  try {
    l.check(name, source);
    return false;
  } catch (e) {
    assert.ok(e instanceof TooManyFailedLogins);
    assert.ok(e.retryAfterSeconds >= 1);
    return true;
  }
};

describe('failed-login limiter', () => {
  it('locks a user name after its limit, from every source that never signed in as it', () => {
    const l = limiter(3, 100);
    for (const src of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) l.failed('alice', src);
    assert.ok(refused(l, 'alice', '10.0.0.9'));
    assert.ok(!refused(l, 'bob', '10.0.0.9'), 'other users are not affected');
  });

  it('keeps a source that signed in as the user working while others guess', () => {
    const l = limiter(3, 100);
    l.succeeded('harbor', '192.0.2.10');
    for (let i = 0; i < 10; i++) l.failed('harbor', '203.0.113.5');
    assert.ok(refused(l, 'harbor', '203.0.113.5'));
    assert.ok(!refused(l, 'harbor', '192.0.2.10'));
  });

  it('locks a source after its own limit, whatever the names', () => {
    const l = limiter(100, 4);
    for (let i = 0; i < 4; i++) l.failed(`user-${i}`, '198.51.100.7');
    assert.ok(refused(l, 'anyone', '198.51.100.7'));
    assert.ok(!refused(l, 'anyone', '198.51.100.8'));
  });

  it('forgets failures once the window has passed', async () => {
    const l = limiter(1, 1, 1);
    l.failed('carol', '10.1.1.1');
    assert.ok(refused(l, 'carol', '10.1.1.1'));
    await new Promise((r) => setTimeout(r, 1100));
    assert.ok(!refused(l, 'carol', '10.1.1.1'));
  });
});
