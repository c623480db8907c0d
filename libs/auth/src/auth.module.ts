import { DbModule } from '@accel/db';
import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { GatewayAuthGuard } from './auth.guard';
import { PersonalAccessTokenStrategy } from './bearer.strategy';
import { TokensService } from './tokens.service';
import { UsersService } from './users.service';
import { ConsoleSessions } from './console-session.service';
import { LoginLimiter } from './login-limiter';

@Module({
  imports: [DbModule, PassportModule],
  providers: [
    LoginLimiter,
    UsersService,
    TokensService,
    ConsoleSessions,
    PersonalAccessTokenStrategy,
    { provide: APP_GUARD, useClass: GatewayAuthGuard },
  ],
  exports: [LoginLimiter, UsersService, TokensService, ConsoleSessions],
})
export class AuthModule {}
