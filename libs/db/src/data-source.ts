import { DatabaseConfig } from '@accel/config';
import { DataSource } from 'typeorm';
import { MysqlConnectionOptions } from 'typeorm/driver/mysql/MysqlConnectionOptions';
import { MIGRATIONS } from '../../../migrations';
import { ENTITIES } from './entities';

export function dataSourceOptions(db: DatabaseConfig): MysqlConnectionOptions {
  return {
    type: 'mysql',
    host: db.host,
    port: db.port,
    username: db.username,
    password: db.password,
    database: db.database,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    timezone: 'Z',
    charset: 'utf8mb4_bin',
    supportBigNumbers: true,
    bigNumberStrings: false,
    extra: { connectionLimit: db.poolSize ?? 10 },
  };
}

/** Creates the database when it does not exist yet (first start on a fresh server). */
export async function ensureDatabase(db: DatabaseConfig): Promise<void> {
  const bootstrap = new DataSource({ ...dataSourceOptions(db), database: undefined, entities: [], migrations: [] });
  await bootstrap.initialize();
  try {
    await bootstrap.query(`CREATE DATABASE IF NOT EXISTS \`${db.database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await bootstrap.destroy();
  }
}

/** Applies pending migrations; returns the names applied. */
export async function runMigrations(db: DatabaseConfig): Promise<string[]> {
  await ensureDatabase(db);
  const ds = new DataSource(dataSourceOptions(db));
  await ds.initialize();
  const runner = ds.createQueryRunner();
  try {
    // Managers and workers may start together: one of them migrates, the others wait for it.
    const [{ locked }] = (await runner.query("SELECT GET_LOCK('accel_gateway_migrations', 120) AS locked")) as {
      locked: number;
    }[];
    if (Number(locked) !== 1) throw new Error('timed out waiting for another process to finish migrating the database');
    try {
      const applied = await ds.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await runner.query("SELECT RELEASE_LOCK('accel_gateway_migrations')");
    }
  } finally {
    await runner.release();
    await ds.destroy();
  }
}
