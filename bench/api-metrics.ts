/**
 * What metrics cost on the provider API: Harbor's job polls (GET /oapi/v1/jobs/:id with a
 * personal access token) answered per second by a gateway with metrics on and one with them off,
 * both in this run, alternating rounds (a fresh gateway each) so the machine's drift hits both alike.
 * Prints requests/s of each and the ratio (target ≥ 0.95×).
 *   BENCH_SECONDS (per round, default 5), BENCH_ROUNDS (default 3), BENCH_CONCURRENCY (default 32)
 */
import { summary } from './support';
import { Pool } from 'undici';
import { TestGateway } from '../test/support/gateway';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);

async function pollRate(g: TestGateway, path: string, token: string, seconds: number): Promise<number> {
  const pool = new Pool(g.url, { connections: CONCURRENCY });
  const end = Date.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (Date.now() < end) {
        const r = await pool.request({ method: 'GET', path, headers: { authorization: `Bearer ${token}` } });
        await r.body.dump();
        if (r.statusCode !== 200) throw new Error(`GET ${path}: ${r.statusCode}`);
        done++;
      }
    }),
  );
  await pool.close();
  return done / seconds;
}

/** One round on a fresh gateway (passport's strategies are per process: one gateway at a time). */
async function round(metrics: boolean): Promise<number> {
  const g = await TestGateway.start({ logLevel: 'error', metrics: { enabled: metrics } });
  try {
    const token = await g.token(['job']);
    // A job to poll: its image is never fetched (no cluster serves it), only its row is read.
    const created = await g.http<{ id: number }>('POST', '/oapi/v1/jobs', {
      body: { type: 'preheat', args: { type: 'image', url: 'http://127.0.0.1:9/v2/bench/app/manifests/v1' } },
      headers: { authorization: `Bearer ${token}` },
    });
    if (created.status !== 200) throw new Error(`job create: ${created.status} ${created.text}`);
    const path = `/oapi/v1/jobs/${created.json.id}`;
    await pollRate(g, path, token, 1); // warm-up
    return await pollRate(g, path, token, SECONDS);
  } finally {
    await g.stop();
  }
}

async function main(): Promise<void> {
  const rates = { on: [] as number[], off: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    rates.off.push(await round(false));
    rates.on.push(await round(true));
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const list = (xs: number[]) => xs.map((r) => r.toFixed(0)).join(', ');
  console.log(
    `api-metrics bench: GET /oapi/v1/jobs/:id with a token, ${CONCURRENCY} at once, ${ROUNDS} rounds of ${SECONDS} s, alternating`,
  );
  console.log(`  metrics off   ${mean(rates.off).toFixed(0).padStart(6)} req/s   (${list(rates.off)})`);
  console.log(`  metrics on    ${mean(rates.on).toFixed(0).padStart(6)} req/s   (${list(rates.on)})`);
  console.log(`  ratio on/off: ${(mean(rates.on) / mean(rates.off)).toFixed(3)}×`);
  summary({
    target: 'provider polls with metrics on',
    figure: `${mean(rates.on).toFixed(0)} req/s`,
    reference: `${mean(rates.off).toFixed(0)} req/s off`,
    ratio: `${(mean(rates.on) / mean(rates.off)).toFixed(3)}×`,
    goal: '≥ 0.95×',
    meets: mean(rates.on) / mean(rates.off) >= 0.95,
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
