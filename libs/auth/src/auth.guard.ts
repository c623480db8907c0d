import { GatewayConfig } from '@accel/config';
import { CanActivate, ExecutionContext, ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { Request } from 'express';
import { ANONYMOUS, Actor, AUTH_REQUIREMENT, AuthRequirement, hasScope, mayWrite } from './actor';
import { ConsoleSessions, looksLikeJwt } from './console-session.service';
import { safeEqual } from './password-hasher';
import { TokenRefused } from './tokens.service';
import { UsersService } from './users.service';

const PatGuard = AuthGuard('pat');

type AuthedRequest = Request & { user?: Actor; cookies?: Record<string, unknown> };

/** The token of an `Authorization: Bearer …` header, if that is what it is. */
export const bearerOf = (authorization: string | undefined): string | undefined =>
  /^bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();

/** The client address failed sign-ins are counted against. */
export const clientAddress = (req: Request): string => req.socket.remoteAddress ?? '';

/**
 * One guard for every auth mode Harbor can use against a provider, all usable at once:
 * CUSTOM (a configured header), OAUTH (personal access token), BASIC (gateway users), console
 * sessions and, only where a route allows it and it is switched on, NONE. Whatever is
 * presented must be right: a wrong or malformed credential is never downgraded to anonymous.
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
    const need = this.reflector.getAllAndOverride<AuthRequirement | undefined>(AUTH_REQUIREMENT, [
      ctx.getHandler(),
      ctx.getClass(),
    ]);
    if (!need) return true;
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const metricsToken = this.config.metrics.token;
    const bearer = bearerOf(req.headers.authorization);
    if (need.metricsToken && metricsToken && bearer && safeEqual(bearer, metricsToken)) {
      req.user = { kind: 'token', name: 'metrics.token', userId: 0, role: 'none', scopes: [] };
      return true;
    }
    try {
      req.user = await this.identify(ctx, req, need);
    } catch (e) {
      // Known before it is refused, so the audit trail names the token.
      if (e instanceof TokenRefused) req.user = e.actor;
      throw e;
    }
    this.authorize(req.user, need, req.method);
    return true;
  }

  private async identify(ctx: ExecutionContext, req: AuthedRequest, need: AuthRequirement): Promise<Actor> {
    const authorization = req.headers.authorization;
    const custom = this.config.auth.custom;
    if (custom.header) {
      const presented = req.headers[custom.header.toLowerCase()];
      if (presented !== undefined) {
        if (typeof presented === 'string' && safeEqual(presented, custom.value)) {
          return { kind: 'custom-header', name: custom.header, userId: 0, role: 'none', scopes: ['job'] };
        }
        if (custom.header.toLowerCase() !== 'authorization') throw new UnauthorizedException();
      }
    }
    const query = req.query as Record<string, unknown>;
    const bearer = bearerOf(authorization);
    if (!authorization && (query.token !== undefined || query.access_token !== undefined)) {
      if (typeof query.token !== 'string' && typeof query.access_token !== 'string') throw new UnauthorizedException();
    }
    const cookie = typeof req.cookies?.jwt === 'string' ? req.cookies.jwt : undefined;
    const session =
      bearer && looksLikeJwt(bearer)
        ? bearer
        : !authorization && typeof query.token === 'string'
          ? query.token
          : !authorization && !bearer
            ? cookie
            : undefined;
    if (session) {
      const actor = await this.sessions.verify(session);
      if (!actor) throw new UnauthorizedException();
      return actor;
    }
    if (bearer || typeof query.access_token === 'string') {
      if (!this.config.auth.bearer) throw new UnauthorizedException();
      await this.pat.canActivate(ctx);
      return req.user as Actor;
    }
    if (/^basic\s/i.test(authorization ?? '')) {
      if (!this.config.auth.basic) throw new UnauthorizedException();
      return this.basic(authorization as string, clientAddress(req));
    }
    if (authorization) throw new UnauthorizedException();
    if (this.anonymousAllowed(need)) return ANONYMOUS;
    throw new UnauthorizedException();
  }

  private anonymousAllowed(need: AuthRequirement): boolean {
    if (need.anonymous === 'legacy') return this.config.auth.allowAnonymous;
    if (need.anonymous === 'job-api') return this.config.auth.allowAnonymousJobApi;
    return false;
  }

  private async basic(header: string, source: string): Promise<Actor> {
    const credentials = parseBasic(header);
    if (!credentials) throw new UnauthorizedException();
    const user = await this.users.authenticate(credentials.name, credentials.password, source);
    if (!user) throw new UnauthorizedException();
    return { kind: 'user', name: user.name, userId: user.id, role: user.role, scopes: 'all' };
  }

  private authorize(actor: Actor, need: AuthRequirement & { any?: boolean }, method: string): void {
    if (actor.kind === 'anonymous') return;
    if (need.any) return;
    if (!hasScope(actor, need.scope)) {
      throw new ForbiddenException(
        `Token doesn't have permission to access this resource. Required permission: ${need.scope}`,
      );
    }
    const reading = method === 'GET' || method === 'HEAD';
    if (need.scope !== 'admin') {
      // Guests (and their tokens) only read, on the provider API too.
      if (!mayWrite(actor) && !reading) throw new ForbiddenException('permission deny');
      return;
    }
    // The admin API: the role decides (a token acts with its owner's role).
    if (actor.role === 'root') return;
    if (actor.role === 'guest' && need.access === 'read' && !need.sensitive) return;
    throw new ForbiddenException('permission deny');
  }
}

/**
 * `Basic base64(name:password)`. Harbor's UI can send `username:<user>` (a name and no
 * password): never a credential.
 */
export function parseBasic(header: string): { name: string; password: string } | undefined {
  const decoded = Buffer.from(header.replace(/^basic\s+/i, ''), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  const name = decoded.slice(0, colon);
  if (name === 'username' || name.length > 256) return undefined;
  return { name, password: decoded.slice(colon + 1) };
}
