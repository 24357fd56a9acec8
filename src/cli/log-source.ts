/**
 * Where `logs` and `run --logs` get log events: an agent run's logs endpoint and log stream, a cloud
 * task's stream (the Cloud API has no other logs endpoint). Streams end with the task: after the agent
 * stream's `finish`, after the cloud stream's `complete`.
 * @module
 */
import type { TaskRef } from '../refs.js';
import type { Clients } from './clients.js';

/** One log event: an agent run's `data` object, or a cloud task's named event. */
export type LogEvent = { readonly kind: 'agent'; readonly data: unknown } | { readonly kind: 'cloud'; readonly event: string; readonly data: unknown };

/** How long a cloud stream may pause before `logsSoFar` takes its replay as complete. */
const CLOUD_REPLAY_IDLE_MS = 1_000;

/** The events logged so far, and the task's status when the logs say it. */
export async function logsSoFar(clients: Clients, ref: TaskRef): Promise<{ readonly status: string | null; readonly events: readonly LogEvent[] }> {
  if (ref.kind === 'agent') {
    const answer = await clients.agent!.getLogs(ref.id);
    const events = Array.isArray(answer.events) ? answer.events : [];
    return { status: typeof answer.status === 'string' ? answer.status : null, events: events.map((data): LogEvent => ({ kind: 'agent', data })) };
  }
  // A finished task's stream replays everything and closes; a live one's keeps going, so the replay
  // is taken as over at its first pause (counted from the first event: connecting is not a pause).
  const idle = new AbortController();
  const events: LogEvent[] = [];
  let status: string | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    for await (const event of logEvents(clients, ref, idle.signal)) {
      clearTimeout(timer);
      timer = setTimeout(() => idle.abort(), CLOUD_REPLAY_IDLE_MS);
      if (event.kind === 'cloud' && (event.event === 'status' || event.event === 'complete')) status = statusOf(event.data) ?? status;
      events.push(event);
    }
  } catch (error) {
    if (!idle.signal.aborted) throw error;
  } finally {
    clearTimeout(timer);
  }
  return { status, events };
}

/** The task's log stream until the task ends or `signal` aborts (which rejects with its reason). */
export async function* logEvents(clients: Clients, ref: TaskRef, signal: AbortSignal): AsyncGenerator<LogEvent> {
  if (ref.kind === 'agent') {
    for await (const data of clients.agent!.streamLogs(ref.id, { signal })) {
      yield { kind: 'agent', data };
      if (typeOf(data) === 'finish') return;
    }
    return;
  }
  for await (const { event, data } of clients.cloud!.streamLogs(ref.id, { signal })) {
    yield { kind: 'cloud', event, data };
    if (event === 'complete') return;
  }
}

function typeOf(data: unknown): unknown {
  return typeof data === 'object' && data !== null ? (data as { type?: unknown }).type : undefined;
}

function statusOf(data: unknown): string | null {
  const status = typeof data === 'object' && data !== null ? (data as { status?: unknown }).status : undefined;
  return typeof status === 'string' ? status : null;
}
