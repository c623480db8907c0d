/**
 * Preload (`node -r dist/bench/memory-sampler.js …`) to learn where a process's resident memory
 * goes: at exit it prints, to stderr, the peak of each of process.memoryUsage()'s parts sampled
 * every 50 ms — rss, V8's heap (total and used), and memory outside it (external, arrayBuffers).
 */
const peak: Record<string, number> = {};
setInterval(() => {
  for (const [k, v] of Object.entries(process.memoryUsage())) peak[k] = Math.max(peak[k] ?? 0, v);
}, 50).unref();
process.on('exit', () => {
  const mib = Object.entries(peak).map(([k, v]) => `${k} ${(v / 1048576).toFixed(0)} MiB`);
  process.stderr.write(`peak memory: ${mib.join(', ')}\n`);
});
