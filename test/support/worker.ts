import { GatewayConfig } from '@accel/config';
import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { WorkerModule } from '../../apps/worker/src/worker.module';

/** A standalone worker process's application (the worker app), started against a gateway's config. */
export async function startWorker(config: GatewayConfig): Promise<INestApplicationContext> {
  const worker = await NestFactory.createApplicationContext(WorkerModule.forRoot(config), { logger: ['error'] });
  await worker.init();
  return worker;
}
