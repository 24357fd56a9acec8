import type { AgentClient } from '../clients/agent.js';
import type { CloudClient } from '../clients/cloud.js';
import type { AgentStatusResponse, CloudStatusResponse } from '../clients/types.js';
import { isRecord } from '../errors/factory.js';
import type { NormalizedStatus, TaskBackend, TaskState } from './types.js';

const AGENT_STATES: Readonly<Record<string, TaskState>> = {
  pending: 'pending',
  queued: 'pending',
  in_progress: 'running',
  running: 'running',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  interrupted: 'interrupted',
};

/**
 * Normalizes an Agent API status body. An unknown word counts as still running: the run is watched on.
 * Useful in a custom {@link TaskBackend} that reaches the Agent API another way.
 *
 * @example
 * ```ts
 * import { normalizeAgentStatus } from 'taskguard';
 *
 * const { state, raw } = normalizeAgentStatus({ status: 'in_progress', progress: 40 });
 * console.log(state, raw); // running in_progress
 * console.log(normalizeAgentStatus({ status: 'canceled' }).state); // cancelled
 * console.log(normalizeAgentStatus({ status: 'some_new_word' }).state); // running
 * ```
 */
export function normalizeAgentStatus(answer: AgentStatusResponse | object): NormalizedStatus {
  const body = answer as Readonly<Record<string, unknown>>;
  const raw = rawWord(body['status']);
  return withDetails({ state: AGENT_STATES[raw] ?? 'running', raw }, body);
}

const CLOUD_DONE_STATES: Readonly<Record<string, TaskState>> = {
  completed: 'completed',
  error: 'failed',
  timeout: 'failed',
  failed: 'failed',
  stopped: 'cancelled',
  cancelled: 'cancelled',
};

/**
 * Normalizes a Cloud API status body. `isDone`/`inProgress` are the API's documented signals; the word
 * only says which kind of end it was. Booleans of the wrong type are ignored, not trusted.
 *
 * @example
 * ```ts
 * import { normalizeCloudStatus } from 'taskguard';
 *
 * console.log(normalizeCloudStatus({ status: 'saving', isDone: false }).state); // running
 * console.log(normalizeCloudStatus({ status: 'timeout', isDone: true }).state); // failed
 * console.log(normalizeCloudStatus({ status: 'stopped', isDone: true }).state); // cancelled
 * ```
 */
export function normalizeCloudStatus(answer: CloudStatusResponse | object): NormalizedStatus {
  const body = answer as Readonly<Record<string, unknown>>;
  const raw = rawWord(body['status']);
  const isDone = body['isDone'];
  const doneWord = CLOUD_DONE_STATES[raw];
  let state: TaskState;
  if (isDone === true || (typeof isDone !== 'boolean' && doneWord !== undefined)) state = doneWord ?? 'failed';
  else if (raw === 'pending') state = 'pending';
  else state = 'running';
  return withDetails({ state, raw }, body);
}

function rawWord(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value) ?? 'undefined';
}

function withDetails(status: { state: TaskState; raw: string }, body: Readonly<Record<string, unknown>>): NormalizedStatus {
  const error = typeof body['error'] === 'string' ? body['error'] : null;
  return body['progress'] === undefined ? { ...status, error } : { ...status, error, progress: body['progress'] };
}

/** The built-in backend of agent runs. Polls go out without client retries: the manager backs off itself. */
export function agentBackend(client: AgentClient): TaskBackend {
  return {
    limitsAttempts: true,
    maxRetryAfterMs: client.maxRetryAfterMs,
    async getStatus(id, { signal, runAttempt }) {
      return normalizeAgentStatus(await client.getStatus(id, { signal, runAttempt, retries: 0 }));
    },
    async cancel(id, { signal, runAttempt }) {
      const answer = await client.cancel(id, { signal, runAttempt });
      return normalizeAgentStatus({ status: answer.status });
    },
    async create(body, { signal, runAttempt }) {
      const created = await client.createTask(body as Parameters<AgentClient['createTask']>[0], { signal, runAttempt });
      return { id: created.runId, created };
    },
  };
}

/** The built-in backend of cloud tasks. */
export function cloudBackend(client: CloudClient): TaskBackend {
  return {
    limitsAttempts: true,
    maxRetryAfterMs: client.maxRetryAfterMs,
    async getStatus(id, { signal, runAttempt }) {
      return normalizeCloudStatus(await client.getStatus(id, { signal, runAttempt, retries: 0 }));
    },
    async cancel(id, { signal, runAttempt }) {
      const answer = await client.stop(id, { signal, runAttempt });
      const task: Record<string, unknown> = isRecord(answer.task) ? answer.task : {};
      return normalizeCloudStatus({ status: task['status'] });
    },
    async create(body, { signal, runAttempt }) {
      const created = await client.createTask(body as Parameters<CloudClient['createTask']>[0], { signal, runAttempt });
      return { id: created.task.id, created };
    },
  };
}
