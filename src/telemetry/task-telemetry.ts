/**
 * Telemetry of tracked tasks: the active and settled counts, cancel lateness, the concurrency gauge,
 * and one `taskguard.task` span per task from tracking to settling.
 * @module
 */
import { context, isSpanContextValid, ROOT_CONTEXT, SpanStatusCode, trace, type Attributes, type ObservableCallback, type Span } from '@opentelemetry/api';
import type { Clock } from '../manager/clock.js';
import type { CancelReason, NormalizedStatus, TaskOutcome, TaskResult } from '../manager/types.js';
import type { TaskRef } from '../refs.js';
import { ATTR, instruments, tracer } from './instruments.js';

/** What the hooks read of a tracked task (the manager's record); the object itself identifies the task. */
export interface TelemetryTask {
  readonly ref: TaskRef;
  readonly deadline: number | undefined;
  readonly status: NormalizedStatus | undefined;
  readonly cancelReason: CancelReason | undefined;
}

/** The task hooks of one manager. */
export interface TaskTelemetry {
  tracked(task: TelemetryTask): void;
  /** The remote status changed. */
  status(task: TelemetryTask, status: NormalizedStatus): void;
  /** The task's deadline fired. */
  timeout(task: TelemetryTask): void;
  /** The API accepted a cancel (or stop) of the task. */
  cancelled(task: TelemetryTask, reason: CancelReason): void;
  settled(task: TelemetryTask, result: TaskResult): void;
  /**
   * Runs a request of the task inside its span, so that the request's span is its child rather than a
   * child of whatever context armed the manager's timer.
   */
  within<T>(task: TelemetryTask, request: () => T): T;
  /** Stops reporting the concurrency limit (the manager is closed). */
  close(): void;
}

const FAILED_OUTCOMES: ReadonlySet<TaskOutcome> = new Set(['failed', 'error', 'lost', 'interrupted']);

/**
 * Hooks for the tasks of one manager; the meter and the tracer are taken here, when the manager is made.
 * `concurrency` reads the limit in force for the gauge. Span and metric attributes hold kinds, IDs,
 * statuses and outcomes: never a key or a prompt.
 */
export function createTaskTelemetry(clock: Clock, concurrency: () => number): TaskTelemetry {
  const { tasksActive, tasksSettled, cancelLateness, concurrencyLimit } = instruments();
  const spans = tracer();
  // Spans of live tasks only, and only when an SDK made a real one: without an SDK nothing is kept.
  const live = new Map<TelemetryTask, Span>();
  const kindAttributes = new Map<string, Attributes>();
  const settledAttributes = new Map<string, Attributes>();
  const byKind = (kind: string): Attributes => {
    let attributes = kindAttributes.get(kind);
    if (!attributes) kindAttributes.set(kind, (attributes = { [ATTR.kind]: kind }));
    return attributes;
  };
  const byOutcome = (kind: string, outcome: TaskOutcome): Attributes => {
    const key = `${kind}\0${outcome}`;
    let attributes = settledAttributes.get(key);
    if (!attributes) settledAttributes.set(key, (attributes = { [ATTR.kind]: kind, [ATTR.outcome]: outcome }));
    return attributes;
  };
  const observe: ObservableCallback = (result) => result.observe(concurrency());
  concurrencyLimit.addCallback(observe);

  return {
    tracked(task) {
      const { kind, id } = task.ref;
      tasksActive.add(1, byKind(kind));
      const span = spans.startSpan('taskguard.task', { attributes: { [ATTR.kind]: kind, [ATTR.taskId]: id } });
      if (isSpanContextValid(span.spanContext())) live.set(task, span);
    },
    status(task, status) {
      live.get(task)?.addEvent('status', { [ATTR.status]: status.raw, [ATTR.state]: status.state });
    },
    timeout(task) {
      live.get(task)?.addEvent('timeout');
    },
    cancelled(task, reason) {
      live.get(task)?.addEvent('cancel', { [ATTR.cancelReason]: reason });
    },
    settled(task, result) {
      const { kind } = task.ref;
      tasksActive.add(-1, byKind(kind));
      tasksSettled.add(1, byOutcome(kind, result.outcome));
      // Confirmed here, whichever answer confirmed it: the cancel's own, or a status read after a lost one.
      if (task.cancelReason === 'deadline' && task.status?.state === 'cancelled' && task.deadline !== undefined) {
        cancelLateness.record((clock.now() - task.deadline) / 1000, byKind(kind));
      }
      const span = live.get(task);
      if (!span) return;
      live.delete(task);
      span.setAttribute(ATTR.outcome, result.outcome);
      if (result.status !== null) span.setAttribute(ATTR.status, result.status);
      if (FAILED_OUTCOMES.has(result.outcome)) span.setStatus({ code: SpanStatusCode.ERROR, message: result.outcome });
      span.end();
    },
    within(task, request) {
      const span = live.get(task);
      return span ? context.with(trace.setSpan(ROOT_CONTEXT, span), request) : request();
    },
    close() {
      concurrencyLimit.removeCallback(observe);
    },
  };
}
