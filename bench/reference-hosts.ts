/**
 * A process of reference Dragonfly hosts for the preheat benchmarks, so that the benchmark's own
 * process holds the gateway alone (its event loop, heap and RSS are the gateway's):
 * `node dist/bench/reference-hosts.js N [seed]` starts N reference peers (seed peers with `seed`)
 * and a reference scheduler that lists them, then prints one JSON line
 * `{"scheduler": port, "peers": [{hostname, ip, port}]}`. Each `reads` line on stdin is answered
 * with `{"reads": n, "perPeer": [n0, n1, …]}`, the origin fetches made so far (a cached answer is
 * not one). It stops when stdin closes.
 */
import { createInterface } from 'node:readline';
import { ReferenceScheduler, ReferenceSeedPeer } from '../test/support/dragonfly';
import { mapLimit } from '@accel/common';

export interface ReferenceHostsReady {
  scheduler: number;
  peers: { hostname: string; ip: string; port: number }[];
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 200);
  const seed = process.argv[3] === 'seed';
  const peers = Array.from({ length: count }, (_, i) => new ReferenceSeedPeer(`${seed ? 'seed' : 'peer'}-${i}`));
  const scheduler = new ReferenceScheduler();
  await mapLimit(peers, 20, (p) => p.start());
  await scheduler.start();
  scheduler.hosts = peers.map((p) => ({
    hostname: p.hostname,
    ip: p.ip,
    port: p.port,
    type: seed ? (1 as const) : (0 as const),
  }));
  const ready: ReferenceHostsReady = {
    scheduler: scheduler.port,
    peers: peers.map((p) => ({ hostname: p.hostname, ip: p.ip, port: p.port })),
  };
  process.stdout.write(`${JSON.stringify(ready)}\n`);
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (line.trim() !== 'reads') continue;
    const perPeer = peers.map((p) => p.fetches.filter((f) => !f.cached).length);
    const reads = perPeer.reduce((a, b) => a + b, 0);
    process.stdout.write(`${JSON.stringify({ reads, perPeer })}\n`);
  }
  await Promise.all(peers.map((p) => p.stop()));
  await scheduler.stop();
}

void main().then(
  () => process.exit(0),
  (e: Error) => {
    console.error(e);
    process.exit(1);
  },
);
