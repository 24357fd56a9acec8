/**
 * 4. Shutdown latency.
 *
 * A child process tracks N runs (full 1,000; quick 500) at concurrency 64 against the embedded simulator
 * (in this process) at 20 ms latency, with `shutdown: { graceMs }`. Once it is polling steadily, it gets
 * SIGTERM; measured: from the signal to the child's exit, with every task confirmed cancelled (its report,
 * and the simulator's ledger: exactly one cancel per run). Target ≤ 1.3 × (N/c × latency). The floor, in
 * the same run: a child that on SIGTERM cancels the same N runs with bare `fetch` under p-limit(64).
 * `--profile` adds a cold run under `node --cpu-prof`, summarized from the signal on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimulator, type Simulator } from '../src/simulator/index.js';
import { startNode } from '../tools/child.js';
import { CLIENT_QUESTIONS, logProfile, profileIn, type FrameQuestion } from './lib/profile.js';
import { int, ms, ratio, verdict, type Benchmark, type BenchOptions, type Row } from './lib/report.js';

const CONCURRENCY = 64;
const LATENCY_MS = 20;
const TARGET = 1.3;

/** The client's suspects, plus what a shutdown adds per task. */
const SHUTDOWN_QUESTIONS: readonly FrameQuestion[] = [
  ...CLIENT_QUESTIONS,
  { label: 'manager: shutdown / bulk cancel / settle', matches: (f) => ['runShutdown', 'bulkCancel', '#settle', 'finish', 'requestCancel', '#cancel'].includes(f) },
  { label: 'events emitted (eventemitter3)', matches: (_f, u) => u.includes('/eventemitter3/') },
  { label: 'Error objects built (stack traces)', matches: (f) => f.endsWith('Error') || f === 'captureStackTrace' },
];

interface WorkerReport {
  readonly counts: { cancelled: number; alreadyDone: number; failed: number };
  readonly settled: number;
  readonly cancelledOutcomes: number;
  readonly unconfirmed: number;
  readonly durationMs: number;
  /** CPU time of the worker from the signal to its report, and the wall time. */
  readonly cpuMs: number;
  readonly wallMs: number;
  /** `process.hrtime` of the signal in the worker, in microseconds. */
  readonly signalHrMicros: number;
}

interface Trial {
  readonly wallMs: number;
  readonly code: number | null;
  readonly report: WorkerReport;
  readonly exactlyOnce: boolean;
  readonly cancelledOnServer: number;
}

async function trial(sim: Simulator, n: number, mode: 'ours' | 'fetch', warm: boolean, nodeArgs: readonly string[] = []): Promise<Trial> {
  const run = (): string => sim.createAgentRun({ durationMs: Number.POSITIVE_INFINITY }).runId;
  const ids = Array.from({ length: n }, run);
  const warmIds = warm ? Array.from({ length: n }, run) : [];
  sim.ledger.reset();
  const input = `${JSON.stringify({ url: sim.url, key: sim.agentKey, ids, warmIds, concurrency: CONCURRENCY, mode })}\n`;
  const worker = startNode('bench/fixtures/shutdown-worker.ts', { nodeArgs, input });
  try {
    await worker.waitFor('READY', 60_000);
    sim.ledger.reset();
    if (mode === 'ours') {
      // Steady state: every task polled at least once, then polls spread out by their jitter.
      while ((sim.ledger.byRoute.get('agent.status') ?? 0) < n) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 400));
    const signalledAt = performance.now();
    worker.child.kill('SIGTERM');
    const exit = await worker.exited;
    const report = worker.taggedJson<WorkerReport>('REPORT')[0];
    if (!report) throw new Error(`the ${mode} worker printed no report\n${worker.describe()}`);
    const exactlyOnce = ids.every((id) => sim.ledger.cancels.get(id) === 1);
    const cancelledOnServer = ids.filter((id) => sim.getAgentRun(id)?.cancelledAtMs !== null).length;
    return { wallMs: exit.at - signalledAt, code: exit.code, report, exactlyOnce, cancelledOnServer };
  } finally {
    worker.kill();
  }
}

export const shutdown: Benchmark = {
  name: 'shutdown',
  title: 'Shutdown latency',
  async run(options: BenchOptions): Promise<Row[]> {
    const n = options.full ? 1_000 : 500;
    const rounds = options.full ? 3 : 2;
    const ideal = (n / CONCURRENCY) * LATENCY_MS;
    const sim = await createSimulator({ faults: { latencyMs: LATENCY_MS } });
    try {
      const ours: Trial[] = [];
      const oursWarm: Trial[] = [];
      const floor: Trial[] = [];
      const describe = (t: Trial): string =>
        `${ms(t.wallMs)} (report after ${ms(t.report.wallMs)}, CPU ${((t.report.cpuMs * 1000) / n).toFixed(0)} µs/cancel, exit ${t.code}, ` +
        `${t.cancelledOnServer}/${n} cancelled at the server, one cancel per run: ${t.exactlyOnce})`;
      for (let round = 0; round < rounds; round++) {
        ours.push(await trial(sim, n, 'ours', false));
        oursWarm.push(await trial(sim, n, 'ours', true));
        floor.push(await trial(sim, n, 'fetch', true));
        const o = ours.at(-1)!;
        options.log(`  round ${round + 1}/${rounds} (ideal ${ms(ideal)}): ours ${describe(o)}, report ${JSON.stringify(o.report.counts)} unconfirmed ${o.report.unconfirmed}`);
        options.log(`    ours, cancel path warmed: ${describe(oursWarm.at(-1)!)}; fetch floor (warmed): ${describe(floor.at(-1)!)}`);
      }
      if (options.profile) {
        // One more cold run of ours under --cpu-prof; only the samples from the signal on are summarized.
        const dir = mkdtempSync(join(tmpdir(), 'taskguard-prof-'));
        try {
          const profiled = await trial(sim, n, 'ours', false, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
          logProfile(profileIn(dir), `shutdown worker from SIGTERM to exit, ${ms(profiled.wallMs)}`, n, SHUTDOWN_QUESTIONS, options.log, profiled.report.signalHrMicros);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      // The best of the rounds: noise from other processes only ever adds time.
      const best = ours.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
      const bestFloor = floor.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
      const bestWarm = oursWarm.reduce((a, b) => (b.wallMs < a.wallMs ? b : a));
      const allConfirmed = [...ours, ...oursWarm].every((t) => t.exactlyOnce && t.cancelledOnServer === n && t.report.unconfirmed === 0 && t.report.settled === n && t.code === 143);
      return [
        {
          benchmark: 'shutdown',
          metric: `SIGTERM → exit, all confirmed, N=${int(n)} c=${CONCURRENCY} ${LATENCY_MS} ms`,
          ours: ms(best.wallMs),
          baseline: `ideal ${ms(ideal)}`,
          ratio: ratio(best.wallMs / ideal),
          target: `≤ ${TARGET.toFixed(2)}×`,
          verdict: verdict(best.wallMs / ideal <= TARGET && allConfirmed),
        },
        {
          benchmark: 'shutdown',
          metric: `ours with the cancel path warmed (CPU/cancel ${((bestWarm.report.cpuMs * 1000) / n).toFixed(0)} µs)`,
          ours: ms(bestWarm.wallMs),
          baseline: `ideal ${ms(ideal)}`,
          ratio: ratio(bestWarm.wallMs / ideal),
          target: `≤ ${TARGET.toFixed(2)}×`,
          verdict: 'info',
        },
        {
          benchmark: 'shutdown',
          metric: `floor: bare fetch under p-limit(64) on SIGTERM (CPU/cancel ${((best.report.cpuMs * 1000) / n).toFixed(0)} vs ${((bestFloor.report.cpuMs * 1000) / n).toFixed(0)} µs)`,
          ours: ms(best.wallMs),
          baseline: ms(bestFloor.wallMs),
          ratio: ratio(best.wallMs / bestFloor.wallMs),
          target: `itself ${ratio(bestFloor.wallMs / ideal)} ideal`,
          verdict: 'info',
        },
      ];
    } finally {
      await sim.close();
    }
  },
};
