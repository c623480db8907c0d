import { AuditActorType, AuditEventType } from '@accel/db';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_PAGE } from '../../http/validators';

export class AuditQueryDto {
  @IsOptional() @IsIn(['USER', 'PAT', 'CUSTOM', 'ANONYMOUS', 'UNKNOWN']) actor_type?: AuditActorType;
  @IsOptional() @IsString() @MaxLength(1024) actor_name?: string;
  @IsOptional() @IsIn(['API', 'PROVIDER', 'WEBHOOK']) event_type?: AuditEventType;
  @IsOptional() @IsString() @MaxLength(1024) operation?: string;
  @IsOptional() @IsIn(['SUCCESS', 'FAILURE']) state?: 'SUCCESS' | 'FAILURE';
  @IsOptional() @IsString() @MaxLength(1024) path?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(100) @Max(599) status_code?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE) page?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) per_page?: number;
}
