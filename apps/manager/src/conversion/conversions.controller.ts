import { ConversionService, WebhookEvent, conversionTaskView } from '@accel/convert';
import {
  Controller,
  Get,
  Header,
  HttpCode,
  HttpException,
  Logger,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
  UseGuards,
} from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { Request, Response } from 'express';
import { MAX_PAGE } from '../http/validators';
import { paged } from '../http/pagination';
import { AcceldExceptionFilter } from './acceld-exception.filter';
import { ConversionReaderGuard, Webhook, WebhookGuard, parseBool } from './conversion-auth.guard';

export class ConversionListQueryDto {
  @IsOptional() @IsIn(['PROCESSING', 'COMPLETED', 'FAILED']) status?: 'PROCESSING' | 'COMPLETED' | 'FAILED';
  @IsOptional() @IsString() @MaxLength(1024) source?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE) page?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) per_page?: number;
}

const OK = JSON.stringify('Ok');

/** acceld-compatible conversion API (:2077): Harbor's "Artifact pushed" webhook target. */
@Controller('api/v1/conversions')
@UseFilters(AcceldExceptionFilter)
export class ConversionsController {
  private readonly log = new Logger('ConversionAPI');

  constructor(private readonly conversions: ConversionService) {}

  /** Answers the JSON string "Ok", as acceld's `ctx.JSON(200, "Ok")`. */
  @Post()
  @HttpCode(200)
  @Header('content-type', 'application/json; charset=utf-8')
  @UseGuards(WebhookGuard)
  async create(@Webhook() event: WebhookEvent, @Query('sync') sync: unknown) {
    if (event.kind === 'ignored') {
      // Harbor sends every event type it is configured for; only pushes are converted.
      this.log.log(`unsupported payload type ${event.type}: ignored`);
      return OK;
    }
    const tasks = [];
    for (const a of event.artifacts) tasks.push(await this.conversions.submit(a));
    if (parseBool(sync)) {
      const done = await Promise.all(tasks.map((t) => this.conversions.waitFinished(t.uuid)));
      const failed = done.find((t) => t.status === 'FAILED');
      if (failed) throw new ConversionFailed(failed.reason ?? 'conversion failed');
    }
    return OK;
  }

  @Get()
  @UseGuards(ConversionReaderGuard)
  async list(@Query() q: ConversionListQueryDto, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const rows = await paged(req, res, q.page, q.per_page, 100, (page, perPage) =>
      this.conversions.list({ status: q.status, source: q.source, page, perPage }),
    );
    return rows.map(conversionTaskView);
  }
}

/** Sync mode's failure: 500 ERR_CONVERT_FAILED with the task's reason, as acceld answers. */
class ConversionFailed extends HttpException {
  constructor(reason: string) {
    super({ message: reason }, 500);
  }
}
