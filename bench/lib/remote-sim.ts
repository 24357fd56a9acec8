/**
 * A simulator in its own process (`bench/fixtures/sim-server.ts`), driven over IPC. The benchmark's
 * process then runs only the client side, and the server uses the other core.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SimulatorFaults, SimulatorOptions } from '../../src/simulator/index.js';

/** A message the simulator process understands. */
export type SimRequest =
  | { readonly op: 'createAgentRuns'; readonly count: number; readonly durationMs: number }
  | { readonly op: 'setFaults'; readonly faults: SimulatorFaults }
  | { readonly op: 'resetLedger' }
  | { readonly op: 'ledger'; readonly ids?: readonly string[] }
  | { readonly op: 'cpuUsage' }
  | { readonly op: 'close' };

/**
 * What the ledger says, summed up. `cancelsPerRun` maps a cancel count to the number of the asked-for runs
 * that got it; `cancelledRuns` and `stoppedTasks` count every run and task that got a cancel or stop.
 */
export interface SimLedgerSummary {
  readonly requests: number;
  readonly byRoute: Record<string, number>;
  readonly byStatusCode: Record<string, number>;
  readonly faults: Record<string, number>;
  readonly peakConcurrent: number;
  readonly cancelsPerRun: Record<string, number>;
  readonly cancelledOnServer: number;
  readonly cancelledRuns: number;
  readonly stoppedTasks: number;
  /** The most cancels and stops one run or task got. */
  readonly maxCancelsPerTask: number;
}

const FIXTURE = fileURLToPath(new URL('../fixtures/sim-server.ts', import.meta.url));

/** A handle on the simulator process. */
export class RemoteSimulator {
  readonly url: string;
  readonly agentKey: string;
  readonly cloudKey: string;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #seq = 0;

  private constructor(child: ChildProcess, hello: { url: string; agentKey: string; cloudKey: string }) {
    this.#child = child;
    this.url = hello.url;
    this.agentKey = hello.agentKey;
    this.cloudKey = hello.cloudKey;
    child.on('message', (raw) => {
      const message = raw as { seq: number; result?: unknown; error?: string };
      const waiter = this.#pending.get(message.seq);
      if (!waiter) return;
      this.#pending.delete(message.seq);
      if (message.error !== undefined) waiter.reject(new Error(`simulator process: ${message.error}`));
      else waiter.resolve(message.result);
    });
    // A simulator process that dies fails whatever waits on it, instead of leaving it hanging.
    child.on('exit', (code, signal) => {
      for (const waiter of this.#pending.values()) waiter.reject(new Error(`simulator process exited (${code ?? signal})`));
      this.#pending.clear();
    });
  }

  /** Starts the simulator process and waits until it listens. */
  static start(options: SimulatorOptions = {}): Promise<RemoteSimulator> {
    const child = fork(FIXTURE, [JSON.stringify(options)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    return new Promise((resolve, reject) => {
      const early = (code: number | null): void => reject(new Error(`simulator process exited early (${code})`));
      child.once('error', reject);
      child.once('exit', early);
      child.once('message', (raw) => {
        child.off('exit', early);
        resolve(new RemoteSimulator(child, (raw as { result: { url: string; agentKey: string; cloudKey: string } }).result));
      });
    });
  }

  #call<T>(request: SimRequest): Promise<T> {
    const seq = ++this.#seq;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(seq, { resolve: resolve as (value: unknown) => void, reject });
      this.#child.send({ ...request, seq });
    });
  }

  /** Creates `count` agent runs (no HTTP, not in the ledger) and returns their IDs. */
  createAgentRuns(count: number, durationMs = Number.POSITIVE_INFINITY): Promise<string[]> {
    // JSON (IPC) has no Infinity: a duration of a year never ends within a benchmark.
    return this.#call({ op: 'createAgentRuns', count, durationMs: Number.isFinite(durationMs) ? durationMs : 365 * 24 * 3600_000 });
  }

  setFaults(faults: SimulatorFaults): Promise<unknown> {
    return this.#call({ op: 'setFaults', faults });
  }

  resetLedger(): Promise<void> {
    return this.#call({ op: 'resetLedger' });
  }

  /** Ledger totals, and per-run cancel counts for `ids`. */
  ledger(ids?: readonly string[]): Promise<SimLedgerSummary> {
    return this.#call(ids === undefined ? { op: 'ledger' } : { op: 'ledger', ids });
  }

  /** The simulator process's CPU time so far. */
  cpuUsage(): Promise<NodeJS.CpuUsage> {
    return this.#call({ op: 'cpuUsage' });
  }

  /** Closes the simulator and waits for its process to end. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    await this.#call({ op: 'close' }).catch(() => undefined);
    this.#child.disconnect();
    await exited;
  }
}
