/**
 * Soak: `npm run soak [-- --minutes 30 --sample-seconds 60 --rate 10 --seed N]`.
 *
 * Runs continuous start / track / cancel at a steady load through one TaskManager against the embedded
 * simulator (mild faults), samples the heap (after a full GC) and the process's active handles by type
 * every `--sample-seconds`, and prints the series and a verdict: heap slope per minute, handle count
 * flat, every `done` resolved, no unhandled rejection. It stops by itself after `--minutes` (or on
 * Ctrl-C, with what it has), and exits 0 only if every verdict holds.
 *
 * The simulator runs in a child process of its own (the benchmarks' `RemoteSimulator`): it keeps every
 * run and task it ever created (that is what a server does), and that growth must not be counted against
 * taskguard. Without `--expose-gc` the script starts itself again with it (and with tsx), so
 * `npm run soak` measures after real GCs.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RemoteSimulator } from '../bench/lib/remote-sim.js';
import { seededRandom } from '../bench/lib/stats.js';
import { AgentClient, CloudClient, TaskManager, type TaskHandle, type TaskKind, type TaskOutcome, type TaskRef } from '../src/index.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('../', import.meta.url));

// ---------------------------------------------------------------------------------------------- options

interface SoakOptions {
  readonly minutes: number;
  readonly sampleSeconds: number;
  /** Tasks started per second. */
  readonly rate: number;
  /** The manager's cap on requests in flight. */
  readonly concurrency: number;
  readonly seed: number;
  /** Samples before this are warm-up (the load ramping up) and left out of the verdict's slopes. */
  readonly warmupSeconds: number;
}

function parseArgs(argv: readonly string[]): SoakOptions {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: npm run soak -- [--minutes 30] [--sample-seconds 60] [--rate 10] [--concurrency 16] [--warmup-seconds 90] [--seed N]\n');
      process.exit(0);
    }
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`--${name} needs a value`);
    values.set(name, value);
  }
  const known = new Set(['minutes', 'sample-seconds', 'rate', 'concurrency', 'warmup-seconds', 'seed']);
  for (const name of values.keys()) if (!known.has(name)) throw new Error(`unknown option --${name}`);
  const number = (name: string, fallback: number, min: number): number => {
    const raw = values.get(name);
    const value = raw === undefined ? fallback : Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number ≥ ${min}, got ${raw}`);
    return value;
  };
  return {
    minutes: number('minutes', 30, 0.1),
    sampleSeconds: number('sample-seconds', 60, 1),
    rate: number('rate', 10, 0.1),
    concurrency: Math.round(number('concurrency', 16, 1)),
    warmupSeconds: number('warmup-seconds', 90, 0),
    seed: Math.round(number('seed', Date.now() % 0x1_0000_0000, 0)),
  };
}

// ------------------------------------------------------------------------------------------ simulator

/** Mild, realistic misbehaviour: a little latency, rare 500s, HTML 502s, 429s, resets and hangs. */
const MILD_FAULTS = {
  latencyMs: 15,
  errorRate: 0.02,
  htmlErrorRate: 0.005,
  rate429: 0.005,
  retryAfterSeconds: 0.2,
  resetRate: 0.002,
  hangRate: 0.0005,
} as const;

/** How long a simulated run or task lasts unless cancelled: the `complete` tasks end on their own. */
const TASK_DURATION_MS = 4_000;

/**
 * The deadline of the tasks that are meant to complete or be cancelled (the others get 1.2–2.5 s). The
 * manager's deadline heap can hold a settled task until its deadline time (see docs/reliability.md), so
 * the heap climbs for about this long before it levels off: the default warm-up covers it.
 */
const LONG_TIMEOUT_MS = 60_000;

// ------------------------------------------------------------------------------------------- sampling

interface Sample {
  readonly atMs: number;
  readonly phase: 'start' | 'load' | 'end';
  readonly heapUsed: number;
  readonly rss: number;
  readonly handles: Readonly<Record<string, number>>;
  readonly handleTotal: number;
  readonly tracked: number;
  readonly requests: number;
  readonly started: number;
  readonly settled: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function resourceCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Least-squares slope of `ys` over `xs`; 0 with fewer than two points. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const mib = (bytes: number): string => (bytes / 1_048_576).toFixed(2);
const clock = (ms: number): string => {
  const s = Math.round(ms / 1_000);
  return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
};

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]!.length)));
  return rows.map((row) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ')).join('\n');
}

// --------------------------------------------------------------------------------------------- driver

type Plan = 'complete' | 'deadline' | 'cancel';
const EXPECTED: Readonly<Record<Plan, TaskOutcome>> = { complete: 'completed', deadline: 'timed_out', cancel: 'cancelled' };

async function runDriver(options: SoakOptions): Promise<number> {
  const { minutes, sampleSeconds, rate, concurrency, seed, warmupSeconds } = options;
  const durationMs = minutes * 60_000;
  // The load's decisions are seeded, so a run can be replayed.
  const random = seededRandom(seed);
  const sim = await RemoteSimulator.start({ seed, queuedMs: 50, savingMs: 100, defaultDurationMs: TASK_DURATION_MS, faults: MILD_FAULTS });
  const clientOptions = { baseUrl: sim.url, timeoutMs: 3_000, retries: 2, retryBackoff: { initialMs: 50, maxMs: 1_000 } };
  const agent = new AgentClient({ apiKey: sim.agentKey, ...clientOptions });
  const cloud = new CloudClient({ apiKey: sim.cloudKey, ...clientOptions });
  const manager = new TaskManager({ agent, cloud, concurrency, poll: { initialMs: 250, maxMs: 2_000, factor: 2, jitter: 0.5 }, random });

  const unhandled: unknown[] = [];
  process.on('unhandledRejection', (reason) => void unhandled.push(reason));

  let started = 0;
  let settled = 0;
  let createFailed = 0;
  let cancelCalls = 0;
  const outcomes: Record<string, number> = {};
  const unexpected: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  /** User cancels due, checked on every load tick (no timer per task). */
  const dueCancels: { at: number; handle: TaskHandle }[] = [];

  const runOne = async (i: number): Promise<void> => {
    const kind: TaskKind = i % 2 === 0 ? 'agent' : 'cloud';
    const roll = random();
    const plan: Plan = roll < 0.4 ? 'complete' : roll < 0.7 ? 'deadline' : 'cancel';
    // Deadlines well before the task's end; the others well after it.
    const timeoutMs = plan === 'deadline' ? 1_200 + Math.round(random() * 1_300) : LONG_TIMEOUT_MS;
    let handle: TaskHandle;
    try {
      if (i % 4 < 2) {
        // start(): create and track in one step.
        handle = kind === 'agent' ? await manager.start('agent', { prompt: `soak ${i}` }, { timeoutMs }) : await manager.start('cloud', { prompt: `soak ${i}` }, { timeoutMs });
      } else {
        // A task created elsewhere, then tracked.
        const id = kind === 'agent' ? (await agent.createTask({ prompt: `soak ${i}` })).runId : (await cloud.createTask({ prompt: `soak ${i}` })).task.id;
        const ref: TaskRef = { kind, id };
        handle = manager.track(ref, { timeoutMs });
      }
    } catch {
      // The create failed after its retries (a fault on every attempt): nothing to track.
      createFailed++;
      return;
    }
    if (plan === 'cancel') dueCancels.push({ at: Date.now() + 400 + Math.round(random() * 1_200), handle });
    const result = await handle.done;
    settled++;
    outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1;
    if (result.outcome !== EXPECTED[plan]) {
      const key = `${plan}→${result.outcome}${result.error ? ` (${result.error.name})` : ''}`;
      unexpected[key] = (unexpected[key] ?? 0) + 1;
    }
  };

  const samples: Sample[] = [];
  const t0 = Date.now();
  const sample = (phase: Sample['phase']): Sample => {
    gc?.();
    gc?.();
    const memory = process.memoryUsage();
    const handles = resourceCounts();
    const stats = manager.stats();
    const row: Sample = {
      atMs: Date.now() - t0,
      phase,
      heapUsed: memory.heapUsed,
      rss: memory.rss,
      handles,
      handleTotal: Object.values(handles).reduce((a, b) => a + b, 0),
      tracked: stats.tracked,
      requests: stats.requests,
      started,
      settled,
    };
    samples.push(row);
    process.stdout.write(
      `[${clock(row.atMs)}] ${phase.padEnd(5)} heap ${mib(row.heapUsed)} MiB  rss ${mib(row.rss)} MiB  handles ${row.handleTotal}  ` +
        `tracked ${row.tracked}  requests ${row.requests}  started ${started}  settled ${settled}\n`,
    );
    return row;
  };

  process.stdout.write(
    `taskguard soak: ${minutes} min, a sample every ${sampleSeconds} s, ${rate} tasks/s, concurrency ${concurrency}, ` +
      `warm-up ${Math.min(warmupSeconds, (minutes * 60) / 2)} s, seed ${seed}\n` +
      `simulator ${sim.url} (separate process), faults ${JSON.stringify(MILD_FAULTS)}, tasks last ${TASK_DURATION_MS} ms\n` +
      `plan per task: 40% run to completion, 30% cancelled by their deadline (1.2–2.5 s), 30% cancelled by the caller (0.4–1.6 s); ` +
      `half through start(), half created by the client and then track()ed; agent and cloud alternate\n` +
      `gc ${gc ? 'exposed: heap sampled after a full GC' : 'NOT exposed: heap figures include garbage'}\n\n`,
  );
  sample('start');

  // Load: `rate` tasks a second, spread over ten ticks a second; the user cancels go out from the tick.
  let stopping = false;
  let credit = 0;
  let index = 0;
  const TICK_MS = 100;
  const load = setInterval(() => {
    const now = Date.now();
    for (let i = dueCancels.length - 1; i >= 0; i--) {
      const due = dueCancels[i]!;
      if (due.at > now) continue;
      dueCancels.splice(i, 1);
      cancelCalls++;
      due.handle.cancel().catch(() => {});
    }
    if (stopping) return;
    credit += (rate * TICK_MS) / 1_000;
    for (; credit >= 1; credit--) {
      started++;
      const running = runOne(index++).finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
  }, TICK_MS);

  await new Promise<void>((resolve) => {
    const sampler = setInterval(() => sample('load'), sampleSeconds * 1_000);
    const end = setTimeout(finish, durationMs);
    let interrupted = false;
    function finish(): void {
      clearInterval(sampler);
      clearTimeout(end);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    }
    function onSignal(): void {
      if (interrupted) return;
      interrupted = true;
      process.stdout.write('\ninterrupted: stopping the load early and reporting what was measured\n');
      finish();
    }
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });

  // Drain: no new task; the ones in flight end (at most their 4 s run, a deadline or a cancel).
  stopping = true;
  let drainLimit: NodeJS.Timeout | undefined;
  await Promise.race([Promise.allSettled([...inFlight]), new Promise((resolve) => (drainLimit = setTimeout(resolve, 30_000)))]);
  clearTimeout(drainLimit);
  clearInterval(load);
  const drained = inFlight.size === 0;
  const report = await manager.shutdown({ graceMs: 10_000 });
  const ledger = await sim.ledger().catch(() => undefined);
  // Keep-alive sockets of the clients close after their idle timeout (4 s): wait them out.
  await new Promise((resolve) => setTimeout(resolve, 5_000));
  const last = sample('end');

  // ------------------------------------------------------------------------------------------ report
  const loaded = samples.filter((s) => s.phase === 'load');
  const types = [...new Set(samples.flatMap((s) => Object.keys(s.handles)))].sort();
  const header = ['t (mm:ss)', 'phase', 'heap MiB', 'rss MiB', 'tracked', 'req', 'started', 'settled', 'handles', ...types];
  const rows = samples.map((s) => [
    clock(s.atMs),
    s.phase,
    mib(s.heapUsed),
    mib(s.rss),
    String(s.tracked),
    String(s.requests),
    String(s.started),
    String(s.settled),
    String(s.handleTotal),
    ...types.map((type) => String(s.handles[type] ?? 0)),
  ]);
  process.stdout.write(`\n${table([header, ...rows])}\n\n`);

  const minutesOf = (s: Sample): number => s.atMs / 60_000;
  // The verdict's window: the loaded samples after the warm-up (at most the first half of the run).
  const warmupMs = Math.min(warmupSeconds * 1_000, durationMs / 2);
  const steady = loaded.filter((s) => s.atMs >= warmupMs);
  const windowMinutes = steady.length >= 2 ? minutesOf(steady.at(-1)!) - minutesOf(steady[0]!) : 0;
  const fit = (rows: readonly Sample[], y: (s: Sample) => number): number => slope(rows.map(minutesOf), rows.map(y));
  const heapSlope = fit(steady, (s) => s.heapUsed);
  const heapSlopeAll = fit(loaded, (s) => s.heapUsed);
  const handleSlope = fit(steady, (s) => s.handleTotal);
  const mean = (rows: readonly Sample[], y: (s: Sample) => number): number => rows.reduce((a, s) => a + y(s), 0) / Math.max(1, rows.length);
  const meanHeap = mean(steady, (s) => s.heapUsed);
  const meanHandles = mean(steady, (s) => s.handleTotal);
  const tasksPerMinute = rate * 60;
  // Flat: the growth the slope adds up to over the window (a fall is no leak) stays within the noise of
  // one sample: 1 MiB or 5% of the heap; for handles 4 or 20% of them, plus two per request in flight at
  // a sample (its socket and its attempt timer), the load's own jitter. A leak of a few hundred bytes
  // per task shows over 30 min. Handles must also be back to their number before the load once the
  // manager has shut down: anything it leaked (a timer, a socket, a listener) would still be there.
  const heapBudget = Math.max(1_048_576, 0.05 * meanHeap);
  const maxRequests = Math.max(0, ...steady.map((s) => s.requests));
  const handleBudget = Math.max(4, 0.2 * meanHandles) + 2 * maxRequests;
  const heapFlat = steady.length >= 3 && heapSlope * windowMinutes <= heapBudget;
  const handlesBack = last.handleTotal <= samples[0]!.handleTotal;
  const handlesFlat = steady.length >= 3 && handleSlope * windowMinutes <= handleBudget && handlesBack;
  const baseline = samples[0]!;
  const allResolved = drained && settled + createFailed === started && report.unconfirmed.length === 0;
  const span = steady.length >= 2 ? `${clock(steady[0]!.atMs)}–${clock(steady.at(-1)!.atMs)}` : 'none';
  const verdicts: [string, boolean, string][] = [
    [
      'heap flat',
      heapFlat,
      `slope ${(heapSlope / 1_024).toFixed(1)} KiB/min over ${span} (${steady.length} samples after a ${Math.round(warmupMs / 1_000)} s warm-up; ` +
        `≈ ${(heapSlope / tasksPerMinute).toFixed(1)} bytes per task started); |slope × ${windowMinutes.toFixed(1)} min| ${mib(Math.abs(heapSlope * windowMinutes))} MiB ` +
        `vs budget ${mib(heapBudget)} MiB; mean ${mib(meanHeap)} MiB; slope with the warm-up ${(heapSlopeAll / 1_024).toFixed(1)} KiB/min; ` +
        `after shutdown ${mib(last.heapUsed)} MiB vs ${mib(baseline.heapUsed)} MiB at the start`,
    ],
    [
      'handles flat',
      handlesFlat,
      `slope ${handleSlope.toFixed(2)}/min over ${span}, growth ${(handleSlope * windowMinutes).toFixed(1)} vs budget ${handleBudget.toFixed(1)}; ` +
        `mean ${meanHandles.toFixed(1)}, range ${Math.min(...steady.map((s) => s.handleTotal))}–${Math.max(...steady.map((s) => s.handleTotal))} ` +
        `(requests in flight at a sample ≤ ${maxRequests}); at the start ${baseline.handleTotal}, after shutdown ${last.handleTotal} ` +
        `${handlesBack ? '(back to the start)' : '(MORE than at the start)'} ${JSON.stringify(last.handles)}`,
    ],
    ['every done resolved', allResolved, `started ${started} = settled ${settled} + create failed ${createFailed}; shutdown unconfirmed ${report.unconfirmed.length}, still in flight ${inFlight.size}`],
    ['nothing left behind', last.tracked === 0 && last.requests === 0 && manager.stats().timersArmed === 0, `tracked ${last.tracked}, requests ${last.requests}, timers ${manager.stats().timersArmed}`],
    ['no unhandled rejection', unhandled.length === 0, `${unhandled.length}${unhandled.length ? `: ${String(unhandled[0])}` : ''}`],
  ];
  process.stdout.write(`outcomes ${JSON.stringify(outcomes)}; user cancels ${cancelCalls}; unexpected outcomes ${JSON.stringify(unexpected)}\n`);
  if (ledger) {
    process.stdout.write(
      `simulator: ${ledger.requests} requests, ${ledger.cancelledRuns} runs cancelled, ${ledger.stoppedTasks} tasks stopped, at most ${ledger.maxCancelsPerTask} cancels for one task, ` +
        `peak ${ledger.peakConcurrent} requests open, faults ${JSON.stringify(ledger.faults)}\n`,
    );
  }
  process.stdout.write('\n');
  for (const [name, ok, detail] of verdicts) process.stdout.write(`${ok ? 'PASS' : 'FAIL'}  ${name}: ${detail}\n`);
  const pass = verdicts.every(([, ok]) => ok);
  process.stdout.write(`\nverdict: ${pass ? 'PASS' : 'FAIL'}\n`);

  await sim.close();
  return pass ? 0 : 1;
}

// ------------------------------------------------------------------------------------------------ main

const options = parseArgs(process.argv.slice(2));
if (gc === undefined && process.env['TG_SOAK_RESPAWNED'] !== '1') {
  // Start again with the GC exposed (and tsx as the loader), passing the arguments through.
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', SELF, ...process.argv.slice(2)], {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, TG_SOAK_RESPAWNED: '1', NODE_OPTIONS: '' },
  });
  // Ctrl-C reaches the whole process group; a `kill` of this process alone is passed on.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
  child.once('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
} else {
  process.exitCode = await runDriver(options);
}
