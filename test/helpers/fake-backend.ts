import FakeTimers from '@sinonjs/fake-timers';
import { TaskManager, type Clock, type NormalizedStatus, type TaskBackend, type TaskManagerOptions, type TaskRef, type TaskState } from '../../src/index.js';

/** A fake clock the manager can take, and the fake-timers clock that drives it. */
export function fakeClock(start = 1_700_000_000_000): { clock: Clock; fake: FakeTimers.Clock } {
  const fake = FakeTimers.createClock(start, 1_000_000);
  return {
    fake,
    clock: { now: () => fake.now, setTimeout: (fn, ms) => fake.setTimeout(fn, ms), clearTimeout: (id) => fake.clearTimeout(id as FakeTimers.TimerId) },
  };
}

interface ScriptedTask {
  state: TaskState;
  raw: string;
  finishAt: number;
  outcome: TaskState;
}

/**
 * An in-process TaskBackend on a fake clock: each task runs until `finishAt`, then takes its outcome.
 * It records every call and the requests in flight per task, so tests can check the manager's
 * invariants (one request per task, no request after settle, the concurrency cap).
 */
export class ScriptedBackend implements TaskBackend {
  readonly tasks = new Map<string, ScriptedTask>();
  readonly calls: { op: 'status' | 'cancel' | 'create'; id: string; at: number }[] = [];
  readonly inFlight = new Map<string, number>();
  maxInFlightPerTask = 0;
  inFlightTotal = 0;
  peakInFlight = 0;
  latencyMs = 10;
  /** Per-operation latency, over `latencyMs` (e.g. hung polls: `{ status: 3_600_000 }`). */
  readonly opLatencyMs: Partial<Record<'status' | 'cancel' | 'create', number>> = {};
  /** Throw this error from the next calls of `op` (consumed one per call). */
  readonly failures: { op: 'status' | 'cancel'; error: unknown }[] = [];
  /** When true, cancel of a still-running task fails like a cloud stop of a `pending` task. */
  refuseCancel = false;

  constructor(private readonly fake: FakeTimers.Clock) {}

  add(id: string, durationMs: number, outcome: TaskState = 'completed'): void {
    this.tasks.set(id, { state: 'running', raw: 'running', finishAt: this.fake.now + durationMs, outcome });
  }

  /** Creates a task that runs `durationMs` (from the body) after a request of `latencyMs`. */
  create = async (body: unknown, { signal }: { signal: AbortSignal }): Promise<{ id: string; created: unknown }> => {
    const id = `created-${this.tasks.size}`;
    await this.#call('create', id, signal);
    this.add(id, (body as { durationMs: number }).durationMs);
    return { id, created: { id } };
  };

  getStatus = (id: string, { signal }: { signal: AbortSignal }): Promise<NormalizedStatus> => this.#call('status', id, signal);
  cancel = (id: string, { signal }: { signal: AbortSignal }): Promise<NormalizedStatus> => this.#call('cancel', id, signal);

  async #call(op: 'status' | 'cancel' | 'create', id: string, signal: AbortSignal): Promise<NormalizedStatus> {
    this.calls.push({ op, id, at: this.fake.now });
    const count = (this.inFlight.get(id) ?? 0) + 1;
    this.inFlight.set(id, count);
    this.maxInFlightPerTask = Math.max(this.maxInFlightPerTask, count);
    this.peakInFlight = Math.max(this.peakInFlight, ++this.inFlightTotal);
    try {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          this.fake.clearTimeout(timer);
          reject(signal.reason);
        };
        const timer = this.fake.setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, this.opLatencyMs[op] ?? this.latencyMs);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      const failure = this.failures.findIndex((f) => f.op === op);
      if (failure >= 0) throw this.failures.splice(failure, 1)[0]!.error;
      if (op === 'create') return { state: 'pending', raw: 'pending' };
      const task = this.tasks.get(id);
      if (!task) throw new Error(`scripted backend: unknown task ${id}`);
      this.#advance(task);
      if (op === 'cancel' && task.state === 'running') {
        if (this.refuseCancel) throw new Error('not in progress');
        Object.assign(task, { state: 'cancelled', raw: 'cancelled' });
      }
      return { state: task.state, raw: task.raw };
    } finally {
      this.inFlight.set(id, (this.inFlight.get(id) ?? 1) - 1);
      this.inFlightTotal--;
    }
  }

  #advance(task: ScriptedTask): void {
    if (task.state === 'running' && this.fake.now >= task.finishAt) Object.assign(task, { state: task.outcome, raw: task.outcome });
  }
}

/**
 * A manager on a fake clock tracking `job` tasks of a ScriptedBackend: 8 requests at once, polls from
 * 100 ms doubling to 1.6 s without jitter unless `jitter` says otherwise; other options pass through.
 */
export function scriptedManager(options: Omit<TaskManagerOptions, 'backends' | 'clock'> & { readonly jitter?: number } = {}) {
  const { jitter = 0, ...rest } = options;
  const { clock, fake } = fakeClock();
  const backend = new ScriptedBackend(fake);
  const manager = new TaskManager({ concurrency: 8, poll: { initialMs: 100, maxMs: 1_600, factor: 2, jitter }, ...rest, backends: { job: backend }, clock });
  const ref = (id: string): TaskRef => ({ kind: 'job', id });
  return { clock, fake, backend, manager, ref };
}
