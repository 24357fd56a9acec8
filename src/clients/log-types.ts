/**
 * Wire types of the log endpoints of both APIs (SPEC sections 2 and 8): the Agent API's log snapshot and
 * log stream, the Cloud API's task stream, and the options of the client methods that read them.
 *
 * Event unions are discriminated (`type` for the agent, `event` for the cloud) and stay open: a server
 * may send kinds this version does not know, and they reach the caller unchanged. The open member of each
 * union types its fields `never`, so that narrowing on the discriminant keeps the documented fields
 * precise; a `default` branch reads them as `Readonly<Record<string, unknown>>` (agent) or `unknown`
 * (cloud data).
 * @module
 */
import type { RequestOptions } from './core.js';
import type { AgentRunStatus, CloudTaskStatus, OpenString } from './types.js';

/** Options of {@link AgentClient.getLogs}. */
export interface AgentGetLogsOptions extends RequestOptions {
  /**
   * Include the `text-delta` events (each piece of streamed text); without them the snapshot is smaller.
   * @default true
   */
  readonly includeDeltas?: boolean | undefined;
  /**
   * Also answer the events as the agent emitted them, in `rawEvents`.
   * @default false
   */
  readonly raw?: boolean | undefined;
}

/** Where the Agent API read a run's log from. */
export type AgentLogSource = OpenString<'buffer' | 'reconstructed' | 'merged'>;

/** Response of `GET /api/v1/tasks/{runId}/logs`: a snapshot of a run's log. */
export interface AgentLogsResponse {
  /** The run's ID. */
  readonly runId: string;
  /** The conversation the run belongs to. */
  readonly chatId: string;
  /** The run's status (`queued`, `running`, `completed`, `failed`, `cancelled`, `interrupted`). */
  readonly status: AgentRunStatus;
  /** Where the log was read from: the live buffer, reconstructed from storage, or both merged. */
  readonly source: AgentLogSource;
  /** How many events `events` holds. */
  readonly eventCount: number;
  /** The run's events, oldest first, shaped like those of {@link AgentClient.streamLogs}. */
  readonly events: readonly AgentLogEvent[];
  /** Why the run failed, `null` otherwise. */
  readonly error: string | null;
  /** The events as the agent emitted them; only with `raw: true`. */
  readonly rawEvents?: readonly unknown[];
}

/** Options of {@link AgentClient.streamLogs}. */
export interface AgentStreamLogsOptions {
  /**
   * Include the `text-delta` events (each piece of streamed text).
   * @default true
   */
  readonly includeDeltas?: boolean | undefined;
  /** Stops the stream and closes its connection; the loop rejects with `signal.reason`. */
  readonly signal?: AbortSignal | undefined;
  /**
   * Limit for the stream's headers to arrive, in milliseconds; once they have, the stream may last as
   * long as the run.
   * @default the client's `timeoutMs`
   */
  readonly timeoutMs?: number | undefined;
  /**
   * How many times a stream that fails before its first event (a network error, 429, 5xx) is reopened.
   * A stream that has delivered events is not reopened: the Agent API cannot resume one.
   * @default the client's `retries`
   */
  readonly retries?: number | undefined;
}

/** `session-init`: the agent's session started. */
export interface AgentSessionInitEvent {
  /** Always `'session-init'`. */
  readonly type: 'session-init';
  readonly [field: string]: unknown;
}

/** `text-start`: a piece of text begins; its `text-delta` events carry the same `id`. */
export interface AgentTextStartEvent {
  /** Always `'text-start'`. */
  readonly type: 'text-start';
  /** The text's ID. */
  readonly id: string;
  readonly [field: string]: unknown;
}

/** `text-delta`: the next characters of a piece of text. */
export interface AgentTextDeltaEvent {
  /** Always `'text-delta'`. */
  readonly type: 'text-delta';
  /** The ID of the text (see {@link AgentTextStartEvent}). */
  readonly id: string;
  /** The characters to append. */
  readonly delta: string;
  readonly [field: string]: unknown;
}

/** `tool-call-start`: the agent calls a tool. */
export interface AgentToolCallStartEvent {
  /** Always `'tool-call-start'`. */
  readonly type: 'tool-call-start';
  /** The call's ID; the call's later events carry it too. */
  readonly toolCallId: string;
  /** The tool's name. */
  readonly toolName: string;
  readonly [field: string]: unknown;
}

/** `tool-input-available`: the input of a tool call is complete. */
export interface AgentToolInputAvailableEvent {
  /** Always `'tool-input-available'`. */
  readonly type: 'tool-input-available';
  /** The call's ID. */
  readonly toolCallId: string;
  /** The tool's name. */
  readonly toolName: string;
  /** The tool's input, as the agent wrote it. */
  readonly input: unknown;
  readonly [field: string]: unknown;
}

/** `tool-output-available`: a tool call answered. */
export interface AgentToolOutputAvailableEvent {
  /** Always `'tool-output-available'`. */
  readonly type: 'tool-output-available';
  /** The call's ID. */
  readonly toolCallId: string;
  /** The tool's output. */
  readonly output: unknown;
  readonly [field: string]: unknown;
}

/** `files`: files the run produced or changed. */
export interface AgentFilesEvent {
  /** Always `'files'`. */
  readonly type: 'files';
  /** The files, as the API describes them. */
  readonly files: readonly unknown[];
  readonly [field: string]: unknown;
}

/** `result`: the run's result. */
export interface AgentResultEvent {
  /** Always `'result'`. */
  readonly type: 'result';
  readonly [field: string]: unknown;
}

/** `error`: the agent reported an error; the stream goes on to its `finish`. */
export interface AgentErrorEvent {
  /** Always `'error'`. */
  readonly type: 'error';
  readonly [field: string]: unknown;
}

/** `finish`: the last event of a stream. */
export interface AgentFinishEvent {
  /** Always `'finish'`. */
  readonly type: 'finish';
  /** The run's ID. */
  readonly runId: string;
  /** The run's status when the stream ended. */
  readonly status: AgentRunStatus;
  readonly [field: string]: unknown;
}

/**
 * An event whose `type` this version of taskguard does not know, passed through as the server sent it.
 * Its other fields are typed `never` only so that narrowing on `type` keeps the documented events'
 * fields precise: read them as `Readonly<Record<string, unknown>>`.
 */
export type AgentUnknownLogEvent = {
  /** The event's type, as the server named it. */
  readonly type: string;
} & { readonly [field: string]: never };

/**
 * One event of a run's log: the parsed `data` of one Server-Sent Event of the log stream, or one entry
 * of {@link AgentLogsResponse.events}. Switch on `type`, with a `default` branch for new types.
 *
 * @example
 * ```ts
 * import type { AgentLogEvent } from 'taskguard';
 *
 * function render(event: AgentLogEvent): string {
 *   switch (event.type) {
 *     case 'text-delta':
 *       return event.delta;
 *     case 'tool-call-start':
 *       return `\n[${event.toolName}]\n`;
 *     case 'finish':
 *       return `\n(${event.status})\n`;
 *     default:
 *       return '';
 *   }
 * }
 * ```
 */
export type AgentLogEvent =
  | AgentSessionInitEvent
  | AgentTextStartEvent
  | AgentTextDeltaEvent
  | AgentToolCallStartEvent
  | AgentToolInputAvailableEvent
  | AgentToolOutputAvailableEvent
  | AgentFilesEvent
  | AgentResultEvent
  | AgentErrorEvent
  | AgentFinishEvent
  | AgentUnknownLogEvent;

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
