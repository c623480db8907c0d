#!/usr/bin/env node
import { loadConfig } from '@accel/config';
import { runMigrations } from './data-source';

/** `npm run migration:run`: applies pending migrations with the same config the services use. */
async function main(): Promise<void> {
  const config = loadConfig(process.env.ACCEL_CONFIG);
  const applied = await runMigrations(config.database);
  console.log(applied.length ? `applied: ${applied.join(', ')}` : 'database is up to date');
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
