import { GatewayConfig, buildConfig, deepMerge } from '@accel/config';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { DataSource } from 'typeorm';

/** Where the suite's MySQL/MariaDB and Redis are (scripts/test.sh finds or starts them). */
export const services = {
  db: {
    host: process.env.ACCEL_TEST_DB_HOST ?? '127.0.0.1',
    port: Number(process.env.ACCEL_TEST_DB_PORT ?? 3306),
    username: process.env.ACCEL_TEST_DB_USER ?? 'root',
    password: process.env.ACCEL_TEST_DB_PASSWORD ?? '',
  },
  redis: {
    host: process.env.ACCEL_TEST_REDIS_HOST ?? '127.0.0.1',
    port: Number(process.env.ACCEL_TEST_REDIS_PORT ?? 6379),
  },
};

export const uniqueName = (prefix: string): string =>
  `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;

/** A configuration with its own database and Redis key prefix, so test files never see each other's state. */
export function testConfig(overrides: Record<string, unknown> = {}): GatewayConfig {
  const base = {
    logLevel: 'warn',
    server: { host: '127.0.0.1', port: 0, conversionPort: 0 },
    database: { ...services.db, database: uniqueName('accel_test') },
    redis: { ...services.redis, prefix: uniqueName('t') },
    auth: { encryptionKey: randomBytes(32).toString('base64'), rootPassword: 'root-password-for-tests' },
    registry: { allowed: ['127.0.0.1:*', 'localhost:*'] },
    preheat: { healthCacheSeconds: 0, healthTimeoutMs: 500 },
  };
  return buildConfig(deepMerge(base, overrides));
}

export async function dropDatabase(config: GatewayConfig): Promise<void> {
  const ds = new DataSource({ type: 'mysql', ...services.db });
  await ds.initialize();
  try {
    await ds.query(`DROP DATABASE IF EXISTS \`${config.database.database}\``);
  } finally {
    await ds.destroy();
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a value that is not undefined, or fails after `timeoutMs`. */
export async function eventually<T>(
  fn: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}
