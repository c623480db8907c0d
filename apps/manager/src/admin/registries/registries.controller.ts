import { AdminRead, AdminWrite } from '@accel/auth';
import { RegistryFields, RegistryStore } from '@accel/registry';
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
import { RegistryDto, UpdateRegistryDto } from './registries.dto';
import { registryView } from './registries.view';

/** The registry allow-list and per-registry credentials, changed at runtime. */
@ApiTags('registries')
@Controller('api/v1/registries')
export class RegistriesController {
  constructor(private readonly store: RegistryStore) {}

  @Get()
  @AdminRead()
  async list() {
    return (await this.store.list()).map(registryView);
  }

  @Post()
  @HttpCode(200)
  @AdminWrite()
  async create(@Body() dto: RegistryDto) {
    return registryView(await this.store.create(dto.host, fields(dto)));
  }

  @Patch(':id')
  @AdminWrite()
  async update(@Param('id', ParseIntPipe) id: number, @Body() dto: UpdateRegistryDto) {
    const saved = await this.store.update(id, fields(dto));
    if (!saved) throw new NotFoundException('record not found');
    return registryView(saved);
  }

  @Delete(':id')
  @HttpCode(200)
  @AdminWrite()
  async remove(@Param('id', ParseIntPipe) id: number) {
    if (!(await this.store.remove(id))) throw new NotFoundException('record not found');
    return {};
  }
}

const fields = (dto: UpdateRegistryDto): RegistryFields => ({
  username: dto.username,
  password: dto.password,
  insecure: dto.insecure,
  plainHttp: dto.plain_http,
  tokenRealm: dto.token_realm,
});
