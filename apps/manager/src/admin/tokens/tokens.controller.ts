import { Actor, AdminRead, AdminWrite, CurrentActor, TokensService } from '@accel/auth';
import { TOKEN_SCOPES } from '@accel/db';
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
import { CreateTokenDto, UpdateTokenDto } from './tokens.dto';
import { tokenView } from './tokens.view';

const YEAR_MS = 365 * 24 * 3600 * 1000;

/** Personal access tokens: the value is in the create answer only; guests cannot read them at all. */
@ApiTags('personal-access-tokens')
@Controller('api/v1/personal-access-tokens')
export class TokensController {
  constructor(private readonly tokens: TokensService) {}

  @Post()
  @HttpCode(200)
  @AdminWrite()
  async create(@Body() dto: CreateTokenDto, @CurrentActor() actor: Actor) {
    const { entity, token } = await this.tokens.create({
      name: dto.name,
      bio: dto.bio,
      // Omitted: every scope but `admin`. An explicit empty list is a token that may do nothing.
      scopes: dto.scopes ?? TOKEN_SCOPES.filter((s) => s !== 'admin'),
      expiredAt: dto.expired_at ? new Date(dto.expired_at) : new Date(Date.now() + YEAR_MS),
      userId: actor.userId,
    });
    return { ...tokenView(entity), token };
  }

  @Get()
  @AdminRead({ sensitive: true })
  async list() {
    return (await this.tokens.list()).map(tokenView);
  }

  @Get(':id')
  @AdminRead({ sensitive: true })
  async get(@Param('id', ParseIntPipe) id: number) {
    const t = await this.tokens.get(id);
    if (!t) throw new NotFoundException('record not found');
    return tokenView(t);
  }

  @Patch(':id')
  @AdminWrite()
  async update(@Param('id', ParseIntPipe) id: number, @Body() dto: UpdateTokenDto) {
    const t = await this.tokens.update(id, {
      bio: dto.bio,
      scopes: dto.scopes,
      state: dto.state,
      expiredAt: dto.expired_at ? new Date(dto.expired_at) : undefined,
    });
    if (!t) throw new NotFoundException('record not found');
    return tokenView(t);
  }

  @Delete(':id')
  @HttpCode(200)
  @AdminWrite()
  async revoke(@Param('id', ParseIntPipe) id: number) {
    if (!(await this.tokens.revoke(id))) throw new NotFoundException('record not found');
    return {};
  }
}
