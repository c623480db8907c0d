import { MAX_TIMEOUT_NS, SCOPES } from '@accel/preheat';
import { IsHeaderMap, MAX_ID, MAX_PAGE } from '../http/validators';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIP,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  ValidateIf,
} from 'class-validator';

export const JOB_TYPES = ['preheat', 'sync_peers', 'get_task', 'get_image_distribution', 'delete_task', 'gc'];

/** `POST /oapi/v1/jobs` envelope (types.CreateJobRequest). Unknown keys are ignored, as Go's decoder does. */
export class CreateJobDto {
  @IsString() @IsNotEmpty() type: string;
  @IsOptional() @IsString() @MaxLength(1024) bio?: string;
  @IsOptional() args?: unknown;
  /** Accepted for Dragonfly's shape and ignored: a job belongs to whoever created it. */
  @IsOptional() @IsInt() @Min(0) @Max(MAX_ID) user_id?: number;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(MAX_ID, { each: true })
  scheduler_cluster_ids?: number[] | null;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(100)
  @IsInt({ each: true })
  @Max(MAX_ID, { each: true })
  seed_peer_cluster_ids?: number[] | null;
}

/** What names a task (Dragonfly's task-id recipe), and how wide and long a job may go. */
abstract class TaskRecipeArgsDto {
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsInt() @Min(4_194_304) @Max(67_108_864) piece_length?:
    number | null;
  @IsOptional() @IsString() @MaxLength(1024) tag?: string;
  @IsOptional() @IsString() @MaxLength(1024) application?: string;
  @IsOptional() @IsString() @MaxLength(4096) filtered_query_params?: string;
  @IsOptional() @ValidateIf((_, v) => v !== 0) @IsInt() @Min(1) @Max(1000) concurrent_peer_count?: number;
  /** Nanoseconds; at most what a timer holds (about 24.8 days). */
  @IsOptional() @IsInt() @Min(0) @Max(MAX_TIMEOUT_NS) timeout?: number;
}

/** An image read from its registry: the caller's headers and platform. */
abstract class ImageSourceArgsDto extends TaskRecipeArgsDto {
  @IsOptional() @IsHeaderMap() headers?: Record<string, string>;
  /** Accepted and ignored: the gateway's registry credentials apply. */
  @IsOptional() @IsString() @MaxLength(1024) username?: string;
  @IsOptional() @IsString() @MaxLength(4096) password?: string;
  @IsOptional() @IsString() @MaxLength(256) platform?: string;
}

/** `args` of a preheat job (types.PreheatArgs). Zero numbers mean "default", as Harbor sends them. */
export class PreheatArgsDto extends ImageSourceArgsDto {
  @IsIn(['image', 'file']) type: 'image' | 'file';
  @IsOptional() @IsString() @MaxLength(4096) url?: string;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(1000)
  @IsString({ each: true })
  @MaxLength(4096, { each: true })
  urls?: string[];
  @IsOptional() @IsIn([...SCOPES]) scope?: (typeof SCOPES)[number];
  @IsOptional() @IsArray() @ArrayMinSize(1) @ArrayMaxSize(100) @IsIP(undefined, { each: true }) ips?: string[];
  @IsOptional() @ValidateIf((_, v) => v !== null && v !== 0) @IsInt() @Min(1) @Max(200) count?: number | null;
  @IsOptional() @ValidateIf((_, v) => v !== null && v !== 0) @IsInt() @Min(1) @Max(100) percentage?: number | null;
  @IsOptional() @ValidateIf((_, v) => v !== 0) @IsInt() @Min(1) @Max(100) concurrent_task_count?: number;
  /** Harbor 2.12 still sends the Dragonfly 2.1.57 field; accepted and ignored. */
  @IsOptional() @IsInt() @Min(0) concurrent_count?: number;
}

/** `args` of get_task and delete_task (types.GetTaskArgs, DeleteTaskArgs). */
export class TaskCacheArgsDto extends TaskRecipeArgsDto {
  @IsOptional() @IsString() @MaxLength(1024) task_id?: string;
  @IsOptional() @IsString() @MaxLength(4096) url?: string;
  @IsOptional() @ValidateIf((_, v) => v !== null) @IsString() @MaxLength(65536) content_for_calculating_task_id?:
    string | null;
}

/** `args` of get_image_distribution (types.GetImageDistributionArgs). */
export class ImageDistributionArgsDto extends ImageSourceArgsDto {
  @IsString() @IsNotEmpty() @MaxLength(4096) url: string;
  @IsOptional() @ValidateIf((_, v) => v !== 0) @IsInt() @Min(1) @Max(100) concurrent_layer_count?: number;
}

/** `args` of a gc job (types.GCArgs): which rows to remove past their TTL. */
export class GcArgsDto {
  @IsIn(['job', 'audit']) type: 'job' | 'audit';
}

export class JobListQueryDto {
  @IsOptional() @IsString() @MaxLength(1024) type?: string;
  @IsOptional() @IsIn(['PENDING', 'RECEIVED', 'STARTED', 'RETRY', 'SUCCESS', 'FAILURE']) state?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(MAX_ID) user_id?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE) page?: number;
  /** Dragonfly takes up to 10,000,000; pages larger than MAX_PER_PAGE are cut to it (the Link header says so). */
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(10_000_000) per_page?: number;
}
