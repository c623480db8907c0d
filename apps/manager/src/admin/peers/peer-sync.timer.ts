import { GatewayConfig } from '@accel/config';
import { PeerSyncService } from '@accel/dragonfly';
import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';

/** sync_peers every `preheat.syncPeersIntervalMinutes` (Dragonfly: 24 h); 0 leaves it to the job API. */
@Injectable()
export class PeerSyncTimer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(PeerSyncTimer.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly config: GatewayConfig,
    private readonly peers: PeerSyncService,
  ) {}

  onApplicationBootstrap(): void {
    const minutes = this.config.preheat.syncPeersIntervalMinutes;
    if (minutes <= 0) return;
    this.timer = setInterval(
      () => void this.peers.sync().catch((e: Error) => this.log.warn(e.message)),
      minutes * 60_000,
    );
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}
