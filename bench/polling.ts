/**
 * 3. Polling economy.
 *
 * Tasks whose durations are spread from 10 s to 30 min (evenly on a log scale, so short tasks are as
 * well represented as long ones), on a simulated clock. For each: the API requests the manager made until
 * it saw the end, and the detection lag (remote completion → `settled`). Ours is the default backoff
 * `{ initialMs: 1000, maxMs: 30000, factor: 2, jitter: 1 }`; the baseline is the same manager polling
 * every 2 s (`{ initialMs: 2000, maxMs: 2000, factor: 1, jitter: 0 }`). Target: ≤ 25% of the baseline's
 * requests, with p95 lag ≤ maxMs.
 *
 * Two runs of each: (a) the main figures, exact and fast, with an in-process `TaskBackend` on the fake
 * clock; (b) a cross-check over loopback against the embedded simulator, whose `now` is the same fake
 * clock, counting requests in its ledger (fewer tasks: every poll is a real HTTP request).
 */
import { AgentClient, MANAGER_DEFAULTS, TaskManager, type BackoffPolicy, type NormalizedStatus, type TaskBackend } from '../src/index.js';
import { createSimulator } from '../src/simulator/index.js';
import { fakeClock } from './lib/fake-clock.js';
import { fixed, int, ms, ratio, verdict, type Benchmark, type BenchOptions, type Row } from './lib/report.js';
import { mean, nextTurn, percentile, seededRandom } from './lib/stats.js';

const FIXED: BackoffPolicy = { initialMs: 2_000, maxMs: 2_000, factor: 1, jitter: 0 };
const OURS: BackoffPolicy = { ...MANAGER_DEFAULTS.poll };
const MIN_MS = 10_000;
const MAX_MS = 30 * 60_000;
const SHARE_TARGET = 0.25;

/** `n` durations from 10 s to 30 min, evenly spaced on a log scale. */
function durations(n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(MIN_MS * (MAX_MS / MIN_MS) ** (n === 1 ? 0 : i / (n - 1))));
}

interface PolicyResult {
  readonly requestsPerTask: number;
  readonly lags: number[];
  /** Per task, in the order of the durations (in-process only): requests and lag. */
  readonly perTask?: { readonly durationMs: number; readonly requests: number; readonly lagMs: number }[];
}

/** An in-process backend on the fake clock: `running` until the task's end, then `completed`. */
class ClockBackend implements TaskBackend {
  requests = 0;
  readonly byId = new Map<string, number>();
  readonly #ends = new Map<string, number>();
  constructor(private readonly now: () => number) {}
  add(id: string, endsAt: number): void {
    this.#ends.set(id, endsAt);
  }
  getStatus = (id: string): Promise<NormalizedStatus> => {
    this.requests++;
    this.byId.set(id, (this.byId.get(id) ?? 0) + 1);
    const done = this.now() >= this.#ends.get(id)!;
    return Promise.resolve(done ? { state: 'completed', raw: 'completed', error: null } : { state: 'running', raw: 'running', error: null });
  };
  cancel = (): Promise<NormalizedStatus> => Promise.resolve({ state: 'cancelled', raw: 'cancelled', error: null });
}

async function inProcess(policy: BackoffPolicy, spread: readonly number[], seed: number): Promise<PolicyResult> {
  const { fake, clock } = fakeClock();
  const backend = new ClockBackend(() => fake.now);
  const manager = new TaskManager({ backends: { agent: backend }, clock, concurrency: 64, poll: policy, random: seededRandom(seed) });
  const t0 = fake.now;
  const ends = new Map<string, number>();
  const lags: number[] = [];
  const lagById = new Map<string, number>();
  manager.on('settled', (result) => {
    const lag = fake.now - ends.get(result.id)!;
    lags.push(lag);
    lagById.set(result.id, lag);
  });
  spread.forEach((duration, i) => {
    const id = `task-${i}`;
    ends.set(id, t0 + duration);
    backend.add(id, t0 + duration);
    manager.track({ kind: 'agent', id });
  });
  await nextTurn();
  while (lags.length < spread.length) {
    if (fake.countTimers() === 0) throw new Error('polling: nothing scheduled while tasks are still tracked');
    fake.next();
    await nextTurn();
  }
  manager.close();
  const perTask = spread.map((durationMs, i) => ({ durationMs, requests: backend.byId.get(`task-${i}`) ?? 0, lagMs: lagById.get(`task-${i}`)! }));
  return { requestsPerTask: backend.requests / spread.length, lags, perTask };
}

async function overLoopback(policy: BackoffPolicy, spread: readonly number[], seed: number): Promise<PolicyResult> {
  const { fake, clock } = fakeClock();
  const sim = await createSimulator({ now: () => fake.now, seed, faults: { latencyMs: 0 } });
  const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
  // Each task's own polls are what this benchmark measures; list sweeps have theirs (bench/sweeps.ts).
  const manager = new TaskManager({ agent, clock, concurrency: 16, poll: { ...policy, sweep: false }, random: seededRandom(seed) });
  try {
    const lags: number[] = [];
    manager.on('settled', (result) => lags.push(fake.now - sim.getAgentRun(result.id)!.completedAtMs!));
    for (const duration of spread) manager.track({ kind: 'agent', id: sim.createAgentRun({ durationMs: duration }).runId });
    while (lags.length < spread.length) {
      // Time stands still while requests are in flight, as if the API answered instantly.
      while (manager.stats().requests > 0) await new Promise((resolve) => setTimeout(resolve, 0));
      if (lags.length === spread.length) break;
      if (fake.countTimers() === 0) throw new Error('polling: nothing scheduled while tasks are still tracked');
      fake.next();
      await nextTurn();
    }
    const requests = sim.ledger.byRoute.get('agent.status') ?? 0;
    return { requestsPerTask: requests / spread.length, lags };
  } finally {
    manager.close();
    await sim.close();
  }
}

function rows(kind: string, n: number, ours: PolicyResult, fixed2s: PolicyResult): Row[] {
  const share = ours.requestsPerTask / fixed2s.requestsPerTask;
  const p95 = percentile(ours.lags, 95);
  return [
    {
      benchmark: 'polling',
      metric: `API requests per task, ${kind}, N=${int(n)} 10 s–30 min`,
      ours: fixed(ours.requestsPerTask, 1, ''),
      baseline: `fixed 2 s: ${fixed(fixed2s.requestsPerTask, 1, '')}`,
      ratio: ratio(share),
      target: `≤ ${SHARE_TARGET.toFixed(2)}×`,
      verdict: verdict(share <= SHARE_TARGET),
    },
    {
      benchmark: 'polling',
      metric: `p95 detection lag, ${kind}`,
      ours: ms(p95),
      baseline: `fixed 2 s: ${ms(percentile(fixed2s.lags, 95))}`,
      ratio: ratio(p95 / percentile(fixed2s.lags, 95)),
      target: `≤ maxMs ${ms(OURS.maxMs)}`,
      verdict: verdict(p95 <= OURS.maxMs),
    },
  ];
}

export const polling: Benchmark = {
  name: 'polling',
  title: 'Polling economy',
  async run(options: BenchOptions): Promise<Row[]> {
    const n = options.full ? 1_000 : 200;
    const spread = durations(n);
    const ours = await inProcess(OURS, spread, 7);
    const fixed2s = await inProcess(FIXED, spread, 7);
    const describe = (name: string, r: PolicyResult): string =>
      `${name}: ${r.requestsPerTask.toFixed(1)} requests/task, lag mean ${ms(mean(r.lags))} p50 ${ms(percentile(r.lags, 50))} p95 ${ms(percentile(r.lags, 95))} max ${ms(Math.max(...r.lags))}`;
    options.log(`  in-process, ${int(n)} tasks: ${describe('ours', ours)}; ${describe('fixed 2 s', fixed2s)}`);
    // By duration: where the savings come from.
    for (const [from, to, label] of [[MIN_MS, 60_000, '10 s–1 min'], [60_000, 300_000, '1–5 min'], [300_000, MAX_MS + 1, '5–30 min']] as const) {
      const bucket = (r: PolicyResult) => (r.perTask ?? []).filter((t) => t.durationMs >= from && t.durationMs < to);
      const a = bucket(ours);
      const b = bucket(fixed2s);
      options.log(
        `    ${label.padEnd(10)} (${a.length} tasks): requests/task ${mean(a.map((t) => t.requests)).toFixed(1)} vs ${mean(b.map((t) => t.requests)).toFixed(1)} ` +
          `(${ratio(mean(a.map((t) => t.requests)) / mean(b.map((t) => t.requests)))}), p95 lag ${ms(percentile(a.map((t) => t.lagMs), 95))} vs ${ms(percentile(b.map((t) => t.lagMs), 95))}`,
      );
    }

    const m = options.full ? 100 : 20;
    const loopSpread = durations(m);
    const simOurs = await overLoopback(OURS, loopSpread, 11);
    const simFixed = await overLoopback(FIXED, loopSpread, 11);
    options.log(`  over loopback (simulator on the fake clock), ${int(m)} tasks: ${describe('ours', simOurs)}; ${describe('fixed 2 s', simFixed)}`);
    return [...rows('in-process backend', n, ours, fixed2s), ...rows('simulator over loopback', m, simOurs, simFixed)];
  },
};
