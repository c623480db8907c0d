import { GatewayConfig } from '@accel/config';
import { BullModule } from '@nestjs/bullmq';
import { Module } from '@nestjs/common';
import { ConnectionOptions } from 'bullmq';
import { CoalescingConnector } from './coalescing-connector';

export function redisConnection(config: GatewayConfig): ConnectionOptions {
  return {
    host: config.redis.host,
    port: config.redis.port,
    password: config.redis.password || undefined,
    db: config.redis.db,
    // BullMQ workers block on Redis; commands must wait for a reconnect rather than fail.
    maxRetriesPerRequest: null,
    // Commands issued in one turn of the event loop share a socket write.
    Connector: CoalescingConnector,
  };
}

/** The BullMQ connection every queue of the process shares. */
@Module({
  imports: [
    BullModule.forRootAsync({
      inject: [GatewayConfig],
      useFactory: (config: GatewayConfig) => ({ connection: redisConnection(config), prefix: config.redis.prefix }),
    }),
  ],
})
export class QueueRootModule {}
