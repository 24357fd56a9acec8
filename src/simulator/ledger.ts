/**
 * What the simulator received: the counters tests assert on (cancels per run, peak concurrency, faults).
 * @module
 */

/** The API calls the simulator serves, named `<api>.<call>` after the tables of SPEC section 2. */
export type SimulatorRoute =
  | 'agent.create'
  | 'agent.list'
  | 'agent.get'
  | 'agent.status'
  | 'agent.update'
  | 'agent.continue'
  | 'agent.logs'
  | 'agent.stream'
  | 'cloud.create'
  | 'cloud.list'
  | 'cloud.get'
  | 'cloud.status'
  | 'cloud.stop'
  | 'cloud.continue'
  | 'cloud.stream';

/** The kinds of injected fault, counted in {@link SimulatorLedger.faults}. */
export type SimulatorFaultKind = 'error' | 'htmlError' | 'rate429' | 'maxConcurrent' | 'reset' | 'hang';

/** Every fault a request can meet: the kinds of {@link SimulatorFaultKind}, and those the ledger counts apart. */
export type InjectedFault = SimulatorFaultKind | 'lostAnswer' | 'rateLimit';

/** Live counters of what the simulator received since it started or since `reset()`. */
export interface SimulatorLedger {
  /** Every HTTP request received, on any path, authenticated or not. */
  readonly requests: number;
  /** Authenticated requests per API call, faulted ones included (so retries show up here). */
  readonly byRoute: ReadonlyMap<SimulatorRoute, number>;
  /** Answers sent, per HTTP status code (resets and hangs send none). */
  readonly byStatusCode: ReadonlyMap<number, number>;
  /**
   * Cancel requests (`PATCH /api/v1/tasks/{runId}` with `action: "cancel"`) that passed the faults and
   * reached the handler, per run ID in the path, whatever the answer (200, 400 already done, 403, 404).
   */
  readonly cancels: ReadonlyMap<string, number>;
  /** Stop requests (`PATCH /api/tasks/{taskId}` with `action: "stop"`) that reached the handler, per task ID, whatever the answer. */
  readonly stops: ReadonlyMap<string, number>;
  /** Of `stops`, those that stopped the task (answered 200); a stop of a task not `processing`/`saving` is refused with a 400. */
  readonly acceptedStops: ReadonlyMap<string, number>;
  /** Injected faults per kind. */
  readonly faults: Readonly<Record<SimulatorFaultKind, number>>;
  /** Requests applied whose answer was then lost (the `lostAnswerRate` fault): the client saw a reset. */
  readonly lostAnswers: number;
  /** Requests answered 429 by the `rateLimit` token bucket. */
  readonly rateLimited: number;
  /** Streams whose connection the `streamDropAfterEvents` fault destroyed. */
  readonly droppedStreams: number;
  /** HTTP requests open right now: received and not yet answered, reset or abandoned (a started stream counts in `openStreams` instead). */
  readonly inFlight: number;
  /** Server-Sent Events responses streaming right now: started and not yet ended, dropped or left by their client. */
  readonly openStreams: number;
  /** The most requests open at once. */
  readonly peakConcurrent: number;
  /** Zeroes every counter; `peakConcurrent` restarts from the requests open now; `inFlight` and `openStreams` stay. */
  reset(): void;
}

function noFaults(): Record<SimulatorFaultKind, number> {
  return { error: 0, htmlError: 0, rate429: 0, maxConcurrent: 0, reset: 0, hang: 0 };
}

function increment<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** The simulator's ledger; the server records into it, users read it through {@link SimulatorLedger}. */
export class Ledger implements SimulatorLedger {
  #requests = 0;
  #inFlight = 0;
  #peakConcurrent = 0;
  #openStreams = 0;
  #lostAnswers = 0;
  #rateLimited = 0;
  #droppedStreams = 0;
  readonly #byRoute = new Map<SimulatorRoute, number>();
  readonly #byStatusCode = new Map<number, number>();
  readonly #cancels = new Map<string, number>();
  readonly #stops = new Map<string, number>();
  readonly #acceptedStops = new Map<string, number>();
  #faults = noFaults();

  get requests(): number {
    return this.#requests;
  }
  get byRoute(): ReadonlyMap<SimulatorRoute, number> {
    return this.#byRoute;
  }
  get byStatusCode(): ReadonlyMap<number, number> {
    return this.#byStatusCode;
  }
  get cancels(): ReadonlyMap<string, number> {
    return this.#cancels;
  }
  get stops(): ReadonlyMap<string, number> {
    return this.#stops;
  }

  get acceptedStops(): ReadonlyMap<string, number> {
    return this.#acceptedStops;
  }
  get faults(): Readonly<Record<SimulatorFaultKind, number>> {
    return this.#faults;
  }
  get lostAnswers(): number {
    return this.#lostAnswers;
  }
  get rateLimited(): number {
    return this.#rateLimited;
  }
  get droppedStreams(): number {
    return this.#droppedStreams;
  }
  get inFlight(): number {
    return this.#inFlight;
  }
  get peakConcurrent(): number {
    return this.#peakConcurrent;
  }
  get openStreams(): number {
    return this.#openStreams;
  }

  reset(): void {
    this.#requests = 0;
    this.#peakConcurrent = this.#inFlight;
    this.#byRoute.clear();
    this.#byStatusCode.clear();
    this.#cancels.clear();
    this.#stops.clear();
    this.#acceptedStops.clear();
    this.#faults = noFaults();
    this.#lostAnswers = 0;
    this.#rateLimited = 0;
    this.#droppedStreams = 0;
  }

  requestOpened(): void {
    this.#requests++;
    this.#inFlight++;
    if (this.#inFlight > this.#peakConcurrent) this.#peakConcurrent = this.#inFlight;
  }

  requestClosed(): void {
    this.#inFlight--;
  }

  /** An open request became a stream: answered, yet its connection stays open. */
  streamStarted(): void {
    this.#inFlight--;
    this.#openStreams++;
  }

  streamClosed(): void {
    this.#openStreams--;
  }

  routed(route: SimulatorRoute): void {
    increment(this.#byRoute, route);
  }

  answered(statusCode: number): void {
    increment(this.#byStatusCode, statusCode);
  }

  faulted(kind: InjectedFault): void {
    if (kind === 'lostAnswer') this.#lostAnswers++;
    else if (kind === 'rateLimit') this.#rateLimited++;
    else this.#faults[kind]++;
  }

  streamDropped(): void {
    this.#droppedStreams++;
  }

  cancelled(runId: string): void {
    increment(this.#cancels, runId);
  }

  stopped(taskId: string): void {
    increment(this.#stops, taskId);
  }

  stopAccepted(taskId: string): void {
    increment(this.#acceptedStops, taskId);
  }
}
