/**
 * What a converter process prints about itself when done. A module of its own, importing
 * nothing: a converter benchmark that took it from ./support would load the gateway's
 * framework too (Nest, TypeORM: about 20 MiB of code and heap) and report that as the converter's.
 */
export function printOwnUsage(startedNs: bigint, extra: Record<string, unknown>): void {
  const usage = process.resourceUsage();
  console.log(
    JSON.stringify({
      seconds: Number(process.hrtime.bigint() - startedNs) / 1e9,
      cpuSeconds: (usage.userCPUTime + usage.systemCPUTime) / 1e6,
      maxRssMiB: usage.maxRSS / 1024,
      ...extra,
    }),
  );
}
