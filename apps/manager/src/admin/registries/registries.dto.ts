import { IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';

const HOST_PORT = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?$/i;

export class UpdateRegistryDto {
  @IsOptional() @IsString() @MaxLength(256) username?: string;
  /** Omitted keeps the stored password; an empty string removes it. */
  @IsOptional() @IsString() @MaxLength(4096) password?: string;
  @IsOptional() @IsBoolean() insecure?: boolean;
  @IsOptional() @IsBoolean() plain_http?: boolean;
  /**
   * host[:port] of the registry's token service, when it is not the registry itself: the only
   * place its credentials are sent. Empty: the registry itself.
   */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  @Matches(new RegExp(`${HOST_PORT.source}|^$`, 'i'), { message: 'token_realm must be host[:port] or empty' })
  token_realm?: string;
}

export class RegistryDto extends UpdateRegistryDto {
  /** host[:port], exactly as it appears in manifest URLs. */
  @IsString() @MaxLength(256) @Matches(HOST_PORT, { message: 'host must be host[:port]' }) host: string;
}
