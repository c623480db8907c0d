import { SCOPES } from '@accel/preheat';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Max, Min, ValidateIf,
} from 'class-validator';

export const JOB_TYPES = ['preheat', 'sync_peers', 'get_task', 'get_image_distribution', 'delete_task', 'gc'];

/** `POST /oapi/v1/jobs` envelope (types.CreateJobRequest). Unknown keys are ignored, as Go's decoder does. */
export class CreateJobDto {
  @IsString() @IsNotEmpty() type: string;
  @IsOptional() @IsString() bio?: string;
  @IsOptional() args?: unknown;
  @IsOptional() @IsInt() @Min(0) user_id?: number;
  @IsOptional() @IsArray() @IsInt({ each: true }) @Min(1, { each: true }) scheduler_cluster_ids?: number[] | null;
  @IsOptional() @IsArray() @IsInt({ each: true }) seed_peer_cluster_ids?: number[] | null;
}

/** `args` of a preheat job (types.PreheatArgs). Zero numbers mean "default", as Harbor sends them. */
export class PreheatArgsDto {
  @IsIn(['image', 'file']) type: 'image' | 'file';
  @IsOptional() @IsString() url?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) urls?: string[];
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsInt() @Min(4_194_304) @Max(67_108_864) piece_length?: number | null;
  @IsOptional() @IsString() tag?: string;
  @IsOptional() @IsString() application?: string;
  @IsOptional() @IsString() filtered_query_params?: string;
  @IsOptional() @IsObject() headers?: Record<string, string>;
  @IsOptional() @IsString() username?: string;
  @IsOptional() @IsString() password?: string;
  @IsOptional() @IsString() platform?: string;
  @IsOptional() @IsIn(SCOPES as unknown as string[]) scope?: (typeof SCOPES)[number];
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(100) @IsString({ each: true }) ips?: string[];
  @IsOptional() @ValidateIf((_, v) => v !== null && v !== 0) @IsInt() @Min(1) @Max(200) count?: number | null;
  @IsOptional() @ValidateIf((_, v) => v !== null && v !== 0) @IsInt() @Min(1) @Max(100) percentage?: number | null;
  @IsOptional() @ValidateIf((_, v) => v !== 0) @IsInt() @Min(1) @Max(100) concurrent_task_count?: number;
  @IsOptional() @ValidateIf((_, v) => v !== 0) @IsInt() @Min(1) @Max(1000) concurrent_peer_count?: number;
  /** Harbor 2.12 still sends the Dragonfly 2.1.57 field; accepted and ignored. */
  @IsOptional() @IsInt() @Min(0) concurrent_count?: number;
  /** Nanoseconds. */
  @IsOptional() @IsInt() @Min(0) timeout?: number;
}

export class JobListQueryDto {
  @IsOptional() @IsString() type?: string;
  @IsOptional() @IsIn(['PENDING', 'RECEIVED', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE']) state?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) user_id?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) page?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(10_000_000) per_page?: number;
}
