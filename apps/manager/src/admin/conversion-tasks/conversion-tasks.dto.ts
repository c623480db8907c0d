import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { MAX_PAGE } from '../../http/validators';

export class AdminConversionQueryDto {
  @IsOptional() @IsIn(['PROCESSING', 'COMPLETED', 'FAILED']) status?: 'PROCESSING' | 'COMPLETED' | 'FAILED';
  @IsOptional() @IsString() @MaxLength(1024) source?: string;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX_PAGE) page?: number;
  @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) per_page?: number;
}
