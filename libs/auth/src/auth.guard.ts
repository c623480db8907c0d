import { GatewayConfig } from '@accel/config';
import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { Request } from 'express';
import { ANONYMOUS, Actor, AUTH_REQUIREMENT, AuthRequirement, hasScope } from './actor';
import { safeEqual } from './password-hasher';
import { UsersService } from './users.service';
import { ConsoleSessions, looksLikeJwt } from './console-session.service';

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
    private readonly sessions: ConsoleSessions,
  ) {}

  async canActivate(ctx: ExecutionContext): Promise<boolean> {
    const need = this.reflector.getAllAndOverride<AuthRequirement | undefined>(AUTH_REQUIREMENT, [ctx.getHandler(), ctx.getClass()]);
    if (!need) return true;
    const req = ctx.switchToHttp().getRequest<Request & { user?: Actor }>();
    const actor = await this.identify(ctx, req, need);
    // Known before it is judged, so the audit trail names who was refused.
    req.user = actor;
    this.authorize(actor, need, req.method);
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
    const bearer = /^bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();
    const cookie = (req as Request & { cookies?: Record<string, string> }).cookies?.jwt;
    const session = bearer && looksLikeJwt(bearer) ? bearer : !authorization && typeof query.token === 'string' ? query.token : !authorization ? cookie : undefined;
    if (session) {
      const actor = await this.sessions.verify(session);
      if (!actor) throw new UnauthorizedException();
      return actor;
    }
    if (bearer || typeof query.access_token === 'string') {
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

  private authorize(actor: Actor, need: AuthRequirement & { any?: boolean }, method: string): void {
    if (actor.kind === 'anonymous') return;
    if (actor.kind === 'token' && !hasScope(actor, need.scope) && !need.any) {
      throw new ForbiddenException(`Token doesn't have permission to access this resource. Required permission: ${need.scope}`);
    }
    if (need.any) return;
    if (need.scope !== 'admin') {
      // Guests (and their tokens) only read, on the provider API too.
      if (actor.role === 'guest' && method !== 'GET' && method !== 'HEAD') throw new ForbiddenException('permission deny');
      return;
    }
    // The admin API: the role decides (a token acts with its owner's role).
    if (actor.role === 'root') return;
    if (actor.role === 'guest' && need.access === 'read' && !need.sensitive) return;
    throw new ForbiddenException('permission deny');
  }
}
