/**
 * Wire types of the Agent API's log endpoints (SPEC sections 2 and 8): the log snapshot, the log stream's
 * events, and the options of `AgentClient.getLogs` and `AgentClient.streamLogs`.
 *
 * The event union is discriminated on `type` and stays open: a server may send types this version does
 * not know, and they reach the caller unchanged. Its open member types its fields `never`, so that
 * narrowing on `type` keeps the documented fields precise; a `default` branch reads them as
 * `Readonly<Record<string, unknown>>`.
 * @module
 */
import type { AgentRunStatus } from './agent-types.js';
import type { RequestOptions } from './request-types.js';
import type { OpenString } from './open-string.js';

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
