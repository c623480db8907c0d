import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-http-bearer';
import { Actor } from './actor';
import { TokensService } from './tokens.service';

/** Personal access tokens from `Authorization: Bearer` or `?access_token=` (passport-http-bearer). */
@Injectable()
export class PersonalAccessTokenStrategy extends PassportStrategy(Strategy, 'pat') {
  constructor(private readonly tokens: TokensService) {
    super();
  }

  validate(token: string): Promise<Actor | false> {
    return this.tokens.authenticate(token);
  }
}
