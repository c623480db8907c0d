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

/**
 * Registries added at runtime (admin API): allowed hosts and their credentials, decrypted in
 * memory only. Refreshed every few seconds so every process sees changes without a restart.
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
