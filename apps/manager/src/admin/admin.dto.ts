import { TOKEN_SCOPES, TokenScope } from '@accel/db';
import { ArrayUnique, IsArray, IsDateString, IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength } from 'class-validator';

export class CreateTokenDto {
  @IsString() @MinLength(1) @MaxLength(256) name: string;
  @IsOptional() @IsString() @MaxLength(1024) bio?: string;
  @IsOptional() @IsArray() @ArrayUnique() @IsIn(TOKEN_SCOPES, { each: true }) scopes?: TokenScope[];
  /** RFC 3339; default one year from now. */
  @IsOptional() @IsDateString() expired_at?: string;
}

export class CreateClusterDto {
  @IsOptional() @IsInt() @Min(1) id?: number;
  @IsString() @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,255}$/) name: string;
  @IsOptional() @IsString() @MaxLength(1024) bio?: string;
}

export class CreateNodeDto {
  @IsString() @MinLength(1) @MaxLength(256) host_name: string;
  @IsString() @MinLength(1) @MaxLength(256) ip: string;
  @IsInt() @Min(1) @Max(65535) port: number;
  @IsOptional() @IsInt() @Min(1) @Max(65535) download_port?: number;
  @IsInt() @Min(1) scheduler_cluster_id: number;
}
