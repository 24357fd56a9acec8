/**
 * The Cloud API's stream (`GET /api/tasks/{taskId}/stream`, Server-Sent Events with named events):
 * `connected`, then the `log` events from `fromIndex` on, a `status` event whenever the status changes
 * (with `includeStatus`), and `complete` once the task is done.
 * @module
 */
import { cloudLogsAt } from './cloud-log-script.js';
import { cloudError, cloudTimeline, isCloudDone, type CloudPhase, type CloudTaskRecord } from './cloud-tasks.js';
import { boolQuery, intQuery } from './http.js';
import type { Handler, RouteContext } from './routes.js';
import type { SseEvent, StreamPull, StreamSource } from './streams.js';

/** The stream handler; `ownTask` answers 404 as every other call does, before the stream starts. */
export function cloudStreamHandler(seed: number, ownTask: (context: RouteContext) => CloudTaskRecord): Handler {
  return (context) => {
    const task = ownTask(context);
    const fromIndex = intQuery(context.query, 'fromIndex', 0, 0);
    const includeStatus = boolQuery(context.query, 'includeStatus', true);
    return { key: task.id, source: new CloudLogStream(seed, task, fromIndex, includeStatus) };
  };
}

/** One client's stream of a task. */
class CloudLogStream implements StreamSource {
  readonly farewell: SseEvent = { event: 'error', data: { error: 'Server shutting down' }, counted: false };
  readonly #seed: number;
  readonly #task: CloudTaskRecord;
  readonly #fromIndex: number;
  readonly #includeStatus: boolean;
  /** The index of the next log to send. */
  #next: number;
  #connected = false;
  #status: CloudPhase | undefined;

  constructor(seed: number, task: CloudTaskRecord, fromIndex: number, includeStatus: boolean) {
    this.#seed = seed;
    this.#task = task;
    this.#fromIndex = fromIndex;
    this.#next = fromIndex;
    this.#includeStatus = includeStatus;
  }

  pull(nowMs: number): StreamPull {
    const timestamp = new Date(nowMs).toISOString();
    const events: SseEvent[] = [];
    if (!this.#connected) {
      this.#connected = true;
      const data = { taskId: this.#task.id, fromIndex: this.#fromIndex, message: 'Connected to task stream', timestamp };
      events.push({ event: 'connected', data, counted: false });
    }
    const logs = cloudLogsAt(this.#seed, this.#task, nowMs);
    for (; this.#next < logs.length; this.#next++) {
      events.push({ event: 'log', data: { index: this.#next, log: logs[this.#next], timestamp }, counted: true });
    }
    const { status } = cloudTimeline(this.#task, nowMs);
    if (this.#includeStatus && status !== this.#status) {
      this.#status = status;
      events.push({ event: 'status', data: { status, error: cloudError(status) }, counted: false });
    }
    const done = isCloudDone(status);
    if (done) events.push({ event: 'complete', data: { status, totalLogs: logs.length, message: `Task ${status}`, timestamp }, counted: false });
    return { events, done };
  }
}
