import { Global, Module } from '@nestjs/common';
import { GatewayMetrics } from './metrics';
import { SecretBox } from './secret-box';

@Global()
@Module({ providers: [SecretBox, GatewayMetrics], exports: [SecretBox, GatewayMetrics] })
export class CommonModule {}
