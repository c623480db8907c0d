import { crc32 } from 'node:zlib';

/**
 * Consistent-hash ring with the layout of the ring the Go scheduler uses to pick a seed peer
 * (20 virtual points per member at crc32(`<i><member>`), first point strictly after the key's
 * crc32), so the gateway picks the seed peer the scheduler itself would pick.
 */
export class HashRing<T> {
  static readonly REPLICAS = 20;
  private readonly points: number[] = [];
  private readonly owners = new Map<number, T>();

  constructor(members: readonly T[], key: (m: T) => string) {
    for (const m of members) {
      for (let i = 0; i < HashRing.REPLICAS; i++) this.owners.set(crc32(`${i}${key(m)}`), m);
    }
    this.points = [...this.owners.keys()].sort((a, b) => a - b);
  }

  get size(): number {
    return this.points.length;
  }

  get(name: string): T | undefined {
    if (this.points.length === 0) return undefined;
    const h = crc32(name);
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid] > h) hi = mid;
      else lo = mid + 1;
    }
    return this.owners.get(this.points[lo === this.points.length ? 0 : lo]);
  }
}
