import { Controller, Get, Res } from '@nestjs/common';
import { Response } from 'express';

/** Health paths of every Harbor driver: `/healthy` (Dragonfly 2.12+), `/_ping` (Dragonfly v1), `/health` (Kraken). */
@Controller()
export class HealthController {
  /** The JSON string "OK", as the Dragonfly manager answers. */
  @Get(['healthy', '_ping', 'health'])
  health(@Res() res: Response): void {
    res.status(200).json('OK');
  }
}
