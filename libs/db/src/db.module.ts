import { GatewayConfig } from '@accel/config';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptions, runMigrations } from './data-source';
import { ENTITIES } from './entities';

@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [GatewayConfig],
      useFactory: async (config: GatewayConfig) => {
        if (config.database.migrate) await runMigrations(config.database);
        return { ...dataSourceOptions(config.database), retryAttempts: 3, retryDelay: 1000 };
      },
    }),
    TypeOrmModule.forFeature(ENTITIES),
  ],
  exports: [TypeOrmModule],
})
export class DbModule {}
