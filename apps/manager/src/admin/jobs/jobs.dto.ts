import { Type } from 'class-transformer';
import { IsDateString, IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_PAGE } from '../../http/validators';

export class AdminJobQueryDto {
  @IsOptional() @IsString() @MaxLength(1024) type?: string;
  @IsOptional() @IsIn(['PENDING', 'SUCCESS', 'FAILURE']) state?: string;
  /** Substring of the preheated URL. */
  @IsOptional() @IsString() @MaxLength(1024) image?: string;
  @IsOptional() @IsDateString() created_after?: string;
  @IsOptional() @IsDateString() created_before?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE) page?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) per_page?: number;
}
