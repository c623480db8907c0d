/**
 * The longest stretches of a V8 CPU profile (`node --cpu-prof`) with no idle sample — where the
 * event loop could not turn — and, for each, the frames most of its samples ran under. An
 * event-loop stall shows here with its cause. Usage:
 *   node dist/bench/busy-stretches.js FILE.cpuprofile [--top N] [--frames N]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
}

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const file = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
if (!file) {
  console.error('usage: node dist/bench/busy-stretches.js FILE.cpuprofile [--top N] [--frames N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = ({ callFrame: f }: ProfileNode): string =>
  `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
const waiting = (n: ProfileNode) => n.callFrame.functionName === '(idle)' || n.callFrame.functionName === '(program)';

interface Stretch {
  startUs: number;
  endUs: number;
  samples: number[];
}
const stretches: Stretch[] = [];
let current: Stretch | undefined;
let at = profile.startTime;
profile.samples.forEach((id, i) => {
  at += profile.timeDeltas[i] ?? 0;
  if (waiting(byId.get(id)!)) {
    if (current) stretches.push(current);
    current = undefined;
    return;
  }
  current ??= { startUs: at, endUs: at, samples: [] };
  current.endUs = at;
  current.samples.push(id);
});
if (current) stretches.push(current);

for (const s of stretches.sort((a, b) => b.endUs - b.startUs - (a.endUs - a.startUs)).slice(0, option('--top', 5))) {
  // Each frame counted once per sample it is on the stack of.
  const under = new Map<string, number>();
  for (const id of s.samples) {
    const seen = new Set<string>();
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) {
      const name = label(byId.get(x)!);
      if (name.startsWith('(root)') || seen.has(name)) continue;
      seen.add(name);
      under.set(name, (under.get(name) ?? 0) + 1);
    }
  }
  console.log(
    `${((s.endUs - s.startUs) / 1e3).toFixed(0)} ms busy at +${((s.startUs - profile.startTime) / 1e6).toFixed(1)} s`,
  );
  for (const [name, n] of [...under].sort((a, b) => b[1] - a[1]).slice(0, option('--frames', 12)))
    console.log(`  ${((100 * n) / s.samples.length).toFixed(0).padStart(3)} %  ${name}`);
}
