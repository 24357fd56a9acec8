import { AgentClient } from '../clients/agent.js';
import { CloudClient } from '../clients/cloud.js';
import { TaskManager } from '../manager/task-manager.js';
import type { TaskOutcome, TaskResult } from '../manager/types.js';
import { refKey } from '../refs.js';
import { createSimulator } from '../simulator/index.js';
import { Random } from '../simulator/random.js';

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Where the demo writes; a TTY gets one live status line, anything else a plain line per event. */
  readonly out?: DemoOutput | undefined;
  /** How many tasks to start, split between agent runs and cloud tasks. @default 100 */
  readonly tasks?: number | undefined;
  /** Seed of the simulator and of the demo's own choices, so a run replays. @default 7 */
  readonly seed?: number | undefined;
  /** When the rest is shut down, in milliseconds after the start. @default 6000 */
  readonly shutdownAfterMs?: number | undefined;
}

/** The part of a stream the demo writes to. */
export interface DemoOutput {
  write(chunk: string): unknown;
  readonly isTTY?: boolean | undefined;
}

/** What the demo saw, for tests and for callers that print their own summary. */
export interface DemoSummary {
  readonly results: readonly TaskResult[];
  /** Creates that failed: never tracked, so not in `results`. */
  readonly notStarted: number;
  /** Failed requests the manager retried on its own (polls answered 500, 429, …): its `error` events. */
  readonly retriedErrors: number;
  /** Creates whose answer was lost and that were looked up in the list instead (`reconciled` events). */
  readonly reconciled: number;
  readonly byOutcome: Readonly<Record<string, number>>;
  readonly requests: number;
  readonly cancelRequests: number;
  readonly stopRequests: number;
  readonly peakConcurrent: number;
  readonly unconfirmed: number;
  readonly elapsedMs: number;
}

const OUTCOMES: readonly TaskOutcome[] = ['completed', 'failed', 'cancelled', 'timed_out', 'interrupted', 'lost', 'error'];

/**
 * The main job: an embedded simulator with mild faults, ~100 agent runs and cloud tasks of mixed
 * durations tracked with deadlines (some time out and are cancelled), then a graceful shutdown of the
 * rest and a summary of outcomes and API requests spent.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoSummary> {
  const out = options.out ?? process.stdout;
  const total = options.tasks ?? 100;
  const seed = options.seed ?? 7;
  const started = Date.now();
  const dice = new Random(seed);
  const random = (): number => dice.next();
  const sim = await createSimulator({ seed, queuedMs: 100, savingMs: 150, faults: { latencyMs: 15, errorRate: 0.03, rate429: 0.01, retryAfterSeconds: 1 } });
  const manager = new TaskManager({
    agent: new AgentClient({ apiKey: sim.agentKey, baseUrl: sim.url, retryBackoff: { initialMs: 100 } }),
    cloud: new CloudClient({ apiKey: sim.cloudKey, baseUrl: sim.url, retryBackoff: { initialMs: 100 } }),
    concurrency: 16,
    poll: { initialMs: 250, maxMs: 2_000 },
    random,
  });
  const live = new LiveView(out, total);
  manager.on('timeout', ({ ref }) => live.event(`timeout   ${refKey(ref)} passed its deadline, cancelling`));
  manager.on('settled', (result) => live.settled(result));
  // The simulator's faults make some requests fail; the manager retries them. Counting them here also
  // keeps them out of the process warnings (an unheard `error` event becomes a TaskguardWarning).
  let retriedErrors = 0;
  manager.on('error', () => void retriedErrors++);
  let reconciled = 0;
  manager.on('reconciled', ({ kind, outcome }) => {
    reconciled++;
    live.event(`reconcile ${kind} create whose answer was lost: ${outcome}`);
  });
  try {
    const starts = Array.from({ length: total }, (_, i) => {
      const kind = i % 5 < 3 ? 'agent' : 'cloud';
      // Mixed durations: most finish well within their deadline; a quarter would run for minutes, and
      // either hit their deadline (3–10 s) or are still running at the shutdown.
      const long = random() < 0.25;
      const durationMs = long ? 60_000 + Math.round(random() * 60_000) : 500 + Math.round(random() * 3_500);
      const timeoutMs = long ? 3_000 + Math.round(random() * 7_000) : 6_000 + Math.round(random() * 2_000);
      const failing = random() < 0.1;
      const outcome = failing ? (kind === 'agent' ? 'failed' : 'error') : 'completed';
      const prompt = `Demo task ${i} [sim:duration=${durationMs},outcome=${outcome}]`;
      return kind === 'agent' ? manager.start('agent', { prompt }, { timeoutMs }) : manager.start('cloud', { prompt }, { timeoutMs });
    });
    const handles = await Promise.allSettled(starts);
    const failedStarts = handles.filter((h) => h.status === 'rejected').length;
    if (failedStarts > 0) live.event(`${failedStarts} creates failed`);
    live.event(`tracking ${manager.active().length} tasks`);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, (options.shutdownAfterMs ?? 6_000) - (Date.now() - started))));
    live.event(`shutting down: cancelling the ${manager.active().length} tasks still running`);
    const report = await manager.shutdown({ graceMs: 5_000 });
    const results = live.results;
    const byOutcome = Object.fromEntries(OUTCOMES.map((o) => [o, results.filter((r) => r.outcome === o).length]));
    const summary: DemoSummary = {
      results,
      notStarted: failedStarts,
      retriedErrors,
      reconciled,
      byOutcome,
      requests: sim.ledger.requests,
      cancelRequests: sum(sim.ledger.cancels),
      stopRequests: sum(sim.ledger.stops),
      peakConcurrent: sim.ledger.peakConcurrent,
      unconfirmed: report.unconfirmed.length,
      elapsedMs: Date.now() - started,
    };
    live.done();
    out.write(formatSummary(summary, results));
    return summary;
  } finally {
    manager.close();
    await sim.close();
  }
}

class LiveView {
  readonly results: TaskResult[] = [];
  readonly #out: DemoOutput;
  readonly #total: number;

  constructor(out: DemoOutput, total: number) {
    this.#out = out;
    this.#total = total;
  }

  event(line: string): void {
    if (this.#out.isTTY) this.#out.write(`\r\x1b[2K${line}\n`);
    else this.#out.write(`${line}\n`);
    this.#redraw();
  }

  settled(result: TaskResult): void {
    this.results.push(result);
    if (this.#out.isTTY) this.#redraw();
    else this.#out.write(`settled   ${result.kind}:${result.id} ${result.outcome} (${result.status ?? 'no status'})\n`);
  }

  done(): void {
    if (this.#out.isTTY) this.#out.write('\r\x1b[2K');
  }

  #redraw(): void {
    if (!this.#out.isTTY) return;
    const counts = OUTCOMES.map((o) => [o, this.results.filter((r) => r.outcome === o).length] as const).filter(([, n]) => n > 0);
    this.#out.write(`\r\x1b[2K[${this.results.length}/${this.#total}] ${counts.map(([o, n]) => `${o} ${n}`).join(' · ')}`);
  }
}

function formatSummary(summary: DemoSummary, results: readonly TaskResult[]): string {
  const rows = OUTCOMES.map((outcome) => {
    const agent = results.filter((r) => r.kind === 'agent' && r.outcome === outcome).length;
    const cloud = results.filter((r) => r.kind === 'cloud' && r.outcome === outcome).length;
    return [outcome, String(agent), String(cloud), String(agent + cloud)];
  }).filter((row) => row[3] !== '0');
  const table = [['outcome', 'agent', 'cloud', 'total'], ...rows, ['all', ...['agent', 'cloud'].map((k) => String(results.filter((r) => r.kind === k).length)), String(results.length)]];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const line = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [
    '',
    line(table[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...table.slice(1, -1).map(line),
    widths.map((w) => '-'.repeat(w)).join('  '),
    line(table.at(-1)!),
    '',
    `API requests spent: ${summary.requests} (cancels ${summary.cancelRequests}, stops ${summary.stopRequests}); peak concurrent ${summary.peakConcurrent}`,
    `Failed requests retried: ${summary.retriedErrors}; lost creates reconciled: ${summary.reconciled}; not started: ${summary.notStarted}.`,
    `Unconfirmed at shutdown: ${summary.unconfirmed}. Elapsed: ${(summary.elapsedMs / 1000).toFixed(1)} s.`,
    '',
  ].join('\n');
}

function sum(counts: ReadonlyMap<string, number>): number {
  let total = 0;
  for (const n of counts.values()) total += n;
  return total;
}
