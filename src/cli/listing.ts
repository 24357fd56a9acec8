/**
 * The account's tasks, found by listing: which kinds to list (the `--kind` asked for, else every kind
 * whose key is set), what a `--status` word means to each API, and paging up to a limit. Shared by
 * `list` and `cancel-all --active`.
 * @module
 */
import { InvalidArgumentError } from 'commander';
import type { AgentClient } from '../clients/agent.js';
import type { CloudClient } from '../clients/cloud.js';
import type { AgentTaskSummary } from '../clients/agent-types.js';
import type { CloudTask } from '../clients/cloud-types.js';
import { InvalidResponseError } from '../errors/classes.js';
import { normalizeAgentStatus, normalizeCloudStatus } from '../manager/backends.js';
import type { TaskState } from '../manager/types.js';
import type { TaskRef } from '../refs.js';
import { clientsOfKinds, type ApiCommandOptions } from './clients.js';
import type { CliContext } from './context.js';
import { AGENT_KEY_ENV, CLOUD_KEY_ENV, envValue } from './env.js';
import { UsageError } from './errors.js';

/** The kinds the account APIs list. */
export type ListKind = 'agent' | 'cloud';

/** An option parser for `--kind`. */
export function kindArg(value: string): ListKind {
  if (value === 'agent' || value === 'cloud') return value;
  throw new InvalidArgumentError('It must be agent or cloud.');
}

/**
 * The `status` filters each API is sent for a `--status` word: the Agent API lists by run status, the
 * Cloud API by group (`active`, `completed`, `failed`, `stopped`). A word that only one API knows leaves
 * the other out; a word neither knows is sent as it is, and the API decides.
 */
const AGENT_FILTERS: Readonly<Record<string, readonly string[]>> = {
  active: ['queued', 'running'],
  pending: ['queued'],
  queued: ['queued'],
  in_progress: ['running'],
  running: ['running'],
  completed: ['completed'],
  failed: ['failed'],
  cancelled: ['cancelled'],
  stopped: ['cancelled'],
  interrupted: ['interrupted'],
};
const CLOUD_FILTERS: Readonly<Record<string, string>> = { active: 'active', completed: 'completed', failed: 'failed', stopped: 'stopped', cancelled: 'stopped' };

/** One kind to list, with the filters to send (`undefined`: no filter). */
export interface KindPlan {
  readonly kind: ListKind;
  readonly filters: readonly (string | undefined)[];
}

/** What to list, and the kinds left out with the reason. */
export interface ListingPlan {
  readonly kinds: readonly KindPlan[];
  readonly skipped: readonly { readonly kind: ListKind; readonly reason: string }[];
}

/** Plans a listing; refuses (exit 2) when no kind can be listed. Sends nothing. */
export function planListing(context: CliContext, kind: ListKind | undefined, status: string | undefined): ListingPlan {
  const kinds: KindPlan[] = [];
  const skipped: { kind: ListKind; reason: string }[] = [];
  const known = status === undefined || AGENT_FILTERS[status] !== undefined || CLOUD_FILTERS[status] !== undefined;
  for (const candidate of kind === undefined ? (['agent', 'cloud'] as const) : [kind]) {
    const table = candidate === 'agent' ? AGENT_FILTERS : CLOUD_FILTERS;
    const keyEnv = candidate === 'agent' ? AGENT_KEY_ENV : CLOUD_KEY_ENV;
    const mapped = status === undefined ? undefined : table[status];
    if (kind === undefined && envValue(context.env, keyEnv) === undefined) {
      skipped.push({ kind: candidate, reason: `${keyEnv} is not set` });
    } else if (status !== undefined && mapped === undefined && known) {
      const noun = candidate === 'agent' ? 'agent runs' : 'cloud tasks';
      if (kind !== undefined) throw new UsageError(`--status ${status}: ${noun} have no such status; use one of ${Object.keys(table).join(', ')}`);
      skipped.push({ kind: candidate, reason: `${noun} have no status "${status}"` });
    } else {
      kinds.push({ kind: candidate, filters: mapped === undefined ? [status] : typeof mapped === 'string' ? [mapped] : mapped });
    }
  }
  if (kinds.length === 0) {
    const reasons = skipped.map((entry) => `${entry.kind}: ${entry.reason}`).join('; ');
    const keysOnly = skipped.every((entry) => entry.reason.endsWith('is not set'));
    throw new UsageError(`nothing to list (${reasons})${keysOnly ? ': taskguard reads API keys only from the environment' : ''}`);
  }
  return { kinds, skipped };
}

/** One task of either kind, as a listing shows it. */
export interface ListedTask {
  readonly ref: TaskRef;
  /** The API's status word. */
  readonly status: string;
  /** taskguard's normalized state of that word. */
  readonly state: TaskState;
  readonly createdAt: string | null;
  /** The cloud task's prompt, or the agent run's model. */
  readonly detail: string | null;
  /** The list entry as the API sent it. */
  readonly task: AgentTaskSummary | CloudTask;
}

/** The tasks of one kind, and whether the API has more than the limit let through. */
export interface Listing {
  readonly kind: ListKind;
  readonly tasks: readonly ListedTask[];
  readonly hasMore: boolean;
}

/** Lists every kind of `plan`, at most `limit` tasks each, one kind after the other. */
export async function listTasks(context: CliContext, options: ApiCommandOptions, plan: ListingPlan, limit: number): Promise<Listing[]> {
  const clients = clientsOfKinds(context, new Set(plan.kinds.map((entry) => entry.kind)), options);
  const listings: Listing[] = [];
  for (const { kind, filters } of plan.kinds) {
    const found = new Map<string, ListedTask>();
    let hasMore = false;
    for (const filter of filters) {
      const page = kind === 'agent' ? await agentPages(clients.agent!, filter, limit) : await cloudPages(clients.cloud!, filter, limit);
      for (const task of page.tasks) found.set(task.ref.id, task);
      hasMore ||= page.hasMore;
    }
    const tasks = [...found.values()];
    listings.push({ kind, tasks: tasks.slice(0, limit), hasMore: hasMore || tasks.length > limit });
  }
  return listings;
}

/**
 * Pages of the Agent API's list. The page size stays the same from page to page, since pages are
 * numbered; a run seen on two pages (the order is not documented) counts once.
 */
async function agentPages(client: AgentClient, status: string | undefined, limit: number): Promise<Omit<Listing, 'kind'>> {
  const size = Math.min(100, limit);
  const found = new Map<string, ListedTask>();
  let hasMore = false;
  for (let page = 1; found.size < limit; page++) {
    const answer = await client.listTasks({ page, limit: size, ...(status !== undefined && { status }) });
    const tasks = arrayOf(answer.tasks, '/api/v1/tasks');
    for (const task of tasks) {
      if (found.has(task.runId)) continue;
      const { state, raw } = normalizeAgentStatus({ status: task.status });
      found.set(task.runId, { ref: { kind: 'agent', id: task.runId }, status: raw, state, createdAt: text(task.createdAt), detail: text(task.model), task });
    }
    hasMore = answer.hasMore === true;
    if (!hasMore || tasks.length === 0) break;
  }
  return { tasks: [...found.values()], hasMore };
}

/** Pages of the Cloud API's list, by offset. */
async function cloudPages(client: CloudClient, status: string | undefined, limit: number): Promise<Omit<Listing, 'kind'>> {
  const found = new Map<string, ListedTask>();
  let hasMore = false;
  for (let offset = 0; found.size < limit; ) {
    const answer = await client.listTasks({ offset, limit: Math.min(100, limit - found.size), ...(status !== undefined && { status }) });
    const tasks = arrayOf(answer.tasks, '/api/tasks');
    for (const task of tasks) {
      if (found.has(task.id)) continue;
      const { state, raw } = normalizeCloudStatus({ status: task.status });
      found.set(task.id, { ref: { kind: 'cloud', id: task.id }, status: raw, state, createdAt: text(task.createdAt), detail: text(task.prompt), task });
    }
    offset += tasks.length;
    hasMore = answer.hasMore === true;
    if (!hasMore || tasks.length === 0) break;
  }
  return { tasks: [...found.values()], hasMore };
}

/** A field the list is expected to send as a string; anything else shows as nothing. */
function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function arrayOf<T>(value: readonly T[], path: string): readonly T[] {
  if (Array.isArray(value)) return value;
  throw new InvalidResponseError(200, `200 GET ${path}: the answer has no tasks array`, { method: 'GET', path, body: undefined });
}
