import { AuthModule } from '@accel/auth';
import { ConvertModule } from '@accel/convert';
import { Module } from '@nestjs/common';
import { ConversionAuth } from './conversion-auth.service';
import { ConversionHealthController } from './conversion-health.controller';
import { ConversionsController } from './conversions.controller';

/** Routes served on the conversion port (:2077), the acceld-compatible API. */
export const CONVERSION_ROUTE_PREFIXES = ['/api/v1/health', '/api/v1/conversions'];

@Module({
  imports: [ConvertModule, AuthModule],
  controllers: [ConversionHealthController, ConversionsController],
  providers: [ConversionAuth],
})
export class ConversionApiModule {}
