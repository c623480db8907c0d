import { GatewayConfig } from '@accel/config';
import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { Request } from 'express';
import { ANONYMOUS, Actor, AUTH_REQUIREMENT, AuthRequirement, hasScope } from './actor';
import { safeEqual } from './password-hasher';
import { UsersService } from './users.service';

const PatGuard = AuthGuard('pat');

/**
 * One guard for every auth mode Harbor can use against a provider, all usable at once:
 * CUSTOM (a configured header), OAUTH (personal access token), BASIC (gateway users) and,
 * only when switched on, NONE. Whatever is presented must be right: a wrong credential is
 * never downgraded to anonymous access.
 */
@Injectable()
export class GatewayAuthGuard implements CanActivate {
  private readonly pat = new PatGuard();

  constructor(
    private readonly reflector: Reflector,
    private readonly config: GatewayConfig,
    private readonly users: UsersService,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const need = this.reflector.getAllAndOverride<AuthRequirement | undefined>(AUTH_REQUIREMENT, [ctx.getHandler(), ctx.getClass()]);
    if (!need) return true;
    const req = ctx.switchToHttp().getRequest<Request & { user?: Actor }>();
    const actor = await this.identify(ctx, req, need);
    this.authorize(actor, need);
    req.user = actor;
    return true;
  }

  private async identify(ctx: ExecutionContext, req: Request, need: AuthRequirement): Promise<Actor> {
    const authorization = req.headers.authorization;
    const custom = this.config.auth.custom;
    if (custom.header) {
      const presented = req.headers[custom.header.toLowerCase()];
      if (typeof presented === 'string') {
        if (safeEqual(presented, custom.value)) return { kind: 'custom-header', name: custom.header, userId: 0, role: 'none', scopes: ['job'] };
        if (custom.header.toLowerCase() !== 'authorization') throw new UnauthorizedException();
      }
    }
    const query = req.query as Record<string, unknown>;
    if (/^bearer\s/i.test(authorization ?? '') || typeof query.access_token === 'string') {
      if (!this.config.auth.bearer) throw new UnauthorizedException();
      await this.pat.canActivate(ctx);
      return (req as Request & { user: Actor }).user;
    }
    if (/^basic\s/i.test(authorization ?? '')) {
      if (!this.config.auth.basic) throw new UnauthorizedException();
      return this.basic(authorization as string);
    }
    if (authorization) throw new UnauthorizedException();
    if (need.anonymous && this.config.auth.allowAnonymous) return ANONYMOUS;
    throw new UnauthorizedException();
  }

  private async basic(header: string): Promise<Actor> {
    const decoded = Buffer.from(header.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw new UnauthorizedException();
    const name = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    // Harbor's UI can send `username:<user>` (a name and no password): never a credential.
    if (name === 'username') throw new UnauthorizedException();
    const user = await this.users.authenticate(name, password);
    if (!user) throw new UnauthorizedException();
    return { kind: 'user', name: user.name, userId: user.id, role: user.role, scopes: 'all' };
  }

  private authorize(actor: Actor, need: AuthRequirement): void {
    if (actor.kind === 'anonymous') return;
    if (need.scope === 'admin' && actor.role !== 'root' && actor.kind !== 'token') {
      throw new ForbiddenException('This action needs the root role');
    }
    if (!hasScope(actor, need.scope)) {
      throw new ForbiddenException(`Token doesn't have permission to access this resource. Required permission: ${need.scope}`);
    }
    if (need.scope === 'admin' && actor.kind === 'token' && actor.role !== 'root') {
      throw new ForbiddenException('This action needs a token of a root user');
    }
  }
}
