import { AdminRead, AdminWrite } from '@accel/auth';
import { SecretBox } from '@accel/common';
import { RegistryEntity } from '@accel/db';
import { RegistryStore } from '@accel/registry';
import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Patch,
  Post,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { InjectRepository } from '@nestjs/typeorm';
import { IsBoolean, IsOptional, IsString, Matches, MaxLength } from 'class-validator';
import { Repository } from 'typeorm';

const HOST_PORT = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:\d{1,5})?$/i;

export class RegistryDto {
  /** host[:port], exactly as it appears in manifest URLs. */
  @IsString() @MaxLength(256) @Matches(HOST_PORT, { message: 'host must be host[:port]' }) host: string;
  @IsOptional() @IsString() @MaxLength(256) username?: string;
  @IsOptional() @IsString() @MaxLength(4096) password?: string;
  @IsOptional() @IsBoolean() insecure?: boolean;
  @IsOptional() @IsBoolean() plain_http?: boolean;
  /** host[:port] of the registry's token service, when it is not the registry itself: the only place its credentials are sent. */
  @IsOptional()
  @IsString()
  @MaxLength(256)
  @Matches(HOST_PORT, { message: 'token_realm must be host[:port]' })
  token_realm?: string;
}

export class UpdateRegistryDto {
  @IsOptional() @IsString() @MaxLength(256) username?: string;
  /** Omitted keeps the stored password; an empty string removes it. */
  @IsOptional() @IsString() @MaxLength(4096) password?: string;
  @IsOptional() @IsBoolean() insecure?: boolean;
  @IsOptional() @IsBoolean() plain_http?: boolean;
  @IsOptional()
  @IsString()
  @MaxLength(256)
  @Matches(new RegExp(`${HOST_PORT.source}|^$`, 'i'), { message: 'token_realm must be host[:port] or empty' })
  token_realm?: string;
}

/** Secrets are sealed at rest and never echoed: a response says only whether one is set. */
const registryView = (r: RegistryEntity) => ({
  id: r.id,
  created_at: r.createdAt.toISOString(),
  updated_at: r.updatedAt.toISOString(),
  is_del: 0,
  host: r.host,
  username: r.username,
  password_set: r.sealedPassword !== null,
  insecure: r.insecure,
  plain_http: r.plainHttp,
  token_realm: r.tokenRealm,
});

/** The registry allow-list and per-registry credentials, changed at runtime. */
@ApiTags('registries')
@Controller('api/v1/registries')
export class RegistriesController {
  constructor(
    private readonly secrets: SecretBox,
    private readonly store: RegistryStore,
    @InjectRepository(RegistryEntity) private readonly registries: Repository<RegistryEntity>,
  ) {}

  @Get()
  @AdminRead()
  async list() {
    return (await this.registries.find({ where: { isDel: 0 }, order: { id: 'ASC' } })).map(registryView);
  }

  @Post()
  @HttpCode(200)
  @AdminWrite()
  async create(@Body() dto: RegistryDto) {
    const saved = await this.registries.save(
      this.registries.create({
        host: dto.host.toLowerCase(),
        username: dto.username ?? '',
        sealedPassword: dto.password ? this.secrets.seal(dto.password) : null,
        insecure: dto.insecure ?? false,
        plainHttp: dto.plain_http ?? false,
        tokenRealm: dto.token_realm?.toLowerCase() ?? '',
      }),
    );
    await this.store.reload();
    return registryView(saved);
  }

  @Patch(':id')
  @AdminWrite()
  async update(@Param('id', ParseIntPipe) id: number, @Body() dto: UpdateRegistryDto) {
    const r = await this.registries.findOneBy({ id, isDel: 0 });
    if (!r) throw new NotFoundException('record not found');
    if (dto.username !== undefined) r.username = dto.username;
    if (dto.password !== undefined) r.sealedPassword = dto.password ? this.secrets.seal(dto.password) : null;
    if (dto.insecure !== undefined) r.insecure = dto.insecure;
    if (dto.plain_http !== undefined) r.plainHttp = dto.plain_http;
    if (dto.token_realm !== undefined) r.tokenRealm = dto.token_realm.toLowerCase();
    const saved = await this.registries.save(r);
    await this.store.reload();
    return registryView(saved);
  }

  @Delete(':id')
  @HttpCode(200)
  @AdminWrite()
  async remove(@Param('id', ParseIntPipe) id: number) {
    if (!(await this.registries.delete({ id })).affected) throw new NotFoundException('record not found');
    await this.store.reload();
    return {};
  }
}
