import { Type } from 'class-transformer';
import { IsIP, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateNested } from 'class-validator';
import { MAX_ID } from '../../http/validators';

/** A DNS host name (RFC 1123 labels), as Dragonfly hosts report theirs. */
export const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9_-]{0,62}))*$/;

/** Dragonfly's scheduler_cluster_config fields the gateway acts on. */
export class ClusterConfigDto {
  @IsOptional() @IsInt() @Min(1) @Max(1_000_000) job_rate_limit?: number;
}

export class CreateClusterDto {
  @IsOptional() @IsInt() @Min(1) @Max(MAX_ID) id?: number;
  @IsString() @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/) name: string;
  @IsOptional() @IsString() @MaxLength(1024) bio?: string;
  @IsOptional() @ValidateNested() @Type(() => ClusterConfigDto) config?: ClusterConfigDto;
}

export class UpdateClusterDto {
  @IsOptional() @IsString() @MaxLength(1024) bio?: string;
  @IsOptional() @ValidateNested() @Type(() => ClusterConfigDto) config?: ClusterConfigDto;
}

export class CreateNodeDto {
  @IsString() @Matches(HOSTNAME, { message: 'host_name must be a host name' }) host_name: string;
  @IsIP() ip: string;
  @IsInt() @Min(1) @Max(65535) port: number;
  @IsOptional() @IsInt() @Min(1) @Max(65535) download_port?: number;
  @IsInt() @Min(1) @Max(MAX_ID) scheduler_cluster_id: number;
}
