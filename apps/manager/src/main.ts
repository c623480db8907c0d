#!/usr/bin/env node
import 'reflect-metadata';
import { logUnhandledRejections } from '@accel/common';
import { ConfigError, loadConfig } from '@accel/config';
import { startManager } from './bootstrap';

const configArg = process.argv.indexOf('--config');
const file = configArg > -1 ? process.argv[configArg + 1] : process.env.ACCEL_CONFIG;

logUnhandledRejections();

Promise.resolve()
  .then(() => startManager(loadConfig(file)))
  .then((manager) => {
    // Stop accepting, finish what is in flight, close queues and the database, then exit.
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.error(`${signal}: shutting down`);
      manager.close().then(
        () => process.exit(0),
        (e: Error) => {
          console.error(`shutdown failed: ${e.message}`);
          process.exit(1);
        },
      );
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  })
  .catch((e: Error) => {
    console.error(e instanceof ConfigError ? e.message : `manager failed to start: ${e.stack ?? e.message}`);
    process.exit(1);
  });
