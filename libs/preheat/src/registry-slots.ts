import { GatewayConfig } from '@accel/config';
import { Injectable } from '@nestjs/common';

/** How many preheat jobs of this process read each registry right now; a full registry turns new jobs away. */
@Injectable()
export class RegistrySlots {
  private readonly inUse = new Map<string, number>();

  constructor(private readonly config: GatewayConfig) {}

  /** A release function, or undefined when `host` already has every slot. */
  tryTake(host: string): (() => void) | undefined {
    const key = host.toLowerCase();
    const used = this.inUse.get(key) ?? 0;
    if (used >= this.config.preheat.registrySlots) return undefined;
    this.inUse.set(key, used + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.inUse.get(key) ?? 1) - 1;
      if (left > 0) this.inUse.set(key, left);
      else this.inUse.delete(key);
    };
  }
}
