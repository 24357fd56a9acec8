import type { AgentClient } from '../clients/agent.js';
import type { CloudClient } from '../clients/cloud.js';
import type { AgentStatusResponse } from '../clients/agent-types.js';
import type { CloudStatusResponse } from '../clients/cloud-types.js';
import { isRecord } from '../errors/factory.js';
import { listedPage } from './list-page.js';
import type { CreatedTask, NormalizedStatus, TaskBackend, TaskState } from './types.js';

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
    async listCreated(sinceMs, { signal, runAttempt, maxPages }) {
      const found: CreatedTask[] = [];
      // The list's order is not documented: every page (up to the bound) is read, none is skipped early.
      for (let page = 1; page <= maxPages; page++) {
        const answer = await client.listTasks({ page, limit: 100 }, { signal, runAttempt });
        for (const run of answer.tasks) {
          const createdAt = timeOf(run.createdAt);
          if (createdAt !== undefined && createdAt < sinceMs) continue;
          const { taskId, runId, chatId, assistantMessageId } = run;
          found.push({ id: runId, createdAt, created: { taskId, runId, chatId, assistantMessageId } });
        }
        if (!answer.hasMore || answer.tasks.length === 0) break;
      }
      return found;
    },
    async promptsOf(id, { signal, runAttempt }) {
      const detail = await client.getTask(id, { signal, runAttempt });
      return Array.isArray(detail.messages) ? detail.messages.flatMap(messageTexts) : [];
    },
    // Queued before running: a run that starts between the two lists then shows in the second.
    async *listStatuses({ signal }) {
      for (const status of ['queued', 'running'] as const) {
        for (let page = 1; ; page++) {
          const answer = await client.listTasks({ page, limit: 100, status }, { signal, retries: 0 });
          const listed = listedPage(answer, '/api/v1/tasks', 'runId', (word) => normalizeAgentStatus({ status: STATUS_ENDPOINT_WORDS[word] ?? word }));
          yield listed.statuses;
          if (!listed.hasMore) break;
        }
      }
    },
  };
}

/** The list's words for a live run, in the status endpoint's words: the same status compares equal. */
const STATUS_ENDPOINT_WORDS: Readonly<Record<string, string>> = { queued: 'pending', running: 'in_progress' };

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
    async listCreated(sinceMs, { signal, runAttempt, maxPages }) {
      const found: CreatedTask[] = [];
      for (let page = 0, offset = 0; page < maxPages; page++) {
        const answer = await client.listTasks({ limit: 100, offset }, { signal, runAttempt });
        for (const task of answer.tasks) {
          const createdAt = timeOf(task.createdAt);
          if (createdAt !== undefined && createdAt < sinceMs) continue;
          found.push(typeof task.prompt === 'string' ? { id: task.id, createdAt, prompt: task.prompt, created: { task } } : { id: task.id, createdAt, created: { task } });
        }
        offset += answer.tasks.length;
        if (!answer.hasMore || answer.tasks.length === 0) break;
      }
      return found;
    },
    async *listStatuses({ signal }) {
      for (let offset = 0; ; ) {
        const answer = await client.listTasks({ limit: 100, offset, status: 'active' }, { signal, retries: 0 });
        const listed = listedPage(answer, '/api/tasks', 'id', (word) => normalizeCloudStatus({ status: word }));
        yield listed.statuses;
        if (!listed.hasMore) break;
        offset += listed.count;
      }
    },
  };
}

function timeOf(value: unknown): number | undefined {
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  return Number.isNaN(time) ? undefined : time;
}

/** The texts of a message, leniently: its shape is not documented (a string, or parts with `text`). */
function messageTexts(message: unknown): string[] {
  if (!isRecord(message)) return [];
  const texts: string[] = [];
  for (const value of [message['content'], message['text'], message['parts']]) {
    if (typeof value === 'string') texts.push(value);
    else if (Array.isArray(value)) for (const part of value) if (isRecord(part) && typeof part['text'] === 'string') texts.push(part['text']);
  }
  return texts;
}
