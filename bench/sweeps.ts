/**
 * 8. List sweeps.
 *
 * N agent runs (full: 1,000; quick: 200) of 10–30 min each (evenly spread), all tracked at once, against
 * the embedded simulator over loopback, the simulator's clock being the manager's fake clock (time stands
 * still while requests are in flight). Once with list sweeps (the default, `poll.sweep: true`), once
 * without; both with the default backoff and the same seed. For each: every request the simulator
 * received (status reads, list pages, cancels) per task-hour of the runs' remote time, and the detection
 * lag (the run's end on the server → `settled`). Target: ≤ 1/10 of the requests, p95 lag ≤ 1.2× the
 * lag without sweeps. Every run must settle `completed`.
 */
import { AgentClient, TaskManager } from '../src/index.js';
import { createSimulator } from '../src/simulator/index.js';
import { fakeClock } from './lib/fake-clock.js';
import { fixed, int, ms, ratio, verdict, type Benchmark, type BenchOptions, type Row } from './lib/report.js';
import { nextTurn, percentile, seededRandom } from './lib/stats.js';

const MIN_MS = 10 * 60_000;
const MAX_MS = 30 * 60_000;
const REQUESTS_TARGET = 0.1;
const LAG_TARGET = 1.2;

interface Result {
  readonly requests: number;
  readonly byRoute: Readonly<Record<string, number>>;
  readonly taskHours: number;
  readonly lags: number[];
  readonly wrong: number;
  readonly wallMs: number;
}

/** `n` durations from 10 to 30 min, evenly spaced. */
function durations(n: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(MIN_MS + ((MAX_MS - MIN_MS) * i) / Math.max(1, n - 1)));
}

async function track(sweep: boolean, spread: readonly number[], seed: number): Promise<Result> {
  const started = performance.now();
  const { fake, clock } = fakeClock();
  const sim = await createSimulator({ now: () => fake.now, seed, faults: { latencyMs: 0 } });
  const agent = new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url });
  const manager = new TaskManager({ agent, clock, poll: { sweep }, random: seededRandom(seed) });
  try {
    const lags: number[] = [];
    let wrong = 0;
    let taskMs = 0;
    manager.on('settled', (result) => {
      const run = sim.getAgentRun(result.id)!;
      lags.push(fake.now - run.completedAtMs!);
      taskMs += run.completedAtMs! - run.createdAtMs;
      if (result.outcome !== 'completed') wrong++;
    });
    for (const durationMs of spread) manager.track({ kind: 'agent', id: sim.createAgentRun({ durationMs }).runId });
    while (lags.length < spread.length) {
      while (manager.stats().requests > 0) await new Promise((resolve) => setTimeout(resolve, 0));
      if (lags.length === spread.length) break;
      if (fake.countTimers() === 0) throw new Error('sweeps: nothing scheduled while runs are still tracked');
      fake.next();
      await nextTurn();
    }
    const byRoute = Object.fromEntries(sim.ledger.byRoute);
    const requests = Object.values(byRoute).reduce((a, b) => a + b, 0);
    return { requests, byRoute, taskHours: taskMs / 3_600_000, lags, wrong, wallMs: performance.now() - started };
  } finally {
    await manager.close();
    await sim.close();
  }
}

export const sweeps: Benchmark = {
  name: 'sweeps',
  title: 'List sweeps',
  async run(options: BenchOptions): Promise<Row[]> {
    const n = options.full ? 1_000 : 200;
    const spread = durations(n);
    const swept = await track(true, spread, 13);
    const polled = await track(false, spread, 13);
    const perHour = (r: Result): number => r.requests / r.taskHours;
    for (const [name, r] of [['with sweeps', swept], ['without', polled]] as const) {
      options.log(
        `  ${name}: ${int(r.requests)} requests ${JSON.stringify(r.byRoute)} over ${r.taskHours.toFixed(1)} task-hours = ${perHour(r).toFixed(1)}/task-hour, ` +
          `${(r.requests / n).toFixed(1)}/run; lag p50 ${ms(percentile(r.lags, 50))} p95 ${ms(percentile(r.lags, 95))} max ${ms(Math.max(...r.lags))}; ` +
          `${r.wrong} of ${int(n)} not completed; ${(r.wallMs / 1000).toFixed(1)} s wall`,
      );
    }
    const share = perHour(swept) / perHour(polled);
    const lagRatio = percentile(swept.lags, 95) / percentile(polled.lags, 95);
    const label = `N=${int(n)} agent runs of 10–30 min`;
    return [
      {
        benchmark: 'sweeps',
        metric: `requests per task-hour, ${label}`,
        ours: fixed(perHour(swept), 1, ''),
        baseline: `no sweeps: ${fixed(perHour(polled), 1, '')}`,
        ratio: ratio(share),
        target: `≤ ${REQUESTS_TARGET.toFixed(2)}×`,
        verdict: verdict(share <= REQUESTS_TARGET && swept.wrong === 0 && polled.wrong === 0),
      },
      {
        benchmark: 'sweeps',
        metric: `p95 detection lag, ${label}`,
        ours: ms(percentile(swept.lags, 95)),
        baseline: `no sweeps: ${ms(percentile(polled.lags, 95))}`,
        ratio: ratio(lagRatio),
        target: `≤ ${LAG_TARGET.toFixed(1)}×`,
        verdict: verdict(lagRatio <= LAG_TARGET),
      },
    ];
  },
};
