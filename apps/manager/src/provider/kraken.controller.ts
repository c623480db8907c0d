import { Actor, CurrentActor, RequireAuth } from '@accel/auth';
import { PreheatService } from '@accel/preheat';
import { Body, Controller, HttpCode, Logger, Post } from '@nestjs/common';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDefined,
  IsObject,
  IsOptional,
  IsString,
  MaxLength,
  ValidateNested,
} from 'class-validator';

export class KrakenTargetDto {
  @IsOptional() @IsString() @MaxLength(256) MediaType?: string;
  @IsOptional() @IsString() @MaxLength(1024) Digest?: string;
  @IsOptional() @IsString() @MaxLength(1024) Repository?: string;
  @IsString() @MaxLength(4096) Url: string;
  @IsOptional() @IsString() @MaxLength(1024) Tag?: string;
}

export class KrakenEventDto {
  @IsOptional() @IsString() Id?: string;
  @IsOptional() @IsString() TimeStamp?: string;
  @IsOptional() @IsString() Action?: string;
  @IsDefined() @IsObject() @ValidateNested() @Type(() => KrakenTargetDto) Target: KrakenTargetDto;
}

/** Docker-registry notification envelope Harbor's Kraken driver sends. */
export class KrakenNotificationDto {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => KrakenEventDto)
  Events: KrakenEventDto[];
}

/**
 * Kraken dialect: Harbor marks the task SUCCESS on any 2xx and never polls, and sends no
 * registry token, so the gateway's own registry credentials read the image.
 */
@Controller('registry/notifications')
@RequireAuth('job', { anonymous: 'legacy' })
export class KrakenController {
  private readonly log = new Logger(KrakenController.name);

  constructor(private readonly preheat: PreheatService) {}

  @Post()
  @HttpCode(200)
  async notify(@Body() body: KrakenNotificationDto, @CurrentActor() actor: Actor) {
    const pushes = body.Events.filter((e) => !e.Action || e.Action === 'push');
    // Validate every event before creating any job: a bad one must not leave half the batch queued.
    pushes.forEach((e) => this.preheat.validate({ type: 'image', url: e.Target.Url }));
    const ids: number[] = [];
    for (const e of pushes)
      ids.push((await this.preheat.create({ type: 'image', url: e.Target.Url }, 'kraken', actor.userId)).id);
    this.log.log(`kraken notification: ${ids.length} preheat job(s) ${ids.join(', ')}`);
    return {};
  }
}
