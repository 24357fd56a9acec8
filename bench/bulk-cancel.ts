/**
 * 1. Bulk cancel vs the limit.
 *
 * N runs are cancelled with `manager.cancelMany(refs, { concurrency: 64 })` against the simulator at
 * 20 ms latency. The ideal is N/c × latency (every slot busy all the time, no cost per request);
 * target: wall ≤ 1.10 × ideal. Two floors run in the same process for comparison: the same N cancels
 * through bare `fetch` under p-limit(64), and through `node:http` with a keep-alive agent; they show
 * how much of the gap is the machine's HTTP cost rather than the library. Two rounds; the best of each
 * is compared (other processes on a shared machine only ever add time).
 *
 * Then the naive way — `Promise.allSettled` of N unbounded `fetch` PATCHes, as people write it — against
 * a simulator that answers 429 above 100 concurrent requests, versus ours on the same simulator: how many
 * cancels each loses (a non-2xx answer or a rejection, checked against the simulator's ledger).
 *
 * The simulator runs in its own process (bench/lib/remote-sim.ts). `--profile` profiles ours alone in a
 * child (`node --cpu-prof`) and summarizes where the time goes.
 */
import pLimit from 'p-limit';
import { AgentClient, TaskManager, type TaskRef } from '../src/index.js';
import { fetchCancel, KeepAliveHttp } from './lib/bare-http.js';
import { CLIENT_QUESTIONS, profileTarget } from './lib/profile.js';
import { RemoteSimulator, type SimLedgerSummary } from './lib/remote-sim.js';
import { int, ms, ratio, verdict, type Benchmark, type BenchOptions, type Row } from './lib/report.js';
import { cpuMicros } from './lib/stats.js';

/** The best of the rounds (wall time, CPU): other processes on the machine only ever add to either. */
const best = (values: readonly number[]): number => Math.min(...values);

const CONCURRENCY = 64;
const LATENCY_MS = 20;
const NAIVE_CAP = 100;
const TARGET = 1.1;

async function timed<T>(work: () => Promise<T>): Promise<{ wallMs: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { wallMs: performance.now() - start, value };
}

/** Ours: the manager's bulk cancel of refs it does not track (the shape of a mass cancel from a list). */
async function oursCancel(agent: AgentClient, ids: readonly string[]) {
  const manager = new TaskManager({ agent, concurrency: CONCURRENCY });
  try {
    const refs: TaskRef[] = ids.map((id) => ({ kind: 'agent', id }));
    return await timed(() => manager.cancelMany(refs, { concurrency: CONCURRENCY }));
  } finally {
    manager.close();
  }
}

function cancelledExactlyOnce(summary: SimLedgerSummary, n: number): boolean {
  return summary.cancelsPerRun['1'] === n && summary.cancelledOnServer === n;
}

export const bulkCancel: Benchmark = {
  name: 'bulk-cancel',
  title: 'Bulk cancel vs the limit',
  async run(options: BenchOptions): Promise<Row[]> {
    const n = options.full ? 10_000 : 2_000;
    const rounds = 2;
    const ideal = (n / CONCURRENCY) * LATENCY_MS;
    const sim = await RemoteSimulator.start({ faults: { latencyMs: LATENCY_MS } });
    const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
    const http = new KeepAliveHttp();
    const rows: Row[] = [];
    try {
      // Warm-up: JIT, connection pools. Not measured.
      await oursCancel(agent, await sim.createAgentRuns(512));
      const warm = pLimit(CONCURRENCY);
      const warmIds = await sim.createAgentRuns(512);
      await Promise.all(warmIds.map((id) => warm(() => fetchCancel(sim.url, sim.agentKey, id))));
      await Promise.all((await sim.createAgentRuns(512)).map((id) => warm(() => http.cancel(sim.url, sim.agentKey, id))));
      await Promise.all((await sim.createAgentRuns(512)).map((id) => warm(() => agent.cancel(id))));

      const variants = {
        ours: { label: 'ours: manager.cancelMany', wall: [] as number[], cpu: [] as number[] },
        client: { label: 'AgentClient.cancel alone under p-limit(64)', wall: [] as number[], cpu: [] as number[] },
        fetch: { label: 'floor: bare fetch under p-limit(64)', wall: [] as number[], cpu: [] as number[] },
        http: { label: 'floor: node:http keep-alive under p-limit(64)', wall: [] as number[], cpu: [] as number[] },
      };
      const measure = async (variant: keyof typeof variants, work: (ids: readonly string[]) => Promise<unknown>): Promise<void> => {
        const ids = await sim.createAgentRuns(n);
        const cpu = process.cpuUsage();
        const { wallMs } = await timed(() => work(ids));
        variants[variant].wall.push(wallMs);
        variants[variant].cpu.push(cpuMicros(cpu) / n);
      };
      let allOnce = true;
      let oursFailed = 0;
      let peak = 0;
      for (let round = 0; round < rounds; round++) {
        await measure('ours', async (ids) => {
          await sim.resetLedger();
          const { value } = await oursCancel(agent, ids);
          const ledger = await sim.ledger(ids);
          allOnce &&= cancelledExactlyOnce(ledger, n);
          oursFailed += value.counts.failed;
          peak = Math.max(peak, ledger.peakConcurrent);
        });
        const limit = pLimit(CONCURRENCY);
        await measure('client', (ids) => Promise.all(ids.map((id) => limit(() => agent.cancel(id)))));
        await measure('fetch', (ids) => Promise.all(ids.map((id) => limit(() => fetchCancel(sim.url, sim.agentKey, id)))));
        await measure('http', (ids) => Promise.all(ids.map((id) => limit(() => http.cancel(sim.url, sim.agentKey, id)))));
        options.log(
          `  round ${round + 1}/${rounds} (ideal ${ms(ideal)}): ` +
            Object.values(variants).map((v) => `${v.label.split(':')[0]!.split(' ')[0]} ${ms(v.wall.at(-1)!)} / ${v.cpu.at(-1)!.toFixed(0)} µs CPU per cancel`).join(', '),
        );
      }
      const wall = best(variants.ours.wall);
      const label = `N=${int(n)} c=${CONCURRENCY} ${LATENCY_MS} ms`;
      rows.push({
        benchmark: 'bulk cancel',
        metric: `wall vs ideal N/c×latency, ${label}`,
        ours: ms(wall),
        baseline: `ideal ${ms(ideal)}`,
        ratio: ratio(wall / ideal),
        target: `≤ ${TARGET.toFixed(2)}×`,
        verdict: verdict(wall / ideal <= TARGET && allOnce && oursFailed === 0),
      });
      for (const key of ['client', 'fetch', 'http'] as const) {
        const variant = variants[key];
        const floor = best(variant.wall);
        rows.push({
          benchmark: 'bulk cancel',
          metric: `${variant.label} (CPU/cancel ${best(variants.ours.cpu).toFixed(0)} vs ${best(variant.cpu).toFixed(0)} µs)`,
          ours: ms(wall),
          baseline: ms(floor),
          ratio: ratio(wall / floor),
          target: `itself ${ratio(floor / ideal)} ideal`,
          verdict: 'info',
        });
      }
      options.log(`  every run cancelled exactly once: ${allOnce}; failed: ${oursFailed}; peak concurrent at the server: ${peak}`);

      // The naive way against a server that refuses more than NAIVE_CAP requests at once.
      await sim.setFaults({ maxConcurrent: NAIVE_CAP });
      const naiveIds = await sim.createAgentRuns(n);
      await sim.resetLedger();
      const naive = await timed(() => Promise.allSettled(naiveIds.map((id) => fetchCancel(sim.url, sim.agentKey, id))));
      const naiveLedger = await sim.ledger(naiveIds);
      const naiveLost = naive.value.filter((r) => r.status === 'rejected' || r.value < 200 || r.value > 299).length;
      const naiveRejected = naive.value.filter((r) => r.status === 'rejected').length;
      options.log(
        `  naive: ${int(naiveLost)} of ${int(n)} lost (${int(naiveRejected)} rejected, ${int(naiveLedger.byStatusCode['429'] ?? 0)} × 429) in ${ms(naive.wallMs)}; ` +
          `server-side cancelled: ${int(naiveLedger.cancelledOnServer)}`,
      );

      const oursIds = await sim.createAgentRuns(n);
      await sim.resetLedger();
      const capped = await oursCancel(agent, oursIds);
      const cappedLedger = await sim.ledger(oursIds);
      const oursLost = Math.max(capped.value.counts.failed, n - cappedLedger.cancelledOnServer);
      options.log(
        `  ours: ${int(oursLost)} of ${int(n)} lost in ${ms(capped.wallMs)}; 429s seen ${int(cappedLedger.byStatusCode['429'] ?? 0)}; ` +
          `cancels per run ${JSON.stringify(cappedLedger.cancelsPerRun)}`,
      );
      rows.push({
        benchmark: 'bulk cancel',
        metric: `cancels lost, server caps at ${NAIVE_CAP} (429), N=${int(n)}`,
        ours: `${int(oursLost)} lost`,
        baseline: `naive allSettled: ${int(naiveLost)} lost`,
        ratio: '—',
        target: 'ours 0 lost',
        verdict: verdict(oursLost === 0 && cancelledExactlyOnce(cappedLedger, n)),
      });
      if (options.profile) await profileTarget(['cancel', '4', String(n)], CLIENT_QUESTIONS, options.log);
      return rows;
    } finally {
      http.close();
      await sim.close();
    }
  },
};
