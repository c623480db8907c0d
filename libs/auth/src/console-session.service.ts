import { GatewayConfig } from '@accel/config';
import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { hkdfSync } from 'node:crypto';
import { UsersService } from './users.service';
import { Actor } from './actor';

export interface SessionToken {
  token: string;
  expire: string;
}

/** Console sessions: HS256 JWTs (Dragonfly's `{token, expire}` sign-in answer), keyed from the encryption key. */
@Injectable()
export class ConsoleSessions {
  private readonly jwt: JwtService;

  constructor(
    private readonly config: GatewayConfig,
    private readonly users: UsersService,
  ) {
    const secret = Buffer.from(hkdfSync('sha256', config.auth.encryptionKey, 'accel-gateway', 'console-jwt', 32));
    this.jwt = new JwtService({ secret, signOptions: { algorithm: 'HS256', expiresIn: config.auth.jwtTtlSeconds, issuer: 'accel-gateway' }, verifyOptions: { algorithms: ['HS256'], issuer: 'accel-gateway' } });
  }

  issue(userId: number, name: string): SessionToken {
    const token = this.jwt.sign({ sub: String(userId), name });
    return { token, expire: new Date(Date.now() + this.config.auth.jwtTtlSeconds * 1000).toISOString() };
  }

  /** The user behind a session token, with the role the database has now; undefined when invalid. */
  async verify(token: string): Promise<Actor | undefined> {
    let claims: { sub?: string };
    try {
      claims = this.jwt.verify<{ sub?: string }>(token);
    } catch {
      return undefined;
    }
    const user = claims.sub ? await this.users.findById(Number(claims.sub)) : null;
    if (!user || user.state !== 'enable') return undefined;
    return { kind: 'user', name: user.name, userId: user.id, role: user.role, scopes: 'all' };
  }
}

/** A console JWT (three base64url parts) rather than a personal access token. */
export const looksLikeJwt = (s: string): boolean => /^eyJ[\w-]*\.[\w-]+\.[\w-]+$/.test(s);
