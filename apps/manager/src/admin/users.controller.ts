import { Actor, AdminRead, AdminWrite, ConsoleSessions, CurrentActor, SignedIn, UsersService, verifyPassword } from '@accel/auth';
import { UserEntity } from '@accel/db';
import { Body, Controller, ForbiddenException, Get, HttpCode, NotFoundException, Param, ParseIntPipe, Patch, Post, Res, UnauthorizedException, UseGuards } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { IsEmail, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { Response } from 'express';

export class SigninDto {
  @IsString() @MinLength(1) @MaxLength(256) name: string;
  @IsString() @MinLength(1) @MaxLength(1024) password: string;
}

export class CreateUserDto {
  @IsString() @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/) name: string;
  @IsString() @MinLength(8) @MaxLength(256) password: string;
  @IsOptional() @IsEmail() email?: string;
  @IsIn(['root', 'guest']) role: 'root' | 'guest';
}

export class UpdateUserDto {
  @IsOptional() @IsEmail() email?: string;
  @IsOptional() @IsIn(['root', 'guest']) role?: 'root' | 'guest';
  @IsOptional() @IsIn(['enable', 'disable']) state?: 'enable' | 'disable';
}

export class ResetPasswordDto {
  /** Required when changing one's own password. */
  @IsOptional() @IsString() old_password?: string;
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

  /** Console sign-in: `{token, expire}` and an HttpOnly `jwt` cookie. Rate-limited per client. */
  @Post('signin')
  @HttpCode(200)
  @UseGuards(ThrottlerGuard)
  async signin(@Body() dto: SigninDto, @Res({ passthrough: true }) res: Response) {
    const user = await this.users.authenticate(dto.name, dto.password);
    if (!user) throw new UnauthorizedException('Unauthorized');
    const session = this.sessions.issue(user.id, user.name);
    res.cookie('jwt', session.token, { httpOnly: true, sameSite: 'strict', expires: new Date(session.expire), path: '/' });
    return session;
  }

  @Post('signout')
  @HttpCode(200)
  signout(@Res({ passthrough: true }) res: Response) {
    res.clearCookie('jwt', { path: '/' });
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

  /** Root may set anyone's password; others change their own, proving the old one. */
  @Post(':id/reset_password')
  @HttpCode(200)
  @SignedIn()
  async resetPassword(@Param('id', ParseIntPipe) id: number, @Body() dto: ResetPasswordDto, @CurrentActor() actor: Actor) {
    const user = await this.users.findById(id);
    if (!user) throw new NotFoundException('record not found');
    if (actor.role !== 'root') {
      if (actor.userId !== id || actor.kind !== 'user') throw new ForbiddenException('permission deny');
      if (!dto.old_password || !(await verifyPassword(dto.old_password, user.encryptedPassword))) throw new ForbiddenException('old password is wrong');
    }
    await this.users.setPassword(id, dto.new_password);
    return {};
  }
}
