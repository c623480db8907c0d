import { GatewayConfig } from '@accel/config';
import { UserEntity } from '@accel/db';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { randomBytes } from 'node:crypto';
import { Repository } from 'typeorm';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './password-hasher';

@Injectable()
export class UsersService {
  private readonly log = new Logger(UsersService.name);

  constructor(
    private readonly config: GatewayConfig,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
  ) {}

  /** Creates `root` on first start; a generated password is printed once and never stored in clear. */
  async bootstrapRoot(): Promise<void> {
    if ((await this.users.count()) > 0) return;
    const generated = !this.config.auth.rootPassword;
    const password = this.config.auth.rootPassword || randomBytes(12).toString('base64url');
    try {
      await this.users.insert({ name: 'root', email: '', role: 'root', state: 'enable', encryptedPassword: await hashPassword(password) });
    } catch (e) {
      // Another replica created it first.
      if ((e as { code?: string }).code === 'ER_DUP_ENTRY') return;
      throw e;
    }
    if (generated) {
      this.log.warn(`created user "root" with generated password: ${password}  (shown once; set auth.rootPassword to choose it)`);
    } else {
      this.log.log('created user "root" with the password from auth.rootPassword');
    }
  }

  /** The enabled user with these credentials, or null. Takes the same time whether or not the user exists. */
  async authenticate(name: string, password: string): Promise<UserEntity | null> {
    const user = await this.users.findOneBy({ name, isDel: 0 });
    const ok = await verifyPassword(password, user?.encryptedPassword ?? (await DUMMY_HASH_PROMISE));
    return ok && user && user.state === 'enable' ? user : null;
  }

  findById(id: number): Promise<UserEntity | null> {
    return this.users.findOneBy({ id, isDel: 0 });
  }
}
