import { Actor, TokensService, UsersService, bearerOf, hasScope, mayWrite, parseBasic, safeEqual } from '@accel/auth';
import { GatewayConfig } from '@accel/config';
import { ForbiddenException, Injectable, UnauthorizedException } from '@nestjs/common';

const INVALID = 'invalid auth config';

const webhookActor = (host: string): Actor => ({
  kind: 'custom-header',
  name: `webhook:${host}`,
  userId: 0,
  role: 'none',
  scopes: ['conversion'],
});

/**
 * Conversion API auth, failing closed where acceld let header-less requests through: a webhook
 * must carry exactly the `Authorization` value configured for its registry host; otherwise a
 * gateway token with the `conversion` scope (or a gateway user) is required.
 */
@Injectable()
export class ConversionAuth {
  constructor(
    private readonly config: GatewayConfig,
    private readonly tokens: TokensService,
    private readonly users: UsersService,
  ) {}

  /** For POST: every named host's webhook header matches, or the caller is a gateway identity that may write. */
  async authorizeWebhook(authorization: string | undefined, hosts: string[], source: string): Promise<Actor> {
    if (!authorization || hosts.length === 0) throw new UnauthorizedException(INVALID);
    const expected = hosts.map((h) => this.config.provider.source[h.toLowerCase()]?.webhook.auth_header ?? '');
    if (expected.every((e) => e !== '' && safeEqual(authorization, e))) return webhookActor(hosts[0]);
    return this.writer(await this.gatewayIdentity(authorization, source));
  }

  /** For events the gateway ignores: any configured webhook header, or a gateway identity. */
  async authorizeAnyWebhook(authorization: string | undefined, source: string): Promise<Actor> {
    if (!authorization) throw new UnauthorizedException(INVALID);
    const host = Object.entries(this.config.provider.source).find(
      ([, s]) => s.webhook.auth_header && safeEqual(authorization, s.webhook.auth_header),
    )?.[0];
    return host ? webhookActor(host) : this.writer(await this.gatewayIdentity(authorization, source));
  }

  /** Guests (and their tokens) read conversions; they never create them. */
  private writer(actor: Actor): Actor {
    if (!mayWrite(actor)) throw new ForbiddenException('permission deny');
    return actor;
  }

  /** For the task list and sync mode: a gateway identity. */
  async gatewayIdentity(authorization: string | undefined, source: string): Promise<Actor> {
    if (!authorization) throw new UnauthorizedException(INVALID);
    const bearer = bearerOf(authorization);
    if (bearer && this.config.auth.bearer) {
      const actor = await this.tokens.authenticate(bearer);
      if (!actor) throw new UnauthorizedException(INVALID);
      if (!hasScope(actor, 'conversion'))
        throw new ForbiddenException(
          "Token doesn't have permission to access this resource. Required permission: conversion",
        );
      return actor;
    }
    const basic = /^basic\s/i.test(authorization) ? parseBasic(authorization) : undefined;
    if (basic && this.config.auth.basic) {
      const user = await this.users.authenticate(basic.name, basic.password, source);
      if (user) return { kind: 'user', name: user.name, userId: user.id, role: user.role, scopes: 'all' };
    }
    throw new UnauthorizedException(INVALID);
  }
}
