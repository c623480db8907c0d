import { Controller, Get, Header } from '@nestjs/common';

/** acceld's `GET /api/v1/health`: plain text `Ok`. */
@Controller('api/v1/health')
export class ConversionHealthController {
  @Get()
  @Header('content-type', 'text/plain; charset=utf-8')
  health(): string {
    return 'Ok';
  }
}
