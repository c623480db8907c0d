import { Module } from '@nestjs/common';
import { ConversionHealthController } from './conversion-health.controller';

/** Routes served on the conversion port (:2077), the acceld-compatible API. */
export const CONVERSION_ROUTE_PREFIXES = ['/api/v1/health', '/api/v1/conversions'];

@Module({ controllers: [ConversionHealthController] })
export class ConversionApiModule {}
