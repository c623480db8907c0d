/**
 * Summarises V8 CPU profiles (`node --cpu-prof`): self time per function, heaviest first, so
 * the next bottleneck shows without a browser; `--by-package` adds it up per npm package, gateway
 * library and Node internals. Usage: node dist/bench/top-functions.js DIR|FILE... [--top N] [--by-package]
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const byPackage = process.argv.includes('--by-package');
const args = process.argv.slice(2).filter((a) => a !== '--by-package');
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
const inputs = args.filter((_, i) => i !== topAt && i !== topAt + 1);
const files = inputs.flatMap((p) =>
  statSync(p).isDirectory()
    ? readdirSync(p)
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => join(p, f))
    : [p],
);
if (files.length === 0) {
  console.error('usage: node dist/bench/top-functions.js DIR|FILE.cpuprofile... [--top N]');
  process.exit(2);
}

/** node_modules/<package>, dist/<apps|libs>/<name>, node:<internal>, or V8's own entries. */
function packageOf(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (mod) return mod[1];
  const own = /dist\/((?:apps|libs|bench|test)\/[^/]+)/.exec(url);
  if (own) return own[1];
  if (url.startsWith('node:')) return url.split('/').slice(0, 2).join('/');
  return url;
}

const self = new Map<string, number>();
let total = 0;
for (const file of files) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const f = byId.get(id)!.callFrame;
    const where = f.url ? `${relative(process.cwd(), f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : '';
    const key = byPackage ? packageOf(f.url, f.functionName) : `${f.functionName || '(anonymous)'} ${where}`.trim();
    const us = profile.timeDeltas[i] ?? 0;
    self.set(key, (self.get(key) ?? 0) + us);
    total += us;
  });
}
console.log(`${files.length} profile(s), ${(total / 1e6).toFixed(2)} s sampled; self time by function:`);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${key}`);
