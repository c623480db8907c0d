import {
  Actor,
  AdminRead,
  AdminWrite,
  ConsoleSessions,
  CurrentActor,
  SignedIn,
  UsersService,
  bearerOf,
  clientAddress,
  isAdmin,
  looksLikeJwt,
  verifyPassword,
} from '@accel/auth';
import { UserEntity } from '@accel/db';
import {
  Body,
  Controller,
  ForbiddenException,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  ParseIntPipe,
  Patch,
  Post,
  Req,
  Res,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { IsEmail, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { Request, Response } from 'express';

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
export const userView = (u: UserEntity) => ({
  id: u.id,
  created_at: u.createdAt.toISOString(),
  updated_at: u.updatedAt.toISOString(),
  is_del: 0,
  name: u.name,
  email: u.email,
  role: u.role,
  state: u.state,
});

@ApiTags('users')
@Controller('api/v1/users')
export class UsersController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: ConsoleSessions,
  ) {}

  /** Console sign-in: `{token, expire}` and an HttpOnly `jwt` cookie. Rate-limited per client and per user. */
  @Post('signin')
  @HttpCode(200)
  @UseGuards(ThrottlerGuard)
  async signin(@Body() dto: SigninDto, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const user = await this.users.authenticate(dto.name, dto.password, clientAddress(req));
    if (!user) throw new UnauthorizedException('Unauthorized');
    const session = this.sessions.issue(user);
    res.cookie('jwt', session.token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: servedOverHttps(req),
      expires: new Date(session.expire),
      path: '/',
    });
    return session;
  }

  /** Ends the session presented (cookie or Bearer JWT): it is refused from now on. */
  @Post('signout')
  @HttpCode(200)
  async signout(
    @Req() req: Request & { cookies?: Record<string, unknown> },
    @Res({ passthrough: true }) res: Response,
  ) {
    const bearer = bearerOf(req.headers.authorization);
    const cookie = req.cookies?.jwt;
    for (const token of [bearer, typeof cookie === 'string' ? cookie : undefined]) {
      if (token && looksLikeJwt(token)) await this.sessions.revoke(token);
    }
    res.clearCookie('jwt', { path: '/', httpOnly: true, sameSite: 'strict', secure: servedOverHttps(req) });
    return {};
  }

  @Get('me')
  @SignedIn()
  async me(@CurrentActor() actor: Actor) {
    const user = await this.users.findById(actor.userId);
    if (!user) throw new NotFoundException('record not found');
    return { ...userView(user), via: actor.kind };
  }

  @Get()
  @AdminRead({ sensitive: true })
  async list() {
    return (await this.users.list()).map(userView);
  }

  @Post()
  @HttpCode(200)
  @AdminWrite()
  async create(@Body() dto: CreateUserDto) {
    return userView(await this.users.create(dto));
  }

  @Patch(':id')
  @AdminWrite()
  async update(@Param('id', ParseIntPipe) id: number, @Body() dto: UpdateUserDto) {
    const user = await this.users.update(id, dto);
    if (!user) throw new NotFoundException('record not found');
    return userView(user);
  }

  /**
   * Administrators (root users, or root's `admin`-scoped tokens) set other users' passwords;
   * everyone changes their own only by proving the old one. Every session of that user ends.
   */
  @Post(':id/reset_password')
  @HttpCode(200)
  @SignedIn()
  async resetPassword(
    @Param('id', ParseIntPipe) id: number,
    @Body() dto: ResetPasswordDto,
    @CurrentActor() actor: Actor,
  ) {
    const own = actor.userId === id && actor.kind !== 'custom-header' && actor.kind !== 'anonymous';
    if (!own && !isAdmin(actor)) throw new ForbiddenException('permission deny');
    const user = await this.users.findById(id);
    if (!user) throw new NotFoundException('record not found');
    if (own && !(dto.old_password && (await verifyPassword(dto.old_password, user.encryptedPassword)))) {
      throw new ForbiddenException('old password is wrong');
    }
    await this.users.setPassword(id, dto.new_password);
    return {};
  }
}

/** Whether the client reached us over TLS, directly or through a proxy that says so. */
function servedOverHttps(req: Request): boolean {
  const forwarded = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return req.secure || proto === 'https';
}
