import { GatewayConfig } from '@accel/config';
import { UserEntity, UserRole, UserState } from '@accel/db';
import { Injectable, Logger } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { Repository } from 'typeorm';
import { LoginLimiter } from './login-limiter';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './password-hasher';

/**
 * A verified user/password pair skips the KDF (Harbor's BASIC mode sends it on every 10 s
 * poll) for as long as the user's stored hash is the one it was checked against: a password
 * changed anywhere — on another replica too — revokes it on the next request, and there is no
 * periodic full-cost re-check. A day bounds how long a pair lives unused in memory.
 */
const VERIFIED_TTL_MS = 24 * 3_600_000;
const VERIFIED_MAX = 1000;

@Injectable()
export class UsersService {
  private readonly log = new Logger(UsersService.name);
  /** sha256(name, password) → the user and stored hash it matched, and when; memory only, least recent first. */
  private readonly verified = new Map<string, { userId: number; hash: string; at: number }>();
  private readonly verifying = new Map<string, Promise<boolean>>();

  constructor(
    private readonly config: GatewayConfig,
    private readonly limiter: LoginLimiter,
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
  ) {}

  /** Creates `root` on first start; a generated password is printed once and never stored in clear. */
  async bootstrapRoot(): Promise<void> {
    if ((await this.users.count()) > 0) return;
    const generated = !this.config.auth.rootPassword;
    const password = this.config.auth.rootPassword || randomBytes(12).toString('base64url');
    try {
      await this.users.insert({
        name: 'root',
        email: '',
        role: 'root',
        state: 'enable',
        encryptedPassword: await hashPassword(password),
      });
    } catch (e) {
      // Another replica created it first.
      if ((e as { code?: string }).code === 'ER_DUP_ENTRY') return;
      throw e;
    }
    if (generated) {
      this.log.warn(
        `created user "root" with generated password: ${password}  (shown once; set auth.rootPassword to choose it)`,
      );
    } else {
      this.log.log('created user "root" with the password from auth.rootPassword');
    }
  }

  /**
   * The enabled user with these credentials, or null. Takes the same time whether or not the
   * user exists. Throws TooManyFailedLogins (429) once `source` or `name` failed too often.
   */
  async authenticate(name: string, password: string, source: string): Promise<UserEntity | null> {
    this.limiter.check(name, source);
    const key = createHash('sha256').update(name).update('\0').update(password).digest('hex');
    const user = await this.users.findOneBy({ name, isDel: 0 });
    const cached = this.verified.get(key);
    const hit =
      cached !== undefined &&
      user !== null &&
      cached.userId === user.id &&
      cached.hash === user.encryptedPassword &&
      Date.now() - cached.at < VERIFIED_TTL_MS;
    const ok = hit || (await this.verifyOnce(key, password, user));
    if (!ok || !user || user.state !== 'enable') {
      this.verified.delete(key);
      this.limiter.failed(name, source);
      return null;
    }
    this.limiter.succeeded(name, source);
    // Re-inserted on every use: the least recently used pair is the one evicted.
    this.verified.delete(key);
    if (this.verified.size >= VERIFIED_MAX) this.verified.delete(this.verified.keys().next().value as string);
    this.verified.set(key, { userId: user.id, hash: user.encryptedPassword, at: Date.now() });
    return user;
  }

  /**
   * One KDF run for identical credentials checked at once: a burst of requests with the same
   * Basic header (Harbor polling, a retry storm) after the cache expired costs one scrypt, not
   * hundreds queued on the thread pool.
   */
  private verifyOnce(key: string, password: string, user: UserEntity | null): Promise<boolean> {
    const flightKey = `${key}:${user?.id ?? 0}:${user?.encryptedPassword ?? ''}`;
    let pending = this.verifying.get(flightKey);
    if (!pending) {
      pending = (async () => verifyPassword(password, user?.encryptedPassword ?? (await DUMMY_HASH_PROMISE)))().finally(
        () => this.verifying.delete(flightKey),
      );
      this.verifying.set(flightKey, pending);
    }
    return pending;
  }

  findById(id: number): Promise<UserEntity | null> {
    return this.users.findOneBy({ id, isDel: 0 });
  }

  list(): Promise<UserEntity[]> {
    return this.users.find({ where: { isDel: 0 }, order: { id: 'ASC' } });
  }

  async create(input: { name: string; password: string; email?: string; role: UserRole }): Promise<UserEntity> {
    return this.users.save(
      this.users.create({
        name: input.name,
        email: input.email ?? '',
        sessionVersion: 0,
        role: input.role,
        state: 'enable',
        encryptedPassword: await hashPassword(input.password),
      }),
    );
  }

  async update(id: number, patch: { email?: string; role?: UserRole; state?: UserState }): Promise<UserEntity | null> {
    const user = await this.findById(id);
    if (!user) return null;
    const disabling = patch.state === 'disable' && user.state !== 'disable';
    Object.assign(user, Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined && v !== null)));
    if (disabling) user.sessionVersion++;
    this.forget(user.id);
    return this.users.save(user);
  }

  /** Sets a new password and ends every console session the user had. */
  async setPassword(id: number, password: string): Promise<void> {
    const encryptedPassword = await hashPassword(password);
    await this.users.update(id, { encryptedPassword, sessionVersion: () => 'session_version + 1' });
    this.forget(id);
  }

  /** Drops cached credential checks of a user whose password, role or state changed. */
  private forget(userId: number): void {
    for (const [k, v] of this.verified) if (v.userId === userId) this.verified.delete(k);
  }
}
