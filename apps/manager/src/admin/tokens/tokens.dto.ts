import { TOKEN_SCOPES, TokenScope } from '@accel/db';
import { ArrayUnique, IsArray, IsDateString, IsIn, IsOptional, IsString, MaxLength, MinLength } from 'class-validator';

export class CreateTokenDto {
  @IsString() @MinLength(1) @MaxLength(256) name: string;
  @IsOptional() @IsString() @MaxLength(1024) bio?: string;
  @IsOptional() @IsArray() @ArrayUnique() @IsIn(TOKEN_SCOPES, { each: true }) scopes?: TokenScope[];
  /** RFC 3339; default one year from now. */
  @IsOptional() @IsDateString() expired_at?: string;
}

export class UpdateTokenDto {
  @IsOptional() @IsString() @MaxLength(1024) bio?: string;
  @IsOptional() @IsArray() @ArrayUnique() @IsIn(TOKEN_SCOPES, { each: true }) scopes?: (typeof TOKEN_SCOPES)[number][];
  @IsOptional() @IsIn(['active', 'inactive']) state?: 'active' | 'inactive';
  @IsOptional() @IsDateString() expired_at?: string;
}
