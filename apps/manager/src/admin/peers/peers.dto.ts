import { Type } from 'class-transformer';
import { IsIP, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_ID, MAX_PAGE } from '../../http/validators';

export class PeerQueryDto {
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_ID) scheduler_cluster_id?: number;
  @IsOptional() @IsString() @MaxLength(256) host_name?: string;
  @IsOptional() @IsIP() ip?: string;
  @IsOptional() @IsIn(['normal', 'super']) type?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE) page?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) per_page?: number;
}
