#!/usr/bin/env node
import 'reflect-metadata';
import { GatewayLogger, GatewayMetrics, logUnhandledRejections, serveMetrics } from '@accel/common';
import { ConfigError, loadConfig } from '@accel/config';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WorkerModule } from './worker.module';

async function main(): Promise<void> {
  const configArg = process.argv.indexOf('--config');
  const config = loadConfig(configArg > -1 ? process.argv[configArg + 1] : process.env.ACCEL_CONFIG);
  const app = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), {
    bufferLogs: true,
  });
  const logger = app.get(GatewayLogger);
  app.useLogger(logger);
  app.flushLogs();
  app.enableShutdownHooks();
  // A worker has no API port: its metrics are scraped on metrics.port when one is set.
  const { metrics: m, server } = config;
  const scraped =
    m.enabled && m.port > 0
      ? await serveMetrics(app.get(GatewayMetrics), { host: server.host, port: m.port, token: m.token })
      : undefined;
  new Logger('Worker').log(`queue processors running${scraped ? `, metrics on ${server.host}:${scraped.port}` : ''}`);
}

logUnhandledRejections();

main().catch((e: Error) => {
  console.error(e instanceof ConfigError ? e.message : `worker failed to start: ${e.stack ?? e.message}`);
  process.exit(1);
});
