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
  return new UsersService(config, new LoginLimiter(config), repo);
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
});
