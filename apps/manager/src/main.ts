#!/usr/bin/env node
import 'reflect-metadata';
import { ConfigError, loadConfig } from '@accel/config';
import { startManager } from './bootstrap';

const configArg = process.argv.indexOf('--config');
const file = configArg > -1 ? process.argv[configArg + 1] : process.env.ACCEL_CONFIG;

Promise.resolve()
  .then(() => startManager(loadConfig(file)))
  .catch((e: Error) => {
    console.error(e instanceof ConfigError ? e.message : `manager failed to start: ${e.stack ?? e.message}`);
    process.exit(1);
  });
