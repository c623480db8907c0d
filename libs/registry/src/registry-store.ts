import { SecretBox } from '@accel/common';
import { RegistryEntity } from '@accel/db';
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';

export interface StoredRegistry {
  host: string;
  username?: string;
  password?: string;
  insecure: boolean;
  plainHttp: boolean;
  /** host[:port] of the token service its credentials may go to; empty = the registry itself. */
  tokenRealm: string;
}

const REFRESH_MS = 10_000;

/** A registry as the admin API sets it; the password in the clear (sealed before it is stored). */
export interface RegistryFields {
  username?: string;
  /** Omitted keeps the stored password; an empty string removes it. */
  password?: string;
  insecure?: boolean;
  plainHttp?: boolean;
  tokenRealm?: string;
}

/**
 * The `registry` table: registries added at runtime (admin API), their credentials sealed at
 * rest and open in memory only. Refreshed every few seconds so every process sees changes
 * without a restart; the process that writes reloads at once.
 */
@Injectable()
export class RegistryStore implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(RegistryStore.name);
  private entries = new Map<string, StoredRegistry>();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly secrets: SecretBox,
    @InjectRepository(RegistryEntity) private readonly registries: Repository<RegistryEntity>,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.reload();
    this.timer = setInterval(() => void this.reload(), REFRESH_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  get(host: string): StoredRegistry | undefined {
    return this.entries.get(host.toLowerCase());
  }

  hosts(): string[] {
    return [...this.entries.keys()];
  }

  list(): Promise<RegistryEntity[]> {
    return this.registries.find({ where: { isDel: 0 }, order: { id: 'ASC' } });
  }

  async create(host: string, fields: RegistryFields): Promise<RegistryEntity> {
    const saved = await this.registries.save(
      this.registries.create({
        host: host.toLowerCase(),
        username: fields.username ?? '',
        sealedPassword: fields.password ? this.secrets.seal(fields.password) : null,
        insecure: fields.insecure ?? false,
        plainHttp: fields.plainHttp ?? false,
        tokenRealm: fields.tokenRealm?.toLowerCase() ?? '',
      }),
    );
    await this.reload();
    return saved;
  }

  /** Changes the fields given; undefined when there is no such registry. */
  async update(id: number, fields: RegistryFields): Promise<RegistryEntity | undefined> {
    const r = await this.registries.findOneBy({ id, isDel: 0 });
    if (!r) return undefined;
    if (fields.username !== undefined) r.username = fields.username;
    if (fields.password !== undefined) r.sealedPassword = fields.password ? this.secrets.seal(fields.password) : null;
    if (fields.insecure !== undefined) r.insecure = fields.insecure;
    if (fields.plainHttp !== undefined) r.plainHttp = fields.plainHttp;
    if (fields.tokenRealm !== undefined) r.tokenRealm = fields.tokenRealm.toLowerCase();
    const saved = await this.registries.save(r);
    await this.reload();
    return saved;
  }

  async remove(id: number): Promise<boolean> {
    const removed = Boolean((await this.registries.delete({ id })).affected);
    await this.reload();
    return removed;
  }

  async reload(): Promise<void> {
    try {
      const rows = await this.registries.find({ where: { isDel: 0 } });
      this.entries = new Map(
        rows.map((r) => [
          r.host.toLowerCase(),
          {
            host: r.host,
            username: r.username || undefined,
            password: r.sealedPassword ? this.secrets.open<string>(r.sealedPassword) : undefined,
            insecure: r.insecure,
            plainHttp: r.plainHttp,
            tokenRealm: r.tokenRealm,
          },
        ]),
      );
    } catch (e) {
      this.log.warn(`could not load registries: ${(e as Error).message}`);
    }
  }
}
