import { DynamicModule, Global, Module } from '@nestjs/common';
import { GatewayConfig } from './schema';

/** Makes the validated GatewayConfig injectable everywhere; nothing below reads process.env. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: ConfigModule,
      providers: [{ provide: GatewayConfig, useValue: config }],
      exports: [GatewayConfig],
    };
  }
}
