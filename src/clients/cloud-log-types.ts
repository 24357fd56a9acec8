/**
 * Wire types of the Cloud API's task stream (SPEC sections 2 and 8): its log lines, its events, and the
 * options of `CloudClient.streamLogs`.
 *
 * The event union is discriminated on `event` and stays open: a server may send names this version does
 * not know, and they reach the caller unchanged. Its open member types its `data` `never`, so that
 * narrowing on `event` keeps the documented data precise; a `default` branch reads it as `unknown`.
 * @module
 */
import type { CloudTaskStatus } from './cloud-types.js';
import type { OpenString } from './open-string.js';

/** Options of {@link CloudClient.streamLogs}. */
export interface CloudStreamLogsOptions {
  /**
   * Index of the first log to receive: the `index` of the last log you have, plus one.
   * @default 0
   */
  readonly fromIndex?: number | undefined;
  /**
   * Send `status` events when the task's status changes.
   * @default true
   */
  readonly includeStatus?: boolean | undefined;
  /** Stops the stream and closes its connection; the loop rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Limit for the headers of each connection to arrive, in milliseconds; once they have, the stream may
   * last as long as the task.
   * @default the client's `timeoutMs`
   */
  readonly timeoutMs?: number | undefined;
  /**
   * How many times in a row a dropped or failed connection is reopened without a new log arriving in
   * between (each new log starts the count again). The waits between attempts follow the client's
   * `retryBackoff`.
   * @default the client's `retries`
   */
  readonly retries?: number | undefined;
}

/** Kinds of a Cloud API log line. */
export type CloudLogType = OpenString<'info' | 'error' | 'success' | 'warning' | 'system'>;

/** One log line of a cloud task. */
export interface CloudLogEntry {
  /** Its kind: `info`, `error`, `success`, `warning` or `system`. */
  readonly type: CloudLogType;
  /** How `message` is formatted, as the API names it. */
  readonly contentType?: string;
  /** The line's text. */
  readonly message: string;
  /** When it was written (ISO 8601). */
  readonly timestamp: string;
  /** The agent that wrote it, for multi-agent tasks. */
  readonly agent?: string | null;
  /** The step of the task it belongs to, as the API reports it. */
  readonly step?: unknown;
  readonly [field: string]: unknown;
}

/** Data of a `connected` event: the stream is open (again, after a resume). */
export interface CloudStreamConnectedData {
  /** The task's ID. */
  readonly taskId: string;
  /** The index this connection starts from. */
  readonly fromIndex: number;
  /** The API's greeting. */
  readonly message: string;
  /** When the connection opened (ISO 8601). */
  readonly timestamp: string;
  readonly [field: string]: unknown;
}

/** Data of a `log` event. */
export interface CloudStreamLogData {
  /** The line's position in the task's log, from 0, one more for each line. */
  readonly index: number;
  /** The line. */
  readonly log: CloudLogEntry;
  /** When it was sent (ISO 8601). */
  readonly timestamp: string;
  readonly [field: string]: unknown;
}

/** Data of a `status` event. */
export interface CloudStreamStatusData {
  /** The task's status. */
  readonly status: CloudTaskStatus;
  /** Why it failed, `null` otherwise. */
  readonly error: string | null;
  readonly [field: string]: unknown;
}

/** Data of a `complete` event: the task has ended and the stream with it. */
export interface CloudStreamCompleteData {
  /** The task's final status. */
  readonly status: CloudTaskStatus;
  /** How many log lines the task wrote. */
  readonly totalLogs: number;
  /** The API's description. */
  readonly message: string;
  /** When the task ended (ISO 8601). */
  readonly timestamp: string;
  readonly [field: string]: unknown;
}

/** Data of an `error` event: the server reports a problem of the stream. */
export interface CloudStreamErrorData {
  /** What went wrong. */
  readonly error: string;
  /** More about it, when the API says more. */
  readonly details?: unknown;
  readonly [field: string]: unknown;
}

/** `connected`: first of each connection; after a resume its `fromIndex` is where the stream resumed. */
export interface CloudStreamConnectedEvent {
  /** Always `'connected'`. */
  readonly event: 'connected';
  /** The event's data. */
  readonly data: CloudStreamConnectedData;
}

/** `log`: one log line. Indexes only grow: none is repeated or skipped across a resume. */
export interface CloudStreamLogEvent {
  /** Always `'log'`. */
  readonly event: 'log';
  /** The event's data. */
  readonly data: CloudStreamLogData;
}

/** `status`: the task's status (with `includeStatus`); it may come again after a resume. */
export interface CloudStreamStatusEvent {
  /** Always `'status'`. */
  readonly event: 'status';
  /** The event's data. */
  readonly data: CloudStreamStatusData;
}

/** `complete`: the last event; the iteration ends after it. */
export interface CloudStreamCompleteEvent {
  /** Always `'complete'`. */
  readonly event: 'complete';
  /** The event's data. */
  readonly data: CloudStreamCompleteData;
}

/** `error`: a problem the server reports in the stream. */
export interface CloudStreamErrorEvent {
  /** Always `'error'`. */
  readonly event: 'error';
  /** The event's data. */
  readonly data: CloudStreamErrorData;
}

/**
 * An event whose name this version of taskguard does not know, passed through with its parsed data.
 * `data` is typed `never` only so that narrowing on `event` keeps the documented events' data precise:
 * read it as `unknown`.
 */
export interface CloudStreamUnknownEvent {
  /** The event's name, as the server sent it (`message` for an unnamed event). */
  readonly event: string;
  /** The event's parsed JSON data. */
  readonly data: never;
}

/**
 * One event of a cloud task's stream: the SSE event's name and its parsed JSON data. Switch on `event`,
 * with a `default` branch for new names.
 *
 * @example
 * ```ts
 * import type { CloudStreamEvent } from 'taskguard';
 *
 * function render(item: CloudStreamEvent): string | undefined {
 *   switch (item.event) {
 *     case 'log':
 *       return `#${item.data.index} [${item.data.log.type}] ${item.data.log.message}`;
 *     case 'status':
 *       return `status: ${item.data.status}`;
 *     case 'complete':
 *       return `done: ${item.data.status}, ${item.data.totalLogs} lines`;
 *     default:
 *       return undefined;
 *   }
 * }
 * ```
 */
export type CloudStreamEvent =
  | CloudStreamConnectedEvent
  | CloudStreamLogEvent
  | CloudStreamStatusEvent
  | CloudStreamCompleteEvent
  | CloudStreamErrorEvent
  | CloudStreamUnknownEvent;
