import { LoginLimiter, UsersService, hashPassword } from '@accel/auth';
import { buildConfig } from '@accel/config';
import { UserEntity } from '@accel/db';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Repository } from 'typeorm';

const config = buildConfig({
  auth: { encryptionKey: 'k'.repeat(44), failedLogins: { perUser: 1000, perSource: 1000, windowSeconds: 60 } },
});

/** The service over a mocked repository holding one user. */
async function serviceWith(password: string): Promise<UsersService> {
  return (await world(password)).users;
}

async function world(password: string) {
  const user = Object.assign(new UserEntity(), {
    id: 7,
    name: 'harbor',
    state: 'enable',
    role: 'root',
    encryptedPassword: await hashPassword(password),
    sessionVersion: 0,
  });
  const repo = {
    findOneBy: async ({ name }: { name: string }) => (name === user.name ? user : null),
  } as unknown as Repository<UserEntity>;
  return { users: new UsersService(config, new LoginLimiter(config), repo), user };
}

const time = async (fn: () => Promise<unknown>) => {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
};

describe('UsersService credential checks', () => {
  it('a burst of identical Basic credentials costs one password hash check, not one each', async () => {
    const one = await time(async () =>
      assert.ok(await (await serviceWith('s3cret')).authenticate('harbor', 's3cret', '10.0.0.1')),
    );
    const users = await serviceWith('s3cret');
    const burst = await time(async () => {
      const results = await Promise.all(
        Array.from({ length: 64 }, () => users.authenticate('harbor', 's3cret', '10.0.0.1')),
      );
      assert.ok(results.every((u) => u?.id === 7));
    });
    // 64 scrypt runs on a 4-thread pool would take ≥ 16 × one.
    assert.ok(burst < one * 4, `64 concurrent checks took ${burst.toFixed(0)} ms, one takes ${one.toFixed(0)} ms`);
    const wrong = await Promise.all(Array.from({ length: 8 }, () => users.authenticate('harbor', 'wrong', '10.0.0.1')));
    assert.ok(
      wrong.every((u) => u === null),
      'a shared check still refuses a wrong password',
    );
  });

  it('a verified pair costs no KDF again minutes later (no periodic cliff), and a changed password revokes it', async (t) => {
    const { users, user } = await world('s3cret');
    const first = await time(async () => assert.ok(await users.authenticate('harbor', 's3cret', '10.0.0.1')));
    const now = Date.now();
    // Ten minutes on: the old 60 s cache would run scrypt again here.
    t.mock.method(Date, 'now', () => now + 10 * 60_000);
    const later = await time(async () => assert.ok(await users.authenticate('harbor', 's3cret', '10.0.0.1')));
    assert.ok(later < first / 4, `a cached check took ${later.toFixed(1)} ms, the first ${first.toFixed(1)} ms`);
    // Another replica sets a new password: the stored hash differs, so the old pair is checked again and refused.
    user.encryptedPassword = await hashPassword('n3w');
    assert.equal(await users.authenticate('harbor', 's3cret', '10.0.0.1'), null);
    assert.ok(await users.authenticate('harbor', 'n3w', '10.0.0.1'));
  });
});
