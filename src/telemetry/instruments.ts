/**
 * The OpenTelemetry instruments of taskguard, through `@opentelemetry/api` only: without an SDK
 * registered every call is a no-op. They are looked up when a client or manager is constructed, never
 * at import, so that an SDK registered at start-up (after the imports) is the one they report to.
 * @module
 */
import { metrics, trace, ValueType, type Counter, type Histogram, type MeterProvider, type ObservableGauge, type Tracer, type UpDownCounter } from '@opentelemetry/api';

/** The meter's and the tracer's name (the instrumentation scope). */
export const SCOPE_NAME = 'taskguard';

/** Attribute names: ours under `taskguard.`, the HTTP and error ones as the semantic conventions spell them. */
export const ATTR = {
  kind: 'taskguard.kind',
  outcome: 'taskguard.outcome',
  operation: 'taskguard.operation',
  taskId: 'taskguard.task.id',
  status: 'taskguard.status',
  state: 'taskguard.state',
  cancelReason: 'taskguard.cancel.reason',
  httpStatus: 'http.response.status_code',
  errorType: 'error.type',
} as const;

/** Every instrument of one meter provider. */
export interface Instruments {
  readonly tasksActive: UpDownCounter;
  readonly tasksSettled: Counter;
  readonly apiRequests: Counter;
  readonly apiRequestDuration: Histogram;
  readonly cancelLateness: Histogram;
  readonly concurrencyLimit: ObservableGauge;
}

// One set per provider: clients and managers are made by the hundred in tests and CLIs, and the
// instruments of one provider are the same however many of them ask.
const byProvider = new WeakMap<MeterProvider, Instruments>();

/** The instruments of the meter provider registered now (the no-op one when there is none). */
export function instruments(): Instruments {
  const provider = metrics.getMeterProvider();
  let found = byProvider.get(provider);
  if (!found) {
    found = createInstruments(provider);
    byProvider.set(provider, found);
  }
  return found;
}

/**
 * The tracer, through the API's proxy provider: it reaches an SDK's tracer provider once one is
 * registered, even for a client made before.
 */
export function tracer(): Tracer {
  return trace.getTracer(SCOPE_NAME);
}

function createInstruments(provider: MeterProvider): Instruments {
  const meter = provider.getMeter(SCOPE_NAME);
  return {
    tasksActive: meter.createUpDownCounter('taskguard.tasks.active', {
      description: 'Remote tasks tracked by a manager right now',
      unit: '{task}',
      valueType: ValueType.INT,
    }),
    tasksSettled: meter.createCounter('taskguard.tasks.settled', {
      description: 'Tracked tasks that settled, by outcome',
      unit: '{task}',
      valueType: ValueType.INT,
    }),
    apiRequests: meter.createCounter('taskguard.api.requests', {
      description: 'API requests sent, one per attempt (a retry is another request)',
      unit: '{request}',
      valueType: ValueType.INT,
    }),
    apiRequestDuration: meter.createHistogram('taskguard.api.request.duration', {
      description: 'Duration of one API request attempt (for a stream: until its headers)',
      unit: 's',
      // The buckets of the HTTP client semantic conventions.
      advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] },
    }),
    cancelLateness: meter.createHistogram('taskguard.cancel.lateness', {
      description: "Time from a task's deadline to the confirmation that it was cancelled",
      unit: 's',
      // Sub-second is the norm; the alerting range (seconds to minutes) needs boundaries of its own.
      advice: { explicitBucketBoundaries: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300] },
    }),
    concurrencyLimit: meter.createObservableGauge('taskguard.concurrency.limit', {
      description: "The limit in force on a manager's API requests in flight",
      unit: '{request}',
      valueType: ValueType.INT,
    }),
  };
}

/** `error.type`: the error's class name (`RateLimitError`, `ConnectionError`, `AbortError`, …), never its message. */
export function errorType(error: unknown): string {
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  return typeof name === 'string' && name !== '' ? name : '_OTHER';
}
