import { ForbiddenException, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { Actor } from './actor';
import { TokensService } from './tokens.service';
import { UsersService } from './users.service';

/** Personal access tokens from `Authorization: Bearer` or `?access_token=` (passport-http-bearer). */
@Injectable()
export class PersonalAccessTokenStrategy extends PassportStrategy(Strategy, 'pat') {
  constructor(
    private readonly tokens: TokensService,
    private readonly users: UsersService,
  ) {
    super();
  }

  async validate(token: string): Promise<Actor | false> {
    const pat = await this.tokens.findByToken(token);
    if (!pat) return false;
    if (pat.state !== 'active') throw new ForbiddenException('Token is inactive');
    if (pat.expiredAt.getTime() < Date.now()) throw new ForbiddenException('Token has expired');
    const owner = await this.users.findById(pat.userId);
    if (!owner || owner.state !== 'enable') throw new ForbiddenException('Token owner is disabled');
    return { kind: 'token', name: pat.name, userId: pat.userId, role: owner.role, scopes: pat.scopes };
  }
}
