#!/usr/bin/env node
import 'reflect-metadata';
import { logLevels, logUnhandledRejections } from '@accel/common';
import { ConfigError, loadConfig } from '@accel/config';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  const configArg = process.argv.indexOf('--config');
  const config = loadConfig(configArg > -1 ? process.argv[configArg + 1] : process.env.ACCEL_CONFIG);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    logger: logLevels(config.logLevel),
  });
  app.enableShutdownHooks();
  new Logger('Worker').log('queue processors running');
}

logUnhandledRejections();

main().catch((e: Error) => {
  console.error(e instanceof ConfigError ? e.message : `worker failed to start: ${e.stack ?? e.message}`);
  process.exit(1);
});
