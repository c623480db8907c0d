import { Actor, TokenRefused, clientAddress } from '@accel/auth';
import { ConversionService, conversionTaskView, parseWebhook } from '@accel/convert';
import {
  Body,
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  HttpException,
  Logger,
  Post,
  Query,
  Req,
  Res,
  UseFilters,
} from '@nestjs/common';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { Request, Response } from 'express';
import { MAX_PAGE } from '../http/validators';
import { paged } from '../provider/pagination';
import { AcceldExceptionFilter } from './acceld-exception.filter';
import { ConversionAuth } from './conversion-auth.service';

export class ConversionListQueryDto {
  @IsOptional() @IsIn(['PROCESSING', 'COMPLETED', 'FAILED']) status?: 'PROCESSING' | 'COMPLETED' | 'FAILED';
  @IsOptional() @IsString() @MaxLength(1024) source?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE) page?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) per_page?: number;
}

const OK = JSON.stringify('Ok');

/** Go's strconv.ParseBool: anything else is false, as acceld reads `sync`. */
const parseBool = (v: unknown) => typeof v === 'string' && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v);

/** acceld-compatible conversion API (:2077): Harbor's "Artifact pushed" webhook target. */
@Controller('api/v1/conversions')
@UseFilters(AcceldExceptionFilter)
export class ConversionsController {
  private readonly log = new Logger('ConversionAPI');

  constructor(
    private readonly conversions: ConversionService,
    private readonly auth: ConversionAuth,
  ) {}

  /** Answers the JSON string "Ok", as acceld's `ctx.JSON(200, "Ok")`. */
  @Post()
  @HttpCode(200)
  @Header('content-type', 'application/json; charset=utf-8')
  async create(
    @Body() body: unknown,
    @Headers('authorization') authorization: string | undefined,
    @Query('sync') sync: unknown,
    @Req() req: Request & { user?: Actor },
  ) {
    const event = parseWebhook(body);
    if (event.kind === 'ignored') {
      // Harbor sends every event type it is configured for; only pushes are converted.
      await identify(req, () => this.auth.authorizeAnyWebhook(authorization, clientAddress(req)));
      this.log.log(`unsupported payload type ${event.type}: ignored`);
      return OK;
    }
    await identify(req, () =>
      this.auth.authorizeWebhook(
        authorization,
        event.artifacts.map((a) => a.host),
        clientAddress(req),
      ),
    );
    const waitSync = parseBool(sync);
    if (waitSync) await identify(req, () => this.auth.gatewayIdentity(authorization, clientAddress(req)));
    const tasks = [];
    for (const a of event.artifacts) tasks.push(await this.conversions.submit(a));
    if (waitSync) {
      const done = await Promise.all(tasks.map((t) => this.conversions.waitFinished(t.uuid)));
      const failed = done.find((t) => t.status === 'FAILED');
      if (failed) throw new ConversionFailed(failed.reason ?? 'conversion failed');
    }
    return OK;
  }

  @Get()
  async list(
    @Headers('authorization') authorization: string | undefined,
    @Query() q: ConversionListQueryDto,
    @Req() req: Request & { user?: Actor },
    @Res({ passthrough: true }) res: Response,
  ) {
    await identify(req, () => this.auth.gatewayIdentity(authorization, clientAddress(req)));
    const rows = await paged(req, res, q.page, q.per_page, 100, (page, perPage) =>
      this.conversions.list({ status: q.status, source: q.source, page, perPage }),
    );
    return rows.map(conversionTaskView);
  }
}

/** Records who called (a refused token included) for the audit trail. */
async function identify(req: Request & { user?: Actor }, auth: () => Promise<Actor>): Promise<void> {
  try {
    req.user = await auth();
  } catch (e) {
    if (e instanceof TokenRefused) req.user = e.actor;
    throw e;
  }
}

/** Sync mode's failure: 500 ERR_CONVERT_FAILED with the task's reason, as acceld answers. */
class ConversionFailed extends HttpException {
  constructor(reason: string) {
    super({ message: reason }, 500);
  }
}
