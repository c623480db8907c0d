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
import { CreateUserDto, ResetPasswordDto, SigninDto, UpdateUserDto } from './users.dto';
import { userView } from './users.view';
import { Request, Response } from 'express';

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
