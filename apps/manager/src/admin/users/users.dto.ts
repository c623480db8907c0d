import { IsEmail, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';

export class SigninDto {
  @IsString() @MinLength(1) @MaxLength(256) name: string;
  @IsString() @MinLength(1) @MaxLength(1024) password: string;
}

export class CreateUserDto {
  @IsString() @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/) name: string;
  @IsString() @MinLength(8) @MaxLength(256) password: string;
  @IsOptional() @IsEmail() @MaxLength(256) email?: string;
  @IsIn(['root', 'guest']) role: 'root' | 'guest';
}

export class UpdateUserDto {
  @IsOptional() @IsEmail() @MaxLength(256) email?: string;
  @IsOptional() @IsIn(['root', 'guest']) role?: 'root' | 'guest';
  @IsOptional() @IsIn(['enable', 'disable']) state?: 'enable' | 'disable';
}

export class ResetPasswordDto {
  /** Required when changing one's own password. */
  @IsOptional() @IsString() @MaxLength(1024) old_password?: string;
  @IsString() @MinLength(8) @MaxLength(256) new_password: string;
}

/** A user as listed: never the password hash. */
