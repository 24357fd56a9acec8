/**
 * List sweeps (`poll.sweep`): one request to a kind's list answers for up to a page of its tasks. The
 * list is a hint, never the word that ends a task: a task it shows live takes the list's status and
 * skips its own polls until the next sweep; a task it shows ended, or that a complete list leaves out,
 * is read on its status endpoint at once, and only that read settles it. Sweeps hold no timer: their
 * steps wait in the manager's scheduler and take the limiter's slots the way polls do.
 * @module
 */
import { backoffDelay, type BackoffPolicy } from '../util/backoff.js';
import type { Clock } from './clock.js';
import type { ResolvedManagerOptions } from './options.js';
import type { TaskRecord } from './record.js';
import { TERMINAL_STATES, type NormalizedStatus, type TaskBackend } from './types.js';

/** Below this many tasks of a kind, a sweep's pages (two for agent runs: queued and running) cost about what the polls they spare do. */
const MIN_TASKS = 4;

/** Tasks one list page answers for. */
const PAGE_SIZE = 100;

/** Pages of one sweep at most, however many tasks are tracked. */
const MAX_PAGES = 50;

/** After a failed list, each task is polled on its own: for a minute, then twice as long each time the list fails again. */
const FALLBACK: BackoffPolicy = { initialMs: 60_000, maxMs: 30 * 60_000, factor: 2, jitter: 0 };

type Listing = AsyncIterator<ReadonlyMap<string, NormalizedStatus>>;

/** A step of a kind's sweep waiting in the scheduler: a sweep to start, or its next page. */
export interface SweepEntry {
  /** The kind's sweep state. */
  readonly sweep: KindSweep;
  /** The entry is live while it matches `sweep.token`. */
  readonly token: number;
}

/** What sweeps use of the tracker. */
export interface SweepHost {
  /** Every tracked task. */
  records(): Iterable<TaskRecord>;
  /** Puts a step in the scheduler, due at `at` like a poll: a 429's pause and a full limiter hold it back. */
  schedule(entry: SweepEntry, at: number): void;
  /** Runs one request in a slot of the limiter. */
  run<T>(request: () => Promise<T>): Promise<T>;
  /** The task's next request is a status read, at once (unless it has a request in flight or a cancel under way). */
  confirm(record: TaskRecord): void;
  /** The list shows the task live: its status, if the word changed, and its next poll at `until` (same exceptions). */
  spare(record: TaskRecord, status: NormalizedStatus, until: number): void;
  /** The task's own polls resume: its next poll after its backoff delay (same exceptions). */
  resume(record: TaskRecord): void;
  /** A list request failed: it is reported, and a 429 pauses the polls. */
  failed(error: unknown, backend: TaskBackend): void;
}

/** One sweep under way. */
interface Pass {
  readonly listing: Listing;
  readonly controller: AbortController;
  /** The tasks the sweep answers for: tracked when it started, with no cancel under way. */
  readonly records: readonly TaskRecord[];
  readonly seen: Map<string, NormalizedStatus>;
  readonly maxPages: number;
  readonly startedAt: number;
  pages: number;
}

/** The sweep state of one kind. */
class KindSweep {
  readonly kind: string;
  readonly backend: TaskBackend;
  readonly list: (options: { readonly signal: AbortSignal }) => AsyncIterable<ReadonlyMap<string, NormalizedStatus>>;
  tracked = 0;
  token = 0;
  /** A step waits in the scheduler, or a page is being read. */
  busy = false;
  failures = 0;
  /** No sweep starts before this: the interval after the last one, or the fallback after a failure. */
  notBefore = Number.NEGATIVE_INFINITY;
  pass: Pass | undefined;
  /** The tasks the last sweep spared their polls: they poll again on their own when sweeps stop. */
  spared: TaskRecord[] = [];

  constructor(kind: string, backend: TaskBackend, list: KindSweep['list']) {
    this.kind = kind;
    this.backend = backend;
    this.list = list;
  }
}

/** The list sweeps of a manager, one per kind whose backend can list. */
export class Sweeps {
  readonly #kinds = new Map<string, KindSweep>();
  readonly #host: SweepHost;
  readonly #clock: Clock;
  readonly #initialMs: number;
  readonly #intervalMs: number;

  constructor(options: ResolvedManagerOptions, host: SweepHost) {
    this.#host = host;
    this.#clock = options.clock;
    this.#initialMs = options.poll.initialMs;
    // The mean delay between two polls of a task backed off to maxMs: a sweep answers as often, so the
    // lag to notice an end stays what polling gives.
    this.#intervalMs = options.poll.maxMs * (1 - options.poll.jitter / 2);
    if (!options.sweep) return;
    for (const [kind, backend] of options.backends) {
      const { listStatuses } = backend;
      if (listStatuses) this.#kinds.set(kind, new KindSweep(kind, backend, (call) => listStatuses.call(backend, call)));
    }
  }

  /** A task is now tracked. The first sweep of a kind waits for its tasks' first polls. */
  tracked(record: TaskRecord): void {
    const sweep = this.#kinds.get(record.ref.kind);
    if (!sweep) return;
    sweep.tracked++;
    if (!sweep.busy && sweep.tracked >= MIN_TASKS) this.#arm(sweep, Math.max(this.#clock.now() + this.#initialMs, sweep.notBefore));
  }

  /** A task is no longer tracked. */
  untracked(record: TaskRecord): void {
    const sweep = this.#kinds.get(record.ref.kind);
    if (!sweep) return;
    // A sweep under way stops on its own when it ends; a waiting one is dropped now.
    if (--sweep.tracked < MIN_TASKS && sweep.busy && !sweep.pass) this.#stop(sweep);
  }

  /** False for a superseded entry. */
  isLive(entry: SweepEntry): boolean {
    return entry.token === entry.sweep.token;
  }

  /** A step's time came and a slot is free: start a sweep, or read its next page. */
  due({ sweep }: SweepEntry): void {
    if (sweep.pass) return this.#read(sweep, sweep.pass);
    const records: TaskRecord[] = [];
    for (const record of this.#host.records()) if (record.ref.kind === sweep.kind && record.cancelReason === undefined) records.push(record);
    if (records.length < MIN_TASKS) return this.#stop(sweep);
    const controller = new AbortController();
    let listing: Listing;
    try {
      listing = sweep.list({ signal: controller.signal })[Symbol.asyncIterator]();
    } catch (error) {
      return this.#fail(sweep, error);
    }
    const maxPages = Math.min(MAX_PAGES, Math.ceil(records.length / PAGE_SIZE) + 2);
    sweep.pass = { listing, controller, records, seen: new Map(), maxPages, startedAt: this.#clock.now(), pages: 0 };
    this.#read(sweep, sweep.pass);
  }

  /** Nothing is tracked, or the manager closes: drops every step and aborts the pages being read. */
  clear(): void {
    for (const sweep of this.#kinds.values()) {
      sweep.token++;
      sweep.busy = false;
      sweep.spared = [];
      if (!sweep.pass) continue;
      sweep.pass.controller.abort();
      close(sweep.pass);
      sweep.pass = undefined;
    }
  }

  #arm(sweep: KindSweep, at: number): void {
    sweep.busy = true;
    this.#host.schedule({ sweep, token: ++sweep.token }, at);
  }

  #read(sweep: KindSweep, pass: Pass): void {
    this.#host
      .run(() => pass.listing.next())
      .then(
        (step) => {
          if (sweep.pass === pass) this.#onPage(sweep, pass, step);
        },
        (error: unknown) => {
          if (sweep.pass === pass) this.#fail(sweep, error);
        },
      );
  }

  #onPage(sweep: KindSweep, pass: Pass, step: IteratorResult<ReadonlyMap<string, NormalizedStatus>>): void {
    if (step.done) return this.#finish(sweep, pass, true);
    if (!(step.value instanceof Map)) return this.#fail(sweep, new TypeError(`listStatuses of the "${sweep.kind}" backend yielded ${describe(step.value)}, not a Map`));
    for (const [id, status] of step.value as ReadonlyMap<string, NormalizedStatus>) pass.seen.set(id, status);
    // The end is known only from the step after the last page, which makes no request: the bound
    // leaves room for it.
    if (++pass.pages < pass.maxPages) return this.#arm(sweep, this.#clock.now());
    this.#finish(sweep, pass, false);
  }

  /**
   * A task the list shows live takes the list's status and is spared its polls; one it shows ended, or
   * that a complete list leaves out, is read at once. A list cut short at its bound says nothing of the
   * tasks it did not reach.
   */
  #finish(sweep: KindSweep, pass: Pass, complete: boolean): void {
    close(pass);
    sweep.pass = undefined;
    sweep.failures = 0;
    // Past the next sweep: a sweep that is late (pages queued behind cancels, a 429's pause) must not
    // let the polls it replaces go out meanwhile.
    const until = this.#clock.now() + 2 * this.#intervalMs;
    sweep.spared = [];
    for (const record of pass.records) {
      const listed = pass.seen.get(record.ref.id);
      if (listed !== undefined && !TERMINAL_STATES.has(listed.state)) {
        this.#host.spare(record, listed, until);
        sweep.spared.push(record);
      } else if (listed !== undefined || complete) this.#host.confirm(record);
    }
    sweep.notBefore = pass.startedAt + this.#intervalMs;
    this.#next(sweep);
  }

  /** Each task polls on its own until the fallback period is over. */
  #fail(sweep: KindSweep, error: unknown): void {
    if (sweep.pass) close(sweep.pass);
    sweep.pass = undefined;
    sweep.failures++;
    sweep.notBefore = this.#clock.now() + backoffDelay(sweep.failures - 1, FALLBACK);
    this.#host.failed(error, sweep.backend);
    this.#resume(sweep);
    this.#next(sweep);
  }

  #next(sweep: KindSweep): void {
    if (sweep.tracked >= MIN_TASKS) this.#arm(sweep, Math.max(this.#clock.now(), sweep.notBefore));
    else this.#stop(sweep);
  }

  /** Too few tasks left to sweep: they poll on their own from now on. */
  #stop(sweep: KindSweep): void {
    sweep.token++;
    sweep.busy = false;
    this.#resume(sweep);
  }

  /** The tasks the last sweep spared get their own polls back now, not when its horizon runs out. */
  #resume(sweep: KindSweep): void {
    for (const record of sweep.spared) this.#host.resume(record);
    sweep.spared = [];
  }
}

/** Lets the backend's iterator end its work; what it answers no longer matters. */
function close(pass: Pass): void {
  Promise.resolve()
    .then(() => pass.listing.return?.())
    .catch(() => {});
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}
